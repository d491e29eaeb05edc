"""Fixtures shared by the suite: the test Cassandra node, real Fashion-MNIST images, a staff user.

Tests that touch storage use the real node started here (its own ports and data directory, see
fashionsite/test_settings.py) and the `test_fashionsite_test` keyspace that the test runner creates.
"""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from cassandra_node.configured import configured_node
from mlmodel.data import load_fashion_mnist

from .compose_file import read_compose
from .helpers import MODEL_VERSION, at, png_bytes, stored, write_idx_files

DEVELOPMENT_PORT = 9042


def pytest_sessionstart(session: pytest.Session) -> None:
    # pytest-django's database blocker does not cover cqlengine, so a test that forgot its marker
    # would query whatever node and keyspace settings name: make sure that is never real data.
    assert settings.SETTINGS_MODULE == "fashionsite.test_settings", settings.SETTINGS_MODULE
    assert settings.CASSANDRA_PORT != DEVELOPMENT_PORT
    assert settings.DATABASES["cassandra"]["NAME"] != "fashionsite"


@pytest.fixture(scope="session")
def cassandra_node():
    node = configured_node()
    started_here = node.start()
    yield node
    if started_here:
        from cassandra.cqlengine.connection import unregister_connection

        unregister_connection("cassandra")  # hang up first, or the driver logs reconnect errors
        node.stop()


@pytest.fixture(scope="session")
def django_db_setup(cassandra_node, django_db_setup, django_db_blocker):
    """The test databases, once the test node answers, with the SAI indexes sync_cassandra cannot make."""
    from django.db import connections

    from classifier import schema

    cassandra = connections["cassandra"]
    if cassandra.settings_dict["NAME"] == cassandra.settings_dict["TEST"]["NAME"]:  # set up in this session
        with django_db_blocker.unblock():
            schema.ensure_indexes()


@pytest.fixture(scope="session")
def fashion_mnist():
    """Fashion-MNIST, the suite's one copy: from FASHION_MNIST_DIR (test_settings points it at
    ../shared/datasets/fashion-mnist where that exists), else from Keras's cache, which Keras's loader
    downloads into. Only where neither has it and the download fails do the tests that need it skip."""
    try:
        return load_fashion_mnist(settings.FASHION_MNIST_DIR)
    except Exception as error:  # Keras's downloader raises whatever the network gives it
        if settings.FASHION_MNIST_DIR:
            raise  # a directory was named: a missing or corrupt file there is a failure
        pytest.skip(
            "Fashion-MNIST is not available: no FASHION_MNIST_DIR, no ../shared/datasets/fashion-mnist, "
            f"and Keras could not download it ({error})"
        )


@pytest.fixture(scope="session")
def fashion_mnist_dir(fashion_mnist, tmp_path_factory) -> Path:
    """A directory holding the four original .gz files: FASHION_MNIST_DIR, or one written from the arrays."""
    if settings.FASHION_MNIST_DIR:
        return Path(settings.FASHION_MNIST_DIR)
    return write_idx_files(fashion_mnist, tmp_path_factory.mktemp("fashion-mnist"))


@pytest.fixture(scope="session")
def test_image_pngs(fashion_mnist) -> list[tuple[bytes, int]]:
    """The first 300 Fashion-MNIST test images as PNG files, with their true labels."""
    return [
        (png_bytes(image), int(label))
        for image, label in zip(fashion_mnist.x_test[:300], fashion_mnist.y_test[:300])
    ]


@pytest.fixture(scope="session")
def compose() -> dict:
    """compose.yaml as data, for the tests of its services."""
    return read_compose()


@pytest.fixture
def cql_sent(monkeypatch) -> list[str]:
    """Every CQL statement the driver sends during the test."""
    from cassandra.cluster import Session
    from cassandra.query import BoundStatement

    sent: list[str] = []
    original = Session._create_response_future

    def recording(self, query, *args, **kwargs):
        sent.append(
            query.prepared_statement.query_string if isinstance(query, BoundStatement) else str(query)
        )
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(Session, "_create_response_future", recording)
    return sent


@pytest.fixture
def small_pages(monkeypatch):
    """The admin's predictions list three to a page."""
    from classifier.admin import PredictionAdmin

    monkeypatch.setattr(PredictionAdmin, "list_per_page", 3)


@pytest.fixture
def week():
    """Predictions over three past days and several hours of each (newest first in `names`)."""
    rows = [
        (at(3, 9), "coat-a.png", "Coat", 0.95, MODEL_VERSION),
        (at(3, 17), "Boot-1.PNG", "Ankle boot", 0.55, MODEL_VERSION),
        (at(2, 0, 5), "bag.jpg", "Bag", 0.99, "20261201-080000"),
        (at(2, 8), "boots.jpg", "Ankle boot", 0.97, "20261201-080000"),
        (at(2, 8, 30), "shirt.png", "Shirt", 0.41, MODEL_VERSION),
        (at(2, 23, 59), "BOOT_2.png", "Sneaker", 0.52, "20261201-080000"),
        (at(1, 6), "dress.png", "Dress", 0.88, MODEL_VERSION),
        (at(1, 6, 1), "boot 3.png", "Ankle boot", 0.93, MODEL_VERSION),
    ]
    return [stored(when, name, label, confidence, version) for when, name, label, confidence, version in rows]


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "correct horse battery")
    client.force_login(user)
    return client


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def page(monkeypatch):
    """A page in Debian's headless Chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test body's ORM calls are still
    # ordinary synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        page.set_default_timeout(20_000)
        yield page
        browser.close()
