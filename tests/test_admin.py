"""Browsing predictions in the admin: a day newest first, cursor paging, detail page, staff only."""

import datetime
import re
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier import listing, reads
from classifier.admin import PredictionAdmin

from .helpers import cassandra_db

pytestmark = cassandra_db

BROWSE = "/admin/classifier/prediction/"


def upload_named(client, pngs, names, first_image=0):
    files = [SimpleUploadedFile(name, pngs[first_image + n][0], "image/png") for n, name in enumerate(names)]
    assert client.post("/", {"images": files}).status_code == 302


def listed_filenames(html: str) -> list[str]:
    return re.findall(r"<td>(item-\d+\.png)</td>", html)


def test_admin_requires_a_staff_login(client, django_user_model):
    assert client.get(BROWSE).url.startswith("/admin/login/")
    client.force_login(django_user_model.objects.create_user("visitor", password="not staff at all"))
    assert client.get(BROWSE).url.startswith("/admin/login/")


def test_upload_shows_in_the_admin_browse_and_detail(client, staff_client, test_image_pngs):
    upload_named(client, test_image_pngs, ["item-0.png"])
    [prediction] = reads.latest()

    browse = staff_client.get(BROWSE)
    assert browse.status_code == 200
    assert listed_filenames(browse.text) == ["item-0.png"]
    for shown in (prediction.label, prediction.model_version, f"{prediction.confidence:.3f}"):
        assert shown in browse.text
    detail_url = reverse("admin:classifier_prediction_change", args=[prediction.id])
    assert detail_url in browse.text

    detail = staff_client.get(detail_url)
    assert detail.status_code == 200
    stored = reads.find(prediction.id)
    for shown in (str(stored.id), stored.sha256, stored.filename, "PNG, 28×28 pixels"):
        assert shown in detail.text
    for image_url in ("thumbnail", "model_input", "chart"):
        assert reverse(f"classifier:{image_url}", args=[stored.id]) in detail.text


def test_browse_pages_newest_first_with_a_cursor(client, staff_client, test_image_pngs, monkeypatch):
    monkeypatch.setattr(PredictionAdmin, "list_per_page", 4)
    names = [f"item-{n}.png" for n in range(10)]
    for n, name in enumerate(names):  # one request each, so upload order is time order
        upload_named(client, test_image_pngs, [name], first_image=n)

    seen, url = [], BROWSE
    while True:
        page = staff_client.get(url).text
        seen.append(listed_filenames(page))
        older = re.search(r'href="\?day=([\d-]+)&amp;before=([0-9a-f-]+)" class="older"', page)
        if not older:
            break
        url = f"{BROWSE}?day={older[1]}&before={older[2]}"

    assert [len(page) for page in seen] == [4, 4, 2]
    assert sum(seen, []) == names[::-1]


def test_browse_other_days(staff_client):
    yesterday = listing.today() - datetime.timedelta(days=1)
    page = staff_client.get(f"{BROWSE}?day={yesterday}")
    assert page.status_code == 200
    assert "No predictions on this day." in page.text
    assert staff_client.get(f"{BROWSE}?day=last-tuesday").status_code == 404
    assert staff_client.get(f"{BROWSE}?before=not-a-cursor").status_code == 404


def test_detail_of_unknown_prediction_is_404(staff_client):
    assert (
        staff_client.get(reverse("admin:classifier_prediction_change", args=[uuid.uuid1()])).status_code
        == 404
    )
    assert (
        staff_client.get(reverse("admin:classifier_prediction_change", args=["nonsense"])).status_code == 404
    )
