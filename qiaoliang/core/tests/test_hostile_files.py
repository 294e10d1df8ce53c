"""Test the corpus of hostile upload files itself: it builds quickly and lightly, and holds what it says.

No database and no project code: these tests only check the files, so that the tests of the upload and import
paths can trust them. Large entries are measured by streaming inflation, 1 MiB at a time, with a cap.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

import openpyxl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from qiaoliang.core.tests import hostile_files as hostile
from qiaoliang.core.tests.hostile_files import GIB, KIB, MIB, HostileFile

ROOT = Path(__file__).resolve().parents[3]
MAGIC = {".pdf": b"%PDF", ".jpg": b"\xff\xd8\xff", ".png": b"\x89PNG", ".docx": b"PK\x03\x04", ".xlsx": b"PK\x03\x04"}
PACKAGE_PARTS = {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                 "xl/worksheets/sheet1.xml", "xl/styles.xml"}  # fmt: skip
SHEET = "xl/worksheets/sheet1.xml"


def by_name(name: str) -> HostileFile:
    """Return the corpus file of that name."""
    return hostile.find(name)


def raw_entry(archive: bytes, name: str) -> tuple[zipfile.ZipInfo, memoryview]:
    """Return the central-directory record of an entry and its raw (still deflated) bytes."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        info = opened.getinfo(name)
    name_length, extra_length = struct.unpack_from("<2H", archive, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    return info, memoryview(archive)[start : start + info.compress_size]


def inflate(raw: bytes | memoryview, cap: int) -> Iterator[bytes]:
    """Yield what a raw deflate stream inflates to, 1 MiB at a time, stopping once more than cap bytes came out."""
    decompressor = zlib.decompressobj(-15)
    total = 0
    for start in range(0, len(raw), 64 * KIB):
        data = raw[start : start + 64 * KIB]
        while data:
            out = decompressor.decompress(data, MIB)
            data = decompressor.unconsumed_tail
            total += len(out)
            yield out
            if total > cap:
                return
        if decompressor.eof:
            return


def measure(raw: bytes | memoryview, cap: int, needle: bytes = b"") -> tuple[int, int, int, bytes]:
    """Return the inflated length (up to about cap), its CRC-32, the count of needle and the last 1 KiB."""
    total = crc = count = 0
    tail = b""
    for out in inflate(raw, cap):
        total += len(out)
        crc = zlib.crc32(out, crc)
        if needle:
            count += (tail[-(len(needle) - 1) :] + out[: len(needle) - 1]).count(needle) + out.count(needle)
        tail = (tail + out)[-KIB:]
    return total, crc, count, tail


def parse_without_expanding(data: bytes) -> dict[str, tuple[str | None, str | None]]:
    """Check that data is well-formed XML without expanding any entity; return the declared {entity: (value, uri)}.

    Expat always expands entities in attribute values, so the sheet name of the workbook variant of the billion
    laughs is swapped for a small entity first.
    """
    data = data.replace(b'name="&lol9;"', b'name="&lol1;"')
    parser = expat.ParserCreate()
    entities: dict[str, tuple[str | None, str | None]] = {}

    def declare(name: str, _parameter: int, value: str | None, _base: str | None, system: str | None, *_: object):
        entities[name] = (value, system)

    parser.EntityDeclHandler = declare
    parser.DefaultHandler = lambda _data: None  # a default handler keeps expat from expanding internal entities
    parser.Parse(data, True)
    return entities


# --- the corpus as a whole ------------------------------------------------------------


def test_corpus_builds_in_seconds_and_under_100_mb():
    script = (
        "import json, resource, time\n"
        "from qiaoliang.core.tests import hostile_files\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "start = time.perf_counter()\n"
        "files = hostile_files.all_files()\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'seconds': seconds, 'base_kib': base, 'peak_kib': peak, 'files': len(files),\n"
        "                  'held': sum(f.size for f in files)}))\n"
    )
    command = [sys.executable, "-c", script]  # a fresh interpreter, so that the cache and peak memory start empty
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["seconds"] < 10
    assert (report["peak_kib"] - report["base_kib"]) / 1024 < 100
    assert report["held"] < 64 * MIB


def test_every_file_is_described_once():
    files = hostile.all_files()
    assert files == [*hostile.xlsx_files(), *hostile.csv_files(), *hostile.attachment_files()]
    assert len({hostile_file.name for hostile_file in files}) == len(files)
    assert len({hostile_file.ident for hostile_file in files}) == len(files)
    for hostile_file in files:
        assert isinstance(hostile_file.content, bytes)
        assert hostile_file.kind in hostile.KINDS
        assert re.fullmatch(r"[a-z0-9_]+", hostile_file.threat)
        assert hostile_file.description.strip()
        assert "content" not in repr(hostile_file)  # the bytes stay out of test reports
    assert {f.kind for f in files} == {"xlsx", "csv", "attachment"}
    assert {f.threat for f in files if f.accepted} == hostile.ACCEPTED_THREATS
    for kind in hostile.KINDS:
        assert any(f.accepted for f in files if f.kind == kind), kind
        assert any(not f.accepted for f in files if f.kind == kind), kind
    with pytest.raises(ValueError):
        HostileFile("x.txt", b"", "text", "benign", "no such kind")


def test_threats_cover_the_brief():
    threats = {f.threat for f in hostile.all_files()}
    assert threats >= {
        "huge_column_ref", "huge_row_ref", "whitespace_bomb", "huge_cell", "many_empty_rows", "many_columns",
        "billion_laughs", "external_entity", "lying_zip_size", "many_entries", "zip_bomb_nested", "not_a_zip",
        "formula_cells", "many_lines", "long_line", "nul_bytes", "invalid_utf8", "gbk_encoding", "benign_bom",
        "png_svg_script", "pdf_html", "fake_zip_header", "zip_not_docx", "xlsx_as_docx", "jpeg_html",
        "polyglot_gif_js", "pdf_javascript", "executable", "path_traversal", "nul_in_name", "rtl_override_name",
        "benign",
    }  # fmt: skip


def test_corpus_is_cached():
    first = hostile.all_files()
    start = time.perf_counter()
    second = hostile.all_files()
    assert time.perf_counter() - start < 0.01
    assert all(a is b for a, b in zip(first, second, strict=True))
    first.clear()  # callers get their own list
    assert hostile.all_files() == second


def test_files_fit_under_the_upload_limits():
    for hostile_file in hostile.all_files():
        assert hostile_file.size < hostile.IMPORT_LIMIT_BYTES, hostile_file.ident
        if hostile_file.kind == "attachment":
            assert hostile_file.size < hostile.ATTACHMENT_LIMIT_BYTES, hostile_file.ident


@pytest.mark.parametrize(
    ("name", "at_most"),
    [
        ("roster_huge_column.xlsx", 3 * KIB),
        ("roster_whitespace.xlsx", 1536 * KIB),
        ("roster_huge_cell.xlsx", 512 * KIB),
        ("roster_lying_size.xlsx", 1 * MIB),
        ("roster_nested_zip.xlsx", 64 * KIB),
        ("roster_empty_rows.xlsx", 6 * MIB),
        ("roster_empty_cells.xlsx", 12 * MIB),
        ("roster_many_entries.xlsx", 12 * MIB),
        ("roster_many_columns.xlsx", 256 * KIB),
    ],
)
def test_bombs_are_small(name, at_most):
    assert by_name(name).size <= at_most


# --- the building blocks --------------------------------------------------------------


def test_crc32_helpers_agree_with_zlib():
    generator = random.Random(7)
    for _ in range(20):
        first, second = generator.randbytes(generator.randrange(0, 300)), generator.randbytes(generator.randrange(300))
        combined = hostile.crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
        assert combined == zlib.crc32(first + second)
        count = generator.randrange(0, 70)
        assert hostile.crc32_repeat(second, count) == zlib.crc32(second * count)


def test_repeated_deflate_inflates_to_the_repeats():
    deflated = hostile.deflate_repeated(b"<head>", b"0123456789" * 700, 37, b"<tail>")
    expected = b"<head>" + b"0123456789" * 700 * 37 + b"<tail>"
    stream = b"".join(deflated.pieces)
    assert zlib.decompress(stream, -15) == expected
    assert (deflated.size, deflated.crc) == (len(expected), zlib.crc32(expected))
    assert deflated.compressed_size == len(stream) < len(expected) // 10


def test_zip_builder_writes_archives_zipfile_reads():
    builder = hostile.ZipBuilder()
    builder.add("a.txt", b"hello " * 100)
    builder.add("目录/数据.txt", "桥梁".encode(), compress=False)
    builder.add_deflated("big", hostile.deflate_repeated(b"", b"z" * KIB, 3000, b"!"))
    archive = builder.getvalue()
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.testzip() is None
        assert opened.namelist() == ["a.txt", "目录/数据.txt", "big"]
        assert opened.read("目录/数据.txt").decode() == "桥梁"
        assert opened.getinfo("big").file_size == 3000 * KIB + 1
    patched = hostile.patch_declared_size(archive, "a.txt", 6)
    with zipfile.ZipFile(io.BytesIO(patched)) as opened:
        assert opened.getinfo("a.txt").file_size == 6
        assert struct.unpack_from("<L", patched, opened.getinfo("a.txt").header_offset + 22)[0] == 6


def test_column_letters():
    assert [hostile.column_letter(n) for n in (1, 26, 27, 702, 703, 16_384, 18_278, 18_279)] == [
        "A", "Z", "AA", "ZZ", "AAA", "XFD", "ZZZ", "AAAA",
    ]  # fmt: skip


def test_uscc_codes_are_valid():
    assert all(stdnum_uscc.is_valid(hostile.uscc(serial)) for serial in range(400))


# --- xlsx -----------------------------------------------------------------------------


def read_rows(content: bytes, *, data_only: bool = True, limit: int = 20) -> list[tuple]:
    """Return the first rows of the first sheet, as openpyxl reads them in read-only mode."""
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=data_only)
    try:
        rows = []
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append(row)
            if len(rows) == limit:
                break
        return rows
    finally:
        workbook.close()


