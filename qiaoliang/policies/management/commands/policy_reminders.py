"""Daily: tell the answerers of policy questions due today or overdue; resume withdrawals told half-way."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from qiaoliang.policies.services import library, questions


class Command(BaseCommand):
    help = (
        "Remind the answerers of policy questions due today or overdue, and resume telling withdrawals that "
        "stopped half-way (run daily)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = questions.remind_overdue()
        self.stdout.write(_("%(count)s questions due or overdue; their answerers were told.") % {"count": count})
        resumed = library.resume_withdrawal_notices()
        self.stdout.write(_("%(count)s withdrawals told half-way are being told again.") % {"count": resumed})
