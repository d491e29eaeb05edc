"""What `make run` serves, nginx in front of gunicorn (tests/servers.py), against the test node:
slow clients cannot stall it, image bombs cannot swell a worker, forged forwarding headers are
ignored."""

import io
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

from .helpers import cassandra_db, png_bytes
from .servers import served_site

pytestmark = cassandra_db

STALLED_CONNECTIONS = 16


@pytest.fixture(scope="module")
def site(django_db_setup, tmp_path_factory):  # the test keyspace exists, and is named
    with served_site(tmp_path_factory.mktemp("served-site")) as served:
        yield served


def open_connections(url: str, stop: threading.Event) -> list[threading.Thread]:
    """STALLED_CONNECTIONS clients that stop or trickle halfway through their request: a quarter
    each stall in the headers, stall in the body, trickle the headers, trickle the body."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    body_head = (
        b"POST /api/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000000\r\n\r\n"
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="slow.png"\r\n\r\n'
    )
    header_head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

    def client(kind: int) -> None:
        with socket.create_connection((host, port), timeout=30) as connection:
            connection.sendall(header_head if kind % 2 == 0 else body_head)
            while not stop.is_set():
                if kind >= 2:  # trickling: a byte now and then, never the end of the request
                    try:
                        connection.sendall(b"a")
                    except OSError:
                        return  # nginx gave up on it: fine
                stop.wait(0.5)

    threads = [
        threading.Thread(target=client, args=(n % 4,), daemon=True) for n in range(STALLED_CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    return threads


def test_stalled_and_trickling_clients_leave_healthz_answering_within_a_second(site, fashion_mnist):
    stop = threading.Event()
    threads = open_connections(site.url, stop)
    try:
        time.sleep(1)  # every connection is open and holding its request
        answers = []
        for _ in range(10):
            answers.append(requests.get(f"{site.url}/healthz", timeout=1).status_code)  # raises after 1 s
            time.sleep(0.3)
        assert answers == [200] * 10
        upload = requests.post(
            f"{site.url}/api/predictions",
            files={"image": ("fast.png", png_bytes(fashion_mnist.x_test[0]), "image/png")},
            timeout=30,
        )
        assert upload.status_code == 201, upload.text
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def flat_png(shade: int, mode: str = "RGB", side: int = 6300, compress_level: int = 1) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (side, side), shade).save(buffer, "PNG", compress_level=compress_level)
    return buffer.getvalue()


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    status = open(f"/proc/{pid}/status").read()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def test_twenty_flat_6300_pixel_pngs_are_answered_quickly_without_swelling_a_worker(site):
    bomb = flat_png(200, mode="L", compress_level=6)
    files = [("image", (f"flat-{n}.png", bomb, "image/png")) for n in range(20)]
    assert 20 * len(bomb) < 2_000_000  # far within the limits on bytes and on files

    started = time.monotonic()
    refused = requests.post(f"{site.url}/api/predictions", files=files, timeout=10)
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["code"] == "too_many_pixels"
    assert "at most 100 million" in refused.json()["error"]["message"]
    refused_in = time.monotonic() - started

    # Two of them fit the budget: decoded one after the other, each released before the next.
    two = [("image", (f"flat-{n}.png", flat_png(100 + n), "image/png")) for n in range(2)]
    accepted = requests.post(f"{site.url}/api/predictions", files=two, timeout=60)
    assert accepted.status_code == 201, accepted.text
    peaks = [peak_memory_mb(pid) for pid in site.worker_pids()]
    print(f"413 in {refused_in:.2f} s; workers' peak memory {', '.join(f'{mb:.0f}' for mb in peaks)} MB")
    assert max(peaks) < 500, peaks


def test_forwarding_headers_from_a_client_are_not_believed(site, fashion_mnist):
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "1.2.3.4"}
    image = ("forged.png", png_bytes(fashion_mnist.x_test[0]), "image/png")
    answer = requests.post(f"{site.url}/api/predictions", files={"image": image}, headers=forged, timeout=30)
    assert answer.status_code == 201, answer.text
    assert answer.json()["predictions"][0]["url"].startswith(f"{site.url}/predictions/")
