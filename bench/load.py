"""Load test of the site as `make run` serves it (nginx in front of gunicorn), beside the seed lab's way.

    make run PORT=8000                          # the production setup: nginx, gunicorn, DEBUG off
    .venv/bin/python -m bench.load [--url http://127.0.0.1:8000] [--seconds 20]

One run measures, each phase for `--seconds` after a warm-up, from keep-alive connections:
  1. GET /healthz at concurrency 32: the server's plain request rate;
  2. small uploads (28x28 Fashion-MNIST PNGs, POST /api/predictions) at concurrency 32;
  3. 12-megapixel phone JPEGs at concurrency 8, made from real photos (bench/preprocessing.py's
     phone_jpeg: `--photos`, or tests/photos) with new camera noise every run, and every upload's
     bytes its own (a JPEG comment with the run and number), so none is answered as a repeat;
  4. the same two kinds of upload against the seed lab's way (bench/seed_lab.py, started here on
     `--seed-port`, writing to its own keyspace on the same Cassandra node).
For each it prints rate, p50/p99, errors, and the CPU time per request of each process kind
(gunicorn, nginx, the Cassandra node, the seed lab, this client), found by the pid files of the
served site (`--run-dir`, var/run as `make run` has it) and of the node (`--cassandra-dir`), so
other servers on the machine are not counted. Then the peak memory of each gunicorn worker under
phone-photo load, the ratios against the issue's goals, and stored == acknowledged: every
acknowledged prediction read back by id through the API, and the rows stored for this run counted in
Cassandra (run it with `make run`'s environment: CASSANDRA_PORT and the others). The machine's load
average is printed beside every phase.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.load_client import (
    BOUNDARY,
    MemorySampler,
    Phase,
    ServerProcesses,
    created_id,
    multipart_body,
    png,
    wait_answering,
    with_comment,
)
from bench.preprocessing import DEFAULT_PHOTOS, phone_jpeg
from mlmodel.clothing_photos import list_photos
from mlmodel.data import dataset_dir, load_fashion_mnist

REPO = Path(__file__).resolve().parent.parent
GOALS = {
    "phone rate": 40,
    "phone vs seed": 5,
    "small vs healthz": 0.25,
    "small vs seed": 10,
    "gunicorn ms": 3,
    "Cassandra ms": 2,
    "worker MB": 300,
}


def load_average() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def measure(name: str, phase: Phase, processes: ServerProcesses, args, kinds: tuple[str, ...]) -> Phase:
    """Run one phase; print its figures and the CPU per request of `kinds`."""
    marks: list[tuple[Counter[str], Counter[str]]] = []
    before = load_average()
    phase.run(
        args.warmup, args.seconds, lambda: marks.append((processes.cpu(), processes.node_cpu_by_thread()))
    )
    used = marks[1][0] - marks[0][0]
    node_threads = (marks[1][1] - marks[0][1]).most_common(6)
    count = max(len(phase.latencies), 1)
    phase.cpu_ms = {kind: 1000 * used[kind] / count for kind in kinds}
    print(f"{name}: {phase.describe()}")
    print(
        "  CPU per request: "
        + ", ".join(f"{kind} {ms:.2f} ms" for kind, ms in phase.cpu_ms.items())
        + f" (all: {1000 * sum(used.values()) / count:.2f} ms on {os.cpu_count()} cores)"
        + f"; {before} at start, {load_average()} at end"
    )
    if "Cassandra" in kinds:  # which of the node's parts its CPU per request goes to
        print(
            "  Cassandra by thread: "
            + ", ".join(f"{pool} {1000 * s / count:.2f} ms" for pool, s in node_threads)
        )
    return phase


def stored_site_ids(prefix: str, days: set[datetime.date]) -> set[str]:
    """The ids of the predictions stored today (and on the run's other days) from this run's files."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fashionsite.settings")
    from classifier import reads
    from classifier.listing import ListingQuery

    view = ListingQuery(newest=max(days), oldest=min(days))
    return {str(row["id"]) for row in reads.rows(view) if row["filename"].startswith(prefix)}


