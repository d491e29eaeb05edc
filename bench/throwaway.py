"""A throwaway keyspace on the test node and `train_model` runs, for the benches that need them.

The benches import this after `django.setup()` with the test settings: the keyspace lives on the
test node (TEST_CASSANDRA_PORT, default 9142), never on the development node or keyspace.
"""

import io
from pathlib import Path

from cassandra.cqlengine import management
from cassandra.cqlengine.models import Model as CqlModel
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django_cassandra_engine.models import DjangoCassandraModel

from classifier import cql, schema
from classifier.models import Prediction
from mlmodel import artifacts


def cql_models() -> list:
    return [
        model for models in connections["cassandra"].introspection.cql_models.values() for model in models
    ]


def create_keyspace(keyspace: str) -> None:
    """Point every model at `keyspace` and create its tables and indexes."""
    assert settings.CASSANDRA_PORT != 9042 and settings.DATABASES["cassandra"]["NAME"] != "fashionsite"
    for model in cql_models():
        model.__keyspace__ = keyspace
    assert Prediction._get_keyspace() == keyspace
    management.create_keyspace_simple(keyspace, 1, connections=["cassandra"])
    management.Model = (CqlModel, DjangoCassandraModel)  # as sync_cassandra does, for Django models
    for model in cql_models():
        management.sync_table(model, keyspaces=[keyspace], connections=["cassandra"])
    schema.ensure_indexes()


def drop_keyspace(keyspace: str) -> None:
    cql.session().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)


def train(model_dir: Path, data_dir: str | None, profile: str, *extra: str) -> str:
    """Run `train_model --no-activate` into model_dir; print its report; return the new version."""
    before = {entry["version"] for entry in artifacts.list_versions(model_dir)}
    arguments = ["--profile", profile, "--no-activate", "--model-dir", str(model_dir), *extra]
    if data_dir:
        arguments += ["--data-dir", data_dir]
    out = io.StringIO()
    call_command("train_model", *arguments, stdout=out, verbosity=0)
    print(out.getvalue())
    (version,) = {entry["version"] for entry in artifacts.list_versions(model_dir)} - before
    return version
