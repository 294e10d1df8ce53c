"""Load the demo events for the demo federation (after `seed_demo`; `make demo` runs both). Idempotent."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.events import demo


class Command(BaseCommand):
    help = "Create demo events: a lecture series, a hybrid meeting, a resource exchange meeting, a zone meeting, ..."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed gives the same data")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()

        def log(message: str) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {time.monotonic() - started:6.1f}s {message}")

        result = demo.seed(seed=options["seed"], log=log)
        if not result.created:
            self.stdout.write(_("No demo events were created: %(reason)s.") % {"reason": result.message})
            return
        counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo events created in %(seconds).1f s: %(counts)s.")
                % {"seconds": time.monotonic() - started, "counts": counts}
            )
        )
