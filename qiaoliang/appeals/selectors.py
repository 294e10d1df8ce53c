"""Reads of appeals: the inboxes of each role, the timeline, the department league table and the statistics."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from qiaoliang.appeals.models import Appeal, AppealCategory, AppealEvent, ExtensionRequest
from qiaoliang.core.permissions import CHANGE, VIEW
from qiaoliang.core.sql import ColumnCondition
from qiaoliang.core.text import compact_text, normalize_text, query_grams
from qiaoliang.core.textclassifier import words
from qiaoliang.orgs.models import Department, Enterprise
from qiaoliang.orgs.selectors import get_scope, search_enterprises

S = Appeal.Status
OPEN = [S.SUBMITTED, S.RETURNED, S.ACCEPTED, S.ASSIGNED, S.ANSWERED, S.CONFIRMED]
LIST_RELATED = ("enterprise", "organization", "department", "category")
SEARCH_ENTERPRISES = 200  # enterprises a list search matches by name at most


@dataclass
class AppealFilters:
    """The filters of an appeals list, read from a query string (unknown values ignored)."""

    status: str = ""
    department: int | None = None
    category: int | None = None
    q: str = ""
    overdue: bool = False
    mine: str = ""  # "todo": what waits for the user's action

    @classmethod
    def from_mapping(cls, data: Any) -> AppealFilters:
        def number(name: str) -> int | None:
            value = str(data.get(name) or "").strip()
            return int(value) if value.isdecimal() and len(value) < 10 else None

        status = str(data.get("status") or "")
        return cls(
            status=status if status in S.values or status == "open" else "",
            department=number("department"),
            category=number("category"),
            q=str(data.get("q") or "").strip()[:60],
            overdue=str(data.get("overdue") or "") in {"1", "true", "on"},
            mine=str(data.get("mine") or "") if str(data.get("mine") or "") in {"todo"} else "",
        )


def appeal_list(user: Any, filters: AppealFilters) -> QuerySet[Appeal]:
    """The appeals the user sees, filtered, newest first (indexes: organisation/enterprise/department + date)."""
    queryset = Appeal.objects.for_user(user, VIEW).select_related(*LIST_RELATED)
    if filters.status == "open":
        queryset = queryset.filter(status__in=OPEN)
    elif filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.department:
        queryset = queryset.filter(department_id=filters.department)
    if filters.category:
        queryset = queryset.filter(category_id=filters.category)
    if filters.overdue:
        queryset = queryset.filter(status=S.ASSIGNED, deadline__lt=timezone.localdate())
    if filters.q:
        # The enterprise is found through the directory's name index first (names, pinyin, USCC), so the appeals
        # are matched by a short list of ids, not by a join that reads every appeal's enterprise.
        enterprises = list(search_enterprises(Enterprise.objects.all(), filters.q).values_list("pk", flat=True)[
            :SEARCH_ENTERPRISES])  # fmt: skip
        queryset = queryset.filter(Q(number__startswith=filters.q.upper()) | title_contains(filters.q)
                                   | Q(enterprise_id__in=enterprises))  # fmt: skip
    if filters.mine == "todo":
        queryset = queryset.filter(todo_condition(user))
    return queryset.order_by("-created_at", "-id")


_TITLE_GRAMS_MATCH = "SELECT rowid FROM appeals_appeal_grams WHERE appeals_appeal_grams MATCH %s"


def title_grams_match(groups: list[list[str]]) -> Q | None:
    """Titles holding every gram of at least one group, through the index of the titles' characters and character
    pairs (FTS5 on SQLite, a GIN token array on PostgreSQL); None where the database has no such index."""
    groups = [grams for grams in groups if grams]
    if not groups:
        return None
    if connection.vendor == "sqlite":
        match = " OR ".join(
            "(" + " AND ".join('"' + gram.replace('"', '""') + '"' for gram in grams) + ")" for grams in groups
        )
        return Q(pk__in=RawSQL(_TITLE_GRAMS_MATCH, (match,)))  # noqa: S611 - constant SQL, bound value
    if connection.vendor == "postgresql":
        found = Q(pk__in=[])
        for grams in groups:
            found |= Q(ColumnCondition("title_grams", "string_to_array({column}, ' ') @> %s::text[]", (grams,)))
        return found
    return None  # pragma: no cover - other databases: no index


def title_contains(query: str) -> Q:
    """Titles holding the query (as normalised: full-width, Traditional and case folded), narrowed first by the
    index of the titles' character pairs: FTS5 on SQLite, a GIN token array on PostgreSQL."""
    text = compact_text(query)
    grams = query_grams(text)[:8]
    found = title_grams_match([grams])
    if found is None:  # no pairs to look up, or a database without the index: correct, not indexed
        return Q(title__icontains=query.strip())
    if len(text) <= 2 and len(grams) == 1:  # one pair (or character) is the whole query
        return found
    # The pairs say the characters are there; the substring check confirms their order (row by row, cheap).
    return found & Q(title__icontains=query.strip())


