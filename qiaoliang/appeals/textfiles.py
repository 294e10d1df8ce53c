"""Read the text and label columns of a CSV file of appeals, bounded and encoding-tolerant.

The file is checked before it is parsed: its size is bounded, its encoding is found by decoding it
once as a stream (UTF-8 with or without a BOM, UTF-16 with a BOM, else GB18030, the superset of GBK
and GB2312 that Excel on a Chinese Windows writes), and every physical line is read with a length
bound so that a file of one huge line cannot exhaust memory. Then the csv module parses it (cells
may hold newlines). Header names are matched after stripping spaces, the BOM and zero-width
characters. Rows are numbered from 1 (the first data row) and blank lines are skipped, as
`csv.DictReader` and spreadsheet tools do. Text cells longer than `max_cell_chars` are truncated,
not refused.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_LINE_CHARS = 8 * 1024 * 1024
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 20_000

_CHUNK = 1024 * 1024
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00a0\u3000"


class TextFileError(ValueError):
    """A file that cannot be read as a table of appeals; the message is for the user."""


@dataclass(frozen=True)
class Table:
    """The columns asked for, one entry per data row in file order."""

    texts: list[list[str]]
    labels: list[str] | None
    encoding: str
    truncated_cells: int


@dataclass(frozen=True)
class LabelledRows:
    """The rows of a labelled file that have a label and some text (the others are counted, not kept)."""

    documents: list[list[str]]
    labels: list[str]
    left_out: int
    encoding: str
    truncated_cells: int


def clean_header(name: str) -> str:
    """Return a header name as it is matched: NFKC-folded, without spaces, BOM or zero-width characters."""
    name = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in name if not ch.isspace() and ch not in _INVISIBLE)


def parse_column_list(value: str) -> list[str]:
    """Split a `COL[,COL]` option (ASCII or full-width commas) into cleaned, distinct column names."""
    names = [clean_header(part) for part in value.replace("，", ",").split(",")]
    names = list(dict.fromkeys(name for name in names if name))
    if not names:
        raise TextFileError(_("Name at least one text column."))
    return names


def detect_encoding(path: Path) -> str:
    """Return the codec that decodes the whole file: utf-8-sig, utf-16 (with a BOM) or gb18030."""
    with path.open("rb") as handle:
        head = handle.read(4)
    has_utf16_bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    candidates = ["utf-16"] if has_utf16_bom else ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise TextFileError(_("The file is neither UTF-8, UTF-16 nor GBK/GB18030 text; save it as CSV (UTF-8)."))


def _bounded_lines(handle: io.TextIOBase) -> Iterator[str]:
    """Yield the physical lines of a text stream, refusing one longer than MAX_LINE_CHARS."""
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS:
            raise TextFileError(
                _("A line of the file is longer than %(limit)d characters.") % {"limit": MAX_LINE_CHARS}
            )
        yield line


def _delimiter(first_line: str) -> str:
    """Return the separator: a comma, or a tab when the header has tabs and no comma (a TSV export)."""
    if "," not in first_line and "\t" in first_line:
        return "\t"
    return ","


def check_file(path: Path) -> None:
    """Raise TextFileError unless the path is a readable, non-empty file within the size bound."""
    if not path.exists():
        raise TextFileError(_("File not found: %(path)s") % {"path": path})
    if not path.is_file():
        raise TextFileError(_("Not a file: %(path)s") % {"path": path})
    size = path.stat().st_size
    if size == 0:
        raise TextFileError(_("The file is empty: %(path)s") % {"path": path})
    if size > MAX_FILE_BYTES:
        raise TextFileError(
            _("The file is %(size)d MB; at most %(limit)d MB can be read.")
            % {"size": size // (1024 * 1024), "limit": MAX_FILE_BYTES // (1024 * 1024)}
        )


def _find_columns(header: list[str], wanted: list[str]) -> list[int]:
    cleaned = [clean_header(name) for name in header]
    missing = [name for name in wanted if name not in cleaned]
    if missing:
        raise TextFileError(
            _("Column not found: %(missing)s. The file's columns are: %(found)s.")
            % {"missing": ", ".join(missing), "found": ", ".join(name for name in cleaned if name) or "-"}
        )
    return [cleaned.index(name) for name in wanted]


@contextlib.contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """Raise the csv module's process-wide field limit while this file is read, then put the previous one back
    (core.sheets keeps the imports' limit low; a lasting change here would loosen it for the rest of the process)."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def read_table(
    path: Path | str,
    *,
    text_columns: list[str],
    label_column: str | None = None,
    max_rows: int = MAX_ROWS,
    max_cell_chars: int = MAX_CELL_CHARS,
) -> Table:
    """Return the text cells (and labels) of every data row; raise TextFileError for an unusable file.

    A short row has empty cells for its missing columns; labels are stripped of surrounding spaces.
    """
    path = Path(path)
    check_file(path)
    encoding = detect_encoding(path)
    wanted = list(text_columns) + ([clean_header(label_column)] if label_column is not None else [])
    texts: list[list[str]] = []
    labels: list[str] = []
    truncated = 0
    with _field_size_limit(MAX_FILE_BYTES), path.open("r", encoding=encoding, newline="") as handle:
        lines = _bounded_lines(handle)
        first = next(lines, "")
        if not first.strip():
            raise TextFileError(_("The file has no header row: %(path)s") % {"path": path})
        delimiter = _delimiter(first)

        def all_lines() -> Iterator[str]:
            yield first
            yield from lines

        reader = csv.reader(all_lines(), delimiter=delimiter)
        try:
            header = next(reader)
            if len(header) > MAX_COLUMNS:
                raise TextFileError(_("The file has more than %(limit)d columns.") % {"limit": MAX_COLUMNS})
            indexes = _find_columns(header, wanted)
            text_indexes = indexes[: len(text_columns)]
            for row in reader:
                if not row:
                    continue  # a blank line, skipped as csv.DictReader does
                if len(texts) >= max_rows:
                    raise TextFileError(_("The file has more than %(limit)d rows.") % {"limit": max_rows})
                cells = []
                for index in text_indexes:
                    value = row[index] if index < len(row) else ""
                    if len(value) > max_cell_chars:
                        value = value[:max_cell_chars]
                        truncated += 1
                    cells.append(value)
                texts.append(cells)
                if label_column is not None:
                    label_index = indexes[-1]
                    labels.append(row[label_index].strip()[:200] if label_index < len(row) else "")
        except csv.Error as error:
            raise TextFileError(
                _("The file is not valid CSV (line %(line)d): %(error)s") % {"line": reader.line_num, "error": error}
            ) from error
    if not texts:
        raise TextFileError(_("The file has no data rows: %(path)s") % {"path": path})
    return Table(
        texts=texts, labels=labels if label_column is not None else None, encoding=encoding, truncated_cells=truncated
    )


