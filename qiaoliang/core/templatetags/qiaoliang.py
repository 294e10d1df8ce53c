"""Template helpers: permission checks and masking."""

from __future__ import annotations

from typing import Any

from django import template

from qiaoliang.core import permissions
from qiaoliang.core.codes import mask_mobile

register = template.Library()


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
