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
