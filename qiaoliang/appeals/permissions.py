"""Who may see and work on appeals (registered with core.permissions.rules).

| who | sees | may |
| --- | --- | --- |
| staff, chamber secretaries | their organisations' appeals | accept, return, route, answer, merge, close, record |
| zone convenors | appeals of their zones' organisations | view (the enterprise's contact masked) |
| enterprise contacts | their enterprise's appeals | submit, add information, withdraw, confirm and rate |
| department liaisons | appeals assigned to their department, and those it answered | answer, ask for an extension |
| service providers | nothing | — |

Periodic evaluation rounds (评议): the organisation's staff run them and see the results with the enterprises'
names; the enterprises of the audience (members of the audience's organisations or of those under them) see and
answer them; the liaisons of the departments evaluated see them and, once closed, their own department's results
without the enterprises' names.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from qiaoliang.appeals.models import (
    Appeal,
    AppealCategory,
    EvaluationAnswer,
    EvaluationRound,
    ExtensionRequest,
    ProblemReport,
    Visit,
)
from qiaoliang.core.permissions import CHANGE, VIEW, register_capability, rules
from qiaoliang.orgs.models import Organization
from qiaoliang.orgs.selectors import get_scope

ANSWER = "answer"  # the department's liaisons answer and ask for more time
RESPOND = "respond"  # the enterprise adds information, withdraws, confirms and rates

S = Appeal.Status
DEPARTMENT_STATUSES = [S.ASSIGNED, S.ANSWERED, S.CONFIRMED, S.CLOSED]


def _managed(scope: Any, prefix: str = "") -> Q:
    return scope.org_ids_q(scope.change_org_ids, f"{prefix}organization_id")


def appeals_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    condition = Q(pk__in=[])
    if scope.change_org_ids or scope.member_org_ids:
        condition |= Q(organization_id__in=scope.change_org_ids | scope.member_org_ids)
    if scope.own_enterprise_ids:
        condition |= Q(enterprise_id__in=scope.own_enterprise_ids)
    if scope.department_ids:
        condition |= Q(department_id__in=scope.department_ids, status__in=DEPARTMENT_STATUSES)
    return qs.filter(condition)


def appeals_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(_managed(get_scope(user)))


def appeals_answered(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The department's liaisons, and the organisation's staff (who may answer themselves)."""
    scope = get_scope(user)
    if scope.is_all:
        return qs
    condition = Q(pk__in=[])
    if scope.change_org_ids:
        condition |= Q(organization_id__in=scope.change_org_ids)
    if scope.department_ids:
        condition |= Q(department_id__in=scope.department_ids)
    return qs.filter(condition)


def appeals_responded(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(enterprise_id__in=scope.own_enterprise_ids) if scope.own_enterprise_ids else qs.none()


rules.register(Appeal, **{VIEW: appeals_visible, CHANGE: appeals_managed, ANSWER: appeals_answered,
                          RESPOND: appeals_responded})  # fmt: skip


def categories_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs if get_scope(user).is_authenticated else qs.none()


def categories_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs if get_scope(user).is_staff else qs.none()


rules.register(AppealCategory, **{VIEW: categories_visible, CHANGE: categories_managed})


def extensions_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(appeal__in=Appeal.objects.for_user(user, VIEW).values("pk"))


def extensions_decided(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(appeal__in=Appeal.objects.for_user(user, CHANGE).values("pk"))


rules.register(ExtensionRequest, **{VIEW: extensions_visible, CHANGE: extensions_decided})


def reports_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.change_org_ids | scope.member_org_ids))


def reports_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.change_org_ids))


rules.register(ProblemReport, **{VIEW: reports_visible, CHANGE: reports_managed})

register_capability("appeals.manage", lambda user: get_scope(user).is_all or bool(get_scope(user).change_org_ids))
register_capability("appeals.submit", lambda user: bool(get_scope(user).own_enterprise_ids))
register_capability("appeals.answer", lambda user: bool(get_scope(user).department_ids))
# The official calendar (holidays and 调休 days ahead of chinesecalendar) counts for every deadline: federation staff.
register_capability("appeals.calendar", lambda user: get_scope(user).is_staff)
register_capability(
    "appeals.view",
    lambda user: (
        get_scope(user).is_all
        or bool(get_scope(user).change_org_ids or get_scope(user).member_org_ids)
        or bool(get_scope(user).own_enterprise_ids or get_scope(user).department_ids)
    ),
)


def visits_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.change_org_ids | scope.member_org_ids))


def visits_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The organisation's staff, and zone convenors for the organisations of their zones (they visit too)."""
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.change_org_ids | scope.member_org_ids))


rules.register(Visit, **{VIEW: visits_visible, CHANGE: visits_managed})
register_capability(
    "appeals.visit",
    lambda user: get_scope(user).is_all or bool(get_scope(user).change_org_ids or get_scope(user).zone_ids),
)


def ancestors_of(organization_ids: set[int]) -> set[int]:
    """Return these organisations and every organisation above them (from the tree's paths)."""
    paths = Organization.objects.filter(pk__in=organization_ids).values_list("path", flat=True)
    return {int(part) for path in paths for part in path.strip("/").split("/") if part} | set(organization_ids)


def rounds_addressed_to(organization_ids: set[int]) -> Q:
    """Rounds whose audience holds an enterprise member of these organisations (an audience organisation is one of
    them or above them)."""
    if not organization_ids:
        return Q(pk__in=[])
    chosen = EvaluationRound.audience.through.objects.filter(organization_id__in=ancestors_of(organization_ids))
    return Q(pk__in=chosen.values("evaluationround_id"))


def rounds_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    condition = Q(pk__in=[])
    if scope.change_org_ids or scope.member_org_ids:
        condition |= Q(organization_id__in=scope.change_org_ids | scope.member_org_ids)
    if scope.department_ids:
        through = EvaluationRound.departments.through.objects.filter(department_id__in=scope.department_ids)
        condition |= Q(pk__in=through.values("evaluationround_id"))
    if scope.own_organization_ids:
        condition |= rounds_addressed_to(scope.own_organization_ids)
    return qs.filter(condition)


def rounds_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(_managed(get_scope(user)))


def rounds_answered(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The rounds the user's enterprise is asked to answer."""
    scope = get_scope(user)
    return qs.filter(rounds_addressed_to(scope.own_organization_ids))


rules.register(EvaluationRound, **{VIEW: rounds_visible, CHANGE: rounds_managed, RESPOND: rounds_answered})


def evaluation_answers_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The running organisation's staff (with the names), the enterprise its own, the department's liaisons theirs
    once the round is closed (the pages show these without the names)."""
    scope = get_scope(user)
    if scope.is_all:
        return qs
    condition = Q(pk__in=[])
    if scope.change_org_ids:
        condition |= Q(round__organization_id__in=scope.change_org_ids)
    if scope.own_enterprise_ids:
        condition |= Q(enterprise_id__in=scope.own_enterprise_ids)
    if scope.department_ids:
        condition |= Q(department_id__in=scope.department_ids, round__closes_on__lt=timezone.localdate())
    return qs.filter(condition)


def evaluation_answers_changed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(enterprise_id__in=scope.own_enterprise_ids) if scope.own_enterprise_ids else qs.none()


rules.register(EvaluationAnswer, **{VIEW: evaluation_answers_visible, CHANGE: evaluation_answers_changed})
