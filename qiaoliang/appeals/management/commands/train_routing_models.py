"""Train the routing classifiers (category and department) from the confirmed routings and the shipped demo
routings, and store them for every app server (`appeals.routing`)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from qiaoliang.appeals import routing


class Command(BaseCommand):
    help = "Train the appeal routing classifiers now."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        used = routing.train()
        if not used:
            self.stdout.write(_("Too few routed appeals to train on (at least %(min)d with two labels).")
                              % {"min": routing.MIN_ROWS})  # fmt: skip
            return
        for kind, rows in used.items():
            self.stdout.write(_("%(kind)s: trained on %(rows)d appeals.") % {"kind": kind, "rows": rows})
        self.stdout.write(_("Done in %(seconds).1f s.") % {"seconds": time.perf_counter() - started})
