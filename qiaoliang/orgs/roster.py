"""The Excel member roster: the template, parsing and validation, the all-or-nothing import, the export.

Parsing is pure apart from loading the two code tables once: every row is checked in memory, so a
100,000-row roster is validated without a query per row. The import then asks the database a few
chunked questions (which enterprises, memberships and mobiles exist), and writes with bulk_create.
"""

from __future__ import annotations

import datetime
import io
import logging
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DateField, DateTimeField, Model
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from qiaoliang.core import audit
from qiaoliang.core.codes import mask_mobile, normalize_mobile, normalize_uscc
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import Industry, Region
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person, enterprise_search_fields

logger = logging.getLogger(__name__)

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
HEADERS = [NAME, USCC, INDUSTRY, REGION, SIZE, OWNERSHIP, CONTACT, MOBILE, LEVEL, JOINED]
ORGANIZATIONS = "组织"
EXPORT_HEADERS = [*HEADERS, ORGANIZATIONS]

DATA_SHEET_TITLE = "会员名册"
HELP_SHEET_TITLE = "说明"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 200_000
EXPORT_MAX_ROWS = 200_000
_CHUNK = 900  # stays below SQLite's bound-parameter limit on old builds as well
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

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
_FORMULA_PREFIXES = ("=", "+", "-", "@")
_NAME_MAX = Enterprise._meta.get_field("name").max_length or 120
_CONTACT_MAX = Person._meta.get_field("name").max_length or 40


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: the row number as Excel shows it, the column header and the reason."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        values = {"row": self.row, "column": self.column, "reason": self.message}
        return _("Row %(row)d [%(column)s] %(reason)s") % values


@dataclass
class RosterRow:
    """One valid-looking row of the roster, with values already normalised."""

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


@dataclass
class RosterParse:
    """What a roster file holds: its rows, the errors found in them, or one error about the whole file."""

    file_name: str = ""
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    row_count: int = 0

    @property
    def is_valid(self) -> bool:
        return not self.file_error and not self.errors


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
    widths = [36, 24, 10, 14, 10, 10, 12, 16, 14, 14]
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
        (INDUSTRY, _("Optional: a GB/T 4754-2017 industry code, preferably the 4-digit class (such as 6511); "
                     "section, division and group codes are accepted too.")),
        (REGION, _("Optional: a six-digit GB/T 2260 region code of a county, city or province (such as 110105).")),
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


# --- parsing ----------------------------------------------------------------------------------


@dataclass
class _Vocabulary:
    industries: set[str]
    regions: set[str]
    sizes: dict[str, str]
    ownerships: dict[str, str]
    levels: dict[str, str]


def _choice_terms(choices: Any, chinese: dict[str, str]) -> dict[str, str]:
    """Accept the Chinese words, the stored values and the English labels, case-insensitively."""
    terms = {key.lower(): value for key, value in chinese.items()}
    with translation.override("en"):
        for value, label in choices.choices:
            terms[str(value).lower()] = value
            terms[str(label).lower()] = value
    return terms


def _vocabulary() -> _Vocabulary:
    return _Vocabulary(
        industries=set(Industry.objects.values_list("code", flat=True)),
        regions=set(Region.objects.values_list("code", flat=True)),
        sizes=_choice_terms(Enterprise.Size, SIZE_TERMS),
        ownerships=_choice_terms(Enterprise.Ownership, OWNERSHIP_TERMS),
        levels=_choice_terms(Membership.Level, LEVEL_TERMS),
    )


