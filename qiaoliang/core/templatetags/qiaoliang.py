"""Template helpers: permission checks and masking."""

from __future__ import annotations

from typing import Any

from django import template

from qiaoliang.core import navigation, notifications, permissions
from qiaoliang.core.codes import mask_mobile

register = template.Library()

# The colour of a status badge (partials/status_badge.html), by the status's code in any app.
STATUS_BADGE_CLASSES = {
    **dict.fromkeys(("published", "deal", "active", "approved", "confirmed", "checked_in"), "text-bg-success"),
    **dict.fromkeys(("pending", "contacted", "in_talks", "submitted", "waiting", "suspended"), "text-bg-warning"),
    **dict.fromkeys(("rejected", "declined", "returned", "cancelled"), "text-bg-danger"),
    **dict.fromkeys(("suggested", "accepted", "assigned", "answered"), "text-bg-info"),
}


@register.filter
def status_class(status: Any) -> str:
    """Return the badge colour class of a status code: {{ status|status_class }}."""
    return STATUS_BADGE_CLASSES.get(str(status), "text-bg-secondary")


@register.simple_tag(takes_context=True)
def can(context: template.Context, action: str, obj: Any) -> bool:
    """Tell whether the current user may do `action` to `obj`: {% can "change" enterprise as ok %}."""
    return permissions.can(context["request"].user, action, obj)


@register.filter
def masked(value: str | None) -> str:
    """Mask a mobile number: 138****5678."""
    return mask_mobile(value)


@register.simple_tag(takes_context=True)
def querystring_with(context: template.Context, **changes: Any) -> str:
    """Return the current query string with some parameters replaced (for pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def main_nav(context: template.Context) -> list[dict[str, Any]]:
    """Return the navigation entries the current user may use: {% main_nav as entries %}."""
    request = context.get("request")
    if request is None or not getattr(request.user, "is_authenticated", False):
        return []
    return navigation.nav_for(request)


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """Return the current user's unread notification count (one query): {% unread_notifications as n %}."""
    request = context.get("request")
    return notifications.unread_count(request.user) if request is not None else 0


@register.simple_tag(takes_context=True)
def has_capability(context: template.Context, name: str) -> bool:
    """Tell whether the current user has a capability: {% has_capability "exchange.review" as ok %}."""
    request = context.get("request")
    return request is not None and permissions.has_capability(request.user, name)
