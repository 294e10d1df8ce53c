"""Reads for organisations and members: every list goes through the user's scope."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat

from qiaoliang.core.codes import mask_mobile
from qiaoliang.core.models import Industry, Region
from qiaoliang.core.regions import region_filter
from qiaoliang.core.sql import ColumnCondition
from qiaoliang.core.text import compact_text, is_pinyin_query, query_grams
from qiaoliang.orgs.models import (
    ACCEPTING_KINDS,
    Enterprise,
    Membership,
    MembershipApplication,
    MembershipInvitation,
    Organization,
    Person,
    Position,
)
from qiaoliang.orgs.recipients import department_liaisons, enterprise_contacts, organization_managers, zone_convenors
from qiaoliang.orgs.scope import Scope, get_scope

# Other apps read a user's scope and the people to tell through the selectors.
__all__ = ["Scope", "contacts_of", "get_scope", "liaisons_of", "managers_of", "organization_managers", "zone_convenors"]
contacts_of = enterprise_contacts
managers_of = organization_managers
liaisons_of = department_liaisons


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
            organization=int(organization) if organization.isdecimal() and int(organization) <= MAX_ID else None,
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


_ColumnCondition = ColumnCondition


_GRAMS_MATCH = "SELECT rowid FROM orgs_enterprise_grams WHERE orgs_enterprise_grams MATCH %s"


def _contains_name(queryset: QuerySet[Enterprise], query: str, *, walk: bool = False) -> QuerySet[Enterprise]:
    """Substring search on the normalised name, narrowed first by the character-pair index.

    For a query of one or two characters the pair index is exact; on SQLite no substring check follows then.
    With `walk`, SQLite tests the pair index row by row (`+id IN …`: the list is built once) instead of
    starting from it, so a query ordered by pinyin walks the pinyin index: the form for matches too many to sort.
    """
    grams = query_grams(query)[:8]
    exact = len(query) <= 2 and len(grams) == 1
    if grams and connection.vendor == "sqlite":
        match = " AND ".join('"' + gram.replace('"', '""') + '"' for gram in grams)
        if walk:
            queryset = queryset.filter(_ColumnCondition("id", f"+{{column}} IN ({_GRAMS_MATCH})", (match,)))
        else:
            queryset = queryset.filter(pk__in=RawSQL(_GRAMS_MATCH, (match,)))  # noqa: S611 - constant SQL, bound value
        return queryset if exact else queryset.filter(name_search__contains=query)
    if grams and connection.vendor == "postgresql":
        # A condition on the row itself (not a sub-select) lets the planner choose between the GIN index
        # (rare pairs) and walking the pinyin index in order (common pairs such as 科技). Row by row, the
        # substring check (LIKE, cheaper than splitting name_grams) is the one PostgreSQL runs first.
        has_grams = _ColumnCondition("name_grams", "string_to_array({column}, ' ') @> %s::text[]", (grams,))
        return queryset.filter(has_grams, name_search__contains=query)
    return queryset.filter(name_search__contains=query)


# Trade-name keys answer queries from this many letters: one letter already matches the names whose own
# initials start with it, and would otherwise match a seventh of all names through their trade names.
KEY_QUERY_MIN_LENGTH = 2


def _key_prefix(query: str) -> Q:
    """Match a prefix of any trade-name key (name_keys): FTS5 prefix query on SQLite, tsvector on PostgreSQL."""
    if len(query) < KEY_QUERY_MIN_LENGTH:
        return Q(pk__in=[])
    if connection.vendor == "sqlite":
        return Q(pk__in=RawSQL(
            "SELECT rowid FROM orgs_enterprise_keys WHERE orgs_enterprise_keys MATCH %s", (f'"{query}"*',)
        ))  # fmt: skip
    if connection.vendor == "postgresql":
        # The GIN index answers the tsvector match; row by row, the LIKE it implies is the cheap first test
        # (building a tsvector costs microseconds a row when the planner walks the pinyin index).
        return Q(name_keys__contains=query) & Q(_ColumnCondition(
            "name_keys", "to_tsvector('simple'::regconfig, {column}) @@ to_tsquery('simple'::regconfig, %s)",
            (f"{query}:*",),
        ))  # fmt: skip
    return Q(name_keys__contains=query)  # pragma: no cover - other databases: correct, not indexed


def _full_name_prefix(query: str) -> Q:
    return _prefix("name_initials", query) | _prefix("name_pinyin", query)


def search_enterprises(queryset: QuerySet[Enterprise], q: str) -> Any:
    """Filter by name (Traditional folded to Simplified), pinyin initials or full pinyin of the name or of its
    trade name (字号: `hrhs` finds 北京市怀柔海盛餐饮有限公司), or USCC."""
    query = compact_text(q)
    if not query:
        return queryset
    upper = query.upper()
    if _USCC_PREFIX_RE.match(upper) and any(ch.isdigit() for ch in upper):
        if len(upper) == 18:
            return queryset.filter(uscc=upper)
        return queryset.filter(_prefix("uscc", upper))
    if is_pinyin_query(query):
        return queryset.filter(_full_name_prefix(query) | _key_prefix(query))
    return _contains_name(queryset, query)


def _visible_candidates(scope: Scope) -> QuerySet[Any] | None:
    """Return the ids of the enterprises a scoped user may see, as one subquery (a UNION), or None for all.

    The same set as the user's rule (`for_user(user, "view")`, orgs.permissions.enterprises_visible), written so
    that the database can start from it: the rule's OR of EXISTS cannot drive a query (PostgreSQL and SQLite then
    test every enterprise). test_directory_search checks that both give the same enterprises for every persona.
    """
    if scope.is_all:
        return None
    member_orgs = scope.member_org_ids | scope.manage_member_org_ids
    parts: list[QuerySet[Any]] = []
    if member_orgs:
        parts.append(Membership.objects.filter(organization_id__in=member_orgs).order_by().values("enterprise_id"))
    if scope.manage_member_org_ids:
        parts.append(
            Enterprise.objects.filter(registered_by_id__in=scope.manage_member_org_ids).order_by().values("pk")
        )
    if scope.own_enterprise_ids:
        parts.append(Enterprise.objects.filter(pk__in=scope.own_enterprise_ids).order_by().values("pk"))
    if not parts:
        return Enterprise.objects.none().values("pk")
    return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]


def enterprise_directory(user: Any, filters: DirectoryFilters) -> QuerySet[Enterprise]:
    """Return the enterprises the user may see, filtered and sorted by pinyin, ready to paginate."""
    return _directory(user, filters, search_enterprises)


# A prefix of the initials matching more names than this is read by walking the pinyin index, fewer are sorted.
DENSE_PREFIX = 1000


def enterprise_directory_parts(user: Any, filters: DirectoryFilters) -> list[QuerySet[Enterprise]] | None:
    """Return the directory query as parts whose union it is, each in the form the database reads fastest in
    pinyin order, for the pages of a search with more matches than the count limit (htmx.CappedPaginator, which
    merges the parts' first rows); None when the ordered query itself is the right form.

    - Trade-name matches cluster in pinyin order (北京海盛… sorts under beijingh…): walking the pinyin index for
      the first 50 of `zh` reads most of the table. They are few enough (a two-letter prefix at least) to be
      fetched by their index and sorted: ordered by an expression no index provides.
    - Full-pinyin matches are a range of the pinyin index itself. Initials matches follow pinyin order: walked
      when many (SQLite is told not to start from the initials index, `+name_initials`), sorted when few.
    - On SQLite a substring search walks the pinyin index testing the pair index (see _contains_name).

    Call it after enterprise_directory, which checks the organisation filter.
    """
    query = compact_text(filters.q)
    upper = query.upper()
    if not query or (_USCC_PREFIX_RE.match(upper) and any(ch.isdigit() for ch in upper)):
        return None

    def part(search: Any, *, sort: bool = False) -> QuerySet[Enterprise]:
        queryset = _directory(user, filters, lambda queryset, _q: search(queryset), check_organization=False)
        return queryset.order_by(Concat("name_pinyin", Value("")), "id") if sort else queryset

    if not is_pinyin_query(query):
        if connection.vendor != "sqlite":
            return None
        return [part(lambda queryset: _contains_name(queryset, query, walk=True))]
    initials = Enterprise.objects.filter(_prefix("name_initials", query)).order_by().values_list("name_initials")
    if initials[: DENSE_PREFIX + 1].count() > DENSE_PREFIX:
        walk = (
            _ColumnCondition("name_initials", "(+{column} >= %s AND +{column} < %s)", (query, query + "\uffff"))
            if connection.vendor == "sqlite"
            else _prefix("name_initials", query)
        )
        by_initials = part(lambda queryset: queryset.filter(walk))
    else:
        by_initials = part(lambda queryset: queryset.filter(_prefix("name_initials", query)), sort=True)
    parts = [part(lambda queryset: queryset.filter(_prefix("name_pinyin", query))), by_initials]
    if len(query) >= KEY_QUERY_MIN_LENGTH:
        parts.append(part(lambda queryset: queryset.filter(_key_prefix(query)), sort=True))
    return parts


def _directory(user: Any, filters: DirectoryFilters, search: Any, check_organization: bool = True) -> Any:
    candidates = _visible_candidates(get_scope(user))
    if candidates is None:
        queryset = Enterprise.objects.for_user(user, "view")
    else:
        # The candidates are the rule's own disjuncts as one UNION the database can start from; the rule's OR of
        # EXISTS on top of them tested every candidate again (20 ms for a chamber of 2,000 members).
        # test_directory_lists_exactly_what_the_rules_let_each_persona_see holds the two equal for every persona.
        queryset = Enterprise.objects.filter(pk__in=candidates)
    queryset = queryset.select_related("industry", "region")
    if (
        check_organization
        and filters.organization
        and not Organization.objects.for_user(user, "view").filter(pk=filters.organization).exists()
    ):
        # A filter on an organisation the user cannot see answers as if it did not exist: nothing to count.
        return queryset.none()
    queryset = search(queryset, filters.q)
    if filters.industry:
        # A class code filters its own rows; a section letter or a shorter code takes the whole branch.
        if filters.industry.isalpha():
            queryset = queryset.filter(industry__section=filters.industry)
        else:
            queryset = queryset.filter(_prefix("industry_id", filters.industry))
    if filters.region:
        # The division and everything below it, former divisions now part of it included (core.regions).
        queryset = queryset.filter(region_filter("region_id", filters.region))
    if filters.size:
        queryset = queryset.filter(size=filters.size)
    if filters.organization or filters.level or filters.status:
        # As `id IN (…)`, not EXISTS: SQLite then starts from the memberships (an index on organisation, level
        # or status) instead of testing every enterprise; PostgreSQL plans both as the same semi-join.
        memberships = Membership.objects.order_by()
        if filters.organization:
            memberships = memberships.filter(organization_id=filters.organization)
        if filters.level:
            memberships = memberships.filter(level=filters.level)
        if filters.status:
            memberships = memberships.filter(status=filters.status)
        queryset = queryset.filter(pk__in=memberships.values("enterprise_id"))
    any_membership = Exists(Membership.objects.filter(enterprise_id=OuterRef("pk")))
    if filters.membership == "non_member":
        queryset = queryset.exclude(any_membership)
    elif not filters.membership and not (filters.organization or filters.level or filters.status):
        queryset = queryset.filter(any_membership)  # recorded non-members are not listed as members
    return queryset.order_by("name_pinyin", "id")


# What a directory row shows of the enterprise itself (loading the other columns of 50 rows is a sixth of the
# directory's time).
DIRECTORY_ROW_FIELDS = ("id", "uscc", "name", "short_name", "size", "name_pinyin", "industry", "industry__code",
                        "industry__name", "region", "region__code", "region__name", "region__full_name")  # fmt: skip


def directory_rows(
    user: Any, enterprises: Sequence[Enterprise], visible_org_ids: set[int] | None
) -> tuple[list[dict[str, Any]], list[int]]:
    """Return a directory page's rows as plain dicts of what each row shows, and the enterprises whose primary
    contact is shown unmasked (to be audited).

    Three narrow queries for any page size (memberships with their organisation, primary contacts, the enterprises
    whose personal data the user may see), read as values, and every label looked up once: rendering model
    instances and their display methods cost about 1 ms a row.
    """
    ids = [e.pk for e in enterprises]
    if not ids:
        return [], []
    memberships: dict[int, list[dict[str, Any]]] = {}
    level_labels = dict(Membership.Level.choices)
    status_labels = dict(Membership.Status.choices)
    columns = ("enterprise_id", "organization_id", "organization__name", "organization__short_name", "level", "status")
    rows_of_memberships = Membership.objects.filter(enterprise_id__in=ids).order_by("organization__path", "pk")
    for enterprise_id, organization_id, name, short_name, level, status in rows_of_memberships.values_list(*columns):
        if visible_org_ids is not None and organization_id not in visible_org_ids:
            continue
        memberships.setdefault(enterprise_id, []).append({
            "organization": short_name or name, "level": level, "level_label": level_labels.get(level, level),
            "status": status, "status_label": status_labels.get(status, status),
            "active": status == Membership.Status.ACTIVE,
        })  # fmt: skip
    contacts: dict[int, tuple[str, str]] = {}
    for enterprise_id, name, mobile in (
        Person.objects.filter(enterprise_id__in=ids, is_primary_contact=True)
        .order_by("pk")
        .values_list("enterprise_id", "name", "mobile")
    ):
        contacts.setdefault(enterprise_id, (name, mobile or ""))
    personal = set(Enterprise.objects.for_user(user, "view_personal").filter(pk__in=ids).values_list("pk", flat=True))
    size_labels = dict(Enterprise.Size.choices)
    rows: list[dict[str, Any]] = []
    shown: list[int] = []
    for e in enterprises:
        contact = contacts.get(e.pk)
        mobile = ""
        if contact:
            if e.pk in personal:
                mobile = contact[1]
                if mobile:
                    shown.append(e.pk)
            else:
                mobile = mask_mobile(contact[1])
        industry = e.industry if e.industry_id else None
        region = e.region if e.region_id else None
        rows.append({
            "pk": e.pk, "name": e.name, "uscc": e.uscc,
            "industry_code": industry.code if industry else "", "industry_name": industry.name if industry else "",
            "region": region.full_name if region else "", "size": size_labels.get(e.size, "") if e.size else "",
            "memberships": memberships.get(e.pk, []),
            "contact": contact[0] if contact else "", "has_contact": contact is not None, "mobile": mobile,
        })  # fmt: skip
    return rows, shown


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


def invitation_context(user: Any, enterprise: Enterprise, people: Sequence[Person]) -> dict[str, Any]:
    """Return what the enterprise page's invitation card needs: the organisations the user manages that take
    applications and the enterprise is no active member of, a mobile to send to, and the invitations sent."""
    active = Membership.objects.filter(enterprise=enterprise, status=Membership.Status.ACTIVE).values("organization")
    organizations = list(
        Organization.objects.for_user(user, "change")
        .filter(kind__in=ACCEPTING_KINDS, is_active=True)
        .exclude(pk__in=active)
        .only("pk", "name", "path")
        .order_by("path")[:200]
    )
    mobile = next((person.mobile for person in people if person.is_primary_contact and person.mobile), "")
    mobile = mobile or next((person.mobile for person in people if person.mobile), "")
    invitations = list(
        MembershipInvitation.objects.for_user(user, "view")
        .filter(enterprise=enterprise)
        .select_related("organization")
        .order_by("-created_at", "-id")[:10]
    )
    return {"invite_organizations": organizations, "invite_mobile": mobile, "invitations": invitations}


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
