"""Nightly: answer every item in force for every enterprise again (figures age, windows move on 1 January)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.policies.services import decisions


class Command(BaseCommand):
    help = "Recompute the eligible enterprises of every support item in force, and push the newly eligible."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-push", action="store_true", help="store the answers without telling anyone")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        items = [rule.item_id for rule in decisions.rules_in_force(timezone.localdate())]
        totals = decisions.recompute_items(items, push=not options["no_push"])
        self.stdout.write(
            _("%(items)s items recomputed in %(seconds).1f s: %(eligible)s eligible, %(pushed)s newly told.")
            % {
                "items": len(items),
                "seconds": time.monotonic() - started,
                "eligible": totals["eligible"],
                "pushed": totals["pushed"],
            }
        )
