"""The Excel member roster: the template, the column specs, and the all-or-nothing import.

Reading and bounding the file is `core.sheets`' job; here each column says how its cell becomes a value and
the rows are checked against each other (a USCC or mobile twice) and against the database in a few chunked
queries. The import then writes with one executemany per table (see `_insert`) and one audit entry.
"""

from __future__ import annotations

import datetime
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DateField, DateTimeField, Model
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from qiaoliang.core import audit, industries, regions, sheets
from qiaoliang.core.codes import mask_mobile, normalize_mobile
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import IMPORT, require
from qiaoliang.core.sheets import (
    CellError,
    Column,
    ParsedSheet,
    RowError,
    SheetSpec,
    cell_text,
    industry_parser,
    parse_uscc,
)
from qiaoliang.core.text import name_keys as text_name_keys
from qiaoliang.orgs.announcements import MEMBERSHIP, enterprises_changed
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person, enterprise_search_fields
from qiaoliang.orgs.scope import invalidate_scopes

# The headers are part of the file format users fill in, so they are fixed Chinese text, not translated.
NAME = "企业名称"
USCC = "统一社会信用代码"
INDUSTRY = "行业代码"
REGION = "行政区划代码"
SIZE = "企业规模"
OWNERSHIP = "所有制"
CONTACT = "联系人"
MOBILE = "联系人手机"
LEVEL = "会员级别"
JOINED = "入会日期"
ADDRESS = "地址"
HEADERS = [NAME, USCC, INDUSTRY, REGION, SIZE, OWNERSHIP, CONTACT, MOBILE, LEVEL, JOINED, ADDRESS]
# Registry exports write the region as names in three columns; read when 行政区划代码 is empty or missing.
PROVINCE, CITY, COUNTY = "省份", "城市", "区县"
COLUMN_ORDER = [*HEADERS, PROVINCE, CITY, COUNTY]
ORGANIZATIONS = "组织"
EXPORT_HEADERS = [*HEADERS, ORGANIZATIONS]

DATA_SHEET_TITLE = "会员名册"
HELP_SHEET_TITLE = "说明"
XLSX_CONTENT_TYPE = sheets.XLSX_CONTENT_TYPE
MAX_ROWS = 200_000
_BATCH = 1000

SIZE_TERMS = {"大": "large", "大型": "large", "中": "medium", "中型": "medium", "小": "small", "小型": "small",
              "微": "micro", "微型": "micro"}  # fmt: skip
OWNERSHIP_TERMS = {
    "国有": "state", "国有企业": "state", "民营": "private", "民营企业": "private", "私营": "private",
    "外资": "foreign", "外资企业": "foreign", "外商投资": "foreign", "港澳台": "hk_mo_tw", "港澳台资": "hk_mo_tw",
    "集体": "collective", "集体企业": "collective", "混合": "mixed", "混合所有制": "mixed", "其他": "other",
}  # fmt: skip
LEVEL_TERMS = {"会长单位": "president", "会长": "president", "副会长单位": "vice_president", "副会长": "vice_president",
               "理事单位": "council", "理事": "council", "会员单位": "member", "会员": "member"}  # fmt: skip
# The words written back in the export and shown in the template's 说明 sheet.
SIZE_WORDS = {"large": "大", "medium": "中", "small": "小", "micro": "微"}
OWNERSHIP_WORDS = {"state": "国有", "private": "民营", "foreign": "外资", "hk_mo_tw": "港澳台", "collective": "集体",
                   "mixed": "混合", "other": "其他"}  # fmt: skip
LEVEL_WORDS = {"president": "会长单位", "vice_president": "副会长单位", "council": "理事单位", "member": "会员单位"}

_NAME_MAX = Enterprise._meta.get_field("name").max_length or 120
_CONTACT_MAX = Person._meta.get_field("name").max_length or 40
_ADDRESS_MAX = Enterprise._meta.get_field("address").max_length or 200


