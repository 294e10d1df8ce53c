"""Template helpers of the exchange UI: reasons, amounts in 万元, the unread-notification badge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template

from qiaoliang.exchange import selectors
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
def unread_notifications(context: template.Context) -> int:
    """Return the current user's unread notification count (one query): {% unread_notifications as n %}."""
    request = context.get("request")
    return selectors.unread_count(request.user) if request is not None else 0


@register.simple_tag(takes_context=True)
def exchange_nav(context: template.Context) -> dict[str, bool]:
    """Tell which exchange pages the current user's sub-navigation offers."""
    request = context.get("request")
    if request is None:
        return {}
    user = request.user
    reviewer = selectors.may_review_any(user)
    return {"review": reviewer, "introduce": reviewer, "post": selectors.changeable_enterprises(user).exists()}
