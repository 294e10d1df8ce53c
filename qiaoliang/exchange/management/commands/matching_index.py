"""Rebuild the matching index from the database and/or write its snapshot for new processes."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.exchange import matching_service


class Command(BaseCommand):
    help = (
        "Rebuild the matching index from the database (--rebuild; embeds listings that have no vector yet) "
        "and/or write the snapshot new processes start from (--save)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="build the index from the database, ignoring any snapshot"
        )
        parser.add_argument("--save", action="store_true", help="write the snapshot to MATCHING_INDEX_DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["rebuild"] and not options["save"]:
            raise CommandError(_("Say what to do: --rebuild, --save or both."))
        if options["rebuild"]:
            started = time.monotonic()
            engine = matching_service.rebuild_engine()
            self.stdout.write(
                _("Indexed %(count)d open listings in %(seconds).1f s.")
                % {"count": len(engine), "seconds": time.monotonic() - started}
            )
        if options["save"]:
            directory = matching_service.save_snapshot()
            self.stdout.write(_("Snapshot written to %(path)s.") % {"path": directory})
