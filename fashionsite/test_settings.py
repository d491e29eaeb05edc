"""Settings for the test suite: a Cassandra node of its own, so tests can never reach real data.

The test node listens on other ports and keeps its data in another directory than the development
node; its keyspace is `test_fashionsite_test`, created and dropped by the test runner.
"""

import os

from .settings import *  # noqa: F403
from .settings import BASE_DIR, DATA_DIR, DATABASES, FASHION_MNIST_DIR, PRECISIONS, env_choice, env_int

# The Fashion-MNIST files settings found (../shared beside the checkout, as in CI, unless the
# environment names others), exported so Django-free code the tests run sees the same ones.
if FASHION_MNIST_DIR:
    os.environ.setdefault("FASHION_MNIST_DIR", FASHION_MNIST_DIR)

CASSANDRA_LOCAL_NODE = True
CASSANDRA_HOSTS = ["127.0.0.1"]
# Two suites running at once on one machine each need a node of their own: TEST_CASSANDRA_PORT.
CASSANDRA_PORT = env_int("TEST_CASSANDRA_PORT", 9142)
CASSANDRA_STORAGE_PORT = CASSANDRA_PORT - 2042
CASSANDRA_DATA_DIR = DATA_DIR / (
    "cassandra-test" if CASSANDRA_PORT == 9142 else f"cassandra-test-{CASSANDRA_PORT}"
)
# A cluster of its own, and speed over durability: its data is thrown away after every test anyway.
CASSANDRA_NODE_OPTIONS = {"cluster_name": "fashionsite-test", "test_mode": True}
CASSANDRA_KEYSPACE = "fashionsite_test"

DATABASES["cassandra"].update(
    NAME=CASSANDRA_KEYSPACE,
    HOST=",".join(CASSANDRA_HOSTS),
    TEST={"NAME": f"test_{CASSANDRA_KEYSPACE}"},
)
DATABASES["cassandra"]["OPTIONS"]["connection"]["port"] = CASSANDRA_PORT
DATABASES["cassandra"]["OPTIONS"]["replication"] = {
    "strategy_class": "SimpleStrategy",
    "replication_factor": 1,
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# Static files straight from the apps, without `collectstatic`.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# The "none of the ten" threshold of models trained in tests is set on the twenty-one shipped tune photos:
# quick, and the same with or without ../shared.
CLOTHING_PHOTOS_DIR = str(BASE_DIR / "tests" / "photos")
# The float export, whatever the CPU, so the site's answers are Keras's to 1e-5 on every machine; the
# int8 export has tests of its own (tests/test_predictor.py, tests/test_upload.py). Benches that use
# these settings measure another when the environment names it.
PREDICTOR_PRECISION = env_choice("PREDICTOR_PRECISION", {name: name for name in PRECISIONS}, "float")
