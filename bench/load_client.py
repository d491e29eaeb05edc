"""The load test's client and its view of the server's processes (bench/load.py runs them).

The uploads' files are made new for every run (`png`, `with_comment`), so the site never answers one
as a repeat.
`Phase` sends requests from many keep-alive connections for a fixed time and keeps the figures of
the requests that completed inside its measuring window (after a warm-up); `ServerProcesses` finds
the processes of one `make run` setup by their pid files (gunicorn, its nginx, the Cassandra node)
and reads their CPU time and memory from /proc, so that another suite's servers and nodes on the
same machine are never counted.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

BOUNDARY = "fashionsite-load-test"
TICKS = os.sysconf("SC_CLK_TCK")
Request = tuple[str, str, bytes | None]  # method, path, multipart body


def multipart_body(filename: str, content_type: str, data: bytes, field_name: str = "image") -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def png(pixels: np.ndarray, tag: str) -> bytes:
    """The image as a PNG of its own: the tag in a text chunk makes its bytes new to the site."""
    info = PngImagePlugin.PngInfo()
    info.add_text("fashionsite-load", tag)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def with_comment(jpeg: bytes, tag: str) -> bytes:
    """The JPEG with a comment segment (COM) after its start marker: the same picture, new bytes."""
    text = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def wait_answering(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@dataclass
class Phase:
    """Requests made by `make(n)` (n = 0, 1, ...) sent from `concurrency` connections for
    `warmup + seconds`; `acknowledge(status, payload)` gives the stored id an answer acknowledges."""

    url: str
    make: Callable[[int], Request]
    concurrency: int
    acknowledge: Callable[[int, bytes], str | None] = lambda status, payload: None
    latencies: list[float] = field(default_factory=list)  # of requests completed in the window
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: list[str] = field(default_factory=list)  # every acknowledged id, warm-up included
    window: tuple[float, float] = (0.0, 0.0)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per request by process kind (load.py)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._stop = False
        self._target = urllib.parse.urlsplit(self.url)

    def _take(self) -> Request | None:
        with self._lock:
            if self._stop:
                return None
            self._next += 1
            return self.make(self._next - 1)

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._target.hostname, self._target.port or 80, timeout=120)

    def _worker(self) -> None:
        connection = self._connect()
        while (request := self._take()) is not None:
            method, path, body = request
            headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"} if body else {}
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                status, payload = response.status, response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = self._connect()
                status, payload = 0, b""
            ended = time.perf_counter()
            acknowledged = self.acknowledge(status, payload)
            with self._lock:
                if acknowledged:
                    self.acknowledged.append(acknowledged)
                if self.window[0] <= ended <= self.window[1]:
                    self.latencies.append(ended - started)
                    self.statuses[status] += 1
        connection.close()

    def run(self, warmup: float, seconds: float, at_window: Callable[[], None] = lambda: None) -> None:
        """Load for warmup + seconds; `at_window` runs as the window opens and again as it closes."""
        self.window = (float("inf"), float("inf"))
        threads = [threading.Thread(target=self._worker) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        time.sleep(warmup)
        at_window()
        start = time.perf_counter()
        self.window = (start, start + seconds)
        time.sleep(seconds)
        at_window()
        with self._lock:
            self._stop = True
        for thread in threads:
            thread.join()

    @property
    def rate(self) -> float:
        return len(self.latencies) / (self.window[1] - self.window[0])

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[int(share * (len(ordered) - 1))] if ordered else float("nan")

    def describe(self) -> str:
        median = 1000 * statistics.median(self.latencies) if self.latencies else float("nan")
        errors = sum(count for status, count in self.statuses.items() if status >= 400 or status == 0)
        return (
            f"{len(self.latencies)} in {self.window[1] - self.window[0]:.0f} s = {self.rate:.1f}/s, "
            f"p50 {median:.1f} ms, p99 {self.percentile_ms(0.99):.1f} ms, errors {errors} "
            f"(statuses {dict(sorted(self.statuses.items()))})"
        )


def created_id(status: int, payload: bytes) -> str | None:
    """The site's API: 201 with the stored prediction's id."""
    return json.loads(payload)["predictions"][0]["id"] if status == 201 else None


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _pid_from(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


# Cassandra's shared pool: its worker threads take the name of the stage they last worked for, so
# their time is counted together, as the node's request work (requests, reads, writes).
SHARED_POOL_STAGES = ("Native-Transpor", "MutationStage", "ReadStage", "SharedPool-Work", "CounterMutation")


def cpu_seconds_by_thread(pid: int) -> Counter[str]:
    """A process's CPU time by thread name, the numbered threads of one pool together: the JVM names
    a node's threads by pool ("C2 CompilerThread1", "COMMIT-LOG-WRITER"; Linux keeps the first 15
    characters), and the stages of Cassandra's shared pool count as one, "requests"."""
    seconds: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").glob("*") if Path(f"/proc/{pid}").exists() else ():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        pool = "requests" if name.startswith(SHARED_POOL_STAGES) else re.sub(r"[-:#]?\d+$", "", name)
        seconds[pool] += (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def resident_mb(pid: int, field_name: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ServerProcesses:
    """The processes of one served site (fashionsite/serve.py's run directory) and its node, by kind."""

    def __init__(self, run_dir: Path, cassandra_dir: Path, extra: dict[str, int] | None = None) -> None:
        self.run_dir, self.cassandra_dir = run_dir, cassandra_dir
        self.extra = extra or {}

    def worker_pids(self) -> list[int]:
        master = _pid_from(self.run_dir / "gunicorn.pid")
        return _children(master) if master else []

    def by_kind(self) -> dict[str, list[int]]:
        kinds: dict[str, list[int]] = {"client": [os.getpid()]}
        for kind, pid_file in (
            ("gunicorn", self.run_dir / "gunicorn.pid"),
            ("nginx", self.run_dir / "nginx" / "nginx.pid"),
            ("Cassandra", self.cassandra_dir / "cassandra.pid"),
        ):
            if (pid := _pid_from(pid_file)) is not None:
                kinds[kind] = [pid, *_children(pid)]
        for kind, pid in self.extra.items():
            kinds[kind] = [pid, *_children(pid)]
        return kinds

    def cpu(self) -> Counter[str]:
        return Counter({kind: sum(map(cpu_seconds, pids)) for kind, pids in self.by_kind().items()})

    def node_cpu_by_thread(self) -> Counter[str]:
        """The node's CPU time by thread pool: which of its parts (requests, writes, the JIT, GC,
        compaction) a request's Cassandra CPU goes to."""
        pid = _pid_from(self.cassandra_dir / "cassandra.pid")
        return cpu_seconds_by_thread(pid) if pid is not None else Counter()


class MemorySampler:
    """The largest resident size of each gunicorn worker seen while it runs (every 0.2 s)."""

    def __init__(self, processes: ServerProcesses) -> None:
        self.processes = processes
        self.peak_mb: Counter[int] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for pid in self.processes.worker_pids():
                self.peak_mb[pid] = max(self.peak_mb[pid], resident_mb(pid))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
