"""Odd but well-formed input on every route: ids that are no time UUIDs, cursors that are no ids,
days at the calendar's edges. Each gets a 404 or 400 (or an admin message), never a 500."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from .helpers import cassandra_db

pytestmark = cassandra_db

BROWSE = "/admin/classifier/prediction/"
NOT_TIME_UUIDS = [uuid.uuid4(), uuid.UUID(int=0), uuid.uuid5(uuid.NAMESPACE_DNS, "example.com")]


@pytest.mark.parametrize("page", ["", "chart.png", "input.png", "thumbnail.jpg"])
@pytest.mark.parametrize("prediction_id", NOT_TIME_UUIDS, ids=str)
def test_a_prediction_address_with_an_id_that_is_no_time_uuid_is_404(client, page, prediction_id):
    response = client.get(f"/predictions/{prediction_id}/{page}")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text or "No prediction" in response.text


@pytest.mark.parametrize("prediction_id", NOT_TIME_UUIDS, ids=str)
def test_the_api_answers_404_for_an_id_that_is_no_time_uuid(client, prediction_id):
    response = client.get(f"/api/predictions/{prediction_id}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("cursor", NOT_TIME_UUIDS, ids=str)
def test_a_list_cursor_that_is_no_prediction_id_is_400(staff_client, cursor):
    response = staff_client.get("/api/predictions", {"cursor": str(cursor)})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_cursor",
        "message": "cursor must be a next_cursor this API answered.",
    }


@pytest.mark.parametrize("day", ["0001-01-01", "1582-10-14"])
def test_a_list_day_before_time_uuids_begin_is_400(staff_client, day):
    response = staff_client.get("/api/predictions", {"day": day})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_day"
    assert "15 October 1582" in response.json()["error"]["message"]


def test_the_last_day_of_the_calendar_lists_nothing(staff_client):
    response = staff_client.get("/api/predictions", {"day": "9999-12-31"})
    assert response.status_code == 200 and response.json()["predictions"] == []


@pytest.mark.parametrize(
    "query",
    ["day=0001-01-01", "from=0001-01-01&to=0001-01-05", "from=0001-01-01&to=9999-12-31", "to=1582-10-14"],
)
def test_admin_days_before_time_uuids_begin_get_a_message(staff_client, query):
    response = staff_client.get(f"{BROWSE}?{query}", follow=True)
    assert response.redirect_chain == [(BROWSE, 302)]
    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert messages and ("15 October 1582" in messages[0] or "at most" in messages[0]), messages


@pytest.mark.parametrize("query", ["day=9999-12-31", "from=9999-12-20&to=9999-12-31", "day=1582-10-15"])
def test_admin_days_at_the_calendar_edges_are_listed_without_links_past_them(staff_client, query):
    response = staff_client.get(f"{BROWSE}?{query}")
    assert response.status_code == 200
    assert "No predictions" in response.text
    if "1582" in query:
        assert "Earlier day" not in response.text  # nothing before the first day


def test_export_of_days_before_time_uuids_begin_is_400_with_the_reason(staff_client):
    response = staff_client.get("/admin/classifier/prediction/export/?day=0001-01-01")
    assert response.status_code == 400 and "15 October 1582" in response.text


def test_pictures_are_cached_privately(client, test_image_pngs):
    upload = SimpleUploadedFile("private.png", test_image_pngs[0][0], "image/png")
    item = client.post("/api/predictions", {"image": [upload]}).json()["predictions"][0]
    for picture in ("chart.png", "input.png", "thumbnail.jpg"):
        response = client.get(f"/predictions/{item['id']}/{picture}")
        assert response.status_code == 200
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert "private" in directives and "public" not in directives, response["Cache-Control"]


def test_prediction_ids_carry_random_node_and_clock_sequence(client, test_image_pngs):
    ids = []
    for index in range(3):
        upload = SimpleUploadedFile(f"id-{index}.png", test_image_pngs[index][0], "image/png")
        answer = client.post("/api/predictions", {"image": [upload]}).json()
        ids.append(uuid.UUID(answer["predictions"][0]["id"]))
    assert all(prediction_id.version == 1 for prediction_id in ids)
    assert len({prediction_id.node for prediction_id in ids}) == 3  # not the host's one MAC address
    assert len({prediction_id.clock_seq for prediction_id in ids}) > 1
    assert all(prediction_id.node & 1 << 40 for prediction_id in ids)  # marked as no real MAC address


@pytest.mark.django_db
def test_a_login_without_next_lands_on_the_admin_index(client, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "correct horse battery")
    response = client.post("/admin/login/", {"username": "boss", "password": "correct horse battery"})
    assert response.status_code == 302 and response.url == "/admin/"
