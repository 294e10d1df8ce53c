"""The sheet reader and writer every import and export uses: bounded before read, column specs, typed cells.

Reading an upload (xlsx or csv) happens in three steps, so a hostile file is refused within seconds and in
little memory, before any parser allocates for it:

1. `check_upload`: the name's type, the compressed size, that an xlsx is a zip whose entries are few, whose
   declared uncompressed sizes and compression ratios are bounded.
2. `_scan_xlsx`: every XML entry is streamed (never more than its declared size: a lying header fails the
   CRC) and refused if it declares a DOCTYPE or entities (billion laughs, external entities); the worksheet's
   rows, cells per row, cell references (r="ZZZZZZZ1") and text runs are counted against the sheet's limits.
3. Only then python-calamine reads the first sheet (it allocates a dense grid as wide as the widest row and
   as tall as the last row, which step 2 has bounded).

A `SheetSpec` names the columns (`Column`: header, parser, required) and the limits; `read_sheet` matches the
header row, parses every cell with its column's parser and returns the rows with each bad cell's reason.
The writer neutralises formulas so an exported cell never runs in a spreadsheet.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from qiaoliang.core.codes import normalize_uscc

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MB = 1024 * 1024
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


class CellError(ValueError):
    """Raise from a column parser with the reason shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: the row number as the spreadsheet shows it, the column header and the reason."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        values = {"row": self.row, "column": self.column, "reason": self.message}
        return _("Row %(row)d [%(column)s] %(reason)s") % values


RowT = TypeVar("RowT")


@dataclass
class ParsedSheet(Generic[RowT]):
    """What an import file holds once read and checked: its rows, the errors in them, or one error about the whole
    file. Each importer names its own (RosterParse, SheetParse) with its row type."""

    file_name: str = ""
    rows: list[RowT] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    row_count: int = 0

    @property
    def is_valid(self) -> bool:
        return not self.file_error and not self.errors


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, how a cell becomes a value, whether the header must be there."""

    header: str
    parse: Callable[[Any], Any]
    required: bool = False
    key: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.key or self.header


@dataclass(frozen=True)
class SheetSpec:
    """The columns of a sheet and the limits an upload must keep to."""

    columns: tuple[Column, ...]
    max_rows: int
    max_columns: int = 26
    max_cell_chars: int = 5000
    allow_unknown_columns: bool = False
    what: str = ""  # how the error messages name the sheet ("roster", "resource sheet")
    hint: str = ""  # added to header errors ("Use the roster template.")

    def header_map(self) -> dict[str, Column]:
        mapping: dict[str, Column] = {}
        for column in self.columns:
            for header in (column.header, *column.aliases):
                mapping[normalize_header(header)] = column
        return mapping


@dataclass
class SheetRow:
    """One non-empty data row: its number and its parsed values by column name (absent columns are None)."""

    number: int
    values: dict[str, Any]
    raw: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)


@dataclass
class SheetResult:
    """What an upload holds: its rows, or one error about the whole file."""

    file_name: str = ""
    rows: list[SheetRow] = field(default_factory=list)
    file_error: str = ""
    headers: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]


class SheetRefusedError(Exception):
    """Raise when an upload is refused as a whole; the message says why."""


# --- limits --------------------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 20 * MB))


def max_uncompressed_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UNCOMPRESSED_BYTES", 200 * MB))


MAX_ZIP_ENTRIES = 2000
MAX_COMPRESSION_RATIO = 200
_SCAN_CHUNK = MB
_MAX_TAG_BYTES = 64 * 1024


def _size(file_obj: IO[bytes]) -> int | None:
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


def file_name_of(file_obj: Any, file_name: str | None = None) -> str:
    """Return the upload's base name (no directories; a name from a browser may hold either slash)."""
    name = file_name if file_name is not None else str(getattr(file_obj, "name", "") or "")
    return name.replace("\\", "/").rsplit("/", 1)[-1][:200]