def _text(value: Any) -> str:
    """Return a cell as trimmed text; whole numbers lose Excel's '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def _code(value: Any) -> str:
    """Return a code cell folded to half-width upper case without spaces."""
    return unicodedata.normalize("NFKC", _text(value)).replace(" ", "").upper()


def _file_size(file_obj: IO[bytes]) -> int | None:
    size = getattr(file_obj, "size", None)
    if isinstance(size, int):
        return size
    try:
        position = file_obj.tell()
        file_obj.seek(0, io.SEEK_END)
        end = file_obj.tell()
        file_obj.seek(position)
    except (AttributeError, OSError):
        return None
    return end


def check_file(file_obj: IO[bytes], file_name: str) -> str:
    """Return a file-level error (not .xlsx, too large, not a workbook) or '' when the file may be read."""
    if not file_name.lower().endswith(".xlsx"):
        return _("Only Excel .xlsx files can be imported; save the roster as an Excel workbook (.xlsx).")
    size = _file_size(file_obj)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        return _("The file is larger than the limit of %(limit)d MB.") % {
            "limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)
        }
    if size == 0:
        return _("The file is empty.")
    try:
        file_obj.seek(0)
        is_zip = zipfile.is_zipfile(file_obj)
        file_obj.seek(0)
    except (AttributeError, OSError):
        is_zip = False
    if not is_zip:
        return _("The file is not an Excel .xlsx workbook or it is damaged.")
    return ""


def _open_rows(file_obj: IO[bytes]) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
    """Yield (row number, values) of the first sheet through openpyxl (the slower, forgiving reader)."""
    file_obj.seek(0)
    workbook = load_workbook(file_obj, read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_DATE_FORMAT_IDS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47}
_CELL_REF_RE = re.compile(r"^([A-Z]+)")


def _column_index(reference: str) -> int:
    match = _CELL_REF_RE.match(reference)
    if match is None:
        return -1
    index = 0
    for char in match.group(1):
        index = index * 26 + ord(char) - 64
    return index - 1


def _plain_text(element: Any) -> str:
    """Return the text of a shared or inline string, without the phonetic (rPh) runs Excel adds to Chinese."""
    parts = []
    for child in element:
        if child.tag == f"{_MAIN}t":
            parts.append(child.text or "")
        elif child.tag == f"{_MAIN}r":
            parts.extend(t.text or "" for t in child.iter(f"{_MAIN}t"))
    return "".join(parts)


def _fast_rows(file_obj: IO[bytes]) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
    """Yield (row number, values) of the first sheet by streaming its XML (several times faster than openpyxl)."""
    from xml.etree.ElementTree import fromstring, iterparse

    from openpyxl.styles.numbers import is_date_format
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    file_obj.seek(0)
    with zipfile.ZipFile(file_obj) as archive:
        members = set(archive.namelist())
        workbook = fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        properties = workbook.find(f"{_MAIN}workbookPr")
        is_1904 = properties is not None and properties.get("date1904") in {"1", "true"}
        epoch = CALENDAR_MAC_1904 if is_1904 else CALENDAR_WINDOWS_1900
        first_sheet = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
        if first_sheet is None:
            return
        relations = fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        target = next(
            r.get("Target", "") for r in relations.iter(_PACKAGE_RELS) if r.get("Id") == first_sheet.get(_RELATIONSHIP)
        )
        sheet_path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else "xl/" + target)

        shared: list[str] = []
        if "xl/sharedStrings.xml" in members:
            with archive.open("xl/sharedStrings.xml") as stream:
                for _event, element in iterparse(stream):  # noqa: S314
                    if element.tag == f"{_MAIN}si":
                        shared.append(_plain_text(element))
                        element.clear()
        date_styles: set[int] = set()
        if "xl/styles.xml" in members:
            styles = fromstring(archive.read("xl/styles.xml"))  # noqa: S314
            custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in styles.iter(f"{_MAIN}numFmt")}
            cell_formats = styles.find(f"{_MAIN}cellXfs")
            for index, xf in enumerate(cell_formats if cell_formats is not None else []):
                format_id = int(xf.get("numFmtId", "0"))
                if format_id in _DATE_FORMAT_IDS or (format_id in custom and is_date_format(custom[format_id])):
                    date_styles.add(index)

        row_tag, cell_tag, value_tag, inline_tag = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}v", f"{_MAIN}is"
        with archive.open(sheet_path) as stream:
            values: dict[int, Any] = {}
            position = 0
            number = 0
            for _event, element in iterparse(stream):  # noqa: S314
                tag = element.tag
                if tag == cell_tag:
                    reference = element.get("r")
                    column = _column_index(reference) if reference else position
                    position = column + 1
                    kind = element.get("t", "n")
                    raw = element.findtext(value_tag)
                    value: Any = None
                    if kind == "s":
                        value = shared[int(raw)] if raw is not None else None
                    elif kind == "inlineStr":
                        inline = element.find(inline_tag)
                        value = _plain_text(inline) if inline is not None else None
                    elif raw is None:
                        value = None
                    elif kind in {"str", "e"}:
                        value = raw
                    elif kind == "b":
                        value = raw == "1"
                    elif kind == "d":
                        value = datetime.datetime.fromisoformat(raw.rstrip("Z"))
                    else:
                        number_value = float(raw) if any(c in raw for c in ".eE") else int(raw)
                        if int(element.get("s", "0")) in date_styles:
                            value = from_excel(number_value, epoch)
                        else:
                            value = number_value
                    if value is not None:
                        values[column] = value
                    element.clear()
                elif tag == row_tag:
                    row_number = element.get("r")
                    number = int(row_number) if row_number else number + 1
                    width = max(values) + 1 if values else 0
                    yield number, tuple(values.get(index) for index in range(width))
                    values = {}
                    position = 0
                    element.clear()


P = TypeVar("P")
RowIterator = Generator[tuple[int, tuple[Any, ...]], None, None]


def header_positions(header_row: tuple[Any, ...], known: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Return ({header: column index}, unknown headers, repeated headers) of a sheet's first row.

    Spaces and a leading * (templates mark required columns that way) are ignored.
    """
    positions: dict[str, int] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for index, value in enumerate(header_row):
        header = _text(value).replace(" ", "").lstrip("*")
        if not header:
            continue
        if header not in known:
            unknown.append(header)
        elif header in positions:
            duplicated.append(header)
        else:
            positions[header] = index
    return positions, unknown, duplicated


