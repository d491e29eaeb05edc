"""Real phone photos of clothing, one folder per kind: which answers count as right, and the split.

The development set (``../shared/datasets/clothing-photos``, CC0) has a folder per kind of garment.
Its README says which Fashion-MNIST answers count as right for each folder (a long-sleeved top may
be a Pullover, a T-shirt/top or a Shirt) and which folders hold none of the ten classes (hats,
shorts, skirts: the right answer is "not one of the ten"). The site is measured on photos it was not
tuned on, so every photo belongs to one half for good: `split_of` decides by a hash of its file
name, never by its position in a listing.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mlmodel.classes import CLASS_NAMES

# The Fashion-MNIST answers that count as right for each folder; () for none of the ten.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "dress": ("Dress",),
    "pants": ("Trouser",),
    "t-shirt": ("T-shirt/top",),
    "shirt": ("Shirt",),
    "longsleeve": ("Pullover", "T-shirt/top", "Shirt"),
    "outwear": ("Coat", "Pullover"),
    "shoes": ("Sandal", "Sneaker", "Ankle boot"),
    "hat": (),
    "shorts": (),
    "skirt": (),
}

GROUPS: dict[str, str] = {
    "T-shirt/top": "upper body",
    "Pullover": "upper body",
    "Coat": "upper body",
    "Shirt": "upper body",
    "Trouser": "trousers",
    "Dress": "dress",
    "Sandal": "footwear",
    "Sneaker": "footwear",
    "Ankle boot": "footwear",
    "Bag": "bag",
}
assert set(GROUPS) == set(CLASS_NAMES)

SPLITS = ("tune", "held-out")
# Three photos in ten are held out: enough for per-folder figures (the smallest folder, skirt,
# keeps about 34), while tuning still sees seven in ten.
_HELD_OUT_PER_TEN = 3
_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class Photo:
    path: Path
    folder: str

    @property
    def accepted(self) -> tuple[str, ...]:
        return ACCEPTED[self.folder]

    @property
    def in_classes(self) -> bool:
        """Whether the photo shows one of the ten classes (else the right answer is "none of them")."""
        return bool(self.accepted)

    @property
    def group(self) -> str | None:
        return GROUPS[self.accepted[0]] if self.accepted else None

    @property
    def split(self) -> str:
        return split_of(self.path.name)

    def is_exact(self, label: str) -> bool:
        return label in self.accepted

    def is_right_group(self, label: str) -> bool:
        return self.group is not None and GROUPS[label] == self.group

    def true_label(self, answer: str) -> str:
        """The class staff would correct the photo to: the answer if it is right, else the first right one."""
        return answer if self.is_exact(answer) else self.accepted[0]


def split_of(filename: str) -> str:
    """ "tune" or "held-out", fixed by the file name alone."""
    digest = hashlib.sha256(filename.encode()).digest()
    return "held-out" if digest[0] % 10 < _HELD_OUT_PER_TEN else "tune"


def list_photos(root: Path | str, split: str | None = None) -> list[Photo]:
    """The photos under root (one folder per kind, known folders only), in name order; one split if given."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"No folder of photos at {root}")
    photos = [
        Photo(path, folder.name)
        for folder in sorted(root.iterdir())
        if folder.is_dir() and folder.name in ACCEPTED
        for path in sorted(folder.iterdir())
        if path.suffix.lower() in _SUFFIXES
    ]
    return [photo for photo in photos if split is None or photo.split == split]


def corrected_set(photos: list[Photo], per_class: int | None) -> list[Photo]:
    """The photos staff correct: of the ten classes only, all of them or the first N of each folder."""
    chosen, taken = [], Counter()
    for photo in photos:
        if photo.in_classes and (per_class is None or taken[photo.folder] < per_class):
            chosen.append(photo)
            taken[photo.folder] += 1
    return chosen
