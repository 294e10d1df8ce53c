"""Delete the platform's short-lived records past their life: idempotency keys, used or expired codes."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import idempotency
from qiaoliang.core.models import VerificationCode


class Command(BaseCommand):
    help = "Delete expired idempotency keys and verification codes (idempotent; run it daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        keys = idempotency.purge()
        cutoff = timezone.now() - datetime.timedelta(days=2)
        codes, _rows = VerificationCode.objects.filter(expires_at__lt=cutoff).delete()
        self.stdout.write(_("Deleted %(keys)d idempotency keys and %(codes)d verification codes.")
                          % {"keys": keys, "codes": codes})  # fmt: skip
