"""Move published listings past their validity date to expired (idempotent; run it daily from cron)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.exchange import services


class Command(BaseCommand):
    help = "Expire published listings whose validity date has passed (safe to run any number of times)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default="", help="treat this day (YYYY-MM-DD) as today (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(
                    _("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": options["date"]}
                ) from exc
        count = services.expire_listings(today=today)
        self.stdout.write(_("%(count)d listings expired.") % {"count": count})
