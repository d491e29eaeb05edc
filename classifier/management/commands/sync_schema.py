"""`manage.py sync_schema`: the whole Cassandra schema in one step.

`sync_cassandra` (django-cassandra-engine) creates the keyspace and the tables and adds new columns;
this then creates the storage-attached indexes it cannot (classifier/schema.py) and, once, writes the
lookup rows of predictions stored before the lookup tables existed. Safe to run again at any time.
"""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from classifier import schema


class Command(BaseCommand):
    help = (
        "Create the Cassandra keyspace, tables (sync_cassandra) and SAI indexes; backfill the lookup "
        "tables of older predictions if needed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backfill",
            action="store_true",
            help="rewrite the lookup rows of every stored prediction (reads the whole prediction table)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("sync_cassandra", verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
        log = self.stdout.write if verbosity >= 2 else (lambda message: None)
        schema.ensure_indexes(log=log)
        self.stdout.write(f"SAI indexes ready: {', '.join(name for name, _, _ in schema.INDEXES)}")
        if options["backfill"] or schema.needs_backfill():
            self.stdout.write("Writing the lookup rows of stored predictions ...")
            done = schema.backfill(log=log)
            self.stdout.write(f"Lookup rows written for {done} predictions.")
