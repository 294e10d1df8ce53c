"""The member directory as an Excel file: the rows the user sees, with the current filters, mobiles masked
unless the user may see them, formulas neutralised (`core.sheets`), one audit entry per export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch

from qiaoliang.core import audit, sheets
from qiaoliang.core.permissions import VIEW, VIEW_PERSONAL
from qiaoliang.orgs.importers import DATA_SHEET_TITLE, EXPORT_HEADERS, LEVEL_WORDS, OWNERSHIP_WORDS, SIZE_WORDS
from qiaoliang.orgs.models import Enterprise, Membership, Person
from qiaoliang.orgs.selectors import DirectoryFilters, enterprise_directory

EXPORT_MAX_ROWS = 200_000
XLSX_CONTENT_TYPE = sheets.XLSX_CONTENT_TYPE


def directory_rows(
    enterprises: Iterable[Enterprise], *, personal_ids: set[int] | None, organization_id: int | None = None
) -> Iterator[list[Any]]:
    """Yield one export row per enterprise; mobiles stay whole only for enterprises in personal_ids.

    Each enterprise needs `visible_memberships` (with organisations) and `primary_contacts` prefetched.
    The level and join date come from the filtered organisation's membership, else the first one.
    """
    for enterprise in enterprises:
        memberships: list[Membership] = list(getattr(enterprise, "visible_memberships", []))
        chosen = next((m for m in memberships if m.organization_id == organization_id), None)
        if chosen is None and memberships:
            chosen = memberships[0]
        contacts: list[Person] = list(getattr(enterprise, "primary_contacts", []))
        contact = contacts[0] if contacts else None
        mobile = ""
        if contact is not None and contact.mobile:
            may_see = personal_ids is not None and enterprise.pk in personal_ids
            mobile = contact.mobile if may_see else contact.masked_mobile
        yield [
            enterprise.name,
            enterprise.uscc,
            enterprise.industry_id or "",
            enterprise.region_id or "",
            SIZE_WORDS.get(enterprise.size, ""),
            OWNERSHIP_WORDS.get(enterprise.ownership, ""),
            contact.name if contact else "",
            mobile,
            LEVEL_WORDS.get(chosen.level, "") if chosen else "",
            chosen.joined_on.isoformat() if chosen and chosen.joined_on else "",
            "、".join(m.organization.name for m in memberships),
        ]


def enterprise_chunks(queryset: Any, user: Any, chunk_size: int = 2000) -> Iterator[tuple[list[Enterprise], set[int]]]:
    """Yield the directory in chunks, each with its prefetches and the ids whose mobiles may be shown."""
    visible = Membership.objects.for_user(user, VIEW).select_related("organization").order_by("organization__path")
    queryset = queryset.prefetch_related(
        Prefetch("memberships", queryset=visible, to_attr="visible_memberships"),
        Prefetch(
            "people", queryset=Person.objects.filter(is_primary_contact=True).order_by("pk"), to_attr="primary_contacts"
        ),
    )
    chunk: list[Enterprise] = []
    for enterprise in queryset.iterator(chunk_size=chunk_size):
        chunk.append(enterprise)
        if len(chunk) >= chunk_size:
            yield chunk, personal_ids(user, chunk)
            chunk = []
    if chunk:
        yield chunk, personal_ids(user, chunk)


def personal_ids(user: Any, enterprises: list[Enterprise]) -> set[int]:
    """Return the ids among these enterprises whose people's numbers the user may see."""
    allowed: set[int] = set()
    for chunk in sheets.chunks([enterprise.pk for enterprise in enterprises]):
        permitted = Enterprise.objects.for_user(user, VIEW_PERSONAL).filter(pk__in=chunk)
        allowed.update(permitted.values_list("pk", flat=True))
    return allowed


def export_directory(*, user: Any, filters: DirectoryFilters) -> tuple[bytes, int]:
    """Export the member directory the user sees, with the current filters, to xlsx; audited."""
    queryset = enterprise_directory(user, filters)[:EXPORT_MAX_ROWS]

    def rows() -> Iterator[list[Any]]:
        for chunk, allowed in enterprise_chunks(queryset, user):
            yield from directory_rows(chunk, personal_ids=allowed, organization_id=filters.organization)

    content, count = sheets.write_workbook(rows(), EXPORT_HEADERS, title=DATA_SHEET_TITLE)
    audit.record(
        "orgs.directory.exported",
        actor=user,
        data={"filters": filters.as_query(), "rows": count, "capped": count >= EXPORT_MAX_ROWS},
    )
    return content, count
