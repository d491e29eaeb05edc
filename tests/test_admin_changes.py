"""Staff change predictions in the admin: correcting a label, deleting a prediction, each logged;
and the admin's pages for staff only."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.urls import reverse

from classifier import reads

from .admin_pages import BROWSE, EXPORT, VERSIONS
from .helpers import cassandra_db, day, listed

pytestmark = cassandra_db


def test_staff_correct_a_label_and_the_list_and_history_show_it(staff_client, week):
    coat = week[0]
    change_url = reverse("admin:classifier_prediction_change", args=[coat.id])
    detail = staff_client.get(change_url).text
    assert 'name="corrected_label"' in detail and "csrfmiddlewaretoken" in detail

    saved = staff_client.post(change_url, {"corrected_label": "Shirt", "_save": "Save"}, follow=True)

    assert saved.redirect_chain[-1][0].endswith(f"{BROWSE}?day={day(3)}")
    assert "was changed: Corrected the label from Coat to Shirt." in saved.text
    row = re.search(r"coat-a\.png</td>.*?</tr>", saved.text, re.S)[0]
    assert "Shirt" in row and "by staff" in row
    stored_now = reads.find(coat.id)
    assert (stored_now.label, stored_now.corrected_label, stored_now.corrected_by) == (
        "Coat",
        "Shirt",
        "staff",
    )
    assert abs(stored_now.corrected_at_utc - datetime.datetime.now(datetime.UTC)).total_seconds() < 60
    assert (stored_now.filename, stored_now.sha256) == (coat.filename, coat.sha256)
    assert stored_now.confidence == pytest.approx(coat.confidence)

    [entry] = LogEntry.objects.filter(object_id=str(coat.id))
    assert (entry.action_flag, entry.user.username) == (CHANGE, "staff")
    assert entry.get_change_message() == "Corrected the label from Coat to Shirt."
    history = staff_client.get(reverse("admin:classifier_prediction_history", args=[coat.id])).text
    assert "Corrected the label from Coat to Shirt." in history

    cleared = staff_client.post(change_url, {"corrected_label": "", "_continue": "1"}, follow=True)
    assert cleared.redirect_chain[-1][0] == change_url
    assert "Removed the correction of the label (was Shirt)." in cleared.text
    assert reads.find(coat.id).corrected_label is None
    assert LogEntry.objects.filter(object_id=str(coat.id)).count() == 2


def test_a_correction_made_from_a_filtered_list_returns_to_it(staff_client, week):
    listing = staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&label=Dress").text
    change_link = html.unescape(re.search(r'<th scope="row"><a href="([^"]+)"', listing)[1])
    assert "_changelist_filters=" in change_link

    saved = staff_client.post(change_link, {"corrected_label": "Dress"}, follow=True)

    assert saved.redirect_chain[-1][0].endswith(f"{BROWSE}?from={day(6)}&to={day(0)}&label=Dress")
    assert "Confirmed the label Dress." in saved.text


def test_delete_removes_the_prediction_everywhere_and_logs_it(staff_client, week):
    boots = week[3]
    delete_url = reverse("admin:classifier_prediction_delete", args=[boots.id])
    confirm = staff_client.get(delete_url)
    assert confirm.status_code == 200 and "Are you sure you want to delete the prediction" in confirm.text

    deleted = staff_client.post(delete_url, {"post": "yes"}, follow=True)

    assert "was deleted successfully" in deleted.text
    assert "boots.jpg" not in listed(deleted.text)
    assert reads.find(boots.id) is None and reads.images_of(boots.id) is None
    assert reads.earlier_prediction(boots.sha256, boots.model_version) is None
    assert "boots.jpg" not in listed(staff_client.get(f"{BROWSE}?from={day(6)}&to={day(0)}&q=boots").text)
    assert listed(staff_client.get(f"{BROWSE}?q={boots.sha256}&search_by=sha256").text) == []
    [entry] = LogEntry.objects.filter(object_id=str(boots.id))
    assert entry.action_flag == DELETION and entry.object_repr == str(boots)
    assert staff_client.get(reverse("admin:classifier_prediction_change", args=[boots.id])).status_code == 404


def test_the_admin_requires_staff_for_every_page(client, django_user_model, week):
    for url in (BROWSE, EXPORT, VERSIONS, reverse("admin:classifier_prediction_change", args=[week[0].id])):
        assert client.get(url).url.startswith("/admin/login/")
    client.force_login(
        django_user_model.objects.create_user("staff-no-perms", password="x" * 12, is_staff=True)
    )
    assert client.get(BROWSE).status_code == 403
    assert client.get(EXPORT).status_code == 403