def test_benign_xlsx_opens_in_openpyxl():
    content = hostile.benign_xlsx()
    assert read_rows(content) == [tuple(hostile.ROSTER_HEADERS), ("北京桥梁测试科技有限公司", hostile.uscc(1))]
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["会员名册"]
    assert workbook.active["B2"].value == hostile.uscc(1)
    assert by_name("roster_benign.xlsx").content == by_name("sheet.xlsx").content == content


def test_benign_xlsx_opens_in_calamine():
    calamine = pytest.importorskip("python_calamine")
    sheet = calamine.CalamineWorkbook.from_filelike(io.BytesIO(hostile.benign_xlsx())).get_sheet_by_index(0)
    assert sheet.to_python() == [hostile.ROSTER_HEADERS, ["北京桥梁测试科技有限公司", hostile.uscc(1)]]


def test_minimal_xlsx_takes_shared_strings_and_extra_parts():
    content = hostile.minimal_xlsx(
        hostile.sheet_xml(b'<row r="1">' + hostile.shared_cell_xml("A1", 0) + hostile.cell_xml("B1", 12) + b"</row>"),
        hostile.shared_strings_xml(["共享"]),
        extra={"docProps/custom.xml": b"<x/>"},
        compresslevel=0,
    )
    assert read_rows(content) == [("共享", 12)]
    with zipfile.ZipFile(io.BytesIO(content)) as opened:
        assert set(opened.namelist()) == PACKAGE_PARTS | {"xl/sharedStrings.xml", "docProps/custom.xml"}