def read_labelled(path: Path | str, *, text_columns: list[str], label_column: str) -> LabelledRows:
    """Return the rows that have a label and some text; raise TextFileError unless two labels at least remain.

    The label column may not be one of the text columns (the model would learn the answer from the question).
    """
    label_column = clean_header(label_column)
    if not label_column:
        raise TextFileError(_("Name the label column."))
    if label_column in text_columns:
        raise TextFileError(_("The label column %(column)s cannot also be a text column.") % {"column": label_column})
    table = read_table(path, text_columns=text_columns, label_column=label_column)
    labels = table.labels or []
    kept = [i for i, label in enumerate(labels) if label and any(cell.strip() for cell in table.texts[i])]
    kept_labels = [labels[i] for i in kept]
    distinct = len(set(kept_labels))
    if distinct < 2:
        raise TextFileError(
            ngettext(
                "The label column %(column)s has %(count)d distinct label; at least 2 are needed to train.",
                "The label column %(column)s has %(count)d distinct labels; at least 2 are needed to train.",
                distinct,
            )
            % {"column": label_column, "count": distinct}
        )
    return LabelledRows(
        documents=[table.texts[i] for i in kept],
        labels=kept_labels,
        left_out=len(labels) - len(kept),
        encoding=table.encoding,
        truncated_cells=table.truncated_cells,
    )


def truncation_note(count: int) -> str:
    """Return the note that some text cells were truncated."""
    return ngettext(
        "%(count)d very long text cell was truncated to %(limit)d characters.",
        "%(count)d very long text cells were truncated to %(limit)d characters.",
        count,
    ) % {"count": count, "limit": MAX_CELL_CHARS}


def left_out_note(count: int) -> str:
    """Return the note that some rows were left out of training for want of a label or text."""
    return ngettext(
        "%(count)d row without a label or without text was left out.",
        "%(count)d rows without a label or without text were left out.",
        count,
    ) % {"count": count}
