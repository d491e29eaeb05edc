"""The local node as the Django settings describe it: used by `manage.py cassandra`, the test suite
and the benchmarks, so that all of them start, find and stop the same node. (The rest of the package
needs no Django.)"""

from django.conf import settings

from .node import LocalNode


def configured_node(**options) -> LocalNode:
    """The node of settings.CASSANDRA_DATA_DIR, CASSANDRA_PORT, CASSANDRA_STORAGE_PORT and
    CASSANDRA_NODE_OPTIONS; `options` (e.g. heap) add to those."""
    return LocalNode(
        settings.CASSANDRA_DATA_DIR,
        native_port=settings.CASSANDRA_PORT,
        storage_port=settings.CASSANDRA_STORAGE_PORT,
        **settings.CASSANDRA_NODE_OPTIONS,
        **options,
    )
