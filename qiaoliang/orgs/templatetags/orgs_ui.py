"""Template helpers of the roster UI."""

from __future__ import annotations

from typing import Any

from django import template

from qiaoliang.core.permissions import has_capability

register = template.Library()


@register.simple_tag(takes_context=True)
def may_import_roster(context: template.Context) -> bool:
    """Tell whether the current user may import a roster: {% may_import_roster as ok %}."""
    request: Any = context.get("request")
    return request is not None and has_capability(request.user, "orgs.import_roster")
