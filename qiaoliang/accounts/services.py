"""Writes for accounts: sign-up with a verified mobile number, password change and reset, audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from qiaoliang.accounts.models import User
from qiaoliang.core import audit
from qiaoliang.core.codes import normalize_mobile
from qiaoliang.core.exceptions import DomainError


def clean_mobile(value: str) -> str:
    try:
        return normalize_mobile(value)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="mobile") from exc


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="password") from exc


@transaction.atomic
def register_account(*, mobile: str, password: str, display_name: str, email: str = "") -> User:
    """Create an account whose mobile number was just verified (the caller checked the code); no role yet."""
    number = clean_mobile(mobile)
    if User.objects.filter(mobile=number).exists() or User.objects.filter(username__iexact=number).exists():
        raise DomainError(_("An account with this mobile number exists; log in or reset its password."),
                          code="mobile")  # fmt: skip
    user = User(username=number, mobile=number, display_name=display_name.strip()[:40], email=email.strip())
    _validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise DomainError(_("An account with this mobile number exists; log in or reset its password."),
                          code="mobile") from exc  # fmt: skip
    audit.record("accounts.user.registered", actor=user, target=user, data={"mobile": number})
    return user


@transaction.atomic
def change_password(*, user: Any, old_password: str, new_password: str) -> None:
    """Change a signed-in user's password after checking the old one."""
    if not user.check_password(old_password):
        raise DomainError(_("The current password is wrong."), code="old_password")
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record("accounts.password.changed", actor=user, target=user)


def account_for_mobile(mobile: str) -> User | None:
    """Return the active account of a mobile number (None when there is none)."""
    try:
        number = normalize_mobile(mobile)
    except ValidationError:
        return None
    return User.objects.filter(mobile=number, is_active=True).first()


@transaction.atomic
def reset_password(*, user: User, new_password: str, channel: str) -> None:
    """Set a new password after the user proved they hold the account's mobile or e-mail (the caller checked)."""
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record("accounts.password.reset", actor=None, target=user, data={"channel": channel})
