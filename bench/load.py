"""Load test: many uploads at once to a running fashionsite, then check nothing acknowledged is missing.

Sends `--count` uploads (distinct Fashion-MNIST test images, so none is answered as a repeat) to
POST /api/predictions from `--concurrency` keep-alive connections, and prints throughput, p50/p99
latency, errors by status, and the rows stored versus acknowledged (read back through the API).
As a baseline measured in the same run it first loads GET /healthz the same way: the ratio shows
how much of the server's plain request capacity an upload costs. With the server on this machine
(as `make run` starts it), it also prints the CPU time each upload cost the gunicorn workers, the
Cassandra node and this client, read from /proc: on a machine with few cores, where it all goes.

    make run                                    # the production setup: gunicorn, DEBUG off
    .venv/bin/python bench/load.py --count 10000 --concurrency 32
"""

import argparse
import http.client
import io
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

from PIL import Image, PngImagePlugin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mlmodel.data import load_fashion_mnist  # noqa: E402

BOUNDARY = "fashionsite-load-test"
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "fashion-mnist"


def multipart_body(filename: str, png: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def png(pixels, run_id: str) -> bytes:
    """The image as a PNG file of its own: the run's id in a text chunk makes every run's files new to
    the site (a file it has seen before is answered from storage as a repeat, not classified)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("fashionsite-load-run", run_id)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def cpu_seconds_by_process_kind() -> Counter[str]:
    """CPU time so far of this machine's gunicorn workers and Cassandra nodes, and of this process."""
    used: Counter[str] = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        kind = (
            "this client" if int(stat.parent.name) == os.getpid()
            else "gunicorn" if b"gunicorn" in command
            else "Cassandra" if b"CassandraDaemon" in command
            else None
        )  # fmt: skip
        if kind:
            used[kind] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return used


class Run:
    """Requests shared out to worker threads, each on its own keep-alive connection."""

    def __init__(self, url: str, requests: list[tuple[str, str, bytes | None]], concurrency: int):
        self.target = urllib.parse.urlsplit(url)
        self.requests = requests
        self.concurrency = concurrency
        self.next_index = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.acknowledged: list[str] = []

    def take(self) -> tuple[str, str, bytes | None] | None:
        with self.lock:
            if self.next_index >= len(self.requests):
                return None
            self.next_index += 1
            return self.requests[self.next_index - 1]

    def worker(self) -> None:
        connection = http.client.HTTPConnection(self.target.hostname, self.target.port or 80, timeout=60)
        while (request := self.take()) is not None:
            method, path, body = request
            headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"} if body else {}
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(
                    self.target.hostname, self.target.port or 80, timeout=60
                )
                status, payload = 0, b""
            elapsed = time.perf_counter() - started
            with self.lock:
                self.latencies.append(elapsed)
                self.statuses[status] += 1
                if status == 201:
                    self.acknowledged.append(json.loads(payload)["predictions"][0]["id"])
        connection.close()

    def execute(self) -> float:
        threads = [threading.Thread(target=self.worker) for _ in range(self.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def summary(name: str, run: Run, wall: float) -> float:
    latencies = sorted(run.latencies)
    throughput = len(latencies) / wall
    print(
        f"{name}: {len(latencies)} requests in {wall:.1f} s = {throughput:.0f}/s; "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:.1f} ms; "
        f"statuses {dict(sorted(run.statuses.items()))}"
    )
    return throughput


def readable_count(url: str, ids: list[str]) -> int:
    """How many acknowledged predictions the API finds again, by id."""
    found = Run(url, [("GET", f"/api/predictions/{prediction_id}", None) for prediction_id in ids], 8)
    found.execute()
    return found.statuses[200]


def stored_count(url: str, filename_prefix: str) -> int:
    """How many of today's stored predictions came from this run, acknowledged or not."""
    target = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=60)
    count, cursor = 0, ""
    while True:
        connection.request("GET", f"/api/predictions?limit=200{cursor}")
        page = json.loads(connection.getresponse().read())
        count += sum(item["filename"].startswith(filename_prefix) for item in page["predictions"])
        if not page["next_cursor"]:
            return count
        cursor = f"&cursor={page['next_cursor']}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--data-dir", default=os.environ.get("FASHION_MNIST_DIR") or DEFAULT_DATA)
    args = parser.parse_args()

    images = load_fashion_mnist(args.data_dir).x_test
    run_id = time.strftime("%Y%m%d%H%M%S")
    uploads = [
        (
            "POST",
            "/api/predictions",
            multipart_body(f"load-{run_id}-{n}.png", png(images[n % len(images)], run_id)),
        )
        for n in range(args.count)
    ]
    if args.count > len(images):
        print(
            f"note: only {len(images)} distinct images; the rest are repeats (answered without recomputing)"
        )

    baseline = Run(args.url, [("GET", "/healthz", None)] * args.count, args.concurrency)
    baseline_throughput = summary("baseline GET /healthz", baseline, baseline.execute())
    load = Run(args.url, uploads, args.concurrency)
    cpu_before = cpu_seconds_by_process_kind()
    upload_throughput = summary("POST /api/predictions", load, load.execute())
    cpu_used = cpu_seconds_by_process_kind() - cpu_before
    print(f"uploads run at {upload_throughput / baseline_throughput:.2f}x the /healthz request rate")
    if cpu_used:
        print(
            "CPU per upload: "
            + ", ".join(
                f"{kind} {seconds / args.count * 1000:.2f} ms" for kind, seconds in sorted(cpu_used.items())
            )
            + f" (this machine has {os.cpu_count()} cores)"
        )
    readable = readable_count(args.url, load.acknowledged)
    stored = stored_count(args.url, f"load-{run_id}-")
    verdict = "OK" if stored == readable == len(load.acknowledged) else "MISMATCH"
    print(
        f"acknowledged {len(load.acknowledged)}, readable by id {readable}, rows stored {stored}: {verdict}"
    )


if __name__ == "__main__":
    main()
