"""Read the columns of a UTF-8 CSV file of sentences or entries, bounded before and while it is read.

The file's size is checked before it is opened (`MAX_FILE_BYTES`), every physical line is read with a length
bound (`MAX_LINE_CHARS`, so that a file of one huge line cannot exhaust memory), the csv module parses with a
field size bound of `MAX_CELL_CHARS` characters, and at most `MAX_ROWS` data rows are read. The file must be
UTF-8 (with or without a byte order mark); anything else is refused with a message saying so. Header names
are matched after removing spaces, the byte order mark and zero-width characters; extra columns are ignored.
"""

from __future__ import annotations

import contextlib
import csv
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from django.utils.translation import gettext as _

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_CELL_CHARS = 20_000
MAX_LINE_CHARS = 1_000_000
MAX_COLUMNS = 1_000
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00a0\u3000"


class CsvFileError(ValueError):
    """A file that cannot be read as the expected table; the message is for the user (English msgid + 中文)."""


def clean_header(name: str) -> str:
    """Return a header name as it is matched: NFKC-folded, lower case, without spaces or invisible characters."""
    name = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in name if not ch.isspace() and ch not in _INVISIBLE).lower()


def check_file(path: Path, *, max_bytes: int | None = None) -> None:
    """Raise CsvFileError unless path is an existing, non-empty file of at most max_bytes (default MAX_FILE_BYTES)."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    if not path.exists():
        raise CsvFileError(_("File not found (文件不存在): %(path)s") % {"path": path})
    if not path.is_file():
        raise CsvFileError(_("Not a file (不是文件): %(path)s") % {"path": path})
    size = path.stat().st_size
    if size == 0:
        raise CsvFileError(_("The file is empty (文件为空): %(path)s") % {"path": path})
    if size > max_bytes:
        raise CsvFileError(
            _("The file is %(size)d MB; at most %(limit)d MB can be read (文件过大).")
            % {"size": size // (1024 * 1024), "limit": max_bytes // (1024 * 1024)}
        )


def _bounded_lines(handle: TextIO) -> Iterator[str]:
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS:
            raise CsvFileError(
                _("A line of the file is longer than %(limit)d characters (行过长).") % {"limit": MAX_LINE_CHARS}
            )
        yield line


@contextlib.contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """Set the csv module's process-wide field limit while this file is read, then put the previous one back."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def read_columns(
    path: Path | str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    max_rows: int | None = None,
    max_cell_chars: int | None = None,
    max_bytes: int | None = None,
) -> list[dict[str, str]]:
    """Return one dict per data row with the required columns and the optional ones present, in file order.

    Blank lines are skipped; a short row has empty cells for its missing columns. The bounds default to the
    module's constants.
    """
    max_rows = MAX_ROWS if max_rows is None else max_rows
    max_cell_chars = MAX_CELL_CHARS if max_cell_chars is None else max_cell_chars
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    path = Path(path)
    check_file(path, max_bytes=max_bytes)
    rows: list[dict[str, str]] = []
    try:
        with (
            _field_size_limit(max_cell_chars),
            path.open("r", encoding="utf-8-sig", errors="strict", newline="") as handle,
        ):
            reader = csv.reader(_bounded_lines(handle))
            header = next(reader, None)
            if not header or not any(cell.strip() for cell in header):
                raise CsvFileError(_("The file has no header row (缺少表头): %(path)s") % {"path": path})
            if len(header) > MAX_COLUMNS:
                raise CsvFileError(_("The file has more than %(limit)d columns (列数过多).") % {"limit": MAX_COLUMNS})
            cleaned = [clean_header(name) for name in header]
            missing = [name for name in required if clean_header(name) not in cleaned]
            if missing:
                raise CsvFileError(
                    _("Column not found (缺少列): %(missing)s. The file's columns are (文件的列): %(found)s.")
                    % {"missing": ", ".join(missing), "found": ", ".join(name for name in cleaned if name) or "-"}
                )
            wanted = {
                name: cleaned.index(clean_header(name))
                for name in [*required, *optional]
                if clean_header(name) in cleaned
            }
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(rows) >= max_rows:
                    raise CsvFileError(_("The file has more than %(limit)d rows (行数过多).") % {"limit": max_rows})
                rows.append({name: row[index] if index < len(row) else "" for name, index in wanted.items()})
    except UnicodeDecodeError as error:
        raise CsvFileError(
            _("The file is not UTF-8 text; save it as CSV UTF-8 (文件不是 UTF-8 编码，请另存为 CSV UTF-8): %(path)s")
            % {"path": path}
        ) from error
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise CsvFileError(
                _("A cell of the file is longer than %(limit)d characters (单元格过长).") % {"limit": max_cell_chars}
            ) from error
        raise CsvFileError(
            _("The file is not a readable CSV file (无法读取 CSV): %(error)s") % {"error": error}
        ) from error
    return rows