# --- results -------------------------------------------------------------------------


@dataclass
class RosterRow:
    """One valid row of the roster, with values already normalised."""

    row: int
    name: str
    uscc: str
    industry_code: str | None = None
    region_code: str | None = None
    size: str = ""
    ownership: str = ""
    contact_name: str = ""
    contact_mobile: str | None = None
    level: str = Membership.Level.MEMBER
    joined_on: datetime.date | None = None
    address: str = ""


@dataclass(frozen=True)
class RowNote:
    """What the import read into a cell (西湖区 → 330106 …): shown in the preview; a warning asks for a check."""

    row: int
    column: str
    message: str
    warning: bool = False


@dataclass
class RosterParse(ParsedSheet[RosterRow]):
    """What a roster file holds: its rows, the errors found in them, or one error about the whole file; and how
    each region and industry was read (`notes`, `region_counts` by `core.regions.How`)."""

    notes: list[RowNote] = field(default_factory=list)
    region_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportResult:
    """The counts of an import (or of what a dry run would do), and the errors that stopped it."""

    rows: int = 0
    enterprises_created: int = 0
    enterprises_existing: int = 0
    memberships_created: int = 0
    memberships_unchanged: int = 0
    people_created: int = 0
    people_existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "enterprises_created": self.enterprises_created,
            "enterprises_existing": self.enterprises_existing,
            "memberships_created": self.memberships_created,
            "memberships_unchanged": self.memberships_unchanged,
            "people_created": self.people_created,
            "people_existing": self.people_existing,
        }


# --- the template ------------------------------------------------------------------------


