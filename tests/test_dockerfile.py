"""What a deployer relies on in the Dockerfile: its stages, what each image installs and runs as,
the health check, gunicorn's port, the static files, the train image, and the linter's verdict
(docker/entrypoint.sh and .dockerignore: test_deployment_files.py; compose.yaml: test_compose.py;
the images built and started: test_image.py, `make test-image`).

Plain functions that read the files, run the health check and the linter: no Django database, no
Docker daemon.
"""

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .dockerfile import (
    DOCKERFILE,
    ENTRYPOINT,
    ROOT,
    dockerfile_instructions,
    exec_form,
    final_stage,
    image_env,
    instruction_text,
    stage,
    stages,
)

DOCKERFILE_UTILS = (
    ROOT / "var" / "tools" / "dockerfile-utils-0.16.3" / "node_modules" / ".bin" / "dockerfile-utils"
)


def requirement_names(path: Path) -> set[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {re.split(r"[<>=!~\[; ]", line)[0].lower() for line in lines if line and not line.startswith("-")}


def test_every_stage_builds_on_the_base_argument_or_an_earlier_stage():
    instructions = dockerfile_instructions()
    assert instructions[0] == (
        "ARG",
        "BASE=python:3.11-slim-bookworm",
    )  # one Debian release with the local base
    names = list(stages())
    for index, (base, _) in enumerate(stages().values()):
        assert base == "${BASE}" or base in names[:index], base
    assert names[-1] == "serve" and "train" in names


def test_the_serve_image_installs_no_tensorflow():
    serving = requirement_names(ROOT / "requirements-serve.txt")
    assert {"django", "gunicorn", "ai-edge-litert"} <= serving
    assert not {name for name in serving if name.startswith(("tensorflow", "keras"))}
    # requirements.txt is serving's plus training's: one list of what serving needs.
    assert "-r requirements-serve.txt" in (ROOT / "requirements.txt").read_text().splitlines()
    assert "tensorflow-cpu" in requirement_names(ROOT / "requirements.txt")
    serve_venv = " ".join(arguments for keyword, arguments in stage("serve-venv"))
    assert "requirements-serve.txt" in serve_venv and "requirements.txt" not in serve_venv.replace(
        "-serve.txt", ""
    )
    copied = [
        exec_form(a) if a.startswith("[") else a.split() for k, a in stages()["serve"][1] if k == "COPY"
    ]
    assert ["--from=code", "/opt/venv", "/opt/venv"] in copied  # serve-venv's, byte-compiled in `code`
    assert ["--from=train-venv", "/opt/venv", "/opt/venv"] in [
        a.split() for k, a in stage("train") if k == "COPY"
    ]


def test_only_runtime_requirements_are_installed_without_pip_cache():
    assert "requirements-dev" not in instruction_text()
    installs = [arguments for keyword, arguments in dockerfile_instructions() if "pip install" in arguments]
    assert len(installs) == 2 and all("--no-cache-dir" in run for run in installs), installs
    # Cache-friendly: in each virtualenv stage the requirements are copied and installed, and the
    # code is copied only in `code`, built on them: editing the code reinstalls nothing.
    for name in ("serve-venv", "train-venv"):
        instructions = stage(name)
        copies = [i for i, (keyword, arguments) in enumerate(instructions) if keyword == "COPY"]
        install = next(i for i, (_, arguments) in enumerate(instructions) if "pip install" in arguments)
        assert copies and max(copies) < install and "COPY" not in {k for k, _ in instructions[install:]}
    assert ("COPY", ". /app") in stages()["code"][1] and stages()["code"][0] == "serve-venv"


def test_both_images_run_as_a_non_root_user():
    for name in ("serve", "train"):
        users = [arguments.split(":")[0] for keyword, arguments in stage(name) if keyword == "USER"]
        assert users, f"{name} has no USER: it would run as root"
        assert users[-1] not in {"root", "0"}


def test_python_does_not_buffer_output_or_write_bytecode():
    env = image_env()
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"


def run_healthcheck(env: dict[str, str], status: int) -> tuple[int, list[tuple[str, str]]]:
    """The serve image's HEALTHCHECK command against a local server answering `status`."""
    (check,) = [arguments for keyword, arguments in final_stage() if keyword == "HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert "--start-period" in options and "--timeout" in options
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"]
    requests_seen: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests_seen.append((self.path, self.headers["Host"]))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        environment = {"PATH": os.environ["PATH"], "GUNICORN_BIND": f"0.0.0.0:{port}", **env}
        result = subprocess.run(
            [sys.executable, *argv[1:]], check=False, env=environment, timeout=30, capture_output=True
        )
        server.shutdown()
    return result.returncode, requests_seen


def test_healthcheck_asks_readyz_on_gunicorns_port_as_an_allowed_host():
    healthy, seen = run_healthcheck({"DJANGO_ALLOWED_HOSTS": "fashion.example.com,localhost"}, 200)
    assert healthy == 0 and seen == [("/readyz", "fashion.example.com")]
    unhealthy, seen = run_healthcheck({"DJANGO_ALLOWED_HOSTS": "*"}, 503)
    assert unhealthy != 0 and seen == [("/readyz", "localhost")]


def test_gunicorn_serves_on_port_8000_without_preload():
    stage_instructions = final_stage()
    assert ("EXPOSE", "8000") in stage_instructions
    assert image_env()["GUNICORN_BIND"] == "0.0.0.0:8000"
    commands = [exec_form(arguments) for keyword, arguments in stage_instructions if keyword == "CMD"]
    command = commands[-1]
    assert command[:2] == ["gunicorn", "fashionsite.wsgi"]
    assert command[command.index("--config") + 1] == "python:fashionsite.gunicorn"
    # The port comes from GUNICORN_BIND, read by the config file; a --bind here would override it.
    assert "--bind" not in command and "-b" not in command
    # In a process of its own: the config file sets environment variables as gunicorn starts.
    read = (
        "import json, runpy; c = runpy.run_path('fashionsite/gunicorn.py'); "
        "print(json.dumps([c['bind'], 'preload_app' in c]))"
    )
    env = {**os.environ, "GUNICORN_BIND": image_env()["GUNICORN_BIND"]}
    result = subprocess.run(
        [sys.executable, "-c", read], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == ["0.0.0.0:8000", False]
    # The Cassandra driver's sessions must not cross a fork: nothing may turn preloading on.
    assert "--preload" not in instruction_text()
    assert "--preload" not in ENTRYPOINT.read_text()
    assert "preload" not in image_env().get("GUNICORN_CMD_ARGS", "")


def test_static_files_are_collected_into_the_image_not_the_data_volume():
    env = image_env()
    assert "manage.py collectstatic --noinput" in " ".join(arguments for _, arguments in stages()["code"][1])
    assert ("COPY", "--from=code /app /app") in stages()["serve"][1]
    assert env["STATIC_ROOT"] and not env["STATIC_ROOT"].startswith(env["FASHIONSITE_DATA_DIR"])


def test_the_train_image_is_train_model_publishing_where_serve_reads():
    train = stage("train")
    assert [exec_form(a) for k, a in train if k == "ENTRYPOINT"][-1] == ["python", "manage.py", "train_model"]
    assert "HEALTHCHECK" not in {keyword for keyword, _ in train}
    assert image_env("train")["MODEL_DIR"] == image_env("serve")["MODEL_DIR"]


def test_serving_never_imports_tensorflow_or_keras(tmp_path):
    """The serve image has neither: what a gunicorn worker loads, and a chart it draws, must not need them."""
    script = """
import sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("tensorflow", "keras"):
            raise ImportError(f"serving imported {name}")

sys.meta_path.insert(0, Refuse())
from fashionsite.gunicorn import on_starting, post_worker_init
on_starting(None)  # what gunicorn's master does, then each worker:
import fashionsite.wsgi
post_worker_init(None)  # imports every view (and the admin, the API) and loads the model
from classifier.charts import probability_chart_png
probability_chart_png([0.1] * 10)
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fashionsite.settings",
        "FASHIONSITE_DATA_DIR": str(tmp_path / "data"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
    }
    env.pop("MODEL_DIR", None)  # the shipped model, as the image has it
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


def dockerfile_lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DOCKERFILE_UTILS), "lint", str(path)], check=False, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(
    not DOCKERFILE_UTILS.exists(), reason="dockerfile-utils is not installed: `make test` installs it"
)
def test_dockerfile_passes_dockerfile_utils_lint(tmp_path):
    lint = dockerfile_lint(DOCKERFILE)  # exit status 1 on errors; warnings print only: none of either
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, "")
    # The student lab's flaw, for one: the linter does warn of it.
    flawed = tmp_path / "Dockerfile"
    flawed.write_text(DOCKERFILE.read_text() + '\nCMD ["python", "app.py"]\n')
    assert "There can only be one CMD instruction" in dockerfile_lint(flawed).stdout