def check_upload(file_obj: IO[bytes], file_name: str, *, extensions: tuple[str, ...] = (".xlsx",)) -> str:
    """Return why an upload cannot be read (type, size, zip structure) or '' when it may be scanned."""
    lower = file_name.lower()
    if not any(lower.endswith(extension) for extension in extensions):
        kinds = "、".join(extensions)
        return _("Only %(kinds)s files can be imported.") % {"kinds": kinds}
    size = _size(file_obj)
    if size is not None and size > max_upload_bytes():
        return _("The file is larger than the limit of %(limit)d MB.") % {"limit": max_upload_bytes() // MB}
    if size == 0:
        return _("The file is empty.")
    if lower.endswith(".csv"):
        return ""
    try:
        file_obj.seek(0)
        with zipfile.ZipFile(file_obj) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                return _("The file holds too many parts to be a spreadsheet.")
            names = {entry.filename for entry in entries}
            if "xl/workbook.xml" not in names:
                return _("The file could not be read as an Excel workbook; it may be damaged.")
            total = 0
            for entry in entries:
                total += entry.file_size
                ratio = entry.file_size / max(entry.compress_size, 1)
                if entry.file_size > max_uncompressed_bytes() or total > max_uncompressed_bytes():
                    return _("The file unpacks to more than %(limit)d MB; split it into smaller files.") % {
                        "limit": max_uncompressed_bytes() // MB
                    }
                if entry.file_size > MB and ratio > MAX_COMPRESSION_RATIO:
                    return _("The file is packed unusually tightly (a zip bomb?) and is refused.")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return _("The file is not an Excel .xlsx workbook or it is damaged.")
    finally:
        file_obj.seek(0)
    return ""


# --- the pre-scan -------------------------------------------------------------------------------------

_TAG_RE = re.compile(rb"<(row|c)(?=[\s>/])([^>]*)>")
_REF_RE = re.compile(rb'\br="([A-Za-z]*)(\d*)"')
_DOCTYPE_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + char - 64
        if number > 1_000_000:
            break
    return number


def _stream(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with archive.open(name) as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            yield chunk


def _scan_xlsx(file_obj: IO[bytes], spec: SheetSpec) -> None:
    """Stream every XML part and the worksheets; raise SheetRefusedError on what would hurt the parser."""
    max_text = spec.max_cell_chars * 4 + 1024  # UTF-8 bytes, with room for markup-free entities
    what = spec.what or _("sheet")
    file_obj.seek(0)
    with zipfile.ZipFile(file_obj) as archive:
        for entry in archive.infolist():
            name = entry.filename
            if not (name.endswith(".xml") or name.endswith(".rels")):
                continue
            is_sheet = name.startswith("xl/worksheets/")
            rows = cells_in_row = 0
            carry = 0  # bytes without a "<" at the end of what was scanned so far
            tail = b""
            long_text = re.compile(rb"[^<]{%d,}" % max_text)
            for chunk in _stream(archive, name):
                data = tail + chunk
                if _DOCTYPE_RE.search(data):
                    raise SheetRefusedError(
                        _("The file declares XML entities, which spreadsheets never need; it is refused.")
                    )
                first = data.find(b"<")
                # The longest stretch of text without markup: a 300 MB cell, a whitespace bomb.
                if carry + (len(data) if first < 0 else first) > max_text or long_text.search(data):
                    raise SheetRefusedError(
                        _("The file holds a text longer than %(max)d characters.") % {"max": spec.max_cell_chars}
                    )
                last = data.rfind(b"<")
                if last < 0:
                    carry += len(data)
                    tail = b""
                    continue
                if data.find(b">", last) < 0:  # an unfinished tag: scan it with the next chunk
                    tail, data = data[last:], data[:last]
                    if len(tail) > _MAX_TAG_BYTES:
                        raise SheetRefusedError(_("The file is not an Excel .xlsx workbook or it is damaged."))
                    carry = 0
                else:
                    tail = b""
                    carry = len(data) - last - 1
                if not is_sheet:
                    continue
                for match in _TAG_RE.finditer(data):
                    is_row = match.group(1) == b"row"
                    reference = _REF_RE.search(match.group(2))
                    if is_row:
                        rows += 1
                        cells_in_row = 0
                        number = int(reference.group(2)) if reference and reference.group(2) else rows
                        if rows > spec.max_rows + 1 or number > spec.max_rows + 1:
                            raise SheetRefusedError(
                                _("The %(what)s has more than %(count)d rows (empty formatted rows count too); "
                                  "delete the empty rows or split it into smaller files.")
                                % {"what": what, "count": spec.max_rows}
                            )  # fmt: skip
                        continue
                    cells_in_row += 1
                    column = cells_in_row
                    if reference is not None:
                        if reference.group(1):
                            column = _column_number(reference.group(1))
                        if reference.group(2) and int(reference.group(2)) > spec.max_rows + 1:
                            raise SheetRefusedError(
                                _("The %(what)s has more than %(count)d rows (empty formatted rows count too); "
                                  "delete the empty rows or split it into smaller files.")
                                % {"what": what, "count": spec.max_rows}
                            )  # fmt: skip
                    if column > spec.max_columns or cells_in_row > spec.max_columns:
                        raise SheetRefusedError(
                            _("The %(what)s has more than %(count)d columns; keep only the template's columns.")
                            % {"what": what, "count": spec.max_columns}
                        )
    file_obj.seek(0)


# --- cells ------------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """Return a cell as trimmed text; whole numbers lose the spreadsheet's '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.timedelta | datetime.time):
        return str(value)
    return str(value).strip()


def cell_code(value: Any) -> str:
    """Return a code cell folded to half-width upper case without spaces."""
    return unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "").upper()


def cell_date(value: Any) -> datetime.date | None:
    """Return a date from a date cell or text written YYYY-MM-DD (and the usual Chinese variants); None if empty.

    Raise CellError for anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        for pattern in DATE_FORMATS:
            try:
                return datetime.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
    raise CellError(_("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": cell_text(value)})


def parse_uscc(value: Any) -> str:
    """Return a valid USCC (half-width, upper case) or raise with the reason the code is wrong."""
    try:
        return normalize_uscc(unicodedata.normalize("NFKC", value) if isinstance(value, str) else value)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc


def industry_parser(resolver: Any) -> Any:
    """Return a parser of industry cells through a `core.industries.IndustryResolver`: codes of any level (a class
    code typed into a number cell gets its leading zero back), class names and common words."""

    def parse(value: Any) -> str | None:
        match = resolver.resolve(value)
        if match.error:
            raise CellError(match.error)
        return match.code

    return parse


def choice_terms(choices: Any, words: dict[str, str]) -> dict[str, str]:
    """Return the accepted spellings of a choice: the Chinese words, the stored values and the English labels."""
    terms = {key.lower(): value for key, value in words.items()}
    with translation.override("en"):
        for value, label in choices.choices:
            terms[str(value).lower()] = value
            terms[str(label).lower()] = value
    return terms


def chunks(values: list[Any], size: int = 900) -> Iterator[list[Any]]:
    """Yield slices small enough for an IN (...) on every database (SQLite's old parameter limit)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def normalize_header(value: Any) -> str:
    """Return a header cell as compared: spaces and the * templates use for required columns removed."""
    return unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "").lstrip("*")


# --- reading -------------------------------------------------------------------------------------------------


def _xlsx_rows(file_obj: IO[bytes]) -> Iterator[list[Any]]:
    file_obj.seek(0)
    workbook = CalamineWorkbook.from_filelike(file_obj)  # type: ignore[arg-type]
    try:
        if not workbook.sheet_names:
            return
        sheet = workbook.get_sheet_by_index(0)
        yield from sheet.iter_rows()
    finally:
        workbook.close()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetRefusedError(_("The CSV file is neither UTF-8 nor GBK text."))


def _csv_rows(file_obj: IO[bytes], spec: SheetSpec) -> Iterator[list[Any]]:
    file_obj.seek(0)
    data = file_obj.read(max_upload_bytes() + 1)
    if b"\x00" in data:
        raise SheetRefusedError(_("The CSV file holds binary data."))
    text = _decode(data)
    csv.field_size_limit(spec.max_cell_chars * 4 + 1024)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for count, row in enumerate(reader, start=1):
            if count > spec.max_rows + 1:
                raise SheetRefusedError(
                    _("The %(what)s has more than %(count)d rows; split it into smaller files.")
                    % {"what": spec.what or _("sheet"), "count": spec.max_rows}
                )
            if len(row) > spec.max_columns:
                raise SheetRefusedError(
                    _("The %(what)s has more than %(count)d columns; keep only the template's columns.")
                    % {"what": spec.what or _("sheet"), "count": spec.max_columns}
                )
            yield row
    except csv.Error as exc:
        raise SheetRefusedError(
            _("The file holds a text longer than %(max)d characters.") % {"max": spec.max_cell_chars}
        ) from exc


def open_rows(file_obj: IO[bytes], file_name: str, spec: SheetSpec) -> Generator[list[Any], None, None]:
    """Check and scan an upload, then yield its first sheet's rows as lists (raise SheetRefusedError)."""
    error = check_upload(file_obj, file_name, extensions=(".xlsx", ".csv") if file_name.lower().endswith(".csv")
                         else (".xlsx",))  # fmt: skip
    if error:
        raise SheetRefusedError(error)
    if file_name.lower().endswith(".csv"):
        yield from _csv_rows(file_obj, spec)
        return
    try:
        _scan_xlsx(file_obj, spec)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise SheetRefusedError(_("The file is not an Excel .xlsx workbook or it is damaged.")) from exc
    try:
        yield from _xlsx_rows(file_obj)
    except SheetRefusedError:
        raise
    except Exception as exc:  # calamine raises its own errors for the many ways a workbook can be damaged
        raise SheetRefusedError(_("The file could not be read as an Excel workbook; it may be damaged.")) from exc


def match_headers(header_row: list[Any], spec: SheetSpec) -> tuple[dict[int, Column], str]:
    """Return {column index: Column} of a header row, or an error naming missing, unknown or repeated columns."""
    by_header = spec.header_map()
    positions: dict[int, Column] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    repeated: list[str] = []
    for index, value in enumerate(header_row):
        header = normalize_header(value)
        if not header:
            continue
        column = by_header.get(header)
        if column is None:
            unknown.append(header[:40])
        elif column.name in seen:
            repeated.append(column.header)
        else:
            seen.add(column.name)
            positions[index] = column
    missing = [column.header for column in spec.columns if column.required and column.name not in seen]
    what = spec.what or _("sheet")
    error = ""
    if missing:
        error = _("These columns are missing: %(columns)s.") % {"columns": "、".join(missing)}
    elif unknown and not spec.allow_unknown_columns:
        error = _("These columns are not part of the %(what)s: %(columns)s. The columns are: %(headers)s.") % {
            "what": what,
            "columns": "、".join(unknown[:10]),
            "headers": "、".join(column.header for column in spec.columns),
        }
    elif repeated:
        error = _("These columns appear more than once: %(columns)s.") % {"columns": "、".join(repeated)}
    return positions, f"{error} {spec.hint}" if error and spec.hint else error


def read_sheet(file_obj: IO[bytes], spec: SheetSpec, file_name: str | None = None) -> SheetResult:
    """Read an upload's first sheet and parse every non-empty row with the spec's column parsers."""
    name = file_name_of(file_obj, file_name)
    result = SheetResult(file_name=name)
    try:
        rows = open_rows(file_obj, name, spec)
        header = next(rows, None)
        if header is None:
            result.file_error = _("The workbook has no header row; the first row must hold the column names.")
            if spec.hint:
                result.file_error = f"{result.file_error} {spec.hint}"
            return result
        positions, result.file_error = match_headers(header, spec)
        result.headers = [column.header for column in positions.values()]
        if result.file_error:
            return result
        for number, values in enumerate(rows, start=2):
            raw = {column.name: values[index] if index < len(values) else None for index, column in positions.items()}
            if all(cell_text(value) == "" for value in raw.values()):
                continue
            row = SheetRow(number=number, values={column.name: None for column in spec.columns}, raw=raw)
            for column in positions.values():
                value = raw[column.name]
                if isinstance(value, str) and len(value) > spec.max_cell_chars:
                    row.errors.append(
                        RowError(number, column.header,
                                 _("The text is longer than %(max)d characters.") % {"max": spec.max_cell_chars})
                    )  # fmt: skip
                    continue
                try:
                    row.values[column.name] = column.parse(value)
                except CellError as exc:
                    row.errors.append(RowError(number, column.header, exc.message))
            result.rows.append(row)
    except SheetRefusedError as exc:
        result.file_error = str(exc)
        result.rows = []
    finally:
        file_obj.seek(0)
    if not result.file_error and not result.rows:
        result.file_error = _("The file holds no rows to import below its header row.")
    return result


# --- writing -------------------------------------------------------------------------------------------------


def neutralize(value: Any) -> Any:
    """Return a cell value that a spreadsheet will not run as a formula ('=…' becomes \"'=…\")."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def write_workbook(rows: Iterable[list[Any]], headers: list[str], *, title: str = "Sheet1") -> tuple[bytes, int]:
    """Write rows under a header into a write-only workbook (formulas neutralised); return bytes and row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    count = 0
    for row in rows:
        sheet.append([neutralize(value) for value in row])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count
