"""Reads of policies: the library, a policy's page, an item's eligible list, the FAQ, queues and statistics.
Every read goes through `for_user`; every list is paginated by the caller."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from qiaoliang.core.permissions import VIEW, is_active_user
from qiaoliang.core.text import compact_text, query_grams
from qiaoliang.orgs.models import Membership
from qiaoliang.orgs.selectors import get_scope
from qiaoliang.policies.facts import ENTERED_FIELDS
from qiaoliang.policies.models import (
    AutoGrantCase,
    Clause,
    Eligibility,
    EnterpriseFact,
    EnterpriseHonour,
    Policy,
    PolicyQuestion,
    Push,
    Rule,
    SupportItem,
)
from qiaoliang.policies.permissions import ANSWER


@dataclass(frozen=True)
class LibraryFilters:
    q: str = ""
    level: str = ""
    status: str = ""
    clause_type: str = ""

    @classmethod
    def from_mapping(cls, data: Any) -> LibraryFilters:
        level = str(data.get("level") or "")
        status = str(data.get("status") or "")
        return cls(
            q=str(data.get("q") or "").strip()[:60],
            level=level if level in Policy.Level.values else "",
            status=status if status in Policy.Status.values else "",
            clause_type=str(data.get("type") or "")[:20],
        )


def _text_filter(field: str, query: str) -> Q:
    """Every character pair of the query in the folded text (the library holds thousands, not millions)."""
    condition = Q()
    folded = compact_text(query)
    grams = query_grams(folded) or ([folded] if folded else [])
    for gram in grams[:8]:
        condition &= Q(**{f"{field}__contains": gram})
    return condition


def visible_policies(user: Any) -> QuerySet[Policy]:
    """The library a user reads: published policies for visitors without an account (政策库 is public)."""
    if not is_active_user(user):
        return Policy.objects.filter(status=Policy.Status.PUBLISHED)
    return Policy.objects.for_user(user, VIEW)


def visible_items(user: Any) -> QuerySet[SupportItem]:
    if not is_active_user(user):
        return SupportItem.objects.filter(policy__status=Policy.Status.PUBLISHED)
    return SupportItem.objects.for_user(user, VIEW)


def library(user: Any, filters: LibraryFilters) -> QuerySet[Policy]:
    qs = visible_policies(user).select_related("organization", "region")
    if filters.q:
        qs = qs.filter(_text_filter("search_text", filters.q))
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.clause_type:
        qs = qs.filter(Exists_clause(filters.clause_type))
    return qs.annotate(item_count=Count("items", distinct=True)).order_by(F("issued_on").desc(nulls_last=True), "-id")


def Exists_clause(clause_type: str) -> Q:  # noqa: N802 - reads as the filter it builds
    return Q(pk__in=Clause.objects.filter(clause_type=clause_type).values("policy_id"))


def policy_items(policy: Policy) -> list[SupportItem]:
    active = Rule.objects.filter(status=Rule.Status.ACTIVE).select_related("clause")
    return list(
        policy.items.select_related("contact_department", "clause")
        .prefetch_related(Prefetch("rules", queryset=active, to_attr="active_rules"))
        .order_by("position", "id")
    )


def policy_clauses(policy: Policy) -> QuerySet[Clause]:
    return policy.clauses.order_by("position")


def faq(user: Any, *, policy: Policy | None = None, q: str = "") -> QuerySet[PolicyQuestion]:
    """Answered questions shown in the FAQ (for visitors too), of published policies."""
    qs = PolicyQuestion.objects.filter(in_faq=True, status=PolicyQuestion.Status.ANSWERED,
                                       policy__status=Policy.Status.PUBLISHED)  # fmt: skip
    if policy is not None:
        qs = qs.filter(policy=policy)
    if q:
        qs = qs.filter(_text_filter("search_text", q))
    return qs.select_related("policy").order_by("-answered_at", "-id")


def own_questions(user: Any, policy: Policy | None = None) -> QuerySet[PolicyQuestion]:
    scope = get_scope(user)
    qs = PolicyQuestion.objects.filter(enterprise_id__in=scope.own_enterprise_ids)
    if policy is not None:
        qs = qs.filter(policy=policy)
    return qs.select_related("policy").order_by("-created_at")


def question_inbox(user: Any, *, status: str = "open") -> QuerySet[PolicyQuestion]:
    qs = PolicyQuestion.objects.for_user(user, ANSWER).select_related("policy", "enterprise")
    if status in PolicyQuestion.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("deadline", "created_at") if status == "open" else qs.order_by("-answered_at")


def eligible_list(user: Any, item: SupportItem) -> QuerySet[Eligibility]:
    return (
        Eligibility.objects.for_user(user, VIEW)
        .filter(item=item)
        .select_related("enterprise")
        .order_by("enterprise__name_pinyin", "enterprise_id")
    )


def own_facts(enterprise_id: int) -> dict[str, Any]:
    """The enterprise's figures by field and year, its declarations and honours (for its facts page)."""
    facts = list(EnterpriseFact.objects.filter(enterprise_id=enterprise_id).order_by("field", "-year", "key"))
    honours = list(EnterpriseHonour.objects.filter(enterprise_id=enterprise_id).order_by("code"))
    this_year = timezone.localdate().year
    stale_before = this_year - 2
    rows = []
    for spec in ENTERED_FIELDS:
        values = [f for f in facts if f.field == spec.code]
        stale = bool(values) and spec.yearly and max(f.year for f in values) < stale_before + 1
        rows.append({"field": spec, "facts": values, "stale": stale})
    return {
        "rows": rows,
        "declarations": [f for f in facts if f.field in ("declaration", "declared_money", "declared_number")],
        "honours": honours,
    }


