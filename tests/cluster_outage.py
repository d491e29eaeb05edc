"""What the three-node outage scenario of test_cluster.py records: each upload, the outage as a
whole, the site it runs against; and the distinct test images it uploads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from mlmodel.data import Dataset

from .helpers import png_bytes


@dataclass
class Upload:
    index: int  # in the Fashion-MNIST test set
    started: float  # seconds since the kill (negative before it)
    status: int
    body: dict
    seconds: float

    @property
    def acknowledged(self) -> bool:
        return self.status == 201


@dataclass
class Outage:
    replication: dict[str, str] = field(default_factory=dict)
    before: list[Upload] = field(default_factory=list)
    during: list[Upload] = field(default_factory=list)
    states_after_kill: dict[str, str] = field(default_factory=dict)
    states_after_restart: dict[str, str] = field(default_factory=dict)
    read_back: dict[str, tuple[int, dict]] = field(default_factory=dict)  # id -> (status, JSON)
    inputs_read_back: dict[str, tuple[int, str]] = field(default_factory=dict)  # id -> (status, type)
    stored_though_refused: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def acknowledged(self) -> list[Upload]:
        return [upload for upload in self.before + self.during if upload.acknowledged]

    @property
    def refused(self) -> list[Upload]:
        return [upload for upload in self.during if not upload.acknowledged]

    def summary(self) -> str:
        timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.timings.items())
        refused = self.refused
        window = f"{refused[0].started:.1f}-{refused[-1].started:.1f}s after the kill" if refused else "none"
        return (
            f"uploads: {len(self.before)} before the kill, {len(self.during)} while node 1 was down "
            f"({len(refused)} refused: {window}; {len(self.stored_though_refused)} of them stored anyway); "
            f"{len(self.acknowledged)} acknowledged, "
            f"{sum(status == 200 for status, _ in self.read_back.values())} read back.\n"
            f"states after the kill {self.states_after_kill}, after the restart {self.states_after_restart}\n"
            f"timings: {timings}"
        )


def distinct_images(fashion_mnist: Dataset, count: int) -> list[tuple[int, bytes]]:
    """`count` Fashion-MNIST test images as PNGs, no two alike (the site would answer a repeat)."""
    seen, images = set(), []
    for index, pixels in enumerate(fashion_mnist.x_test):
        png = png_bytes(pixels)
        digest = hashlib.sha256(png).hexdigest()
        if digest not in seen:
            seen.add(digest)
            images.append((index, png))
            if len(images) == count:
                return images
    raise AssertionError(f"only {len(images)} distinct test images")


@dataclass
class Site:
    url: str
    setup_seconds: float
    token: str

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
