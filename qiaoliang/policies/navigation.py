"""What policies offer in the navigation and on each role's home page (工作台)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.navigation import HomePanel, NavItem, register_nav, register_panel
from qiaoliang.core.permissions import has_capability
from qiaoliang.orgs.selectors import get_scope
from qiaoliang.policies import selectors
from qiaoliang.policies.models import AutoGrantCase, Eligibility, PolicyQuestion

PANEL_ROWS = 5


def _open_questions(user: Any) -> int:
    return selectors.question_inbox(user).count() if has_capability(user, "policies.answer") else 0


register_nav(NavItem("policies", _("Policies"), "policies:list", 92, lambda user: True, namespaces=("policies",),
                     badge=_open_questions))  # fmt: skip


def _context(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    scope = get_scope(user)
    context: dict[str, Any] = {
        "may_manage": has_capability(user, "policies.manage"),
        "may_answer": has_capability(user, "policies.answer"),
        "may_review": has_capability(user, "policies.review_facts"),
        "is_enterprise": bool(scope.own_enterprise_ids),
    }
    if context["may_answer"]:
        inbox = selectors.question_inbox(user)
        context["questions"] = list(inbox[:PANEL_ROWS])
        context["question_count"] = inbox.count()
    if context["may_review"]:
        facts, honours = selectors.review_queue(user)
        context["review_count"] = facts.count() + honours.count()
    if context["is_enterprise"]:
        eligible = (
            Eligibility.objects.filter(enterprise_id__in=scope.own_enterprise_ids)
            .select_related("item", "item__policy")
            .order_by("-computed_at")
        )
        context["eligible"] = list(eligible[:PANEL_ROWS])
        context["eligible_count"] = eligible.count()
        context["own_open"] = PolicyQuestion.objects.filter(
            enterprise_id__in=scope.own_enterprise_ids, status=PolicyQuestion.Status.OPEN
        ).count()
        context["cases_to_answer"] = AutoGrantCase.objects.filter(
            enterprise_id__in=scope.own_enterprise_ids, status=AutoGrantCase.Status.CONFIRMED
        ).count()
    return context


def _visible(user: Any) -> bool:
    scope = get_scope(user)
    return bool(has_capability(user, "policies.manage") or has_capability(user, "policies.answer")
                or scope.own_enterprise_ids)  # fmt: skip


register_panel(HomePanel("policies", 14, "policies/panels/home.html", _visible, _context))
