"""`make test-image`: the Dockerfile's two images, built with podman and started for real.

Outside the default run (marker `image`, minutes). Where no Docker engine runs and no registry
answers, the base is Debian bookworm from debootstrap (docker/local-base.sh, cached under var/),
both targets are built with `podman build --isolation chroot`, and since containers cannot be
started here (runc and crun are refused), an image is started as a runtime would start it: its
entrypoint and command, as its user, with its environment and working directory, chrooted into its
mounted root filesystem, in a mount and PID namespace of its own (its own /proc, /dev and /dev/shm,
and everything in it dies with it). It shares the machine's network, so gunicorn binds a free
loopback port through GUNICORN_BIND, as `docker run -e` would set it.

Everything started here is stopped, and every image built is removed; the cached base stays.
"""

import json
import os
import secrets
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings

from mlmodel.classes import CLASS_NAMES

from .helpers import free_port

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "localhost/fashionsite-base:bookworm"
BASE_TARBALL = ROOT / "var" / "image-base" / "bookworm.tar"
CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")

# Run in a new mount namespace (its mounts vanish with it) as the namespace's PID 1, then exec'd
# away: the devices a runtime gives a container, the host's name resolution, read-only binds.
# Arguments: root user workdir [--bind SOURCE TARGET]... NAME=VALUE... COMMAND...
IN_NAMESPACE = r"""
set -eu
root=$1 user=$2 workdir=$3
shift 3
mount -t tmpfs -o mode=0755,nosuid tmpfs "$root/dev"
for node in null zero full random urandom tty; do
    touch "$root/dev/$node" && mount --bind "/dev/$node" "$root/dev/$node"
done
mkdir "$root/dev/shm" && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
for file in /etc/hosts /etc/resolv.conf; do
    touch "$root$file" && mount --bind "$file" "$root$file"
done
while [ "$1" = --bind ]; do
    mkdir -p "$root$3" && mount --bind "$2" "$root$3" && mount -o remount,bind,ro "$root$3"
    shift 3
done
exec chroot --userspec="$user" "$root" /usr/bin/env -i -C "$workdir" "$@"
"""


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout


