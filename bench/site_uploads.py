"""Upload real Fashion-MNIST test images to a running site through its form, as a browser would.

Prints how many were classified right, the upload latency (p50/p99) and throughput, and checks that
every acknowledged upload is a row the admin browse shows.

    make run    # in another terminal, or any running fashionsite
    .venv/bin/python bench/site_uploads.py --count 500 --url http://127.0.0.1:8000
"""

import argparse
import io
import re
import statistics
import sys
import time
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mlmodel.classes import CLASS_NAMES  # noqa: E402
from mlmodel.data import dataset_dir, load_fashion_mnist  # noqa: E402


def png(pixels) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(session: requests.Session, url: str, name: str, data: bytes) -> tuple[str, str, float]:
    """POST one image through the form; return (prediction url, predicted label, seconds)."""
    token = session.cookies["csrftoken"]
    started = time.perf_counter()
    response = session.post(
        url,
        data={"csrfmiddlewaretoken": token},
        files={"images": (name, data, "image/png")},
        headers={"Referer": url},
        allow_redirects=False,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 302:
        raise RuntimeError(f"{name}: HTTP {response.status_code}")
    result_url = requests.compat.urljoin(url, response.headers["Location"])
    label = re.search(r'<span class="label">([^<]+)</span>', session.get(result_url).text)[1]
    return result_url, label, elapsed


def admin_lists(session: requests.Session, url: str, username: str, password: str, names: set[str]) -> int:
    """How many of `names` today's admin browse lists, following its cursor pages."""
    login = url.rstrip("/") + "/admin/login/"
    session.get(login)
    session.post(
        login,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": login},
    )
    listed, page_url = set(), url.rstrip("/") + "/admin/classifier/prediction/"
    while page_url:
        page = session.get(page_url).text
        listed |= set(re.findall(r"<td>(bench-[^<]+)</td>", page)) & names
        older = re.search(r'href="(\?day=[\d-]+&amp;before=[0-9a-f-]+)" class="older"', page)
        page_url = (
            url.rstrip("/") + "/admin/classifier/prediction/" + older[1].replace("&amp;", "&")
            if older
            else None
        )
    return len(listed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000/")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--data-dir", default=dataset_dir("fashion-mnist", "FASHION_MNIST_DIR"))
    parser.add_argument("--admin-password-file", default="var/admin-password.txt")
    args = parser.parse_args()

    test = load_fashion_mnist(args.data_dir)
    session = requests.Session()
    session.get(args.url).raise_for_status()
    run = time.strftime("%H%M%S")
    right, latencies, names = 0, [], set()
    started = time.perf_counter()
    for index in range(args.count):
        name = f"bench-{run}-{index}.png"
        _, label, elapsed = upload(session, args.url, name, png(test.x_test[index]))
        right += label == CLASS_NAMES[test.y_test[index]]
        latencies.append(elapsed)
        names.add(name)
    wall = time.perf_counter() - started

    latencies.sort()
    print(f"uploads: {args.count}, classified right: {right} ({right / args.count:.1%})")
    print(
        f"upload latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:.1f} ms; "
        f"{args.count / wall:.1f} uploads/s sequential (each followed by a result-page GET)"
    )
    password_file = Path(args.admin_password_file)
    if password_file.exists():
        username, password = password_file.read_text().split()[:2]
        print(
            "listed in the admin browse: "
            f"{admin_lists(requests.Session(), args.url, username, password, names)}"
            f" of {len(names)}"
        )


if __name__ == "__main__":
    main()
