"""Which phone photos staff correct, and to what (mlmodel.clothing_photos; the benches' --adapt and
bench.photos_alone correct them so)."""

from pathlib import Path

from mlmodel.clothing_photos import corrected_set, list_photos

PHOTOS = Path(__file__).resolve().parent / "photos"


def test_staff_correct_only_photos_of_the_ten_and_at_most_n_of_each_folder():
    photos = list_photos(PHOTOS)
    chosen = corrected_set(photos, per_class=1)
    folders = [photo.folder for photo in chosen]
    assert len(folders) == len(set(folders))
    assert all(photo.in_classes for photo in chosen)
    assert {photo.folder for photo in photos if photo.in_classes} == set(folders)
    assert corrected_set(photos, None) == [photo for photo in photos if photo.in_classes]


def test_a_right_answer_is_kept_and_a_wrong_one_becomes_the_folders_first_right_answer():
    photos = {photo.folder: photo for photo in list_photos(PHOTOS)}
    assert photos["longsleeve"].true_label("Shirt") == "Shirt"
    assert photos["shoes"].true_label("Bag") == "Sandal"
