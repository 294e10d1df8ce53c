"""Remind departments before deadlines and escalate (督办) overdue appeals; announce the evaluation rounds (评议)
that opened and close those whose last day passed; run once a day (cron, or the task `appeals.deadlines` on the task
worker's schedule)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from qiaoliang.appeals import evaluations, services


class Command(BaseCommand):
    help = (
        "Send deadline reminders and escalate overdue appeals, announce and close evaluation rounds (idempotent: "
        "each happens once)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.remind_and_escalate()
        self.stdout.write(_("%(reminded)d reminders sent, %(escalated)d appeals escalated.") % counts)
        rounds = evaluations.run_due()
        self.stdout.write(_("%(rounds_announced)d evaluation rounds announced, %(rounds_closed)d closed.") % rounds)
