"""Template helpers of the event pages: the sub-navigation's rights, seats left, amounts in 万元."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from qiaoliang.core.permissions import has_capability

register = template.Library()


@register.simple_tag(takes_context=True)
def events_nav(context: template.Context) -> dict[str, bool]:
    """Return which sub-navigation entries the current user has: {% events_nav as nav %}."""
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(getattr(user, "is_authenticated", False))
    return {
        "signed_in": signed_in,
        "manage": signed_in and has_capability(user, "events.manage"),
        "enterprise": signed_in and has_capability(user, "events.enterprise"),
    }


@register.filter
def seats_left(counts: dict[str, int]) -> int:
    return max(0, int(counts.get("capacity", 0)) - int(counts.get("confirmed", 0)))


@register.filter
def wan(value: Any) -> str:
    """Write yuan as 万元 with up to two decimals (12345678 → 1,234.57)."""
    amount = Decimal(value or 0) / Decimal(10_000)
    return f"{amount:,.2f}".rstrip("0").rstrip(".")


@register.filter
def plus_one(value: Any) -> Any:
    """Number slots and tables from 1 for people (stored from 0)."""
    return value + 1 if isinstance(value, int) else value


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None
