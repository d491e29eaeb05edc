"""Serve the site as `make run` does: nginx in front, gunicorn behind it on a Unix socket.

    python -m fashionsite.serve --bind 127.0.0.1:8000

nginx (Debian's package; deploy/nginx/) listens on --bind and buffers every request and answer, so
slow or stalled clients never hold a gunicorn worker; gunicorn (fashionsite/gunicorn.py) listens
only on a Unix socket under the run directory, which nothing but this nginx reaches, so the
forwarding headers nginx sets are the only ones the site believes (classifier/proxy.py). Both run
in the foreground; Ctrl+C or SIGTERM stops both, and so does either one exiting.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "deploy" / "nginx"
SITE_CONF = NGINX_DIR / "fashionsite.conf"
TEMPLATE = NGINX_DIR / "local.conf.template"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )
    if found is None:
        sys.exit("nginx is not installed: `make run` installs Debian's package (apt-get install nginx).")
    return found


def write_nginx_conf(run_dir: Path, listen: str, socket: Path) -> Path:
    """The nginx configuration for this run, from deploy/nginx/local.conf.template."""
    prefix = run_dir / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    text = string.Template(TEMPLATE.read_text()).substitute(
        # A master started as root hands its workers to `nobody`, which may not reach the socket or
        # the checkout; as anyone else nginx keeps that user and says the directive is pointless.
        user="user root;" if os.geteuid() == 0 else "",
        prefix=prefix,
        socket=socket,
        listen=listen,
        site_conf=SITE_CONF,
    )
    conf = prefix / "nginx.conf"
    conf.write_text(text)
    return conf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bind", default="127.0.0.1:8000", help="where nginx listens (HOST:PORT)")
    parser.add_argument("--run-dir", default=str(ROOT / "var" / "run"), help="socket, pid files, nginx files")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    socket = run_dir / "gunicorn.sock"
    nginx = nginx_binary()
    conf = write_nginx_conf(run_dir, args.bind, socket)
    subprocess.run([nginx, "-t", "-q", "-p", str(conf.parent), "-c", str(conf)], check=True)

    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "fashionsite.wsgi", "--config", "python:fashionsite.gunicorn",
         "--bind", f"unix:{socket}", "--pid", str(run_dir / "gunicorn.pid")],
        cwd=ROOT,
    )  # fmt: skip
    proxy = subprocess.Popen([nginx, "-p", str(conf.parent), "-c", str(conf)], cwd=ROOT)
    children = [gunicorn, proxy]

    def stop(signum: int = signal.SIGTERM, frame: object = None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGQUIT if child is proxy else signal.SIGTERM)  # both: graceful

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=40)  # gunicorn's graceful timeout is 30 s
            except subprocess.TimeoutExpired:
                child.kill()
    return gunicorn.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