def review_queue(user: Any) -> tuple[QuerySet[EnterpriseFact], QuerySet[EnterpriseHonour]]:
    facts = (
        EnterpriseFact.objects.for_user(user, "review")
        .filter(status=EnterpriseFact.Status.SUBMITTED)
        .select_related("enterprise")
        .order_by("updated_at")
    )
    honours = (
        EnterpriseHonour.objects.for_user(user, "review")
        .filter(status=EnterpriseFact.Status.SUBMITTED)
        .select_related("enterprise")
        .order_by("updated_at")
    )
    return facts, honours


def own_cases(user: Any) -> QuerySet[AutoGrantCase]:
    return (
        AutoGrantCase.objects.for_user(user, VIEW)
        .filter(enterprise_id__in=get_scope(user).own_enterprise_ids)
        .select_related("item", "item__policy")
        .order_by("-updated_at")
    )


def item_cases(user: Any, item: SupportItem, *, status: str = "") -> QuerySet[AutoGrantCase]:
    """An item's 免申即享 cases (of one status when given), in the order they were listed (index item, status)."""
    rows = AutoGrantCase.objects.for_user(user, VIEW).filter(item=item)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("enterprise").order_by("id")


def case_figures(item: SupportItem) -> dict[str, Any]:
    C = AutoGrantCase.Status  # noqa: N806 - the models' short alias, as in the services
    rows = AutoGrantCase.objects.filter(item=item).aggregate(
        listed=Count("pk", filter=Q(status=C.LISTED)), confirmed=Count("pk", filter=Q(status=C.CONFIRMED)),
        accepted=Count("pk", filter=Q(status=C.ACCEPTED)), declined=Count("pk", filter=Q(status=C.DECLINED)),
        paid=Count("pk", filter=Q(status=C.PAID)), excluded=Count("pk", filter=Q(status=C.EXCLUDED)),
        amount=Sum("amount", filter=Q(status=C.PAID)),
    )  # fmt: skip
    rows["amount"] = rows["amount"] or Decimal(0)
    return rows


def statistics(user: Any, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Policies published, pushes, enterprises reached, 免申即享 cases and amounts, answer times, in a period."""
    scope = get_scope(user)
    policies = Policy.objects.for_user(user, VIEW)
    if not scope.is_all:  # the user's organisations, the ones above them and below them: not sibling chambers
        policies = policies.filter(organization_id__in=scope.change_org_ids | scope.view_org_ids)
    # pushes and cases the user's organisations sent, or that reached the members (or zone) the user looks after
    members = Membership.objects.filter(enterprise_id=OuterRef("enterprise_id"), status=Membership.Status.ACTIVE,
                                        organization_id__in=scope.member_org_ids)  # fmt: skip
    reach = Q() if scope.is_all else (Q(organization_id__in=scope.change_org_ids) | Q(Exists(members)))
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    until = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    pushes = Push.objects.filter(reach, sent_at__gte=since, sent_at__lt=until)  # datetime bounds use the index
    cases = AutoGrantCase.objects.filter(reach, updated_at__gte=since, updated_at__lt=until)
    questions = PolicyQuestion.objects.filter(policy__in=policies.values("pk"), created_at__gte=since,
                                              created_at__lt=until)  # fmt: skip
    push_figures = pushes.aggregate(sent=Count("pk"), reached=Count("enterprise", distinct=True),
                                    opened=Count("pk", filter=Q(opened_at__isnull=False)))  # fmt: skip
    case_figures_all = cases.aggregate(
        cases=Count("pk"), paid=Count("pk", filter=Q(status=AutoGrantCase.Status.PAID)),
        amount=Sum("amount", filter=Q(status=AutoGrantCase.Status.PAID)),
    )  # fmt: skip
    question_figures = questions.aggregate(
        asked=Count("pk"), answered=Count("pk", filter=Q(status=PolicyQuestion.Status.ANSWERED)),
        on_time=Count("pk", filter=Q(answered_on_time=True)), open=Count("pk", filter=Q(status="open")),
    )  # fmt: skip
    answered = question_figures["answered"] or 0
    return {
        "published": policies.filter(published_at__gte=since, published_at__lt=until).count(),
        "in_library": policies.filter(status=Policy.Status.PUBLISHED).count(),
        **push_figures,
        **case_figures_all,
        "amount": case_figures_all["amount"] or Decimal(0),
        **question_figures,
        "on_time_rate": round(100 * question_figures["on_time"] / answered, 1) if answered else None,
        "per_item": list(
            SupportItem.objects.filter(policy__in=policies.filter(status=Policy.Status.PUBLISHED).values("pk"))
            .select_related("policy")
            .order_by("-eligible_count")[:20]
        ),
    }
