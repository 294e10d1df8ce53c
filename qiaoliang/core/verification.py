"""One-time codes sent by text message or e-mail (sign-up, password reset, registrations by mobile).

A code is six digits, stored hashed with the site's secret, valid for VERIFICATION_CODE_MINUTES, good for
VERIFICATION_CODE_ATTEMPTS tries and used once. One number or address may ask once a minute and
VERIFICATION_CODES_PER_DAY times a day, so the SMS gateway cannot be used to flood someone.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import channels
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import VerificationCode

PURPOSES = {"signup", "password_reset", "registration", "application"}


def _hash(purpose: str, target: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{purpose}:{target}:{code}".encode(), hashlib.sha256).hexdigest()


def _minutes() -> int:
    return int(getattr(settings, "VERIFICATION_CODE_MINUTES", 10))


@transaction.atomic
def send_code(*, purpose: str, target: str, channel: str = "sms") -> VerificationCode:
    """Send a new code to a mobile number (sms) or an e-mail address (email); refuse when asked too often."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown verification purpose {purpose!r}")
    now = timezone.now()
    recent = VerificationCode.objects.select_for_update().filter(purpose=purpose, target=target)
    interval = datetime.timedelta(seconds=int(getattr(settings, "VERIFICATION_CODE_INTERVAL_SECONDS", 60)))
    if recent.filter(created_at__gt=now - interval).exists():
        raise DomainError(_("A code was sent less than a minute ago; wait a moment before asking again."),
                          code="too_soon")  # fmt: skip
    per_day = int(getattr(settings, "VERIFICATION_CODES_PER_DAY", 10))
    if recent.filter(created_at__gt=now - datetime.timedelta(days=1)).count() >= per_day:
        raise DomainError(_("Too many codes were asked for this number today; try again tomorrow."),
                          code="too_many")  # fmt: skip
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = VerificationCode.objects.create(
        purpose=purpose, target=target, code_hash=_hash(purpose, target, code),
        expires_at=now + datetime.timedelta(minutes=_minutes()),
    )  # fmt: skip
    text = _("Qiaoliang verification code: %(code)s (valid for %(minutes)d minutes). Do not share it.") % {
        "code": code,
        "minutes": _minutes(),
    }
    if channel == "email":
        transaction.on_commit(lambda: send_mail(_("Your Qiaoliang verification code"), text,
                                                settings.DEFAULT_FROM_EMAIL, [target]))  # fmt: skip
    else:
        transaction.on_commit(lambda: channels.send_sms(target, text))
    return record


def check_code(*, purpose: str, target: str, code: str) -> None:
    """Use up a code if it is right; raise DomainError (wrong, expired, too many tries) otherwise.

    Call it before the service that acts on the code, outside its transaction: a wrong try is counted (and
    kept) even though the request then fails.
    """
    now = timezone.now()
    problem = ""
    with transaction.atomic():
        record = (
            VerificationCode.objects.select_for_update()
            .filter(purpose=purpose, target=target, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if record is None or record.expires_at < now:
            problem = _("The code has expired; ask for a new one.")
        elif record.attempts >= int(getattr(settings, "VERIFICATION_CODE_ATTEMPTS", 5)):
            problem = _("Too many wrong codes; ask for a new one.")
        else:
            cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
            if hmac.compare_digest(record.code_hash, _hash(purpose, target, cleaned)):
                VerificationCode.objects.filter(pk=record.pk).update(used_at=now)
                return
            VerificationCode.objects.filter(pk=record.pk).update(attempts=F("attempts") + 1)
            problem = _("The code is wrong.")
    raise DomainError(problem, code="code")