def read_sheet(
    file_obj: IO[bytes], new_result: Callable[[], P], parse_rows: Callable[[RowIterator, P], None]
) -> P | None:
    """Parse a workbook's rows with the fast reader, then openpyxl; None when neither can read it.

    The streaming reader handles what Excel, WPS and openpyxl write; anything odd gets a second chance in
    openpyxl. A damaged workbook fails in many ways (zip, XML, key and value errors), so any error moves on.
    """
    for reader in (_fast_rows, _open_rows):
        attempt = new_result()
        rows = reader(file_obj)
        try:
            parse_rows(rows, attempt)
            return attempt
        except Exception:
            logger.info("Sheet could not be read by %s", reader.__name__, exc_info=True)
        finally:
            rows.close()
    return None


def _header_error(header_row: tuple[Any, ...] | None) -> tuple[str, dict[str, int]]:
    """Return (error, {header: column index}) for the first row of the sheet."""
    if header_row is None:
        return _("The workbook has no header row; use the roster template."), {}
    positions, unknown, duplicated = header_positions(header_row, HEADERS)
    missing = [header for header in HEADERS if header not in positions]
    if missing:
        return _("These columns are missing: %(columns)s. Use the roster template.") % {
            "columns": "、".join(missing)
        }, positions
    if unknown:
        return _("These columns are not part of the roster: %(columns)s. Use the roster template.") % {
            "columns": "、".join(unknown)
        }, positions
    if duplicated:
        return _("These columns appear more than once: %(columns)s.") % {"columns": "、".join(duplicated)}, positions
    return "", positions


def inspect_roster(file_obj: IO[bytes], file_name: str) -> str:
    """Return a file-level error after reading only the header row, or '' when the file looks right."""
    error = check_file(file_obj, file_name)
    if error:
        return error
    error = _("The file could not be read as an Excel workbook; it may be damaged.")
    for reader in (_fast_rows, _open_rows):
        rows = reader(file_obj)
        try:
            first = next(rows, None)
            error = _header_error(first[1] if first else None)[0]
            break
        except Exception:  # noqa: S112 (a damaged workbook fails in many ways; try the next reader)
            continue
        finally:
            rows.close()
    file_obj.seek(0)
    return error


