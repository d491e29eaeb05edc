"""`manage.py cassandra start|stop|status`: the local Cassandra node, configured from settings."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cassandra_node.actions import ACTIONS, perform
from cassandra_node.configured import configured_node
from cassandra_node.errors import NodeError


class Command(BaseCommand):
    help = "Start, stop or show the local Cassandra node (settings.CASSANDRA_PORT, CASSANDRA_DATA_DIR, ...)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=ACTIONS)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if not settings.CASSANDRA_LOCAL_NODE:
            self.stdout.write(self._external_cluster_message(action))
            return
        try:
            self.stdout.write(perform(configured_node(), action))
        except NodeError as error:
            raise CommandError(str(error)) from error

    @staticmethod
    def _external_cluster_message(action: str) -> str:
        hosts = ", ".join(settings.CASSANDRA_HOSTS)
        if action == "status":
            return f"CASSANDRA_HOSTS is set ({hosts}); using that cluster, no local node"
        verb = "starting" if action == "start" else "stopping"
        return f"CASSANDRA_HOSTS is set ({hosts}); not {verb} a local node"