def stored_seed_ids(port: int, prefix: str) -> set[str]:
    from cassandra.cluster import Cluster

    cluster = Cluster(["127.0.0.1"], port=port)
    try:
        rows = cluster.connect().execute("SELECT id, filename FROM seed_lab.predictions")
        return {str(row.id) for row in rows if row.filename.startswith(prefix)}
    finally:
        cluster.shutdown()


def readable(url: str, ids: list[str]) -> int:
    """How many of the acknowledged predictions the site's API answers by id."""

    def found(prediction_id: str) -> bool:
        try:
            with urllib.request.urlopen(f"{url}/api/predictions/{prediction_id}", timeout=60) as answer:
                return answer.status == 200
        except OSError:
            return False

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(found, ids))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each phase")
    parser.add_argument("--run-dir", type=Path, default=REPO / "var" / "run")
    parser.add_argument(
        "--cassandra-dir",
        type=Path,
        default=Path(os.environ.get("CASSANDRA_DATA_DIR", REPO / "var" / "cassandra")),
    )
    parser.add_argument("--cassandra-port", type=int, default=int(os.environ.get("CASSANDRA_PORT", 9042)))
    parser.add_argument("--seed-port", type=int, default=8711)
    parser.add_argument("--no-seed", action="store_true", help="leave out the seed lab's way")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--phone-photos", type=int, default=8, help="distinct 12 MP pictures made")
    parser.add_argument("--data-dir", default=dataset_dir("fashion-mnist", "FASHION_MNIST_DIR"))
    args = parser.parse_args()
    run_id = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    prefix = f"load-{run_id}-"
    days = {time.strftime("%Y-%m-%d", time.gmtime())}
    seed = None
    if not args.no_seed:  # loading TensorFlow takes a while: started first, measured last
        (REPO / "var").mkdir(exist_ok=True)
        log = open(REPO / "var" / "seed_lab.log", "w")  # noqa: SIM115 (open while the lab runs)
        seed = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.seed_lab",
                "--port",
                str(args.seed_port),
                "--cassandra-port",
                str(args.cassandra_port),
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        report(args, run_id, prefix, days, seed)
    finally:
        if seed is not None:
            seed.terminate()
            seed.wait(timeout=30)


