"""Staff import enterprises' figures from an xlsx or CSV sheet (a statistics or tax bureau export, a chamber's
annual survey): bounded before it is read (core.sheets), every cell converted to its field's base unit and
checked against the column, then every figure written or none, as reviewed figures of origin "import".

The sheet has one row per enterprise and year: 统一社会信用代码, 年度 and one column per figure, named as the
statistics write it, with the unit in the header (营业收入（万元）) or in each cell (2000万元). A bare number
of money in a column without a unit is refused: 2000 could be 元 or 万元.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit, notifications, sheets
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.files import delete_on_commit
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.sheets import CellError, Column, RowError, SheetSpec, cell_text, parse_uscc
from qiaoliang.orgs.models import Enterprise, Membership
from qiaoliang.orgs.selectors import contacts_of, get_scope
from qiaoliang.policies.facts import FIELDS, Source
from qiaoliang.policies.models import EnterpriseFact
from qiaoliang.policies.units import Dimension, UnitError, is_bare_number, parse_quantity

USCC = "统一社会信用代码"
NAME = "企业名称"
YEAR = "年度"
MAX_ROWS = 20_000
EARLIEST_YEAR = 1980

# The figures a sheet may hold, under the names statistics and tax exports use (the first is the template's).
FIELD_HEADERS: dict[str, tuple[str, ...]] = {
    "revenue": ("营业收入", "营业收入总额", "主营业务收入", "销售收入"),
    "tax": ("纳税额", "纳税总额", "实缴税金", "税收贡献"),
    "rd_expense": ("研发投入", "研发费用", "研发经费支出"),
    "employees": ("员工数", "从业人员", "从业人员数", "职工人数"),
    "net_profit": ("净利润",),
    "export_value": ("出口额", "出口总额"),
    "output_value": ("产值", "工业总产值"),
    "trade_volume": ("交易额", "贸易额"),
    "investment": ("投资额", "固定资产投资额", "设备投资额"),
    "paid_in_capital": ("实缴注册资本", "实收资本"),
    "floor_area": ("使用面积", "用地面积"),
    "share_capital": ("股本", "总股本"),
}
# Units a header may name, per dimension.
HEADER_UNITS: dict[Dimension, tuple[str, ...]] = {
    Dimension.MONEY: ("元", "千元", "万元", "亿元"),
    Dimension.COUNT: ("人",),
    Dimension.AREA: ("平方米", "㎡", "亩"),
    Dimension.SHARES: ("股", "万股"),
}
NEGATIVE_ALLOWED = {"net_profit"}


def template_headers() -> list[str]:
    """The template's columns: the first name of each figure with the usual unit."""
    headers = [USCC, NAME, YEAR]
    for code, names in FIELD_HEADERS.items():
        dimension = FIELDS[code].dimension
        unit = "万元" if dimension == Dimension.MONEY else HEADER_UNITS[dimension][0]
        headers.append(f"{names[0]}（{unit}）")
    return headers


@dataclass
class FactRow:
    row: int
    uscc: str
    year: int
    values: dict[str, Decimal]  # field code → base-unit value
    texts: dict[str, str]  # field code → the cell as written, with its unit