def test_zipped_xlsx_files_are_well_formed_packages():
    for hostile_file in hostile.xlsx_files():
        if hostile_file.threat in {"not_a_zip", "many_entries"}:  # many_entries: see test_many_entries
            continue
        with zipfile.ZipFile(io.BytesIO(hostile_file.content)) as opened:
            assert set(opened.namelist()) >= PACKAGE_PARTS, hostile_file.ident
            for info in opened.infolist():
                small = info.compress_size < 64 * KIB and info.file_size < 4 * MIB
                if small and info.filename.endswith((".xml", ".rels")) and hostile_file.threat != "lying_zip_size":
                    parse_without_expanding(opened.read(info))


@pytest.mark.parametrize("name", ["roster_huge_column.xlsx", "roster_row_1048577.xlsx", "roster_row_99999999.xlsx"])
def test_huge_references(name):
    with zipfile.ZipFile(io.BytesIO(by_name(name).content)) as opened:
        sheet = ElementTree.fromstring(opened.read(SHEET))  # noqa: S314 (our own small file)
    references = [cell.get("r") for cell in sheet.iter(f"{{{hostile.MAIN_NS}}}c")]
    assert references[:2] == ["A1", "B1"]
    last = re.fullmatch(r"([A-Z]+)(\d+)", references[-1] if name != "roster_huge_column.xlsx" else references[2])
    assert last is not None
    column = sum((ord(char) - 64) * 26**power for power, char in enumerate(reversed(last.group(1))))
    assert column > hostile.EXCEL_MAX_COLUMNS or int(last.group(2)) > hostile.EXCEL_MAX_ROWS


