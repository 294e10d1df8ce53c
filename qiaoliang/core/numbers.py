"""Numbers entered by users, checked against the column that will store them (after any unit conversion)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError

WAN = Decimal(10_000)
YI = Decimal(100_000_000)


def column_limit(model: type[models.Model], field_name: str) -> Decimal:
    """Return the first value a DecimalField cannot store (10^(digits - places))."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.DecimalField)
    return Decimal(10) ** (int(field.max_digits or 0) - int(field.decimal_places or 0))


def readable_amount(value: Decimal) -> str:
    """Write an amount in yuan the way users read it: 亿元 or 万元 from those sizes on."""
    if value >= YI:
        return _("%(amount)s hundred million yuan") % {"amount": format((value / YI).normalize(), "f")}
    if value >= WAN:
        return _("%(amount)s ten thousand yuan") % {"amount": format((value / WAN).normalize(), "f")}
    return _("%(amount)s yuan") % {"amount": format(value.normalize(), "f")}


def check_fits(model: type[models.Model], field_name: str, value: Any, *, code: str | None = None,
               allow_negative: bool = False, money: bool = True) -> Decimal | None:  # fmt: skip
    """Return the value as a Decimal rounded to the column's places, or raise DomainError if it cannot be stored."""
    if value is None or value == "":
        return None
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.DecimalField)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("%(value)s is not a number.") % {"value": value}, code=code or field_name) from exc
    if not number.is_finite():
        raise DomainError(_("%(value)s is not a number.") % {"value": value}, code=code or field_name)
    if number < 0 and not allow_negative:
        raise DomainError(_("Quantities and prices cannot be negative."), code=code or field_name)
    limit = column_limit(model, field_name)
    # Compared before rounding too: quantize() raises InvalidOperation past the context's 28 digits.
    rounded = number if abs(number) >= limit else number.quantize(Decimal(1).scaleb(-int(field.decimal_places or 0)))
    if abs(rounded) >= limit:
        raise DomainError(
            _("%(field)s must be below %(limit)s.")
            % {"field": str(field.verbose_name), "limit": readable_amount(limit) if money else f"{limit:,}"},
            code=code or field_name,
        )
    return rounded
