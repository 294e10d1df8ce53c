"""Reads for organisations and members: every list goes through the user's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from qiaoliang.core.models import Industry, Region
from qiaoliang.core.text import compact_text, is_pinyin_query, query_grams
from qiaoliang.orgs.models import Enterprise, Membership, MembershipApplication, Organization, Person, Position
from qiaoliang.orgs.recipients import enterprise_contacts, organization_managers, zone_convenors
from qiaoliang.orgs.scope import Scope, get_scope

# Other apps read a user's scope and the people to tell through the selectors.
__all__ = ["Scope", "contacts_of", "get_scope", "managers_of", "organization_managers", "zone_convenors"]
contacts_of = enterprise_contacts
managers_of = organization_managers


def reviewing_organization(enterprise: Enterprise) -> Organization | None:
    """Return the organisation that reviews an enterprise's work: its deepest active membership's, else the
    organisation that recorded it (a non-member met through a resource sheet)."""
    membership = (
        Membership.objects.filter(enterprise=enterprise, status=Membership.Status.ACTIVE)
        .select_related("organization")
        .order_by("-organization__depth", "organization__path")
        .first()
    )
    if membership is not None:
        return membership.organization
    return enterprise.registered_by


def reviewing_organizations(enterprise_ids: list[int]) -> dict[int, int]:
    """Return {enterprise id: organisation id} of each enterprise's deepest active membership, else its recorder."""
    chosen: dict[int, tuple[int, str, int]] = {}
    for start in range(0, len(enterprise_ids), 900):
        chunk = enterprise_ids[start : start + 900]
        rows = Membership.objects.filter(enterprise_id__in=chunk, status=Membership.Status.ACTIVE).values_list(
            "enterprise_id", "organization_id", "organization__depth", "organization__path"
        )
        for enterprise_id, organization_id, depth, path in rows:
            key = (-depth, path, organization_id)
            if enterprise_id not in chosen or key < chosen[enterprise_id]:
                chosen[enterprise_id] = key
    result = {enterprise_id: key[2] for enterprise_id, key in chosen.items()}
    missing = [pk for pk in enterprise_ids if pk not in result]
    for start in range(0, len(missing), 900):
        for pk, recorder in Enterprise.objects.filter(pk__in=missing[start : start + 900]).values_list(
            "pk", "registered_by_id"
        ):
            if recorder:
                result[pk] = recorder
    return result


# Member levels ranked by seniority (会长单位 first); the stored values would sort alphabetically.
LEVEL_RANK = Case(
    *[When(level=value, then=Value(rank)) for rank, value in enumerate(Membership.Level.values)],
    default=Value(len(Membership.Level.values)),
)

MAX_ID = 2**63 - 1
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
    membership: str = ""  # "" members (the default), "non_member" recorded enterprises that are no member, "all"

    @classmethod
    def from_mapping(cls, data: Any) -> DirectoryFilters:
        """Build filters from a GET mapping, ignoring values that cannot be right."""
        organization = str(data.get("organization") or "").strip()
        return cls(
            q=str(data.get("q") or data.get("search") or "").strip()[:100],
            industry=str(data.get("industry") or "").strip()[:5].upper(),
            region=str(data.get("region") or "").strip()[:6],
            size=str(data.get("size") or "").strip()[:8],
            organization=int(organization) if organization.isdigit() and int(organization) <= MAX_ID else None,
            level=str(data.get("level") or "").strip()[:16],
            status=str(data.get("status") or "").strip()[:12],
            membership=membership
            if (membership := str(data.get("membership") or "").strip()) in {"non_member", "all"}
            else "",
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
    if (
        filters.organization
        and not Organization.objects.for_user(user, "view").filter(pk=filters.organization).exists()
    ):
        # A filter on an organisation the user cannot see answers as if it did not exist: nothing to count.
        return queryset.none()
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
    any_membership = Exists(Membership.objects.filter(enterprise_id=OuterRef("pk")))
    if filters.membership == "non_member":
        queryset = queryset.exclude(any_membership)
    elif not filters.membership and not (filters.organization or filters.level or filters.status):
        queryset = queryset.filter(any_membership)  # recorded non-members are not listed as members
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


def _active_member() -> Any:
    return Exists(Membership.objects.filter(enterprise_id=OuterRef("pk"), status=Membership.Status.ACTIVE))


def member_count(user: Any) -> int:
    """Return how many enterprises the user sees that are active members somewhere (non-members not counted)."""
    return Enterprise.objects.for_user(user, "view").filter(_active_member()).count()


def non_member_count(user: Any) -> int:
    """Return how many recorded enterprises the user manages that are no member anywhere (invitable to join)."""
    return Enterprise.objects.for_user(user, "review").exclude(_active_member()).count()


def open_application_count(user: Any) -> int:
    """Return how many membership applications wait for the user's review."""
    return (
        MembershipApplication.objects.for_user(user, "review")
        .filter(status=MembershipApplication.Status.SUBMITTED)
        .count()
    )


PROFILE_FIELDS = ("industry_id", "region_id", "size", "ownership", "founded_on", "employees", "main_business",
                  "address", "website")  # fmt: skip


def profile_completeness(enterprise: Enterprise) -> dict[str, Any]:
    """Return how complete an enterprise's profile is (percent and the fields still empty)."""
    missing = [name for name in PROFILE_FIELDS if getattr(enterprise, name) in (None, "")]
    labels = {name: str(getattr(Enterprise._meta.get_field(name.removesuffix("_id")), "verbose_name", name))
              for name in missing}  # fmt: skip
    percent = round(100 * (len(PROFILE_FIELDS) - len(missing)) / len(PROFILE_FIELDS))
    return {"percent": percent, "missing": [labels[name] for name in missing]}


def accepting_organizations() -> QuerySet[Organization]:
    """Return the organisations an enterprise may apply to (every active one; organisations are public)."""
    return Organization.objects.filter(is_active=True).order_by("path")


def change_rows(request: Any) -> list[dict[str, Any]]:
    """Return a profile change as rows of field label, old value and new value, as people read them."""
    from_codes = {"industry": Industry, "region": Region}
    rows = []
    for name, (old, new) in request.changes.items():
        field: Any = Enterprise._meta.get_field(name)
        label = str(getattr(field, "verbose_name", name))
        values = []
        for value in (old, new):
            model: Any = from_codes.get(name)
            if model is not None and value:
                found = model.objects.filter(pk=value).first()
                values.append(str(found) if found else value)
            elif getattr(field, "choices", None):
                values.append(str(dict(field.flatchoices).get(value, value or "—")))
            else:
                values.append(str(value) if value not in (None, "") else "—")
        rows.append({"field": label, "old": values[0], "new": values[1]})
    return rows