@pytest.mark.parametrize(
    ("name", "part", "unit"),
    [
        ("roster_whitespace.xlsx", SHEET, hostile.WHITESPACE_BOMB_BYTES),
        ("roster_huge_cell.xlsx", "xl/sharedStrings.xml", hostile.HUGE_CELL_CHARS),
    ],
)
def test_repeated_bombs_inflate_to_what_they_claim(name, part, unit):
    info, raw = raw_entry(by_name(name).content, part)
    assert unit <= info.file_size < unit + 2 * KIB
    total, crc, _, tail = measure(raw, info.file_size + MIB)
    assert (total, crc) == (info.file_size, info.CRC)
    assert tail.endswith(b"</worksheet>" if part == SHEET else b"</sst>")


def test_whitespace_in_styles():
    content = by_name("roster_whitespace_styles.xlsx").content
    info, raw = raw_entry(content, "xl/styles.xml")
    assert hostile.WHITESPACE_BOMB_BYTES <= info.file_size < hostile.WHITESPACE_BOMB_BYTES + 2 * KIB
    total, _, _, tail = measure(raw, 16 * MIB)  # the same writer as above: check the start only
    assert total > 16 * MIB and tail.strip() == b""
    with zipfile.ZipFile(io.BytesIO(content)) as opened:
        sheet = ElementTree.fromstring(opened.read(SHEET))  # noqa: S314 (our own small file)
    assert [len(row) for row in sheet.iter(f"{{{hostile.MAIN_NS}}}row")] == [2, 2]


def test_huge_cell_is_one_string_of_one_character():
    with zipfile.ZipFile(io.BytesIO(by_name("roster_huge_cell.xlsx").content)) as opened:
        with opened.open("xl/sharedStrings.xml") as part:  # zipfile checks the CRC at the end
            head = part.read(KIB)
            count = head.count(b"A")
            while chunk := part.read(MIB):
                count += chunk.count(b"A")
        sheet = opened.read(SHEET)
    assert re.search(rb"<si><t>A+$", head)
    assert count == hostile.HUGE_CELL_CHARS
    assert b'<c r="A2" t="s"><v>2</v></c>' in sheet


