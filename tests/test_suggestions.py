"""'Wrong answer?': a visitor's suggestion is stored with the prediction, not as a correction; staff
find the predictions with one and accept it as the correction in one click; rate-limited, CSRF-checked."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from classifier import corrections, reads

from .helpers import cassandra_db, listed, stored, stored_prediction

pytestmark = cassandra_db

BROWSE = "/admin/classifier/prediction/"


def suggest(client, prediction, label: str, address: str = "198.51.100.7"):
    return client.post(
        reverse("classifier:suggest", args=[prediction.id]), {"label": label}, REMOTE_ADDR=address
    )


def test_a_visitor_suggestion_is_stored_beside_the_answer_not_as_a_correction(client):
    prediction = stored_prediction({"Shirt": 0.55, "T-shirt/top": 0.3})
    page = client.get(prediction.get_absolute_url()).text
    assert "Wrong answer?" in page and 'name="label"' in page and "csrfmiddlewaretoken" in page

    response = suggest(client, prediction, "Pullover")
    assert response.status_code == 302 and response.url == prediction.get_absolute_url()
    assert (
        "Thank you: your answer, Pullover, is stored for our staff to check." in client.get(response.url).text
    )

    stored_now = reads.find(prediction.id)
    assert stored_now.suggested_label == "Pullover"
    assert abs(stored_now.suggested_at_utc - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(
        minutes=1
    )
    assert (stored_now.label, stored_now.corrected_label) == ("Shirt", None)
    assert corrections.corrections() == []  # nothing reaches training before staff check it


@pytest.mark.parametrize("label", ["", "Hat", "Pullover<script>"], ids=["none", "not-a-class", "markup"])
def test_a_suggestion_that_is_not_one_of_the_ten_classes_is_a_400_saying_so(client, label):
    prediction = stored_prediction({"Coat": 0.9})
    response = suggest(client, prediction, label)

    assert response.status_code == 400
    assert (
        "Choose the class the photo really shows." in response.text
        or "Choose one of the ten classes." in (response.text)
    )
    assert reads.find(prediction.id).suggested_label is None


def test_a_suggestion_needs_its_csrf_token():
    prediction = stored_prediction({"Coat": 0.9})
    response = suggest(Client(enforce_csrf_checks=True), prediction, "Dress")
    assert response.status_code == 403
    assert reads.find(prediction.id).suggested_label is None


def test_suggestions_are_limited_per_visitor(client, settings):
    settings.SUGGESTIONS_PER_HOUR = 3
    predictions = [stored_prediction({"Bag": 0.9}, filename=f"bag-{n}.jpg") for n in range(5)]
    for prediction in predictions[:3]:
        assert suggest(client, prediction, "Sandal").status_code == 302

    refused = suggest(client, predictions[3], "Sandal")
    assert refused.status_code == 429
    assert "You have sent 3 suggestions in the past hour" in refused.text
    assert reads.find(predictions[3].id).suggested_label is None
    # Another visitor has an allowance of their own.
    assert suggest(client, predictions[4], "Sandal", address="203.0.113.9").status_code == 302
    assert reads.find(predictions[4].id).suggested_label == "Sandal"


def test_a_suggestion_for_an_unknown_prediction_is_404(client):
    response = client.post("/predictions/9d2c1a4e-0000-11f0-8000-000000000000/suggest", {"label": "Coat"})
    assert response.status_code == 404
    assert (
        client.get(reverse("classifier:suggest", args=[stored_prediction({"Coat": 0.9}).id])).status_code
        == 405
    )


def test_the_admin_filters_predictions_with_a_suggestion_browsing_and_searching(client, staff_client):
    now = datetime.datetime.now(datetime.UTC)
    rows = {
        name: stored(now - datetime.timedelta(hours=hours), name, label)
        for hours, name, label in [
            (0, "coat-1.png", "Coat"),
            (0, "coat-2.png", "Coat"),
            (1, "boot-1.png", "Ankle boot"),
            (3, "coat-3.png", "Coat"),
        ]
    }
    for name in ("coat-2.png", "boot-1.png", "coat-3.png"):
        assert suggest(client, rows[name], "Shirt").status_code == 302
    day = now.date().isoformat()
    older = (now - datetime.timedelta(days=1)).date().isoformat()

    def shown(query: str) -> list[str]:
        response = staff_client.get(BROWSE + query)
        assert response.status_code == 200
        return listed(response.text)

    expected = ["coat-2.png", "boot-1.png", "coat-3.png"]  # all within today and yesterday
    assert sorted(shown(f"?from={older}&to={day}&suggested=1")) == sorted(expected)
    assert "coat-1.png" not in shown(f"?from={older}&to={day}&suggested=1")
    both = shown(f"?from={older}&to={day}&suggested=1&label=Coat")
    assert sorted(both) == sorted(name for name in expected if name.startswith("coat"))
    searched = shown(f"?from={older}&to={day}&suggested=1&q=coat")
    assert sorted(searched) == sorted(name for name in expected if name.startswith("coat"))
    page = staff_client.get(BROWSE + f"?from={older}&to={day}").text
    assert "With a suggestion" in page and 'aria-label="Accept Shirt as the correction of coat-2.png"' in page


def test_staff_accept_a_suggestion_as_the_correction_in_one_click(client, staff_client):
    prediction = stored_prediction({"Coat": 0.7, "Pullover": 0.2}, filename="grey knit.jpg")
    suggest(client, prediction, "Pullover")
    change = reverse("admin:classifier_prediction_change", args=[prediction.id])
    detail = staff_client.get(change).text
    assert "Visitor&#x27;s suggestion" in detail or "Visitor's suggestion" in detail
    assert 'value="Accept Pullover as the correction"' in detail

    response = staff_client.post(change, {"_accept_suggestion": "1"})
    assert response.status_code == 302
    accepted = reads.find(prediction.id)
    assert (accepted.corrected_label, accepted.corrected_by) == ("Pullover", "staff")
    assert accepted.suggested_label == "Pullover"
    entry = LogEntry.objects.get(object_id=str(prediction.id))
    assert entry.action_flag == CHANGE
    assert (
        entry.change_message == "Corrected the label from Coat to Pullover, accepting a visitor's suggestion."
    )
    assert [correction.id for correction in corrections.corrections()] == [prediction.id]
    assert "Accept Pullover as the correction" not in staff_client.get(change).text  # done


def test_accepting_needs_the_change_permission_and_a_suggestion(client, staff_client, django_user_model):
    prediction = stored_prediction({"Coat": 0.9})
    change = reverse("admin:classifier_prediction_change", args=[prediction.id])
    nothing = staff_client.post(change, {"_accept_suggestion": "1"}, follow=True)
    assert "This prediction has no visitor&#x27;s suggestion to accept." in nothing.text
    assert reads.find(prediction.id).corrected_label is None

    suggest(client, prediction, "Dress")
    viewer = django_user_model.objects.create_user("viewer", password="look but do not touch", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_prediction"))
    viewing = Client()
    viewing.force_login(viewer)
    assert "Accept Dress as the correction" not in viewing.get(change).text
    assert viewing.post(change, {"_accept_suggestion": "1"}).status_code == 403
    assert reads.find(prediction.id).corrected_label is None
