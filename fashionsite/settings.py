"""Settings for fashionsite.

Every secret and host comes from the environment; the defaults are safe for a developer's machine
(DEBUG off, loopback hosts, a local Cassandra node started by `manage.py cassandra start`).
The README lists every variable.
"""

import datetime
import ipaddress
import os
import socket
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.policies import DCAwareRoundRobinPolicy, ExponentialReconnectionPolicy, TokenAwarePolicy
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from mlmodel.artifacts import PRECISIONS
from mlmodel.data import dataset_dir

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: use true or false")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


def env_choice(name: str, choices: dict[str, object], default: str) -> object:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: use one of {', '.join(choices)}")
    return choices[value]


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def replication_from(value: str) -> dict[str, object]:
    """Parse CASSANDRA_REPLICATION: `SimpleStrategy:1` or `NetworkTopologyStrategy:dc1=3,dc2=3`."""
    strategy, _, spec = value.partition(":")
    if strategy == "SimpleStrategy" and spec.isdigit():
        return {"strategy_class": strategy, "replication_factor": int(spec)}
    if strategy == "NetworkTopologyStrategy" and spec:
        datacenters = dict(item.split("=", 1) for item in spec.split(","))
        if all(factor.isdigit() for factor in datacenters.values()):
            return {"strategy_class": strategy, **{dc: int(rf) for dc, rf in datacenters.items()}}
    raise ImproperlyConfigured(
        f"CASSANDRA_REPLICATION={value!r}: use SimpleStrategy:N or NetworkTopologyStrategy:dc1=N,..."
    )


DEBUG = env_bool("DJANGO_DEBUG")
# The fallback's prefix makes `manage.py check --deploy` flag it: production must set its own.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "django-insecure-development-only-set-DJANGO_SECRET_KEY"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Proxies whose forwarding headers (client address, X-Forwarded-Proto) are believed, as addresses
# or networks; the nginx of `make run`, on gunicorn's Unix socket, always is (classifier/proxy.py).
TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {_proxy!r} is no address or network") from None