@pytest.mark.parametrize(
    ("name", "last"),
    [
        ("roster_empty_rows.xlsx", b'<row r="2000001"/>'),
        ("roster_empty_cells.xlsx", b'<row r="2000001"><c r="A2000001"/></row>'),
    ],
)
def test_many_empty_rows(name, last):
    info, raw = raw_entry(by_name(name).content, SHEET)
    total, crc, count, tail = measure(raw, info.file_size + MIB, b"<row ")
    assert (total, crc) == (info.file_size, info.CRC)
    assert count == hostile.MANY_ROWS + 1  # and the header row
    assert tail.endswith(last + b"</sheetData></worksheet>")
    with zipfile.ZipFile(io.BytesIO(by_name(name).content)) as opened, opened.open(SHEET) as part:
        head = part.read(4 * KIB)
    assert last.replace(b"2000001", b"2") in head and last.replace(b"2000001", b"3") in head


def test_many_columns():
    with zipfile.ZipFile(io.BytesIO(by_name("roster_many_columns.xlsx").content)) as opened:
        sheet = ElementTree.fromstring(opened.read(SHEET))  # noqa: S314 (our own small file)
    cells = list(sheet.iter(f"{{{hostile.MAIN_NS}}}c"))
    assert len(cells) == hostile.MANY_COLUMNS
    assert cells[-1].get("r") == hostile.column_letter(hostile.MANY_COLUMNS) + "1" == "ACOF1"
    assert "".join(cells[0].itertext()) == "企业名称"


def expansion(entities: dict[str, tuple[str | None, str | None]], name: str) -> int:
    """Return the length an internal entity expands to, computing each entity's length once."""
    lengths: dict[str, int] = {}

    def length(entity: str) -> int:
        if entity not in lengths:
            value = entities[entity][0] or ""
            references = re.findall(r"&(\w+);", value)
            lengths[entity] = len(re.sub(r"&\w+;", "", value)) + sum(map(length, references))
        return lengths[entity]

    return length(name)


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("roster_laughs_sheet.xlsx", SHEET),
        ("roster_laughs_strings.xlsx", "xl/sharedStrings.xml"),
        ("roster_laughs_workbook.xlsx", "xl/workbook.xml"),
    ],
)
def test_billion_laughs(name, part):
    with zipfile.ZipFile(io.BytesIO(by_name(name).content)) as opened:
        data = opened.read(part)
    entities = parse_without_expanding(data)
    assert len(entities) == hostile.ENTITY_LEVELS
    assert expansion(entities, "lol9") == 3 * 10**9
    assert data.count(b"&lol9;") == 1  # used once, after the DOCTYPE
    if part == "xl/workbook.xml":
        assert b'<sheet name="&lol9;"' in data
    assert data.index(b"&lol9;") > data.index(b"]>")


@pytest.mark.parametrize(
    ("name", "part"), [("roster_xxe_sheet.xlsx", SHEET), ("roster_xxe_strings.xlsx", "xl/sharedStrings.xml")]
)
def test_external_entity(name, part):
    with zipfile.ZipFile(io.BytesIO(by_name(name).content)) as opened:
        data = opened.read(part)
    assert parse_without_expanding(data) == {"xxe": (None, "file:///etc/passwd")}
    assert data.index(b"&xxe;") > data.index(b"]>")


@pytest.mark.parametrize(
    ("name", "part", "cap"),
    [
        ("roster_lying_size.xlsx", SHEET, hostile.LYING_ACTUAL_BYTES + MIB),
        ("roster_lying_workbook.xlsx", "xl/workbook.xml", 16 * MIB),
    ],
)
def test_lying_zip_size(name, part, cap):
    content = by_name(name).content
    info, raw = raw_entry(content, part)
    assert info.file_size == hostile.LYING_CLAIMED_BYTES
    assert struct.unpack_from("<L", content, info.header_offset + 22)[0] == hostile.LYING_CLAIMED_BYTES
    total, crc, _, _ = measure(raw, cap)
    if cap > hostile.LYING_ACTUAL_BYTES:
        assert hostile.LYING_ACTUAL_BYTES < total < hostile.LYING_ACTUAL_BYTES + 2 * KIB
        assert crc == info.CRC
    else:
        assert total > cap
    with zipfile.ZipFile(io.BytesIO(content)) as opened, opened.open(part) as stream:
        read = b""
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            while chunk := stream.read(KIB):  # small reads: read() would inflate all 500 MiB at once
                read += chunk
    assert len(read) < hostile.LYING_CLAIMED_BYTES


