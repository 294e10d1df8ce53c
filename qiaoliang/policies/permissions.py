"""Who may see and work on policies (registered with core.permissions.rules).

- visitors (no account) see published policies, their items and the FAQ; they ask nothing (sign in first);
- staff and chamber secretaries see their organisations' policies, drafts included, and the figures and honours
  of the members they manage; they edit, publish, write rules, review figures, confirm 免申即享 lists and answer;
- zone convenors see published policies and the statistics;
- enterprise contacts see published policies and their own figures, honours, decisions, cases and questions;
  they enter figures and honours, confirm intent and ask;
- department liaisons see published policies and the questions on policies their department answers, and
  answer them;
- service providers see published policies.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from qiaoliang.core.permissions import CHANGE, VIEW, register_capability, rules
from qiaoliang.orgs.selectors import get_scope
from qiaoliang.policies.models import (
    AutoGrantCase,
    Eligibility,
    EnterpriseFact,
    EnterpriseHonour,
    Policy,
    PolicyQuestion,
    Push,
    Rule,
    SupportItem,
)

ANSWER = "answer"  # answer a question on the policy
RESPOND = "respond"  # the enterprise confirms its intent on a 免申即享 case
PUBLISHED = Policy.Status.PUBLISHED


def _managed_orgs(user: Any, field: str = "organization_id") -> Q | None:
    scope = get_scope(user)
    if scope.is_all:
        return None
    return scope.org_ids_q(scope.change_org_ids, field) if scope.change_org_ids else Q(pk__in=[])


def policies_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    managed = _managed_orgs(user)
    if managed is None:
        return qs
    return qs.filter(Q(status=PUBLISHED) | managed)


def policies_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    managed = _managed_orgs(user)
    return qs if managed is None else qs.filter(managed)


def policies_answered(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    managed = _managed_orgs(user)
    if managed is None:
        return qs
    condition = managed
    if scope.department_ids:
        condition |= Q(department_id__in=scope.department_ids, status=PUBLISHED)
    return qs.filter(condition)


rules.register(Policy, **{VIEW: policies_visible, CHANGE: policies_managed, ANSWER: policies_answered})


def items_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    managed = _managed_orgs(user, "policy__organization_id")
    return qs if managed is None else qs.filter(Q(policy__status=PUBLISHED) | managed)


def items_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    managed = _managed_orgs(user, "policy__organization_id")
    return qs if managed is None else qs.filter(managed)


rules.register(SupportItem, **{VIEW: items_visible, CHANGE: items_managed})


def rules_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    managed = _managed_orgs(user, "item__policy__organization_id")
    return qs if managed is None else qs.filter(Q(item__policy__status=PUBLISHED, status="active") | managed)


def rules_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    managed = _managed_orgs(user, "item__policy__organization_id")
    return qs if managed is None else qs.filter(managed)


rules.register(Rule, **{VIEW: rules_visible, CHANGE: rules_managed})


def _enterprise_rows(qs: QuerySet[Any], user: Any, *, manage_only: bool) -> QuerySet[Any]:
    """Rows of an enterprise: the enterprise itself, and the managers of organisations it is a member of."""
    scope = get_scope(user)
    if scope.is_all:
        return qs
    condition = Q(pk__in=[])
    if not manage_only and scope.own_enterprise_ids:
        condition |= Q(enterprise_id__in=scope.own_enterprise_ids)
    if scope.manage_member_org_ids:
        condition |= Q(enterprise__memberships__organization_id__in=scope.manage_member_org_ids,
                       enterprise__memberships__status="active")  # fmt: skip
    return qs.filter(condition).distinct() if scope.manage_member_org_ids else qs.filter(condition)


def own_rows(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(enterprise_id__in=scope.own_enterprise_ids) if scope.own_enterprise_ids else qs.none()


for model in (EnterpriseFact, EnterpriseHonour):
    rules.register(model, **{
        VIEW: lambda qs, user: _enterprise_rows(qs, user, manage_only=False),
        CHANGE: own_rows,  # the enterprise enters and corrects its own figures
        "review": lambda qs, user: _enterprise_rows(qs, user, manage_only=True),
    })  # fmt: skip

rules.register(Eligibility, **{VIEW: lambda qs, user: _enterprise_rows(qs, user, manage_only=False)})
rules.register(Push, **{VIEW: lambda qs, user: _enterprise_rows(qs, user, manage_only=False)})


def cases_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    managed = _managed_orgs(user)
    return qs if managed is None else qs.filter(managed)


def cases_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    managed = _managed_orgs(user)
    if managed is None:
        return qs
    if scope.own_enterprise_ids:
        managed |= Q(enterprise_id__in=scope.own_enterprise_ids) & ~Q(status__in=["listed", "excluded"])
    return qs.filter(managed)


def cases_responded(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return own_rows(qs, user).exclude(status__in=["listed", "excluded"])


rules.register(AutoGrantCase, **{VIEW: cases_visible, CHANGE: cases_managed, RESPOND: cases_responded})


def questions_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    condition = Q(in_faq=True, policy__status=PUBLISHED)
    if scope.change_org_ids:
        condition |= scope.org_ids_q(scope.change_org_ids, "policy__organization_id")
    if scope.own_enterprise_ids:
        condition |= Q(enterprise_id__in=scope.own_enterprise_ids)
    if scope.department_ids:
        condition |= Q(policy__department_id__in=scope.department_ids)
    return qs.filter(condition)


def questions_answered(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    condition = Q(pk__in=[])
    if scope.change_org_ids:
        condition |= scope.org_ids_q(scope.change_org_ids, "policy__organization_id")
    if scope.department_ids:
        condition |= Q(policy__department_id__in=scope.department_ids)
    return qs.filter(condition)


rules.register(PolicyQuestion, **{VIEW: questions_visible, ANSWER: questions_answered})


def _manages(user: Any) -> bool:
    scope = get_scope(user)
    return scope.is_all or bool(scope.change_org_ids)


register_capability("policies.manage", _manages)
register_capability("policies.checkup", lambda user: bool(get_scope(user).own_enterprise_ids))
register_capability("policies.answer", lambda user: _manages(user) or bool(get_scope(user).department_ids))
register_capability(
    "policies.review_facts", lambda user: get_scope(user).is_all or bool(get_scope(user).manage_member_org_ids)
)
