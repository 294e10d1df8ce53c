"""Bulk import of appeals from an xlsx sheet (appeals collected on paper, at a symposium, by a district): bounded
before it is read (core.sheets), every row checked, then all rows written or none."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.appeals import services
from qiaoliang.appeals.models import Appeal, AppealCategory
from qiaoliang.core import audit, notifications, sheets
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import VIEW
from qiaoliang.core.sheets import CellError, Column, RowError, SheetSpec, cell_text, parse_uscc
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import get_scope, managers_of

USCC = "统一社会信用代码"
TITLE = "标题"
DESCRIPTION = "内容"
CATEGORY = "类别"
URGENCY = "紧急程度"
SOURCE = "来源"
HEADERS = [USCC, TITLE, DESCRIPTION, CATEGORY, URGENCY, SOURCE]
MAX_ROWS = 5_000
URGENCY_WORDS = {"一般": "normal", "普通": "normal", "紧急": "urgent", "特急": "critical", "加急": "urgent"}
SOURCE_WORDS = {"走访": "visit", "走访调研": "visit", "座谈会": "symposium", "座谈": "symposium", "活动": "event",
                "热线": "hotline", "电话": "hotline", "导入": "import", "": "import"}  # fmt: skip


@dataclass
class AppealRow:
    row: int
    uscc: str
    title: str
    description: str
    category: str = ""
    urgency: str = Appeal.Urgency.NORMAL
    source: str = Appeal.Source.IMPORT


@dataclass
class ImportResult:
    rows: list[AppealRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    created: int = 0


def _bounded(limit: int, header: str) -> Any:
    def parse(value: Any) -> str:
        text = (
            " ".join(unicodedata.normalize("NFKC", cell_text(value)).split()) if header == TITLE else cell_text(value)
        )
        if not text.strip():
            raise CellError(_("This cell is required."))
        if len(text) > limit:
            raise CellError(_("At most %(max)d characters.") % {"max": limit})
        return text.strip()

    return parse


def _choice(words: dict[str, str], values: list[str]) -> Any:
    def parse(value: Any) -> str:
        text = unicodedata.normalize("NFKC", cell_text(value)).strip()
        if not text:
            return ""
        choice = words.get(text) or (text.lower() if text.lower() in values else None)
        if choice is None:
            raise CellError(_("%(value)s is not an accepted value; write one of %(values)s.")
                            % {"value": text, "values": "、".join(k for k in words if k)})  # fmt: skip
        return choice

    return parse


def spec() -> SheetSpec:
    return SheetSpec(
        columns=(
            Column(USCC, parse_uscc, required=True),
            Column(TITLE, _bounded(120, TITLE), required=True),
            Column(DESCRIPTION, _bounded(5000, DESCRIPTION), required=True, aliases=("描述", "诉求内容")),
            Column(CATEGORY, cell_text),
            Column(URGENCY, _choice(URGENCY_WORDS, list(Appeal.Urgency.values))),
            Column(SOURCE, _choice(SOURCE_WORDS, list(Appeal.Source.values))),
        ),
        max_rows=MAX_ROWS, max_columns=12, max_cell_chars=5000, what=_("appeal sheet"),
        hint=_("The columns are: %(headers)s.") % {"headers": "、".join(HEADERS)},
    )  # fmt: skip


def parse(file_obj: IO[bytes], file_name: str, user: Any) -> ImportResult:
    """Read and check every row: the enterprise must be one the user sees, the category one that exists."""
    result = ImportResult()
    result.file_error = sheets.check_upload(file_obj, file_name)
    if result.file_error:
        return result
    sheet = sheets.read_sheet(file_obj, spec(), file_name)
    result.file_error = sheet.file_error
    if sheet.file_error:
        return result
    categories = {
        name: code for code, name in AppealCategory.objects.filter(is_active=True).values_list("code", "name")
    }
    categories.update({code: code for code in categories.values()})
    usccs = {row.values[USCC] for row in sheet.rows if row.values.get(USCC)}
    visible: set[str] = set()
    for chunk in sheets.chunks(sorted(usccs)):
        visible.update(Enterprise.objects.for_user(user, VIEW).filter(uscc__in=chunk).values_list("uscc", flat=True))
    for row in sheet.rows:
        errors = list(row.errors)
        values = row.values
        if values.get(USCC) and values[USCC] not in visible:
            errors.append(RowError(row.number, USCC, _("No enterprise you see has this code.")))
        category = (values.get(CATEGORY) or "").strip()
        if category and category not in categories:
            errors.append(RowError(row.number, CATEGORY, _("%(value)s is no appeal category.") % {"value": category}))
        if errors:
            result.errors.extend(errors)
            continue
        result.rows.append(AppealRow(
            row=row.number, uscc=values[USCC], title=values[TITLE], description=values[DESCRIPTION],
            category=categories.get(category, ""), urgency=values.get(URGENCY) or Appeal.Urgency.NORMAL,
            source=values.get(SOURCE) or Appeal.Source.IMPORT,
        ))  # fmt: skip
    return result


@transaction.atomic
def import_appeals(*, actor: Any, parsed: ImportResult) -> ImportResult:
    """Write every row as an appeal of its enterprise, or none (the first refused row undoes the rest)."""
    scope = get_scope(actor)
    if not (scope.is_all or scope.change_org_ids):
        raise DomainError(_("Only the organisation's staff import appeals."), code="file")
    if parsed.file_error or parsed.errors:
        raise DomainError(_("Correct the errors first; nothing was imported."), code="file")
    enterprises = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=[row.uscc for row in parsed.rows])}
    categories = {c.code: c for c in AppealCategory.objects.all()}
    organizations: dict[int, Any] = {}
    for row in parsed.rows:
        try:
            appeal = services.submit_appeal(
                actor=actor, enterprise=enterprises[row.uscc], title=row.title, description=row.description,
                category=categories.get(row.category), urgency=row.urgency, source=row.source, notify=False,
            )  # fmt: skip
        except DomainError as exc:
            raise DomainError(
                _("Row %(row)d: %(reason)s") % {"row": row.row, "reason": exc.message}, code="file"
            ) from exc
        organizations.setdefault(appeal.organization_id, appeal.organization)
        parsed.created += 1
    for organization in organizations.values():
        notifications.notify(
            users=managers_of(organization), kind="appeals.imported", actor=actor,
            title=gettext_lazy("%(count)s appeals were imported; they wait for acceptance"),
            params={"count": parsed.created}, organization_id=organization.pk,
        )  # fmt: skip
    audit.record("appeals.imported", actor=actor, data={"rows": parsed.created})
    return parsed