def test_many_entries():
    content = by_name("roster_many_entries.xlsx").content
    assert b"PK\x06\x06" in content[-200:]  # the zip64 end record: more than 65,535 entries
    with zipfile.ZipFile(io.BytesIO(content)) as opened:
        names = opened.namelist()
        assert opened.read(names[-1]) == b"x"
        assert set(names[: len(PACKAGE_PARTS)]) == PACKAGE_PARTS
        sheet = ElementTree.fromstring(opened.read(SHEET))  # noqa: S314 (our own small file)
    assert len(names) == hostile.MANY_ENTRIES + len(PACKAGE_PARTS)
    assert [len(row) for row in sheet.iter(f"{{{hostile.MAIN_NS}}}row")] == [2, 2]


def test_nested_zip():
    content = by_name("roster_nested_zip.xlsx").content
    with zipfile.ZipFile(io.BytesIO(content)) as opened:
        inner = opened.read("xl/media/image1.png")
    assert inner.startswith(b"PK\x03\x04") and len(inner) < 2 * MIB
    info, raw = raw_entry(inner, "image1.bmp")
    assert info.file_size == hostile.NESTED_INNER_BYTES == GIB
    total, crc, _, tail = measure(raw, info.file_size + MIB)
    assert (total, crc, tail) == (GIB, info.CRC, bytes(KIB))
    assert len(read_rows(content)) == 2


def test_not_a_zip():
    files = [f for f in hostile.xlsx_files() if f.threat == "not_a_zip"]
    assert {f.name for f in files} == {
        "roster.xlsx", "roster_pdf.xlsx", "roster_empty.xlsx", "roster_truncated.xlsx", "roster_old.xlsx",
    }  # fmt: skip
    for hostile_file in files:
        assert not zipfile.is_zipfile(io.BytesIO(hostile_file.content)), hostile_file.name
    assert by_name("roster_empty.xlsx").content == b""
    assert by_name("roster_pdf.xlsx").content.startswith(b"%PDF-")
    assert hostile.benign_xlsx().startswith(by_name("roster_truncated.xlsx").content)
    old = by_name("roster_old.xlsx").content
    assert old.startswith(bytes.fromhex("d0cf11e0a1b11ae1")) and len(old) == 3 * 512
    assert old[512 + 512 : 512 + 512 + 20] == "Root Entry".encode("utf-16-le")


def test_formula_cells_are_read_as_text_or_cached_values():
    rows = read_rows(by_name("roster_formula_text.xlsx").content)
    assert [row[0] for row in rows[1:]] == hostile.FORMULA_VALUES
    assert all(stdnum_uscc.is_valid(row[1]) for row in rows[1:])
    cached = read_rows(by_name("roster_formula_cells.xlsx").content)
    formulas = read_rows(by_name("roster_formula_cells.xlsx").content, data_only=False)
    assert [row[0] for row in cached[1:]] == ["企业2", "企业3"]
    assert [row[0] for row in formulas[1:]] == hostile.FORMULA_VALUES[:2]


# --- csv ------------------------------------------------------------------------------


def csv_rows(text: str) -> list[list[str]]:
    """Return the rows of CSV text."""
    return list(csv.reader(io.StringIO(text, newline="")))


def test_benign_and_gbk_csv():
    bom = by_name("members.csv").content
    assert bom.startswith(b"\xef\xbb\xbf") and b"\r\n" in bom and b"\n" not in bom.replace(b"\r\n", b"")
    rows = csv_rows(bom.decode("utf-8-sig"))
    assert rows == [hostile.ROSTER_HEADERS, ["北京桥梁测试科技有限公司", hostile.uscc(5)]]
    gbk = by_name("members_gbk.csv").content
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert csv_rows(gbk.decode("gbk")) == rows


