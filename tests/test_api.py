"""The JSON API contract: uploads, errors, repeats, reading back and paging."""

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from classifier import reads
from mlmodel.classes import CLASS_NAMES

from .helpers import cassandra_db

pytestmark = cassandra_db

ITEM_FIELDS = {
    "id",
    "created_at",
    "filename",
    "label",
    "label_index",
    "confidence",
    "probabilities",
    "top",
    "uncertain",
    "uncertain_reason",
    "model_version",
    "sha256",
    "url",
    "repeat",
}


def post_images(client, *files):
    return client.post("/api/predictions", {"image": list(files)})


def png_file(pngs, index, name=None):
    return SimpleUploadedFile(name or f"image-{index}.png", pngs[index][0], "image/png")


def test_upload_answers_201_with_every_field_in_upload_order(client, test_image_pngs):
    response = post_images(client, png_file(test_image_pngs, 0), png_file(test_image_pngs, 1))

    assert response.status_code == 201
    first, second = response.json()["predictions"]
    assert set(first) == ITEM_FIELDS
    assert [first["filename"], second["filename"]] == ["image-0.png", "image-1.png"]
    assert first["label"] == CLASS_NAMES[test_image_pngs[0][1]] == CLASS_NAMES[first["label_index"]]
    assert set(first["probabilities"]) == set(CLASS_NAMES)
    assert sum(first["probabilities"].values()) == pytest.approx(1, abs=1e-4)
    assert [t["label"] for t in first["top"]][0] == first["label"] and len(first["top"]) == 3
    assert first["top"][0]["probability"] >= first["top"][1]["probability"] >= first["top"][2]["probability"]
    assert first["uncertain"] is (first["confidence"] < 0.6) and first["repeat"] is False
    assert first["url"].endswith(f"/predictions/{first['id']}/")
    assert client.get(first["url"]).status_code == 200


def test_failed_items_answer_in_place_and_all_failing_is_400(client, test_image_pngs):
    bad = SimpleUploadedFile("notes.txt", b"just text", "text/plain")
    mixed = post_images(client, bad, png_file(test_image_pngs, 0))
    assert mixed.status_code == 201
    failed, good = mixed.json()["predictions"]
    assert failed == {
        "filename": "notes.txt",
        "error": {"code": "not_image", "message": failed["error"]["message"]},
    }
    assert "not a readable image" in failed["error"]["message"]
    assert good["filename"] == "image-0.png"

    all_bad = post_images(
        client, SimpleUploadedFile("a.png", b"", "image/png"), SimpleUploadedFile("b.txt", b"x")
    )
    assert all_bad.status_code == 400
    assert all_bad.json()["error"]["code"] == "no_image_classified"
    assert [item["error"]["code"] for item in all_bad.json()["predictions"]] == ["empty", "not_image"]


def test_missing_field_too_large_and_not_found_use_the_error_shape(client, settings):
    missing = client.post("/api/predictions", {})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid_request"

    settings.UPLOAD_MAX_BYTES, settings.UPLOAD_MAX_FILES = 1000, 1
    too_large = post_images(client, SimpleUploadedFile("big.png", b"\0" * 100_000))
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "too_large"

    unknown = client.get(f"/api/predictions/{uuid.uuid1()}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    not_an_id = client.get("/api/predictions/not-a-uuid")
    assert not_an_id.status_code == 400  # a malformed id is a bad request that names the parameter
    assert not_an_id.json()["error"]["code"] == "invalid_request"
    assert "prediction_id" in not_an_id.json()["error"]["message"]


def test_an_unexpected_failure_is_a_500_in_the_error_shape_without_details(monkeypatch):
    def broken(prediction_id):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(reads, "find", broken)
    answer = Client(raise_request_exception=False).get(f"/api/predictions/{uuid.uuid1()}")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "server_error"
    assert "secret internals" not in answer.text


def test_unknown_addresses_answer_404_in_the_error_shape(client):
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404
    assert api.json() == {"error": {"code": "not_found", "message": "There is nothing at this address."}}

    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert "There is nothing at this address." in page.text and "Back to the upload form" in page.text


def test_same_image_again_returns_the_stored_prediction_as_a_repeat(client, test_image_pngs):
    first = post_images(client, png_file(test_image_pngs, 0, "first.png")).json()["predictions"][0]
    again = post_images(
        client, png_file(test_image_pngs, 0, "again.png"), png_file(test_image_pngs, 0, "twice.png")
    )

    repeats = again.json()["predictions"]
    assert [item["repeat"] for item in repeats] == [True, True]
    assert {item["id"] for item in repeats} == {first["id"]}
    assert client.get("/api/predictions").json()["predictions"][0]["id"] == first["id"]
    assert len(client.get("/api/predictions").json()["predictions"]) == 1


def test_read_back_one_and_page_through_a_day(client, test_image_pngs):
    ids = []
    for index in range(5):  # one request each: upload order is time order
        ids.append(post_images(client, png_file(test_image_pngs, index)).json()["predictions"][0]["id"])

    one = client.get(f"/api/predictions/{ids[2]}").json()
    assert one["id"] == ids[2] and one["filename"] == "image-2.png"

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/predictions", params).json()
        seen += [item["id"] for item in page["predictions"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    assert page["day"] == datetime.datetime.now(datetime.UTC).date().isoformat()


def test_label_filter(client, test_image_pngs):
    for index in range(6):
        post_images(client, png_file(test_image_pngs, index))
    wanted = CLASS_NAMES[test_image_pngs[0][1]]

    listed = client.get("/api/predictions", {"label": wanted}).json()["predictions"]
    assert listed and all(item["label"] == wanted for item in listed)
    assert "image-0.png" in [item["filename"] for item in listed]

    unknown = client.get("/api/predictions", {"label": "Hat"})
    assert unknown.status_code == 400 and "label must be one of" in unknown.json()["error"]["message"]
    assert client.get("/api/predictions", {"day": "yesterday"}).status_code == 400


def test_openapi_schema_and_docs_page(client):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/predictions", "/api/predictions/{prediction_id}"} <= set(schema["paths"])
    assert client.get("/api/docs").status_code == 200
