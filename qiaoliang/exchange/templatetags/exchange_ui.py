"""Template helpers of the exchange UI: reasons, amounts in 万元, the unread-notification badge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template

from qiaoliang.core.permissions import has_capability
from qiaoliang.exchange.reasons import ReasonText, describe_all

register = template.Library()


@register.filter
def reason_texts(reasons: Any) -> list[ReasonText]:
    """Turn stored or engine reasons into translated sentences: {% for r in match.reasons|reason_texts %}."""
    return describe_all(reasons)


@register.filter
def wan(amount: Any) -> str:
    """Show an amount in yuan as 万元 with up to two decimals (1234500 → 123.45)."""
    if amount in (None, ""):
        return "0"
    value = (Decimal(amount) / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def percent(score: Any) -> int:
    """Show a 0..1 score as a whole percentage."""
    try:
        return round(float(score) * 100)
    except (TypeError, ValueError):
        return 0


@register.simple_tag(takes_context=True)
def exchange_nav(context: template.Context) -> dict[str, bool]:
    """Tell which exchange pages the current user's sub-navigation offers."""
    request = context.get("request")
    if request is None:
        return {}
    user = request.user
    return {
        "review": has_capability(user, "exchange.review"),
        "introduce": has_capability(user, "exchange.introduce"),
        "post": has_capability(user, "exchange.post"),
    }