def test_invalid_utf8_decodes_in_no_chinese_encoding():
    content = by_name("members_invalid_utf8.csv").content
    for encoding in ("utf-8", "gbk", "gb18030", "big5"):
        with pytest.raises(UnicodeDecodeError):
            content.decode(encoding)


def test_large_csv_files():
    many = by_name("members_2m_lines.csv").content
    assert many.count(b"\n") == hostile.CSV_MANY_LINES + 1
    long_line = by_name("members_long_line.csv").content
    header, line = long_line.split(b"\n")
    assert header.decode() == ",".join(hostile.ROSTER_HEADERS)
    assert len(line) == hostile.CSV_LONG_LINE_BYTES > csv.field_size_limit()
    assert len(long_line) < hostile.IMPORT_LIMIT_BYTES
    with pytest.raises(csv.Error, match="field larger than field limit"):
        list(csv.reader([header.decode(), line.decode()]))  # lines, not a StringIO: 19 MB of text, not 76
    columns = csv_rows(by_name("members_many_columns.csv").content.decode())
    assert [len(row) for row in columns] == [hostile.MANY_COLUMNS, hostile.MANY_COLUMNS]


def test_nul_and_formula_csv():
    nul = by_name("members_nul.csv").content
    assert b"\0" * 4096 in nul and "企业\0名称".encode() in nul
    names = [row[0] for row in csv_rows(by_name("members_formula.csv").content.decode())[1:]]
    assert names == hostile.FORMULA_VALUES


def test_streamed_files():
    (streamed,) = hostile.streamed_files()
    assert streamed.size > 10 * hostile.IMPORT_LIMIT_BYTES
    assert not streamed.accepted
    total = newlines = 0
    for chunk in hostile.stream(streamed.name):
        assert len(chunk) <= MIB + 1
        total += len(chunk)
        newlines += chunk.count(b"\n")
    assert (total, newlines) == (streamed.size, 2)
    assert b"".join(hostile.stream("members_gbk.csv", chunk_size=7)) == by_name("members_gbk.csv").content


# --- attachments ----------------------------------------------------------------------


def png_chunks(content: bytes) -> list[tuple[bytes, bytes]]:
    """Return the (type, data) chunks of a PNG, checking each CRC."""
    assert content.startswith(hostile.PNG_SIGNATURE)
    chunks, position = [], 8
    while position < len(content):
        (length,) = struct.unpack_from(">L", content, position)
        kind, data = content[position + 4 : position + 8], content[position + 8 : position + 8 + length]
        assert struct.unpack_from(">L", content, position + 8 + length)[0] == zlib.crc32(kind + data)
        chunks.append((kind, data))
        position += 12 + length
    return chunks


def jpeg_size(content: bytes) -> tuple[int, int]:
    """Return (width, height) of a baseline JPEG after walking its segments to the end-of-image marker."""
    assert content.startswith(b"\xff\xd8")
    position, size = 2, None
    while True:
        marker, length = content[position + 1], struct.unpack_from(">H", content, position + 2)[0]
        if marker == 0xC0:
            height, width = struct.unpack_from(">HH", content, position + 5)
            size = (width, height)
        position += 2 + length
        if marker == 0xDA:
            break
    assert content.index(b"\xff\xd9", position) == len(content) - 2
    assert size is not None
    return size


def check_pdf(content: bytes) -> bytes:
    """Check a PDF's cross-reference table and trailer; return the catalogue object."""
    assert content.startswith(b"%PDF-1.") and content.endswith(b"%%EOF\n")
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", content).group(1))
    match = re.match(rb"xref\n0 (\d+)\n0000000000 65535 f \n", content[start:])
    assert match
    entries = content[start + match.end() :].split(b"trailer")[0].split(b" \n")[:-1]
    assert len(entries) == int(match.group(1)) - 1
    for number, entry in enumerate(entries, 1):
        offset = int(entry.split()[0])
        assert content[offset:].startswith(b"%d 0 obj\n" % number)
    assert b"/Root 1 0 R" in content[start:]
    return content[int(entries[0].split()[0]) :].split(b"endobj")[0]