def todo_condition(user: Any) -> Q:
    """What waits for this user: new and resubmitted appeals and answers to close (staff), routed appeals
    (departments), returned and answered ones (enterprises)."""
    scope = get_scope(user)
    condition = Q(pk__in=[])
    if scope.is_all or scope.change_org_ids:
        managed = Q() if scope.is_all else Q(organization_id__in=scope.change_org_ids)
        condition |= managed & Q(status__in=[S.SUBMITTED, S.ACCEPTED, S.CONFIRMED])
    if scope.department_ids:
        condition |= Q(department_id__in=scope.department_ids, status=S.ASSIGNED)
    if scope.own_enterprise_ids:
        condition |= Q(enterprise_id__in=scope.own_enterprise_ids, status__in=[S.RETURNED, S.ANSWERED])
    return condition


def timeline(appeal: Appeal, *, internal: bool) -> QuerySet[AppealEvent]:
    """The appeal's steps, oldest first; the enterprise does not see internal notes."""
    events = appeal.events.select_related("actor").order_by("created_at", "id")
    return events if internal else events.filter(internal=False)


def pending_extensions(user: Any) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.for_user(user, CHANGE).filter(status=ExtensionRequest.Status.PENDING)


def _period(start: datetime.date | None, end: datetime.date | None) -> Q:
    """Appeals received from `start` to `end` (local days) as a range on created_at, which the index answers (a
    filter on created_at's date is a function of the column: no index, and row estimates far off)."""
    condition = Q()
    zone = timezone.get_current_timezone()
    if start:
        condition &= Q(created_at__gte=datetime.datetime.combine(start, datetime.time.min, zone))
    if end:
        condition &= Q(
            created_at__lt=datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, zone)
        )
    return condition


STATISTICS_CACHE_SECONDS = 60


