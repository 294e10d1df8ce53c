"""Daily: tell the answerers of policy questions due today or overdue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from qiaoliang.policies.services import questions


class Command(BaseCommand):
    help = "Remind the answerers of policy questions due today or overdue (run daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = questions.remind_overdue()
        self.stdout.write(_("%(count)s questions due or overdue; their answerers were told.") % {"count": count})
