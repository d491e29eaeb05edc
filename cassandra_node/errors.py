"""The one exception the launcher raises."""


class NodeError(Exception):
    """A local Cassandra node could not be prepared, started or stopped; the message says what to do."""