def statistics(user: Any, start: datetime.date | None = None, end: datetime.date | None = None) -> dict[str, Any]:
    """Counts the seeds write in sentences: received, accepted, answered on time, satisfied, solved — overall, by
    department and by category.

    One scan: a single query grouped by (department, category) with filtered counts, folded into the total and
    the two breakdowns here; kept for a minute in the shared cache per user and period (statistics a minute old
    are fine; a federation's 1,000,000 appeals are not counted on every page view)."""
    key = f"appeals:stats:{getattr(user, 'pk', 0)}:{start}:{end}:{timezone.localdate()}"
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    appeals = Appeal.objects.for_user(user, VIEW).filter(_period(start, end))
    measures = {
        "received": Count("pk"),
        "accepted": Count("pk", filter=~Q(status__in=[S.SUBMITTED, S.RETURNED, S.WITHDRAWN])),
        "routed": Count("pk", filter=Q(department__isnull=False)),
        "answered": Count("pk", filter=Q(answered_at__isnull=False)),
        "on_time": Count("pk", filter=Q(answered_on_time=True)),
        "rated": Count("pk", filter=~Q(satisfaction="")),
        "satisfied": Count("pk", filter=Q(satisfaction=Appeal.Satisfaction.SATISFIED)),
        "solved": Count("pk", filter=Q(solved=True)),
        "closed": Count("pk", filter=Q(status=S.CLOSED)),
        "overdue": Count("pk", filter=Q(status=S.ASSIGNED, deadline__lt=timezone.localdate())),
        "rating_count": Count("rating"),
        "rating_sum": Sum("rating"),
    }
    cells: list[dict[str, Any]] = [
        dict(cell) for cell in appeals.values("department_id", "category_id").annotate(**measures).order_by()
    ]
    names = dict(Department.objects.filter(pk__in={c["department_id"] for c in cells if c["department_id"]})
                 .values_list("pk", "name"))  # fmt: skip
    categories = dict(AppealCategory.objects.values_list("pk", "name"))
    total: dict[str, Any] = dict.fromkeys(measures, 0)
    departments: dict[int, dict[str, Any]] = {}
    by_category_id: dict[int | None, dict[str, Any]] = {}
    for cell in cells:
        targets = [total]
        if cell["department_id"]:
            targets.append(departments.setdefault(cell["department_id"], {
                "department_id": cell["department_id"], "department__name": names.get(cell["department_id"], ""),
                **dict.fromkeys(measures, 0)}))  # fmt: skip
        targets.append(by_category_id.setdefault(cell["category_id"], {
            "category_id": cell["category_id"], "category__name": categories.get(cell["category_id"]),
            **dict.fromkeys(measures, 0)}))  # fmt: skip
        for target in targets:
            for name in measures:
                target[name] += cell[name] or 0
    by_department = sorted(departments.values(), key=lambda row: row["department__name"])
    by_category = sorted(by_category_id.values(), key=lambda row: -row["received"])[:30]
    for row in [total, *by_department, *by_category]:
        row["rating_sum"] = row["rating_sum"] or 0
        row["answer_rate"] = _rate(row["answered"], row["routed"])
        row["on_time_rate"] = _rate(row["on_time"], row["answered"])
        row["satisfaction_rate"] = _rate(row["satisfied"], row["rated"])
        row["rating"] = round(row["rating_sum"] / row["rating_count"], 2) if row["rating_count"] else None
    result = {"total": total, "by_department": by_department, "by_category": by_category}
    cache.set(key, result, STATISTICS_CACHE_SECONDS)
    return result


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def league(user: Any, start: datetime.date | None = None, end: datetime.date | None = None,
           rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Departments ranked by answer rate, on-time rate and satisfaction (评议), with the average rating (`rows`:
    the `by_department` of `statistics` for the same period, when already read)."""
    rows = rows if rows is not None else statistics(user, start, end)["by_department"]
    return sorted(rows, key=lambda r: (-(r["answer_rate"] or 0), -(r["on_time_rate"] or 0),
                                       -(r["satisfaction_rate"] or 0), r["department__name"]))  # fmt: skip


SIMILAR_CANDIDATES = 300


def _grams(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def similar_appeals(user: Any, title: str, description: str = "", *, limit: int = 5,
                    exclude: int | None = None) -> list[tuple[Appeal, float]]:  # fmt: skip
    """Open appeals the user sees that look like the one being typed (possible duplicates, to merge).

    Candidates: appeals whose title holds one of the typed title's longest words, found through the index of the
    titles' character pairs (`title_grams`: every pair of the word present), newest first, bounded; so the
    candidates are found without reading every title. Ranked by the overlap of character pairs of title and
    description (Jaccard)."""
    title = (title or "").strip()[:120]
    if len(title) < 4:
        return []
    terms = sorted({w for w in words(normalize_text(title)) if len(w) >= 2}, key=len, reverse=True)[:4]
    if not terms:
        return []
    condition = title_grams_match([query_grams(compact_text(term))[:8] for term in terms])
    if condition is None:  # words without pairs to look up, or a database without the index: correct, not indexed
        condition = Q(pk__in=[])
        for term in terms:
            condition |= Q(title__icontains=term)
    candidates = (
        Appeal.objects.for_user(user, VIEW)
        .filter(condition, status__in=OPEN)
        .exclude(pk=exclude or 0)
        .select_related("enterprise")
        .order_by("-created_at")[:SIMILAR_CANDIDATES]
    )
    typed = _grams(title + (description or "")[:300])
    scored = []
    for appeal in candidates:
        other = _grams(appeal.title + appeal.description[:300])
        score = len(typed & other) / len(typed | other) if typed and other else 0.0
        if score >= 0.12:
            scored.append((appeal, score))
    scored.sort(key=lambda item: -item[1])
    return scored[:limit]
