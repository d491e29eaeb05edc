"""What a deployer relies on in compose.yaml, read as data: the one-node setup and the one-off
`train` service (the `cluster` profile: test_compose_cluster.py; the file through the Compose
specification's own loader: test_compose_loader.py).
"""

import re

from .compose_file import NGINX_SITE, ROOT, named_volume_at
from .dockerfile import image_env

# --- compose.yaml, one node -----------------------------------------------------------------------------


def seconds(duration: str) -> int:
    """A compose duration such as `90s`, `3m` or `1m30s`."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([hms])", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(int(number) * units[unit] for number, unit in parts)


def test_web_starts_only_once_cassandra_is_healthy(compose):
    depends = compose["services"]["web"]["depends_on"]
    assert depends["cassandra"]["condition"] == "service_healthy"


def test_cassandra_is_the_official_5_0_image_with_a_cql_healthcheck(compose):
    cassandra = compose["services"]["cassandra"]
    assert cassandra["image"] == "cassandra:5.0"
    check = cassandra["healthcheck"]
    assert "cqlsh" in " ".join(check["test"])
    # A first start takes about a minute: failures before then must not count.
    assert seconds(check["start_period"]) >= 60


def test_cassandra_keeps_its_data_in_a_named_volume(compose):
    named_volume_at(compose, "cassandra", "/var/lib/cassandra")


def test_cassandra_heap_is_sized_with_both_variables(compose):
    env = compose["services"]["cassandra"]["environment"]
    assert "MAX_HEAP_SIZE" in env and "HEAP_NEWSIZE" in env  # the image accepts both or neither


def test_web_talks_to_the_cassandra_service(compose):
    env = compose["services"]["web"]["environment"]
    assert env["CASSANDRA_HOSTS"] == "cassandra"


def test_the_secret_key_is_required_not_defaulted(compose):
    env = compose["services"]["web"]["environment"]
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", env["DJANGO_SECRET_KEY"])


def test_web_keeps_its_data_dir_in_a_named_volume(compose):
    named_volume_at(compose, "web", image_env()["FASHIONSITE_DATA_DIR"])


def test_web_is_reached_only_through_nginx_on_loopback(compose):
    assert "ports" not in compose["services"]["web"]
    nginx = compose["services"]["nginx"]
    assert nginx["image"].startswith("nginx:") and "profiles" not in nginx
    assert nginx["depends_on"] == {"web": {"condition": "service_healthy"}}
    ports = nginx["ports"]
    assert ports and all(port.startswith("127.0.0.1:") and port.endswith(":80") for port in ports)
    (mounted,) = nginx["configs"]
    assert mounted["target"] == "/etc/nginx/conf.d/default.conf"
    server = compose["configs"][mounted["source"]]["content"]
    assert "server web:8000;" in server and "include /etc/nginx/fashionsite.conf;" in server


def test_both_proxies_use_make_runs_nginx_settings(compose):
    for name in ("nginx", "proxy"):
        assert (
            "./deploy/nginx/fashionsite.conf:/etc/nginx/fashionsite.conf:ro"
            in compose["services"][name]["volumes"]
        )
    site = NGINX_SITE.read_text()
    assert "proxy_pass http://fashionsite;" in site
    assert "proxy_request_buffering on;" in site and "proxy_buffering on;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site  # replaces a client's own


def test_both_services_restart_by_themselves(compose):
    for name in ("cassandra", "web", "nginx"):
        assert compose["services"][name]["restart"] in {"always", "unless-stopped"}


def test_web_environment_names_variables_the_site_reads(compose):
    """A misspelt name (CASSANDRA_HOST) would be silently ignored: each must be read somewhere."""
    readers = (ROOT / "fashionsite" / "settings.py").read_text() + (
        ROOT / "classifier" / "management" / "commands" / "createadmin.py"
    ).read_text()
    read_elsewhere = {"WEB_CONCURRENCY"}  # gunicorn's own
    unread = [
        name
        for name in compose["services"]["web"]["environment"]
        if name not in read_elsewhere and f'"{name}"' not in readers
    ]
    assert not unread, f"nothing reads {unread}"


# --- compose.yaml, `docker compose run train` ---------------------------------------------------


def test_train_is_a_one_off_that_up_never_starts(compose):
    train = compose["services"]["train"]
    assert train["profiles"] == ["train"]  # enabled only when named: `docker compose run train`
    assert train.get("restart", "no") == "no" and "ports" not in train
    assert train["build"] == {**compose["services"]["web"]["build"], "target": "train"}
    assert train["image"] != compose["services"]["web"]["image"]


def test_train_publishes_into_the_model_volume_every_web_service_serves(compose):
    services = compose["services"]
    model_dir = services["train"]["environment"]["MODEL_DIR"]
    assert model_dir == image_env("serve")["MODEL_DIR"] == image_env("train")["MODEL_DIR"]
    volume = named_volume_at(compose, "train", model_dir)
    for name in ("web", "web-init", "web-cluster"):
        assert services[name]["environment"]["MODEL_DIR"] == model_dir
        assert named_volume_at(compose, name, model_dir) == volume
    assert volume != named_volume_at(compose, "web", image_env()["FASHIONSITE_DATA_DIR"])
    # With --include-corrections it reads the one-node site's keyspace.
    assert (
        services["train"]["environment"]["CASSANDRA_KEYSPACE"]
        == services["web"]["environment"]["CASSANDRA_KEYSPACE"]
    )
    assert services["train"]["depends_on"] == {"cassandra": {"condition": "service_healthy"}}