@dataclass
class ImportResult:
    rows: list[FactRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    figures: int = 0
    enterprises: int = 0
    created: int = 0
    changed: int = 0


def _year(value: Any) -> int | None:
    text = cell_text(value).strip().removesuffix("年")
    if not text:
        return None
    if not text.isdecimal():
        raise CellError(_("%(value)s is not a year; write it as 2025.") % {"value": cell_text(value)})
    year = int(text)
    last = timezone.localdate().year
    if not EARLIEST_YEAR <= year <= last:
        raise CellError(_("The year must be between %(first)s and %(last)s.") % {"first": EARLIEST_YEAR, "last": last})
    return year


def _figure(code: str, unit: str) -> Any:
    """A parser of one figure's cells: the header's unit applies to bare numbers; a cell may name its own."""
    dimension = FIELDS[code].dimension

    def parse(value: Any) -> tuple[Decimal, str] | None:
        if isinstance(value, float):
            value = repr(value) if not value.is_integer() else str(int(value))
        text = cell_text(value)
        if text in ("", "-", "—", "/"):
            return None
        bare = is_bare_number(text)
        if bare and not unit and dimension == Dimension.MONEY:
            raise CellError(
                _("%(value)s has no unit: write 2000万元 in the cell, or the unit in the header (营业收入（万元）).")
                % {"value": text}
            )
        written = f"{text}{unit}" if bare and unit else text
        try:
            number = parse_quantity(written, dimension)
        except UnitError as exc:
            raise CellError(exc.message) from exc
        try:
            stored = check_fits(EnterpriseFact, "value", number, code="value", money=dimension == Dimension.MONEY,
                                allow_negative=code in NEGATIVE_ALLOWED)  # fmt: skip
        except DomainError as exc:
            raise CellError(exc.message) from exc
        assert stored is not None
        return stored, written[:60]

    return parse


def spec() -> SheetSpec:
    columns = [
        Column(USCC, parse_uscc, required=True),
        Column(NAME, cell_text, aliases=("企业", "单位名称")),
        Column(YEAR, _year, aliases=("年份", "统计年度")),
    ]
    for code, names in FIELD_HEADERS.items():
        units = HEADER_UNITS.get(FIELDS[code].dimension, ())
        columns.append(Column(names[0], _figure(code, ""), key=f"{code}|", aliases=names[1:]))
        for unit in units:
            columns.append(Column(f"{names[0]}（{unit}）", _figure(code, unit), key=f"{code}|{unit}",
                                  aliases=tuple(f"{name}({unit})" for name in names)))  # fmt: skip
    return SheetSpec(
        columns=tuple(columns), max_rows=MAX_ROWS, max_columns=40, max_cell_chars=200,
        what=_("figures sheet"),
        hint=_("Download the template: the columns are %(headers)s.") % {"headers": "、".join(template_headers())},
    )  # fmt: skip


def reviewable_ids(user: Any, usccs: list[str]) -> dict[str, int]:
    """USCC → id of the enterprises whose figures the user may review (and so import as reviewed): active members
    of the organisations the user manages (every enterprise for federation-wide staff), never the user's own."""
    scope = get_scope(user)
    found: dict[str, int] = {}
    for chunk in sheets.chunks(sorted(set(usccs))):
        rows = Enterprise.objects.filter(uscc__in=chunk)
        if not scope.is_all:
            rows = rows.filter(memberships__organization_id__in=scope.manage_member_org_ids or [0],
                               memberships__status=Membership.Status.ACTIVE)  # fmt: skip
        found.update(dict(rows.exclude(pk__in=scope.own_enterprise_ids).values_list("uscc", "pk").distinct()))
    return found


def parse(file_obj: IO[bytes], file_name: str, user: Any) -> ImportResult:
    """Read and check every row: the enterprise must be one the user manages; a yearly figure needs its year."""
    result = ImportResult()
    result.file_error = sheets.check_upload(file_obj, file_name, extensions=(".xlsx", ".csv"))
    if result.file_error:
        return result
    sheet = sheets.read_sheet(file_obj, spec(), file_name)
    result.file_error = sheet.file_error
    if sheet.file_error:
        return result
    managed = set(reviewable_ids(user, [row.values[USCC] for row in sheet.rows if row.values.get(USCC)]))
    seen: dict[tuple[str, str, int], int] = {}
    enterprises: set[str] = set()
    for row in sheet.rows:
        errors = list(row.errors)
        values = row.values
        uscc, year = values.get(USCC), values.get(YEAR)
        if uscc and uscc not in managed:
            errors.append(RowError(row.number, USCC, _("No member enterprise whose figures you review has this code.")))
        figures: dict[str, Decimal] = {}
        texts: dict[str, str] = {}
        for key, parsed in values.items():
            if "|" not in key or parsed is None:
                continue
            code = key.split("|")[0]
            header = FIELD_HEADERS[code][0]
            if code in figures:
                errors.append(RowError(row.number, header, _("This figure is given in two columns.")))
                continue
            figures[code], texts[code] = parsed
            yearly = FIELDS[code].source == Source.YEARLY
            if yearly and year is None and not any(e.column == YEAR for e in errors):
                errors.append(RowError(row.number, YEAR, _("A yearly figure needs its year.")))
            where = (uscc or "", code, year or 0)  # a standing figure may repeat on each year's row
            if uscc and where in seen:
                errors.append(RowError(row.number, header, _("Row %(row)d already gives this figure for this year.")
                                       % {"row": seen[where]}))  # fmt: skip
            seen.setdefault(where, row.number)
        if not figures and not errors:
            errors.append(RowError(row.number, USCC, _("The row gives no figure.")))
        if errors:
            result.errors.extend(errors)
            continue
        assert uscc is not None
        enterprises.add(uscc)
        result.figures += len(figures)
        result.rows.append(FactRow(row=row.number, uscc=uscc, year=year or 0, values=figures, texts=texts))
    result.enterprises = len(enterprises)
    return result


IMPORTED_TITLE = gettext_lazy("Your enterprise's figures were imported by the federation")
IMPORTED_BODY = gettext_lazy("Open your figures page to check them; policy answers were computed again.")


@transaction.atomic
def import_facts(*, actor: Any, parsed: ImportResult) -> ImportResult:
    """Write every figure as reviewed (origin: import), or none; recompute the enterprises' answers afterwards
    and tell each enterprise's contacts once."""
    scope = get_scope(actor)
    if not (scope.is_all or scope.manage_member_org_ids):
        raise DomainError(_("Only the organisation's staff import figures."), code="file")
    if parsed.file_error or parsed.errors:
        raise DomainError(_("Correct the errors first; nothing was imported."), code="file")
    enterprise_ids = reviewable_ids(actor, [row.uscc for row in parsed.rows])
    missing = [row for row in parsed.rows if row.uscc not in enterprise_ids]
    if missing:
        raise DomainError(_("Row %(row)d: no enterprise you manage has this code; nothing was imported.")
                          % {"row": missing[0].row}, code="file")  # fmt: skip
    wanted: dict[tuple[int, str, int], tuple[Decimal, str]] = {}
    # A standing figure (paid-in capital, floor area) given on several years' rows: the newest year's value.
    for row in sorted(parsed.rows, key=lambda r: r.year):
        for code, value in row.values.items():
            year = row.year if FIELDS[code].source == Source.YEARLY else 0
            wanted[(enterprise_ids[row.uscc], code, year)] = (value, row.texts[code])
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    existing: dict[tuple[int, str, int], EnterpriseFact] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        where = Q()
        for enterprise_id, code, year in chunk:
            where |= Q(enterprise_id=enterprise_id, field=code, year=year)
        for stored in EnterpriseFact.objects.select_for_update().filter(where, key=""):
            existing[(stored.enterprise_id, stored.field, stored.year)] = stored
    new: list[EnterpriseFact] = []
    changed: list[EnterpriseFact] = []
    dropped: list[str] = []  # evidence files of changed figures, deleted once the import commits
    for key, (value, text) in wanted.items():
        fact = existing.get(key)
        if fact is None:
            new.append(EnterpriseFact(
                enterprise_id=key[0], field=key[1], year=key[2], value=value, entered_text=text,
                status=EnterpriseFact.Status.REVIEWED, origin=EnterpriseFact.Origin.IMPORT, entered_by=user,
                reviewed_by=user, reviewed_at=now,
            ))  # fmt: skip
        elif fact.value == value and fact.status == EnterpriseFact.Status.REVIEWED:
            continue  # already so, and reviewed: nothing to write, nobody to tell
        else:
            if fact.evidence and fact.value != value:  # the old figure's report does not show the new one
                dropped.append(str(fact.evidence.name))
                fact.evidence = ""  # type: ignore[assignment]
            fact.value, fact.entered_text, fact.status = value, text, EnterpriseFact.Status.REVIEWED
            fact.origin, fact.entered_by, fact.reviewed_by, fact.reviewed_at = (
                EnterpriseFact.Origin.IMPORT,
                user,
                user,
                now,
            )
            fact.review_note, fact.updated_at = "", now
            changed.append(fact)
    EnterpriseFact.objects.bulk_create(new, batch_size=2000)
    EnterpriseFact.objects.bulk_update(
        changed, ["value", "entered_text", "status", "origin", "entered_by", "reviewed_by", "reviewed_at",
                  "review_note", "updated_at", "evidence"], batch_size=2000,
    )  # fmt: skip
    delete_on_commit(EnterpriseFact._meta.get_field("evidence").storage, dropped)  # type: ignore[attr-defined]
    parsed.created, parsed.changed = len(new), len(changed)
    written = [*new, *changed]
    ids = sorted({fact.enterprise_id for fact in written})
    for start in range(0, len(ids), 1000):  # one notification per contact, a bounded number of queries
        contacts = contacts_of(ids[start : start + 1000])
        if contacts:
            notifications.notify(users=contacts, kind="policies.facts_imported", actor=actor, title=IMPORTED_TITLE,
                                 body=IMPORTED_BODY, url="/policies/facts/")  # fmt: skip
    fields = sorted({fact.field for fact in written})
    audit.record("policies.facts.imported", actor=actor,
                 data={"figures": len(wanted), "enterprises": len(ids), "created": len(new),
                       "changed": len(changed), "fields": fields})  # fmt: skip
    if ids:
        enqueue_on_commit("policies.recompute_enterprises", ids, fields)
    return parsed
