"""Create the demo appeals (after seed_demo): every step of the workflow, and the routing classifiers trained."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from qiaoliang.appeals import demo


class Command(BaseCommand):
    help = "Create demo appeals in every status, train the routing classifiers, create evaluation rounds (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = demo.seed()
        if not result.created:
            self.stdout.write(_("No demo appeals were created: %(reason)s.") % {"reason": result.message})
        else:
            counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
            values = {"seconds": time.monotonic() - started, "counts": counts}
            self.stdout.write(self.style.SUCCESS(_("Demo appeals created in %(seconds).1f s: %(counts)s.") % values))
        rounds = demo.seed_rounds()
        if not rounds.created:
            self.stdout.write(_("No demo evaluation rounds were created: %(reason)s.") % {"reason": rounds.message})
            return
        counts = ", ".join(f"{name} {count}" for name, count in rounds.counts.items())
        self.stdout.write(self.style.SUCCESS(_("Demo evaluation rounds created: %(counts)s.") % {"counts": counts}))