def parse_roster(file_obj: IO[bytes], file_name: str | None = None) -> RosterParse:
    """Read a roster workbook and validate every row in memory, collecting each bad cell's reason."""
    name = file_name if file_name is not None else str(getattr(file_obj, "name", "") or "")
    result = RosterParse(file_name=name.replace("\\", "/").rsplit("/", 1)[-1])
    result.file_error = check_file(file_obj, name)
    if result.file_error:
        return result
    vocabulary = _vocabulary()
    parsed = read_sheet(
        file_obj,
        lambda: RosterParse(file_name=result.file_name),
        lambda rows, attempt: _parse_rows(rows, attempt, vocabulary),
    )
    if parsed is not None:
        return parsed
    result.file_error = _("The file could not be read as an Excel workbook; it may be damaged.")
    return result


def _parse_rows(rows: Iterator[tuple[int, tuple[Any, ...]]], result: RosterParse, vocabulary: _Vocabulary) -> None:
    today = timezone.localdate()
    first = next(rows, None)
    result.file_error, positions = _header_error(first[1] if first else None)
    if result.file_error:
        return
    seen_uscc: dict[str, int] = {}
    seen_mobile: dict[str, int] = {}
    for number, values in rows:
        cells = {header: values[index] if index < len(values) else None for header, index in positions.items()}
        if all(_text(value) == "" for value in cells.values()):
            continue
        result.row_count += 1
        if result.row_count > MAX_ROWS:
            result.file_error = _("The roster has more than %(count)d rows; split it into smaller files.") % {
                "count": MAX_ROWS
            }
            result.rows, result.errors, result.row_count = [], [], 0
            return
        row = _parse_row(number, cells, vocabulary, today, seen_uscc, seen_mobile, result.errors)
        if row is not None:
            result.rows.append(row)


def _parse_row(
    number: int,
    cells: dict[str, Any],
    vocabulary: _Vocabulary,
    today: datetime.date,
    seen_uscc: dict[str, int],
    seen_mobile: dict[str, int],
    errors: list[RowError],
) -> RosterRow | None:
    """Validate one row; append its errors and return the row only when it has none."""
    found: list[RowError] = []

    def fail(column: str, message: str) -> None:
        found.append(RowError(number, column, message))

    name = " ".join(_text(cells[NAME]).split())
    if not name:
        fail(NAME, _("The enterprise name is empty."))
    elif len(name) > _NAME_MAX:
        fail(NAME, _("The name is longer than %(max)d characters.") % {"max": _NAME_MAX})

    uscc = ""
    raw_uscc = cells[USCC]
    try:
        uscc = normalize_uscc(unicodedata.normalize("NFKC", raw_uscc) if isinstance(raw_uscc, str) else raw_uscc)
    except ValidationError as exc:
        fail(USCC, exc.messages[0])
    if uscc:
        if uscc in seen_uscc:
            fail(
                USCC,
                _("The unified social credit code %(uscc)s also appears in row %(row)d.")
                % {"uscc": uscc, "row": seen_uscc[uscc]},
            )
        else:
            seen_uscc[uscc] = number

    industry = _code(cells[INDUSTRY])
    if industry and industry not in vocabulary.industries:
        # A class code typed into a number cell loses its leading zero (0111 → 111).
        padded = industry.zfill(len(industry) + 1) if industry.isdigit() else ""
        if padded in vocabulary.industries and not isinstance(cells[INDUSTRY], str):
            industry = padded
        else:
            fail(INDUSTRY, _("%(code)s is not a GB/T 4754-2017 industry code.") % {"code": industry})

    region = _code(cells[REGION])
    if region and region not in vocabulary.regions:
        fail(REGION, _("%(code)s is not a six-digit GB/T 2260 region code.") % {"code": region})

    size = _choice(cells[SIZE], vocabulary.sizes, SIZE, fail)
    ownership = _choice(cells[OWNERSHIP], vocabulary.ownerships, OWNERSHIP, fail)
    level = _choice(cells[LEVEL], vocabulary.levels, LEVEL, fail) or Membership.Level.MEMBER

    contact = " ".join(_text(cells[CONTACT]).split())
    if len(contact) > _CONTACT_MAX:
        fail(CONTACT, _("The name is longer than %(max)d characters.") % {"max": _CONTACT_MAX})
    mobile: str | None = None
    raw_mobile = _text(cells[MOBILE])
    if raw_mobile:
        try:
            mobile = _normalize_mobile(unicodedata.normalize("NFKC", raw_mobile))
        except ValidationError as exc:
            fail(MOBILE, exc.messages[0])
        if mobile and not contact:
            fail(CONTACT, _("The contact's name is needed with a mobile number."))
        if mobile:
            if mobile in seen_mobile:
                fail(
                    MOBILE,
                    _("Mobile number %(mobile)s also appears in row %(row)d.")
                    % {"mobile": mobile, "row": seen_mobile[mobile]},
                )
            else:
                seen_mobile[mobile] = number

    joined_on = _date(cells[JOINED], today, fail)

    if found:
        errors.extend(found)
        return None
    return RosterRow(
        row=number,
        name=name,
        uscc=uscc,
        industry_code=industry or None,
        region_code=region or None,
        size=size,
        ownership=ownership,
        contact_name=contact,
        contact_mobile=mobile,
        level=level,
        joined_on=joined_on,
    )


