"""What appeals offer in the navigation and on each role's home page (工作台)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from qiaoliang.appeals import evaluations, selectors
from qiaoliang.appeals.models import Appeal
from qiaoliang.core.navigation import HomePanel, NavItem, register_nav, register_panel
from qiaoliang.core.permissions import VIEW, has_capability

PANEL_ROWS = 5


def _todo(user: Any) -> int:
    """Appeals waiting for the user, and the evaluation rounds their enterprise has yet to answer."""
    appeals = Appeal.objects.for_user(user, VIEW).filter(selectors.todo_condition(user)).count()
    return appeals + len(evaluations.waiting_rounds(user))


register_nav(
    NavItem(
        "appeals",
        _("Appeals"),
        "appeals:list",
        88,
        lambda user: has_capability(user, "appeals.view"),
        namespaces=("appeals",),
        badge=_todo,
    )
)


def _context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    waiting = (
        Appeal.objects.for_user(user, VIEW)
        .filter(selectors.todo_condition(user))
        .select_related("enterprise", "department")
        .order_by("deadline", "-created_at")
    )
    return {
        "waiting": list(waiting[:PANEL_ROWS]),
        "count": waiting.count(),
        "may_submit": has_capability(user, "appeals.submit"),
        "may_manage": has_capability(user, "appeals.manage"),
        "is_department": has_capability(user, "appeals.answer"),
        "evaluations": evaluations.waiting_rounds(user),
    }


register_panel(
    HomePanel("appeals", 12, "appeals/panels/home.html", lambda user: has_capability(user, "appeals.view"), _context)
)
