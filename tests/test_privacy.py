"""Uploads are private to whoever uploaded them: the home page lists a visitor's own uploads (kept in
their session, no account needed) and nobody else's; a result is reached through its own link."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from classifier.recent import MAX_RECENT

from .helpers import cassandra_db

pytestmark = cassandra_db


def upload(client: Client, pngs, *names: str, first: int = 0) -> None:
    files = [SimpleUploadedFile(name, pngs[first + n][0], "image/png") for n, name in enumerate(names)]
    assert client.post("/", {"images": files}).status_code == 302


def listed_on_home_page(client: Client) -> list[str]:
    html = client.get("/").text
    section = html.split("Your recent uploads", 1)[1]
    return re.findall(r'<span class="filename">([^<]+)</span>', section)


def thumbnails_on_home_page(client: Client) -> set[str]:
    return set(re.findall(r'src="(/predictions/[^"]+/thumbnail\.jpg)"', client.get("/").text))


def test_each_visitor_sees_only_their_own_uploads(test_image_pngs):
    alice, bob, newcomer = Client(), Client(), Client()
    upload(alice, test_image_pngs, "alice-coat.png", "alice-bag.png")
    upload(bob, test_image_pngs, "bob-boot.png", first=2)
    upload(alice, test_image_pngs, "alice-dress.png", first=3)

    assert listed_on_home_page(alice) == ["alice-dress.png", "alice-bag.png", "alice-coat.png"]
    assert listed_on_home_page(bob) == ["bob-boot.png"]
    assert listed_on_home_page(newcomer) == []
    assert "Nothing uploaded from this browser yet" in newcomer.get("/").text
    assert not thumbnails_on_home_page(alice) & thumbnails_on_home_page(bob)


def test_the_same_bytes_as_someone_else_reveal_nothing_of_their_upload(test_image_pngs):
    alice, bob = Client(), Client()
    alice_page = alice.post(
        "/", {"images": [SimpleUploadedFile("alice-secret.png", test_image_pngs[0][0], "image/png")]}
    )
    bob_page = bob.post(
        "/", {"images": [SimpleUploadedFile("bob.png", test_image_pngs[0][0], "image/png")]}, follow=True
    )
    assert alice_page.status_code == 302 and bob_page.status_code == 200
    assert bob_page.redirect_chain[0][0] != alice_page.url  # a result page of Bob's own
    assert "bob.png" in bob_page.text and "alice-secret" not in bob_page.text
    assert listed_on_home_page(bob) == ["bob.png"]


def test_the_list_keeps_the_newest_uploads_and_results_stay_reachable_by_link(test_image_pngs):
    visitor = Client()
    names = [f"item-{n}.png" for n in range(MAX_RECENT + 2)]
    upload(visitor, test_image_pngs, *names[:11])
    upload(visitor, test_image_pngs, *names[11:], first=11)
    assert listed_on_home_page(visitor) == names[::-1][:MAX_RECENT]
    for thumbnail in thumbnails_on_home_page(visitor):
        result = thumbnail.removesuffix("thumbnail.jpg")
        assert Client().get(result).status_code == 200  # whoever has the link


# --- The API's list: staff sessions and API tokens only ---------------------------------------------


def test_the_list_refuses_anonymous_and_non_staff_callers_in_the_error_shape(client, django_user_model):
    anonymous = client.get("/api/predictions")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert "Authorization: Bearer" in anonymous.json()["error"]["message"]

    client.force_login(django_user_model.objects.create_user("visitor", password="not staff at all"))
    assert client.get("/api/predictions").status_code == 401
    assert Client().get("/api/predictions", HTTP_AUTHORIZATION="Bearer fst_made-up").status_code == 401


def test_staff_make_a_token_in_the_admin_that_is_shown_once_and_stored_hashed(
    staff_client, client, test_image_pngs
):
    from classifier.models import ApiToken

    upload(client, test_image_pngs, "someone's-coat.png")
    made = staff_client.post("/admin/classifier/apitoken/add/", {"name": "nightly export"})
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    [token] = re.findall(r'<code id="api-token"[^>]*>(fst_[A-Za-z0-9_-]+)</code>', made.text)
    [row] = ApiToken.objects.all()
    assert (row.name, row.created_by, row.prefix) == ("nightly export", "staff", token[:8])
    assert token not in row.token_hash and len(row.token_hash) == 64  # only its SHA-256
    assert token not in staff_client.get(f"/admin/classifier/apitoken/{row.pk}/change/").text

    program = Client()
    listed = program.get("/api/predictions", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert listed.status_code == 200
    assert [item["filename"] for item in listed.json()["predictions"]] == ["someone's-coat.png"]
    row.refresh_from_db()
    assert row.last_used_at is not None

    revoked = staff_client.post(
        "/admin/classifier/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}, follow=True
    )
    assert "Revoked 1 API token." in revoked.text
    assert program.get("/api/predictions", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_staff_sessions_list_and_anyone_reads_one_prediction_by_its_link(
    staff_client, client, test_image_pngs
):
    upload(client, test_image_pngs, "mine.png")
    [item] = staff_client.get("/api/predictions").json()["predictions"]
    assert item["filename"] == "mine.png"
    assert Client().get(f"/api/predictions/{item['id']}").json()["filename"] == "mine.png"
