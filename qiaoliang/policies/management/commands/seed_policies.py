"""Create the demo policy library (after seed_demo): the Zhejiang dev policies and an example policy with work for
every role."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.policies import demo


class Command(BaseCommand):
    help = "Create demo policies, figures, pushes, questions and 免申即享 cases (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--without-library", action="store_true", help="only the example policy")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = demo.seed(load_library=not options["without_library"])
        if not result.created:
            self.stdout.write(_("No demo policies were created: %(reason)s.") % {"reason": result.message})
            return
        counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
        self.stdout.write(self.style.SUCCESS(_("Demo policies created in %(seconds).1f s: %(counts)s.")
                                             % {"seconds": time.monotonic() - started, "counts": counts}))  # fmt: skip