def build_template() -> bytes:
    """Return the roster template: the headers in the data sheet, the accepted values in a 说明 sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET_TITLE
    sheet.append(HEADERS)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    widths = [36, 24, 10, 14, 10, 10, 12, 16, 14, 14, 40]
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = width
        # Text format keeps Excel from turning 18-digit codes and mobiles into 9.1E+17.
        if HEADERS[index - 1] == JOINED:
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
        else:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    for header, words in ((SIZE, SIZE_WORDS), (OWNERSHIP, OWNERSHIP_WORDS), (LEVEL, LEVEL_WORDS)):
        letter = sheet.cell(row=1, column=HEADERS.index(header) + 1).column_letter
        validation = DataValidation(type="list", formula1='"' + ",".join(words.values()) + '"', allow_blank=True)
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        sheet.add_data_validation(validation)

    guide = workbook.create_sheet(HELP_SHEET_TITLE)
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 90
    sizes, ownerships, levels = ("、".join(words.values()) for words in (SIZE_WORDS, OWNERSHIP_WORDS, LEVEL_WORDS))
    lines = [
        (_("Column"), _("How to fill it in")),
        (NAME, _("Required, at most %(max)d characters.") % {"max": _NAME_MAX}),
        (USCC, _("Required: the 18-character unified social credit code with its check character. Keep this column "
                 "formatted as text so that Excel does not turn the code into 9.1E+17.")),
        (INDUSTRY, _("Optional: a GB/T 4754-2017 industry code, preferably the 4-digit class (such as 7291); "
                     "section, division and group codes are accepted too, and so are class names and common words "
                     "(旅行社, 餐饮). A word that fits several classes is refused with the candidates.")),
        (REGION, _("Optional: a GB/T 2260 region code of a province, city, 市辖区 or county (such as 330106), from "
                   "the current table or an earlier revision (330103 下城区), or the name as written "
                   "(浙江省杭州市西湖区, 杭州市西湖区; 西湖区 alone when the USCC or the organisation tells the city). "
                   "Registry columns "
                   "省份, 城市 and 区县 are read too. When empty, the region is read from the address, else from the "
                   "registration code in the USCC, and the preview says so.")),
        (SIZE, _("Optional: one of %(values)s (large, medium, small, micro are accepted too).") % {"values": sizes}),
        (OWNERSHIP, _("Optional: one of %(values)s (state, private, foreign, hk_mo_tw, collective, mixed, other "
                      "are accepted too).") % {"values": ownerships}),
        (CONTACT, _("Optional, at most %(max)d characters; required when a mobile number is given.")
         % {"max": _CONTACT_MAX}),
        (MOBILE, _("Optional: an 11-digit mainland mobile number; one number belongs to one contact only.")),
        (LEVEL, _("Optional, 会员单位 when empty: one of %(values)s (president, vice_president, council, member "
                  "are accepted too).") % {"values": levels}),
        (JOINED, _("Optional: a date written as YYYY-MM-DD (such as 2023-05-01) or an Excel date, not in the "
                   "future.")),
        (ADDRESS, _("Optional, at most %(max)d characters: the enterprise's address.") % {"max": _ADDRESS_MAX}),
        ("", ""),
        (_("Rules"), _("If any row has an error, nothing in the file is imported; every bad row is listed with its "
                       "column and the reason.")),
        ("", _("Enterprises that already exist (by unified social credit code) are not changed. A row whose "
               "enterprise is already a member with the same level and join date is unchanged, so importing the "
               "same file again changes nothing.")),
        ("", _("Do not change the header row; empty rows are skipped.")),
    ]  # fmt: skip
    for line in lines:
        guide.append(line)
    for cell in guide[1]:
        cell.font = bold
    for row in guide.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the columns ----------------------------------------------------------------------------------


def parse_name(value: Any, limit: int = _NAME_MAX) -> str:
    """Return a name cell with its spaces folded, or raise for an empty or over-long name."""
    name = " ".join(cell_text(value).split())
    if not name:
        raise CellError(_("The enterprise name is empty."))
    if len(name) > limit:
        raise CellError(_("The name is longer than %(max)d characters.") % {"max": limit})
    return name


def choice_parser(terms: dict[str, str], hint: str = "") -> Any:
    """Return a parser of a choice cell against its accepted spellings ('' when empty)."""

    def parse(value: Any) -> str:
        text = cell_text(value)
        if not text:
            return ""
        choice = terms.get(unicodedata.normalize("NFKC", text).strip().lower())
        if choice is None:
            if hint:
                raise CellError(
                    _("%(value)s is not an accepted value; write one of %(values)s.") % {"value": text, "values": hint}
                )
            raise CellError(
                _("%(value)s is not an accepted value; see the 说明 sheet of the template.") % {"value": text}
            )
        return choice

    return parse


def parse_contact(value: Any) -> str:
    contact = " ".join(cell_text(value).split())
    if len(contact) > _CONTACT_MAX:
        raise CellError(_("The name is longer than %(max)d characters.") % {"max": _CONTACT_MAX})
    return contact


def parse_mobile(value: Any) -> str | None:
    text = cell_text(value)
    if not text:
        return None
    try:
        return _normalize_mobile(unicodedata.normalize("NFKC", text))
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc


def past_date_parser(today: datetime.date) -> Any:
    def parse(value: Any) -> datetime.date | None:
        date = sheets.cell_date(value)
        if date is not None and date > today:
            raise CellError(_("The date %(date)s is in the future.") % {"date": date.isoformat()})
        return date

    return parse


def parse_address(value: Any) -> str:
    address = " ".join(cell_text(value).split())
    if len(address) > _ADDRESS_MAX:
        raise CellError(_("The address is longer than %(max)d characters.") % {"max": _ADDRESS_MAX})
    return address


def roster_spec() -> SheetSpec:
    """Return the roster's columns with their parsers (the industry table is loaded once per call).

    The region is read after the row (`resolve_region`): a name needs the row's USCC as context. Only the
    name and the USCC must be there; a registry export or an older list has the other columns or not.
    """
    return SheetSpec(
        columns=(
            Column(NAME, parse_name, required=True),
            Column(USCC, parse_uscc, required=True),
            Column(INDUSTRY, industry_parser(industries.resolver()), aliases=("行业", "所属行业")),
            Column(REGION, cell_text, aliases=("行政区划", "所在地区", "地区")),
            Column(SIZE, choice_parser(sheets.choice_terms(Enterprise.Size, SIZE_TERMS))),
            Column(OWNERSHIP, choice_parser(sheets.choice_terms(Enterprise.Ownership, OWNERSHIP_TERMS))),
            Column(CONTACT, parse_contact),
            Column(MOBILE, parse_mobile),
            Column(LEVEL, choice_parser(sheets.choice_terms(Membership.Level, LEVEL_TERMS))),
            Column(JOINED, past_date_parser(timezone.localdate())),
            Column(ADDRESS, parse_address, aliases=("企业地址", "注册地址", "住所", "经营地址")),
            Column(PROVINCE, cell_text, aliases=("省",)),
            Column(CITY, cell_text, aliases=("市", "地市")),
            Column(COUNTY, cell_text, aliases=("县区", "县")),
        ),
        max_rows=MAX_ROWS,
        max_columns=26,
        max_cell_chars=500,
        what=_("roster"),
        hint=_("Use the roster template."),
    )


def check_file(file_obj: IO[bytes], file_name: str) -> str:
    """Return a file-level error (not .xlsx, too large, not a workbook) or '' when the file may be read."""
    if not file_name.lower().endswith(".xlsx"):
        return _("Only Excel .xlsx files can be imported; save the roster as an Excel workbook (.xlsx).")
    return sheets.check_upload(file_obj, file_name)


def inspect_roster(file_obj: IO[bytes], file_name: str) -> str:
    """Return a file-level error after checking the file and its header row, or '' when the file looks right."""
    error = check_file(file_obj, file_name)
    if error:
        return error
    spec = roster_spec()
    try:
        rows = sheets.open_rows(file_obj, file_name, spec)
        header = next(rows, None)
        rows.close()
    except sheets.SheetRefusedError as exc:
        return str(exc)
    finally:
        file_obj.seek(0)
    if header is None:
        return (
            _("The workbook has no header row; the first row must hold the column names.")
            + " "
            + _("Use the roster template.")
        )
    return sheets.match_headers(header, spec)[1]


def resolve_region(
    resolver: regions.RegionResolver, values: dict[str, Any], uscc: str | None, organization_region: str
) -> regions.RegionMatch | None:
    """Read a row's region: the 行政区划代码 cell, else 省份+城市+区县, else the address, else the USCC's code.

    The USCC's registration code and the organisation's region are the context a bare name (西湖区) is read in.
    """
    context = [code for code in ((uscc or "")[2:8], organization_region) if code]
    text = cell_text(values.get(REGION))
    if not text:
        text = "".join(cell_text(values.get(column)) for column in (PROVINCE, CITY, COUNTY))
    if text:
        return resolver.resolve(text, context)
    address = values.get(ADDRESS) or ""
    match = resolver.from_address(address, context) if address else None
    if match is None:
        match = resolver.from_uscc(uscc)
    return match


def parse_roster(file_obj: IO[bytes], file_name: str | None = None, *, organization_region: str = "") -> RosterParse:
    """Read a roster workbook and validate every row in memory, collecting each bad cell's reason.

    `organization_region` (the importing organisation's region code) is context for region names.
    """
    name = sheets.file_name_of(file_obj, file_name)
    result = RosterParse(file_name=name)
    result.file_error = check_file(file_obj, name)
    if result.file_error:
        return result
    sheet = sheets.read_sheet(file_obj, roster_spec(), name)
    result.file_error = sheet.file_error
    if sheet.file_error:
        return result
    seen_uscc: dict[str, int] = {}
    seen_mobile: dict[str, int] = {}
    region_resolver = regions.resolver()
    industry_resolver = industries.resolver()
    counts: dict[str, int] = {}
    for row in sheet.rows:
        result.row_count += 1
        values = row.values
        errors = list(row.errors)
        uscc, mobile = values[USCC], values[MOBILE]
        region = resolve_region(region_resolver, values, uscc, organization_region)
        region_code: str | None = None
        if region is not None and region.error:
            errors.append(RowError(row.number, REGION, region.error))
        elif region is not None and region.place is not None:
            region_code = region.place.code
            counts[region.how] = counts.get(region.how, 0) + 1
            note = region.describe()
            if note:
                result.notes.append(RowNote(row.number, REGION, note, warning=region.is_warning))
        else:
            counts["none"] = counts.get("none", 0) + 1
        if values[INDUSTRY] and not errors:
            note = industry_resolver.resolve(row.raw.get(INDUSTRY)).describe()
            if note:
                result.notes.append(RowNote(row.number, INDUSTRY, note))
        if uscc:
            if uscc in seen_uscc:
                errors.append(RowError(row.number, USCC,
                              _("The unified social credit code %(uscc)s also appears in row %(row)d.")
                              % {"uscc": uscc, "row": seen_uscc[uscc]}))  # fmt: skip
            else:
                seen_uscc[uscc] = row.number
        if mobile:
            if not cell_text(row.raw.get(CONTACT)):
                errors.append(RowError(row.number, CONTACT, _("The contact's name is needed with a mobile number.")))
            if mobile in seen_mobile:
                errors.append(RowError(row.number, MOBILE, _("Mobile number %(mobile)s also appears in row %(row)d.")
                                       % {"mobile": mobile, "row": seen_mobile[mobile]}))  # fmt: skip
            else:
                seen_mobile[mobile] = row.number
        if errors:
            errors.sort(key=lambda error: _column_position(error.column))
            result.errors.extend(errors)
            continue
        result.rows.append(
            RosterRow(
                row=row.number,
                name=values[NAME],
                uscc=uscc,
                industry_code=values[INDUSTRY],
                region_code=region_code,
                size=values[SIZE] or "",
                ownership=values[OWNERSHIP] or "",
                contact_name=values[CONTACT] or "",
                contact_mobile=mobile,
                level=values[LEVEL] or Membership.Level.MEMBER,
                joined_on=values[JOINED],
                address=values[ADDRESS] or "",
            )
        )
    result.region_counts = counts
    return result


def region_count_lines(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Return (label, rows) for each way regions were read, in a fixed order ('none': rows left without one)."""
    lines = [(regions.how_label(how), counts[how]) for how in regions.How if counts.get(how)]
    if counts.get("none"):
        lines.append((_("no region"), counts["none"]))
    return lines


def _column_position(header: str) -> int:
    return COLUMN_ORDER.index(header) if header in COLUMN_ORDER else len(COLUMN_ORDER)


def search_fields(name: str) -> dict[str, str]:
    """Return every enterprise search key, the trade-name keys included (one pinyin pass; core.text)."""
    return enterprise_search_fields(name)


def name_pinyin(name: str) -> str:
    """Return the full pinyin of a person's name (people need no trade-name keys)."""
    return text_name_keys(name)[1]


_valid_mobile_prefixes: dict[str, bool] = {}


def _normalize_mobile(value: str) -> str:
    """Validate a mobile like core.codes.normalize_mobile, asking phonenumbers once per 7-digit prefix.

    China's mobile numbering plan allocates numbers by prefix, so a prefix's validity stands for every
    number under it; anything unusual goes through normalize_mobile itself.
    """
    if len(value) == 11 and value.isascii() and value.isdigit() and value[0] == "1":
        known = _valid_mobile_prefixes.get(value[:7])
        if known:
            return value
        if known is None:
            try:
                number = normalize_mobile(value)
            except ValidationError:
                _valid_mobile_prefixes[value[:7]] = False
                raise
            _valid_mobile_prefixes[value[:7]] = True
            return number
    return normalize_mobile(value)


# --- importing -------------------------------------------------------------------------------


def _level_word(level: str) -> str:
    return str(Membership.Level(level).label) if level in Membership.Level.values else level


@transaction.atomic
def import_roster(
    *, actor: Any, organization: Organization, parsed: RosterParse, dry_run: bool = False, source: str = "web"
) -> ImportResult:
    """Import a parsed roster into an organisation, all or nothing; a dry run only counts.

    Existing enterprises (by USCC) are reused and never changed. A row whose enterprise is already a
    member with the same level and join date is unchanged, so importing the same file twice is a no-op;
    a different level or date is an error, so nothing changes silently.
    """
    require(actor, IMPORT, organization, _("You may not import members into this organisation."))
    if parsed.file_error:
        raise DomainError(parsed.file_error, code="roster_file")
    result = ImportResult(rows=parsed.row_count, dry_run=dry_run)
    result.errors.extend(parsed.errors)
    if not dry_run:
        # One import at a time per organisation: the second waits and then sees the first one's rows.
        organization = Organization.objects.select_for_update().get(pk=organization.pk)

    rows = parsed.rows
    existing: dict[str, int] = {}
    for chunk in sheets.chunks([row.uscc for row in rows]):
        existing.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    memberships: dict[int, tuple[str, datetime.date | None]] = {}
    for chunk in sheets.chunks(list(existing.values())):
        for member_id, level, joined_on in Membership.objects.filter(
            organization=organization, enterprise_id__in=chunk
        ).values_list("enterprise_id", "level", "joined_on"):
            memberships[member_id] = (level, joined_on)
    people_by_mobile: dict[str | None, int | None] = {}
    for chunk in sheets.chunks([row.contact_mobile for row in rows if row.contact_mobile]):
        people_by_mobile.update(Person.objects.filter(mobile__in=chunk).values_list("mobile", "enterprise_id"))
    unnumbered_people: set[tuple[int, str]] = set()
    for chunk in sheets.chunks(list(existing.values())):
        unnumbered_people.update(
            Person.objects.filter(enterprise_id__in=chunk, mobile__isnull=True).values_list("enterprise_id", "name")
        )

    new_enterprises: list[RosterRow] = []
    new_memberships: list[RosterRow] = []
    new_people: list[RosterRow] = []
    for row in rows:
        enterprise_id = existing.get(row.uscc)
        if enterprise_id is None:
            new_enterprises.append(row)
            new_memberships.append(row)
        else:
            result.enterprises_existing += 1
            current = memberships.get(enterprise_id)
            if current is None:
                new_memberships.append(row)
            elif current == (row.level, row.joined_on):
                result.memberships_unchanged += 1
            else:
                result.errors.append(
                    RowError(
                        row.row,
                        LEVEL,
                        _("%(uscc)s is already a member of %(organization)s (level %(level)s, joined %(date)s).")
                        % {
                            "uscc": row.uscc,
                            "organization": organization.name,
                            "level": _level_word(current[0]),
                            "date": current[1].isoformat() if current[1] else "—",
                        },
                    )
                )
        if row.contact_mobile:
            if row.contact_mobile not in people_by_mobile:
                new_people.append(row)
            elif enterprise_id is not None and people_by_mobile[row.contact_mobile] == enterprise_id:
                result.people_existing += 1
            else:
                result.errors.append(
                    RowError(
                        row.row,
                        MOBILE,
                        _("Mobile number %(mobile)s already belongs to a person of another enterprise.")
                        % {"mobile": mask_mobile(row.contact_mobile)},
                    )
                )
        elif row.contact_name:
            if enterprise_id is not None and (enterprise_id, row.contact_name) in unnumbered_people:
                result.people_existing += 1
            else:
                new_people.append(row)

    result.errors.sort(key=lambda error: (error.row, _column_position(error.column)))
    result.enterprises_created = len(new_enterprises)
    result.memberships_created = len(new_memberships)
    result.people_created = len(new_people)
    if result.errors or dry_run:
        return result

    try:
        with transaction.atomic():
            _write(organization, new_enterprises, new_memberships, new_people, existing)
    except IntegrityError as exc:
        raise DomainError(
            _("Someone changed the same members while the roster was being imported; import it again."),
            code="roster_conflict",
        ) from exc
    audit.record(
        "orgs.roster.imported",
        actor=actor,
        target=organization,
        organization_id=organization.pk,
        data={"file": parsed.file_name, "source": source, **result.counts()},
    )
    result.written = True
    return result


def _insert(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows with one executemany (COPY on PostgreSQL): bulk_create's per-value preparation is most of a large
    import's time.

    Columns not given take the field's default; timestamps are now; dates go through the backend's adapter.
    Values are plain str/int/bool/None otherwise, which every backend takes as they are.
    """
    if not rows:
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = list(rows[0])
    constants: dict[str, Any] = {}
    for f in fields:
        if f.attname in given:
            continue
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        constants[f.attname] = f.get_db_prep_save(value, connection)
    date_columns = {f.attname for f in fields if isinstance(f, DateField) and not isinstance(f, DateTimeField)}
    adapt_date = connection.ops.adapt_datefield_value
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    names = [f.attname for f in fields]
    params = []
    for row in rows:
        values = []
        for name in names:
            if name in constants:
                values.append(constants[name])
            elif name in date_columns:
                values.append(adapt_date(row[name]))
            else:
                values.append(row[name])
        params.append(values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY, as seed_demo: psycopg's executemany sends a statement per row
            table = connection.ops.quote_name(model._meta.db_table)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for values in params:
                    copy.write_row(values)
            return
        cursor.executemany(sql, params)


def _write(
    organization: Organization,
    new_enterprises: list[RosterRow],
    new_memberships: list[RosterRow],
    new_people: list[RosterRow],
    enterprise_ids: dict[str, int],
) -> None:
    for batch in sheets.chunks(new_enterprises, _BATCH):
        _insert(
            Enterprise,
            [
                {
                    "uscc": row.uscc,
                    "name": row.name,
                    "industry_id": row.industry_code,
                    "region_id": row.region_code,
                    "address": row.address,
                    "size": row.size,
                    "ownership": row.ownership,
                    "registered_by_id": organization.pk,
                    **search_fields(row.name),
                }
                for row in batch
            ],
        )
    for chunk in sheets.chunks([row.uscc for row in new_enterprises]):
        enterprise_ids.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    for batch in sheets.chunks(new_memberships, _BATCH):
        _insert(
            Membership,
            [
                {
                    "enterprise_id": enterprise_ids[row.uscc],
                    "organization_id": organization.pk,
                    "level": row.level,
                    "joined_on": row.joined_on,
                    "status": Membership.Status.ACTIVE.value,
                }
                for row in batch
            ],
        )
    if new_memberships:
        invalidate_scopes()  # rows inserted directly send no signal
        enterprises_changed((enterprise_ids[row.uscc] for row in new_memberships), [MEMBERSHIP])
    name_keys: dict[str, str] = {}  # people's names repeat (张伟, 王芳…), their pinyin need not be worked out again
    for batch in sheets.chunks(new_people, _BATCH):
        people = []
        for row in batch:
            if row.contact_name not in name_keys:
                name_keys[row.contact_name] = name_pinyin(row.contact_name)[:120]
            people.append(
                {
                    "name": row.contact_name,
                    "name_pinyin": name_keys[row.contact_name],
                    "mobile": row.contact_mobile,
                    "enterprise_id": enterprise_ids[row.uscc],
                    "is_primary_contact": True,
                }
            )
        _insert(Person, people)


def error_lines(errors: list[RowError]) -> list[str]:
    """Return the errors as '第N行 [列] 原因' lines in the active language."""
    return [str(error) for error in errors]


_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def is_token(value: str) -> bool:
    """Tell whether a string can be an upload token (so it is safe to use in a file name)."""
    return bool(_TOKEN_RE.match(value))