# DJANGO_HTTPS=true: the site is served over HTTPS by a proxy that sets X-Forwarded-Proto.
HTTPS = env_bool("DJANGO_HTTPS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes come over plain HTTP from inside
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 3600 if HTTPS else 0)
# Both bind the whole domain for the HSTS lifetime: the domain's owner opts in.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],  # the admin's and the API docs' style attributes
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Everything the site writes at run time (SQLite, local Cassandra node, collected static files).
DATA_DIR = Path(env_str("FASHIONSITE_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django_cassandra_engine",  # its docs ask for it to come first
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # the API docs page's templates and static files
    "django_prometheus",
    "axes",  # admin login throttling
    "classifier",  # the site; its commands include train_model (mlmodel itself is no Django app)
    "cassandra_node",
]

MIDDLEWARE = [
    "classifier.proxy.TrustedProxyMiddleware",  # first: nothing may read a forged forwarding header
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "classifier.middleware.UploadSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "classifier.middleware.CassandraUnavailableMiddleware",
    "classifier.metrics.BoundedMethodMetricsMiddleware",  # django-prometheus's, methods bounded
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: answers a locked-out login
]

ROOT_URLCONF = "fashionsite.urls"
WSGI_APPLICATION = "fashionsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Storage: SQLite for auth, sessions and the admin log; Cassandra for predictions. -------------
CASSANDRA_HOSTS = env_list("CASSANDRA_HOSTS") or ["127.0.0.1"]
# No CASSANDRA_HOSTS means "the project's own node on this machine" (`manage.py cassandra start`).
CASSANDRA_LOCAL_NODE = not os.environ.get("CASSANDRA_HOSTS", "").strip()
CASSANDRA_PORT = env_int("CASSANDRA_PORT", 9042)
CASSANDRA_STORAGE_PORT = env_int("CASSANDRA_STORAGE_PORT", 7000)
CASSANDRA_DATA_DIR = Path(env_str("CASSANDRA_DATA_DIR", str(DATA_DIR / "cassandra"))).resolve()
CASSANDRA_NODE_OPTIONS: dict[str, object] = {}  # further LocalNode arguments for the local node
CASSANDRA_KEYSPACE = env_str("CASSANDRA_KEYSPACE", "fashionsite")
# The driver's I/O loop. libev is its fastest, but its exit hook can hold a process 5 s
# (scylladb/python-driver#708): the long-running web server (fashionsite/gunicorn.py) chooses it,
# short commands and the tests keep asyncio.
CASSANDRA_REACTOR = env_choice(
    "CASSANDRA_REACTOR",
    {
        "asyncio": "cassandra.io.asyncioreactor.AsyncioConnection",
        "libev": "cassandra.io.libevreactor.LibevConnection",  # only where the driver's wheel has libev
    },
    "asyncio",
)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env_str("SQLITE_PATH", str(DATA_DIR / "db.sqlite3")),
    },
    "cassandra": {
        "ENGINE": "django_cassandra_engine",
        "NAME": CASSANDRA_KEYSPACE,
        "HOST": ",".join(CASSANDRA_HOSTS),
        "USER": os.environ.get("CASSANDRA_USER", ""),
        "PASSWORD": os.environ.get("CASSANDRA_PASSWORD", ""),
        "TEST": {"NAME": f"test_{CASSANDRA_KEYSPACE}"},
        "OPTIONS": {
            "replication": replication_from(env_str("CASSANDRA_REPLICATION", "SimpleStrategy:1")),
            "connection": {
                # The site must start, and answer 503, while Cassandra is down, then recover by itself.
                "lazy_connect": True,
                "retry_connect": True,
                "consistency": env_choice(
                    "CASSANDRA_CONSISTENCY", ConsistencyLevel.name_to_value, "LOCAL_QUORUM"
                ),
                "port": CASSANDRA_PORT,
                # The asyncio reactor breaks on protocol v5 framing with several requests in flight
                # ("CRC mismatch on header"); v4 is what every Cassandra 5.0 node also speaks.
                "protocol_version": 4,
                "load_balancing_policy": TokenAwarePolicy(
                    DCAwareRoundRobinPolicy(local_dc=os.environ.get("CASSANDRA_LOCAL_DC") or None)
                ),
                "connect_timeout": 5,
                # Requests go out at once: with Nagle's algorithm the driver's last part of a frame
                # waited for the node's delayed acknowledgement, 45 ms of a phone upload (bench/README.md).
                "sockopts": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                "reconnection_policy": ExponentialReconnectionPolicy(base_delay=0.5, max_delay=5.0),
                "connection_class": import_string(CASSANDRA_REACTOR),
            },
            "session": {"default_timeout": 5},
        },
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- The model --------------------------------------------------------------------------------
MODEL_DIR = Path(env_str("MODEL_DIR", str(BASE_DIR / "mlmodel" / "artifacts"))).resolve()
# Fashion-MNIST's four .gz files; without them, Keras's loader downloads them into its cache.
FASHION_MNIST_DIR = dataset_dir("fashion-mnist", "FASHION_MNIST_DIR")
# Real phone photos, one folder per kind (mlmodel.clothing_photos): train_model sets the model's
# "none of the ten" threshold on their tune split.
CLOTHING_PHOTOS_DIR = dataset_dir("clothing-photos", "CLOTHING_PHOTOS_DIR")
# Which LiteRT export of the model serves (mlmodel.predictor.served_precision): "auto" is the int8 one where
# the CPU multiplies int8 fast (AMX), else the float one; "float" gives Keras's probabilities exactly.
PREDICTOR_PRECISION = env_choice("PREDICTOR_PRECISION", {name: name for name in PRECISIONS}, "auto")
# A prediction less confident than this is flagged "uncertain".
UNCERTAIN_BELOW = float(env_str("UNCERTAIN_BELOW", "0.6"))
# "Wrong answer?" suggestions one visitor may send in an hour (classifier/suggestions.py).
SUGGESTIONS_PER_HOUR = env_int("SUGGESTIONS_PER_HOUR", 20)

# --- Uploads ----------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_FILES = env_int("UPLOAD_MAX_FILES", 20)
# Pixels one upload may decode to in all (a JPEG counts at its reduced decoding size): a few small
# files can be huge flat pictures, and the work and memory of a request follow the pixels.
UPLOAD_MAX_REQUEST_PIXELS = env_int("UPLOAD_MAX_REQUEST_PIXELS", 100_000_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES

# `POST /api/predictions` needs an API token (or a staff session) too, not only the list.
API_UPLOADS_NEED_TOKEN = env_bool("API_UPLOADS_NEED_TOKEN")

# --- Who may read /metrics: these addresses or networks, or a bearer token (classifier/metrics.py).
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# --- Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username
# from one address, logins of that username from there are refused (429) for LOGIN_LOCKOUT_MINUTES,
# even with the right password; a success before then starts the count again. By username and
# address together, so that nobody can lock staff out from elsewhere. `manage.py axes_reset` lifts
# every lock-out. The address is REMOTE_ADDR, which classifier/proxy.py sets from a trusted proxy.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]  # never a header a client could forge

# --- The rest is Django's usual ---------------------------------------------------------------
# Staff log in through the admin; a login that names no `next` page lands on the admin's index.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"cassandra": {"level": "WARNING"}},
}