def test_benign_attachments_are_valid():
    chunks = png_chunks(by_name("pixel.png").content)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">2L", chunks[0][1][:8]) == (1, 1) and zlib.decompress(chunks[1][1]) == b"\x00\xff\xff\xff"
    assert jpeg_size(by_name("pixel.jpg").content) == (1, 1)
    assert b"/Type /Catalog" in check_pdf(by_name("brochure.pdf").content)
    with zipfile.ZipFile(io.BytesIO(by_name("note.docx").content)) as opened:
        assert opened.namelist() == ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
        parse_without_expanding(opened.read("word/document.xml"))
        assert "桥梁" in opened.read("word/document.xml").decode()
    assert read_rows(by_name("sheet.xlsx").content)[0] == tuple(hostile.ROSTER_HEADERS)


def test_javascript_pdf_is_well_formed():
    content = by_name("contract.pdf").content
    catalogue = check_pdf(content)
    assert b"/OpenAction 5 0 R" in catalogue and b"/JavaScript 6 0 R" in catalogue
    assert b"/S /JavaScript /JS (app.alert\\(1\\);" in content


def test_attachments_pass_or_fail_a_magic_byte_check_as_designed():
    mismatched = {"polyglot_gif_js", "executable"}
    for hostile_file in hostile.attachment_files():
        extension = "." + hostile_file.name.rsplit(".", 1)[-1].lower()
        if extension not in MAGIC:
            assert hostile_file.threat in {"rtl_override_name"}, hostile_file.ident
            continue
        passes = hostile_file.content.startswith(MAGIC[extension])
        assert passes == (hostile_file.threat not in mismatched), hostile_file.ident


def test_disguised_attachments():
    assert by_name("logo.png").content.startswith(hostile.PNG_SIGNATURE + b"<svg")
    assert b"<script>alert(1)</script>" in by_name("logo.png").content
    assert by_name("offer.pdf").content.startswith(b"%PDF-1.7\n<html>")
    picture = by_name("picture.jpg").content
    assert picture.startswith(b"\xff\xd8\xff\xe0") and b"<script>" in picture
    assert not zipfile.is_zipfile(io.BytesIO(by_name("report.docx").content))
    with zipfile.ZipFile(io.BytesIO(by_name("proposal.docx").content)) as opened:
        assert not {"[Content_Types].xml", "word/document.xml"} & set(opened.namelist())
    with zipfile.ZipFile(io.BytesIO(by_name("plan.docx").content)) as opened:
        assert "xl/workbook.xml" in opened.namelist() and not any(n.startswith("word/") for n in opened.namelist())
    assert by_name("photo.jpg").content.startswith(b"\x7fELF\x02\x01\x01")
    assert by_name("licence.png").content.startswith(b"MZ") and b"PE\x00\x00" in by_name("licence.png").content


def test_gif_js_polyglot():
    content = by_name("avatar.png").content
    assert content.startswith(b"GIF89a/*") and content.endswith(b";")
    assert struct.unpack_from("<HH", content, 6) == (0x2A2F, 1)
    script = content.decode("latin-1")
    assert re.fullmatch(r"GIF89a/\*.*?\*/=alert\(1\);/\*.*?\*///[^\n\r]*", script, re.DOTALL)


def test_hostile_names():
    names = {f.threat: f.name for f in hostile.attachment_files() if f.threat.endswith(("_name", "traversal"))}
    assert names["nul_in_name"] == "report.exe\0.pdf"
    assert names["rtl_override_name"] == "invoice\u202efdp.exe"
    traversal = [f.name for f in hostile.attachment_files() if f.threat == "path_traversal"]
    assert traversal == ["..\\..\\evil.pdf", "../../evil.pdf"]
    for hostile_file in hostile.attachment_files():
        if hostile_file.threat in {"nul_in_name", "rtl_override_name", "path_traversal"}:
            check_pdf(hostile_file.content)
