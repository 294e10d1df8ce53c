"""National codes: USCC (GB 32100-2015), mainland mobile numbers, region code forms."""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def uscc_check_character(first17: str) -> str:
    """Return the check character (position 18) for the first 17 characters of a USCC."""
    total = sum(_USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: object) -> str:
    """Return a validated, upper-case USCC or raise ValidationError with the reason."""
    raw = "" if value is None else str(value)
    code = re.sub(r"\s+", "", raw).upper()
    if not code:
        raise ValidationError(_("The unified social credit code is empty."), code="uscc_empty")
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", code):
        raise ValidationError(
            _("The unified social credit code was mangled by Excel (%(value)s); format the column as text.")
            % {"value": raw},
            code="uscc_excel",
        )
    if len(code) != 18:
        raise ValidationError(
            _("The unified social credit code must have 18 characters, not %(count)d.") % {"count": len(code)},
            code="uscc_length",
        )
    if any(char not in _USCC_ALPHABET for char in code[:17]):
        raise ValidationError(
            _("%(value)s is not a valid unified social credit code (characters I, O, S, V, Z are never used).")
            % {"value": code},
            code="uscc_format",
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("The check character of unified social credit code %(value)s is wrong (expected %(expected)s).")
            % {"value": code, "expected": expected},
            code="uscc_checksum",
        )
    try:
        return str(stdnum_uscc.validate(code))
    except (InvalidLength, InvalidChecksum, InvalidFormat, InvalidComponent) as exc:
        raise ValidationError(
            _("%(value)s is not a valid unified social credit code (unknown registration department or category).")
            % {"value": code},
            code="uscc_format",
        ) from exc


_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


@functools.lru_cache(maxsize=4096)
def _valid_cn_number(digits: str) -> bool:
    """Whether the number is valid in China's plan (phonenumbers' metadata); a form and its service both ask."""
    return bool(phonenumbers.is_valid_number(phonenumbers.parse(digits, "CN")))


def normalize_mobile(value: object) -> str:
    """Return a mainland mobile number as 11 digits or raise ValidationError."""
    raw = "" if value is None else str(value).strip()
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.endswith(".0"):  # a number cell read back from Excel
        digits = digits[:-2]
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE_RE.match(digits):
        raise ValidationError(_("%(value)s is not a mainland mobile number.") % {"value": raw}, code="mobile")
    if not _valid_cn_number(digits):
        raise ValidationError(_("%(value)s is not a mainland mobile number.") % {"value": raw}, code="mobile")
    return digits


def mask_mobile(value: str | None) -> str:
    """Return a mobile number with the middle four digits hidden (138****5678)."""
    if not value:
        return ""
    if len(value) == 11:
        return f"{value[:3]}****{value[7:]}"
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_email(value: str | None) -> str:
    """Return an e-mail address with the local part hidden but its first character."""
    if not value or "@" not in value:
        return value or ""
    local, domain = value.split("@", 1)
    return f"{local[:1]}***@{domain}"


def region_code_from_short(code: str) -> str:
    """Return the 6-digit GB/T 2260 form of a 2-, 4- or 6-digit region code."""
    return code.ljust(6, "0")
