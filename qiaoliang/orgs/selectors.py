"""Reads for organisations and members: every list goes through the user's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from qiaoliang.core.text import compact_text, is_pinyin_query, query_grams
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person, Position

# Member levels ranked by seniority (会长单位 first); the stored values would sort alphabetically.
LEVEL_RANK = Case(
    *[When(level=value, then=Value(rank)) for rank, value in enumerate(Membership.Level.values)],
    default=Value(len(Membership.Level.values)),
)

_USCC_PREFIX_RE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{6,18}$")


@dataclass(frozen=True)
class DirectoryFilters:
    """The member directory's search box and filters, as the UI, export and API share them."""

    q: str = ""
    industry: str = ""
    region: str = ""
    size: str = ""
    organization: int | None = None
    level: str = ""
    status: str = ""

    @classmethod
    def from_mapping(cls, data: Any) -> DirectoryFilters:
        """Build filters from a GET mapping, ignoring values that cannot be right."""
        organization = str(data.get("organization") or "").strip()
        return cls(
            q=str(data.get("q") or data.get("search") or "").strip()[:100],
            industry=str(data.get("industry") or "").strip()[:5].upper(),
            region=str(data.get("region") or "").strip()[:6],
            size=str(data.get("size") or "").strip()[:8],
            organization=int(organization) if organization.isdigit() else None,
            level=str(data.get("level") or "").strip()[:16],
            status=str(data.get("status") or "").strip()[:12],
        )

    def as_query(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", None)}


def _prefix(field: str, prefix: str) -> Q:
    """Match a prefix with a range, which both databases answer from the B-tree index on the column."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\uffff"})


def _contains_name(queryset: QuerySet[Enterprise], query: str) -> QuerySet[Enterprise]:
    """Substring search on the normalised name, narrowed first by the character-pair index.

    For a query of one or two characters the pair index is exact, so no substring check follows.
    """
    grams = query_grams(query)[:8]
    exact = len(query) <= 2 and len(grams) == 1
    if grams and connection.vendor == "sqlite":
        match = " AND ".join('"' + gram.replace('"', '""') + '"' for gram in grams)
        queryset = queryset.filter(
            pk__in=RawSQL("SELECT rowid FROM orgs_enterprise_grams WHERE orgs_enterprise_grams MATCH %s", (match,))
        )
    elif grams and connection.vendor == "postgresql":
        # A condition on the row itself (not a sub-select) lets the planner choose between the GIN index
        # (rare pairs) and walking the pinyin index in order (common pairs such as 科技).
        queryset = queryset.alias(
            has_grams=RawSQL(
                'string_to_array("orgs_enterprise"."name_grams", \' \') @> %s::text[]',
                (grams,),
                output_field=BooleanField(),
            )
        ).filter(has_grams=True)
    else:
        exact = False
    return queryset if exact else queryset.filter(name_search__contains=query)


def search_enterprises(queryset: QuerySet[Enterprise], q: str) -> Any:
    """Filter by name (Traditional folded to Simplified), pinyin initials or full pinyin, or USCC."""
    query = compact_text(q)
    if not query:
        return queryset
    upper = query.upper()
    if _USCC_PREFIX_RE.match(upper) and any(ch.isdigit() for ch in upper):
        if len(upper) == 18:
            return queryset.filter(uscc=upper)
        return queryset.filter(_prefix("uscc", upper))
    if is_pinyin_query(query):
        return queryset.filter(_prefix("name_initials", query) | _prefix("name_pinyin", query))
    return _contains_name(queryset, query)


def enterprise_directory(user: Any, filters: DirectoryFilters) -> QuerySet[Enterprise]:
    """Return the enterprises the user may see, filtered and sorted by pinyin, ready to paginate."""
    queryset = Enterprise.objects.for_user(user, "view").select_related("industry", "region")
    queryset = search_enterprises(queryset, filters.q)
    if filters.industry:
        # A class code filters its own rows; a section letter or a shorter code takes the whole branch.
        if filters.industry.isalpha():
            queryset = queryset.filter(industry__section=filters.industry)
        else:
            queryset = queryset.filter(industry__code__startswith=filters.industry)
    if filters.region:
        prefix = filters.region.rstrip("0") if len(filters.region) == 6 else filters.region
        if len(prefix) % 2:
            prefix += "0"
        queryset = queryset.filter(region__code__startswith=prefix) if prefix else queryset
    if filters.size:
        queryset = queryset.filter(size=filters.size)
    if filters.organization or filters.level or filters.status:
        memberships = Membership.objects.filter(enterprise_id=OuterRef("pk"))
        if filters.organization:
            memberships = memberships.filter(organization_id=filters.organization)
        if filters.level:
            memberships = memberships.filter(level=filters.level)
        if filters.status:
            memberships = memberships.filter(status=filters.status)
        queryset = queryset.filter(Exists(memberships))
    return queryset.order_by("name_pinyin", "id")


def with_memberships(queryset: QuerySet[Enterprise]) -> QuerySet[Enterprise]:
    """Prefetch each enterprise's memberships and organisations (two queries for any page size)."""
    return queryset.prefetch_related(
        Prefetch(
            "memberships", queryset=Membership.objects.select_related("organization").order_by("organization__path")
        )
    )


def with_primary_contact(queryset: QuerySet[Enterprise]) -> QuerySet[Enterprise]:
    """Prefetch each enterprise's primary contact people."""
    return queryset.prefetch_related(
        Prefetch("people", queryset=Person.objects.filter(is_primary_contact=True), to_attr="primary_contacts")
    )


def organization_tree(user: Any) -> list[Organization]:
    """Return the visible organisations in tree order, each with its member count."""
    return list(
        Organization.objects.for_user(user, "view")
        .annotate(member_count=Count("memberships", filter=Q(memberships__status=Membership.Status.ACTIVE)))
        .order_by("path")
    )


def organization_members(user: Any, organization: Organization) -> QuerySet[Membership]:
    """Return an organisation's memberships whose enterprise the user may see."""
    visible = Enterprise.objects.for_user(user, "view").values("pk")
    return (
        Membership.objects.filter(organization=organization, enterprise_id__in=visible)
        .select_related("enterprise", "enterprise__industry", "enterprise__region")
        .order_by(LEVEL_RANK, "enterprise__name_pinyin")
    )


def organization_positions(organization: Organization) -> QuerySet[Position]:
    """Return the posts of an organisation with their holders."""
    return Position.objects.filter(organization=organization).select_related("person", "person__enterprise")


def dashboard_counts(user: Any) -> dict[str, Any]:
    """Return counts for the home page: organisations per kind, members per level, people."""
    organizations = Organization.objects.for_user(user, "view")
    by_kind = dict(organizations.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    enterprises = Enterprise.objects.for_user(user, "view")
    memberships = Membership.objects.for_user(user, "view").filter(status=Membership.Status.ACTIVE)
    by_level = dict(memberships.values_list("level").annotate(n=Count("pk")).values_list("level", "n"))
    return {
        "organizations_by_kind": by_kind,
        "organizations_total": sum(by_kind.values()),
        "enterprises_total": enterprises.count(),
        "memberships_by_level": by_level,
        "people_total": Person.objects.for_user(user, "view").count(),
    }
