"""Template helpers of the roster UI: what the navigation offers the current user."""

from __future__ import annotations

from django import template

from qiaoliang.core.permissions import get_scope

register = template.Library()


@register.simple_tag(takes_context=True)
def may_import_roster(context: template.Context) -> bool:
    """Tell whether the current user may import a roster: {% may_import_roster as ok %}."""
    request = context.get("request")
    if request is None:
        return False
    scope = get_scope(request.user)
    return scope.is_all or bool(scope.change_org_ids)
