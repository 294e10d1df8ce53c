"""Remind departments before deadlines and escalate (督办) overdue appeals; run once a day (cron, or the task
`appeals.deadlines` on the task worker's schedule)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from qiaoliang.appeals import services


class Command(BaseCommand):
    help = "Send deadline reminders and escalate overdue appeals (idempotent: each happens once per deadline)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.remind_and_escalate()
        self.stdout.write(_("%(reminded)d reminders sent, %(escalated)d appeals escalated.") % counts)