def report(args, run_id: str, prefix: str, days: set[str], seed: subprocess.Popen | None) -> None:
    images = load_fashion_mnist(args.data_dir).x_test
    source = args.photos
    rng = np.random.default_rng(int(run_id))  # new camera noise, so new pictures, every run
    photos = list_photos(source)
    chosen = rng.choice(len(photos), size=min(args.phone_photos, len(photos)), replace=False)
    jpegs = [phone_jpeg(photos[i].path, n % 2 == 1, rng) for n, i in enumerate(chosen)]
    sizes = sorted(len(jpeg) / 1e6 for jpeg in jpegs)
    print(f"run {run_id}: {len(jpegs)} 12 MP phone JPEGs from {source}, {sizes[0]:.1f}-{sizes[-1]:.1f} MB")

    def small(path: str):
        return lambda n: (
            "POST",
            path,
            multipart_body(
                f"{prefix}small-{n}.png", "image/png", png(images[n % len(images)], f"{run_id}-{n}")
            ),
        )

    def phone(path: str):
        return lambda n: (
            "POST",
            path,
            multipart_body(
                f"{prefix}phone-{n}.jpg", "image/jpeg", with_comment(jpegs[n % len(jpegs)], f"{run_id}-{n}")
            ),
        )

    if seed is not None:  # ready and idle before anything is measured
        wait_answering(f"http://127.0.0.1:{args.seed_port}/", 300)
    processes = ServerProcesses(args.run_dir, args.cassandra_dir, {"seed lab": seed.pid} if seed else None)
    if not processes.worker_pids():
        sys.exit(f"no gunicorn workers found by {args.run_dir / 'gunicorn.pid'}: is `make run` serving?")
    site = ("gunicorn", "nginx", "Cassandra", "client")
    url = args.url
    healthz = measure(
        "site GET /healthz, concurrency 32",
        Phase(url, lambda n: ("GET", "/healthz", None), 32),
        processes,
        args,
        site,
    )
    small_site = measure(
        "site 28x28 PNG uploads, concurrency 32",
        Phase(url, small("/api/predictions"), 32, created_id),
        processes,
        args,
        site,
    )
    with MemorySampler(processes) as memory:
        phone_site = measure(
            "site 12 MP phone JPEG uploads, concurrency 8",
            Phase(url, phone("/api/predictions"), 8, created_id),
            processes,
            args,
            site,
        )
    worker_mb = max(memory.peak_mb.values(), default=0.0)
    print(
        "  gunicorn workers' peak resident memory: "
        + ", ".join(f"pid {pid} {mb:.0f} MB" for pid, mb in sorted(memory.peak_mb.items()))
    )

    ratios = {"small vs healthz": small_site.rate / healthz.rate}
    seed_ok = True
    if seed is not None:
        seed_url = f"http://127.0.0.1:{args.seed_port}"
        # Keras traces its predict function on the first calls (once per thread that calls at once):
        # a lab that has served a while has done so, so a few sequential uploads come first.
        primed = set()
        for make in (small("/predict"), phone("/predict")):
            for n in range(3):
                method, path, body = make(10_000_000 + n)
                headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
                request = urllib.request.Request(seed_url + path, body, headers)
                primed.add(json.loads(urllib.request.urlopen(request, timeout=120).read())["id"])
        lab = ("seed lab", "Cassandra", "client")

        def seed_id(status: int, payload: bytes) -> str | None:
            return json.loads(payload)["id"] if status == 200 else None

        small_seed = measure(
            "seed lab 28x28 PNG uploads, concurrency 32",
            Phase(seed_url, small("/predict"), 32, seed_id),
            processes,
            args,
            lab,
        )
        phone_seed = measure(
            "seed lab 12 MP phone JPEG uploads, concurrency 8",
            Phase(seed_url, phone("/predict"), 8, seed_id),
            processes,
            args,
            lab,
        )
        ratios["small vs seed"] = small_site.rate / small_seed.rate
        ratios["phone vs seed"] = phone_site.rate / phone_seed.rate
        acked = {*small_seed.acknowledged, *phone_seed.acknowledged, *primed}
        seed_ok = stored_seed_ids(args.cassandra_port, prefix) == acked
        print(f"seed lab: acknowledged {len(acked)}, stored == acknowledged: {'yes' if seed_ok else 'NO'}")

    days.add(time.strftime("%Y-%m-%d", time.gmtime()))
    acknowledged = small_site.acknowledged + phone_site.acknowledged
    found = readable(url, acknowledged)
    stored = stored_site_ids(prefix, {datetime.date.fromisoformat(day) for day in days})
    site_ok = found == len(acknowledged) and stored == set(acknowledged)
    print(
        f"site: acknowledged {len(acknowledged)}, readable by id {found}, rows stored {len(stored)}: "
        f"stored == acknowledged {'yes' if site_ok else 'NO'}"
    )

    figures = {
        "phone rate": (phone_site.rate, "/s"),
        **{name: (value, "x") for name, value in ratios.items()},
        "gunicorn ms": (small_site.cpu_ms["gunicorn"], " ms CPU per small upload"),
        "Cassandra ms": (small_site.cpu_ms["Cassandra"], " ms CPU per small upload"),
        "worker MB": (worker_mb, " MB"),
    }
    print(f"\ngoals ({load_average()}):")
    for name, (value, unit) in figures.items():
        at_most = name.endswith(("ms", "MB"))
        met = value <= GOALS[name] if at_most else value >= GOALS[name]
        print(
            f"  {name:<18}{value:>8.2f}{unit}  goal {'<=' if at_most else '>='} {GOALS[name]}: "
            f"{'met' if met else 'NOT met'}"
        )
    print(f"  stored == acknowledged: {'yes' if site_ok and seed_ok else 'NO'}")


if __name__ == "__main__":
    main()