def _choice(value: Any, terms: dict[str, str], column: str, fail: Any) -> str:
    text = _text(value)
    if not text:
        return ""
    choice = terms.get(text.lower())
    if choice is None:
        fail(column, _("%(value)s is not an accepted value; see the 说明 sheet of the template.") % {"value": text})
        return ""
    return choice


def _date(value: Any, today: datetime.date, fail: Any) -> datetime.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    date: datetime.date | None = None
    if isinstance(value, datetime.datetime):
        date = value.date()
    elif isinstance(value, datetime.date):
        date = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        for pattern in _DATE_FORMATS:
            try:
                date = datetime.datetime.strptime(text, pattern).date()
                break
            except ValueError:
                continue
    if date is None:
        fail(JOINED, _("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": _text(value)})
        return None
    if date > today:
        fail(JOINED, _("The date %(date)s is in the future.") % {"date": date.isoformat()})
        return None
    return date


def search_fields(name: str) -> dict[str, str]:
    """Return the enterprise search keys (one pinyin pass; see core.text.name_keys)."""
    return enterprise_search_fields(name)


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


def _chunks(values: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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
    if parsed.file_error:
        raise DomainError(parsed.file_error, code="roster_file")
    result = ImportResult(rows=parsed.row_count, dry_run=dry_run)
    result.errors.extend(parsed.errors)
    if not dry_run:
        # One import at a time per organisation: the second waits and then sees the first one's rows.
        organization = Organization.objects.select_for_update().get(pk=organization.pk)

    rows = parsed.rows
    existing: dict[str, int] = {}
    for chunk in _chunks([row.uscc for row in rows]):
        existing.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    memberships: dict[int, tuple[str, datetime.date | None]] = {}
    for chunk in _chunks(list(existing.values())):
        for member_id, level, joined_on in Membership.objects.filter(
            organization=organization, enterprise_id__in=chunk
        ).values_list("enterprise_id", "level", "joined_on"):
            memberships[member_id] = (level, joined_on)
    people_by_mobile: dict[str | None, int | None] = {}
    for chunk in _chunks([row.contact_mobile for row in rows if row.contact_mobile]):
        people_by_mobile.update(Person.objects.filter(mobile__in=chunk).values_list("mobile", "enterprise_id"))
    unnumbered_people: set[tuple[int, str]] = set()
    for chunk in _chunks(list(existing.values())):
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

    result.errors.sort(key=lambda error: (error.row, HEADERS.index(error.column)))
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
    """Insert rows with one executemany: bulk_create's per-value preparation is most of a large import's time.

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
        cursor.executemany(sql, params)


def _write(
    organization: Organization,
    new_enterprises: list[RosterRow],
    new_memberships: list[RosterRow],
    new_people: list[RosterRow],
    enterprise_ids: dict[str, int],
) -> None:
    for batch in _chunks(new_enterprises, _BATCH):
        _insert(
            Enterprise,
            [
                {
                    "uscc": row.uscc,
                    "name": row.name,
                    "industry_id": row.industry_code,
                    "region_id": row.region_code,
                    "size": row.size,
                    "ownership": row.ownership,
                    **search_fields(row.name),
                }
                for row in batch
            ],
        )
    for chunk in _chunks([row.uscc for row in new_enterprises]):
        enterprise_ids.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    for batch in _chunks(new_memberships, _BATCH):
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
    name_keys: dict[str, str] = {}  # people's names repeat (张伟, 王芳…), their pinyin need not be worked out again
    for batch in _chunks(new_people, _BATCH):
        rows = []
        for row in batch:
            if row.contact_name not in name_keys:
                name_keys[row.contact_name] = search_fields(row.contact_name)["name_pinyin"][:120]
            rows.append(
                {
                    "name": row.contact_name,
                    "name_pinyin": name_keys[row.contact_name],
                    "mobile": row.contact_mobile,
                    "enterprise_id": enterprise_ids[row.uscc],
                    "is_primary_contact": True,
                }
            )
        _insert(Person, rows)


# --- exporting -----------------------------------------------------------------------------------


def neutralize(value: Any) -> Any:
    """Return a cell value that a spreadsheet will not run as a formula ('=…' becomes \"'=…\")."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


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
        values = [
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
        yield [neutralize(value) for value in values]


def write_workbook(rows: Iterable[list[Any]], headers: list[str] = EXPORT_HEADERS) -> tuple[bytes, int]:
    """Write rows into a write-only workbook and return its bytes and the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(DATA_SHEET_TITLE)
    sheet.append(headers)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


def _enterprise_chunks(queryset: Any, user: Any, chunk_size: int = 2000) -> Iterator[tuple[list[Enterprise], set[int]]]:
    """Yield the directory in chunks, each with its prefetches and the ids whose mobiles may be shown."""
    from django.db.models import Prefetch

    visible = Membership.objects.for_user(user, "view").select_related("organization").order_by("organization__path")
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
            yield chunk, _personal_ids(user, chunk)
            chunk = []
    if chunk:
        yield chunk, _personal_ids(user, chunk)


def _personal_ids(user: Any, enterprises: list[Enterprise]) -> set[int]:
    ids = [enterprise.pk for enterprise in enterprises]
    allowed: set[int] = set()
    for chunk in _chunks(ids):
        permitted = Enterprise.objects.for_user(user, "view_personal").filter(pk__in=chunk)
        allowed.update(permitted.values_list("pk", flat=True))
    return allowed


def export_directory(*, user: Any, filters: Any) -> tuple[bytes, int]:
    """Export the member directory the user sees, with the current filters, to xlsx; audited."""
    from qiaoliang.orgs.selectors import enterprise_directory

    queryset = enterprise_directory(user, filters)[:EXPORT_MAX_ROWS]

    def rows() -> Iterator[list[Any]]:
        for chunk, personal_ids in _enterprise_chunks(queryset, user):
            yield from directory_rows(chunk, personal_ids=personal_ids, organization_id=filters.organization)

    content, count = write_workbook(rows())
    audit.record(
        "orgs.directory.exported",
        actor=user,
        data={"filters": filters.as_query(), "rows": count, "capped": count >= EXPORT_MAX_ROWS},
    )
    return content, count


def error_lines(errors: Iterable[RowError]) -> list[str]:
    """Return the errors as '第N行 [列] 原因' lines in the active language."""
    return [str(error) for error in errors]


_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def is_token(value: str) -> bool:
    """Tell whether a string can be an upload token (so it is safe to use in a file name)."""
    return bool(_TOKEN_RE.match(value))