def image_ids() -> set[str]:
    return set(podman("images", "--all", "--quiet", "--no-trunc").split())


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, dict]:
    """Both targets built from this checkout on the local base: target -> `podman image inspect`."""
    subprocess.run([str(ROOT / "docker" / "local-base.sh"), BASE_IMAGE, str(BASE_TARBALL)], check=True)
    logs = tmp_path_factory.mktemp("image-build")
    # The machine's CA bundle for pip, in case a TLS-intercepting proxy stands between it and PyPI.
    secret = ["--secret", f"id=ca-certificates,src={CA_BUNDLE}"] if CA_BUNDLE.is_file() else []
    before = image_ids()
    built = {}
    try:
        started = time.monotonic()
        for target in ("train", "serve"):  # serve second: it reuses the stages they share
            log = logs / f"{target}.log"
            with log.open("w") as out:
                build = subprocess.run(
                    ["podman", "build", "--format", "docker", "--isolation", "chroot", "--force-rm",
                     "--build-arg", f"BASE={BASE_IMAGE}", *secret, "--target", target,
                     "--iidfile", str(logs / target), str(ROOT)],
                    check=False, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            assert build.returncode == 0, f"podman build --target {target} failed:\n{log.read_text()[-5000:]}"
            built[target] = json.loads(podman("image", "inspect", (logs / target).read_text().strip()))[0]
        print(f"figure: both targets built, no cache, in {time.monotonic() - started:.0f} s")
        yield built
    finally:
        created = image_ids() - before
        if created:
            subprocess.run(["podman", "rmi", "--force", *created], check=False, capture_output=True)
        assert not image_ids() - before, "images left behind"


@contextmanager
def root_filesystem(image: dict):
    """The image's root filesystem, mounted, in a container created (never started) for it."""
    container = podman("create", image["Id"]).strip()
    try:
        yield Path(podman("mount", container).strip())
    finally:
        subprocess.run(["podman", "umount", container], check=False, capture_output=True)
        subprocess.run(["podman", "rm", "--force", container], check=False, capture_output=True)


def in_image(
    root: Path, image: dict, argv: list[str], env: dict[str, str], binds: dict[str, str]
) -> list[str]:
    """The command line that runs argv in the image as its runtime would, with env over the image's."""
    config = image["Config"]
    environment = dict(item.split("=", 1) for item in config["Env"]) | env
    bind_args = [arg for source, target in binds.items() for arg in ("--bind", source, target)]
    return [
        "unshare", "--mount", "--pid", "--fork", "--kill-child", f"--mount-proc={root}/proc",
        "sh", "-c", IN_NAMESPACE, "in-image", str(root), config["User"], config.get("WorkingDir") or "/",
        *bind_args, *(f"{name}={value}" for name, value in environment.items()), *argv,
    ]  # fmt: skip


def site_environment(port: int) -> dict[str, str]:
    """What a deployer sets (compose.yaml's web service), pointed at the suite's Cassandra node."""
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SUPERUSER_USERNAME": "admin",
        "DJANGO_SUPERUSER_PASSWORD": "image check password 1",
        "CASSANDRA_HOSTS": "127.0.0.1",
        "CASSANDRA_PORT": str(settings.CASSANDRA_PORT),
        "CASSANDRA_KEYSPACE": f"image_check_{secrets.token_hex(4)}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }


@contextmanager
def cassandra_session():
    from cassandra.cluster import Cluster
    from cassandra.policies import WhiteListRoundRobinPolicy

    cluster = Cluster(
        ["127.0.0.1"],
        port=settings.CASSANDRA_PORT,
        protocol_version=4,
        load_balancing_policy=WhiteListRoundRobinPolicy(["127.0.0.1"]),
    )
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()


def stop(server: subprocess.Popen) -> int:
    """SIGTERM to the namespace's PID 1 (gunicorn, as `docker stop` sends it); its exit status."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    pids = children.read_text().split() if children.exists() else []
    for pid in pids:
        os.kill(int(pid), signal.SIGTERM)
    try:
        return server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()  # unshare's --kill-child then kills PID 1, and the namespace with it
        server.wait()
        raise


def test_both_images_are_configured_to_run_unprivileged(images):
    for target, image in images.items():
        user = image["Config"]["User"]
        assert user and user.split(":")[0] not in {"0", "root"}, (target, user)
        print(f"figure: {target} image {image['Size'] / 1e6:.0f} MB")
    serve = images["serve"]["Config"]
    assert set(serve["ExposedPorts"]) == {"8000/tcp"}
    environment = dict(item.split("=", 1) for item in serve["Env"])
    assert environment["GUNICORN_BIND"] == "0.0.0.0:8000"
    assert serve["Entrypoint"] == ["/app/docker/entrypoint.sh"]
    assert serve["Cmd"][:2] == ["gunicorn", "fashionsite.wsgi"]
    check = images["serve"]["Healthcheck"]
    assert check["Test"][0] == "CMD" and "/readyz" in check["Test"][-1]
    train = images["train"]["Config"]
    assert train["Entrypoint"] == ["python", "manage.py", "train_model"]
    assert not images["train"].get("Healthcheck")


def test_serve_image_has_no_tensorflow_and_train_image_has_it(images):
    probe = (
        "import importlib.util as u; "
        "print(*(bool(u.find_spec(m)) for m in ('tensorflow', 'keras', 'ai_edge_litert')))"
    )
    for target, expected in (("serve", "False False True"), ("train", "True True True")):
        with root_filesystem(images[target]) as root:
            found = subprocess.run(
                in_image(root, images[target], ["python", "-c", probe], {}, {}),
                capture_output=True, text=True, check=True,
            )  # fmt: skip
        assert found.stdout.split() == expected.split(), (target, found.stdout, found.stderr)


def test_serve_image_starts_serves_stores_and_guards_the_admin(
    images, cassandra_node, test_image_pngs, tmp_path
):
    image = images["serve"]
    port = free_port()
    env = site_environment(port)
    site = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with root_filesystem(image) as root, log.open("w") as out:
        started = time.monotonic()
        command = image["Config"]["Entrypoint"] + image["Config"]["Cmd"]
        server = subprocess.Popen(
            in_image(root, image, command, env, {}), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            while True:  # migrations, sync_schema, createadmin, then gunicorn and its workers
                assert server.poll() is None, f"the image's entrypoint exited:\n{log.read_text()}"
                assert time.monotonic() - started < 300, f"/readyz never answered 200:\n{log.read_text()}"
                try:
                    if requests.get(f"{site}/readyz", timeout=5).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass  # not listening yet, or its workers still loading the model
                time.sleep(0.5)
            print(f"figure: serve image, start to /readyz 200 in {time.monotonic() - started:.1f} s")

            # The image's own health check, run in it as Docker would run it.
            health = subprocess.run(
                in_image(root, image, image["Healthcheck"]["Test"][1:], env, {}), check=False, timeout=30
            )
            assert health.returncode == 0
            # The entrypoint gave the empty model volume the shipped model.
            assert (root / "models/ACTIVE").read_text() == (root / "app/mlmodel/artifacts/ACTIVE").read_text()

            png, label = test_image_pngs[0]
            upload = requests.post(
                f"{site}/api/predictions", files={"image": ("boot.png", png, "image/png")}, timeout=30
            )
            assert upload.status_code == 201, upload.text
            (prediction,) = upload.json()["predictions"]
            assert prediction["label"] == CLASS_NAMES[label]
            with cassandra_session() as session:
                from cassandra.util import datetime_from_uuid1

                made = datetime_from_uuid1(uuid.UUID(prediction["id"]))
                row = session.execute(
                    f"SELECT filename, label, sha256 FROM {env['CASSANDRA_KEYSPACE']}.prediction "
                    "WHERE day = %s AND hour = %s AND id = %s",
                    [made.date(), made.hour, uuid.UUID(prediction["id"])],
                ).one()
                assert (row.filename, row.label, row.sha256) == (
                    "boot.png",
                    prediction["label"],
                    prediction["sha256"],
                )

            admin = requests.Session()
            answer = admin.get(f"{site}/admin/", allow_redirects=False, timeout=10)
            assert answer.status_code == 302 and answer.headers["Location"].startswith("/admin/login/")
            admin.get(f"{site}/admin/login/", timeout=10)
            login = admin.post(
                f"{site}/admin/login/?next=/admin/",
                data={"username": "admin", "password": env["DJANGO_SUPERUSER_PASSWORD"],
                      "csrfmiddlewaretoken": admin.cookies["csrftoken"], "next": "/admin/"},
                timeout=10,
            )  # fmt: skip
            assert login.status_code == 200 and "Site administration" in login.text  # createadmin's account
        finally:
            status = stop(server)
            with cassandra_session() as session:
                session.execute(f"DROP KEYSPACE IF EXISTS {env['CASSANDRA_KEYSPACE']}", timeout=120)
    assert status == 0, f"gunicorn did not stop cleanly on SIGTERM:\n{log.read_text()}"


def test_train_image_trains_and_publishes_into_the_model_dir(images, tmp_path):
    image = images["train"]
    env = {"CASSANDRA_HOSTS": "127.0.0.1", "CASSANDRA_PORT": str(settings.CASSANDRA_PORT)}
    binds = {}
    if settings.FASHION_MNIST_DIR:  # else the image downloads the data set with Keras's loader
        binds[settings.FASHION_MNIST_DIR] = "/datasets/fashion-mnist"
        env["FASHION_MNIST_DIR"] = "/datasets/fashion-mnist"
    command = image["Config"]["Entrypoint"] + ["--profile", "quick", "--no-activate"]
    with root_filesystem(image) as root:
        started = time.monotonic()
        run = subprocess.run(
            in_image(root, image, command, env, binds),
            check=False,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
        print(f"figure: train image, train_model --profile quick in {time.monotonic() - started:.0f} s")
        versions = [path for path in (root / "models").iterdir() if not path.name.startswith(".")]
        assert len(versions) == 1 and versions[0].is_dir(), versions
        assert {"model.tflite", "model-int8.tflite", "model.keras", "metadata.json", "report.json"} <= {
            p.name for p in versions[0].iterdir()
        }
        metadata = json.loads((versions[0] / "metadata.json").read_text())
        assert metadata["version"] == versions[0].name and metadata["test_accuracy"] > 0.7
        assert not (root / "models" / "ACTIVE").exists()  # --no-activate
