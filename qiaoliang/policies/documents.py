"""Policy documents (惠企政策) as staff bring them in: pasted text, a Word file or a saved web page.

Three steps, all pure Python, each usable alone:

1. Reading: `read_text`, `read_docx`, `read_html` return a `PolicyText`: plain text, one paragraph per line,
   never HTML. Every input is bounded before it is read (a DOCX goes through `core.uploads.check_upload`:
   size, zip entries, declared sizes, no macros). Copied-text debris is cleaned (`core.text.clean_text`:
   full-width letters and digits, control and direction characters, HTML left in pasted text; here also
   Kangxi radicals and compatibility ideographs that PDF copies carry, stray spaces between Chinese
   characters, page-number lines, and lines hard-wrapped by a PDF viewer).
2. `split_clauses`: clauses cut where the annotated Zhejiang policies (`data/zj/policy_sentences_dev.csv`)
   are cut: after 。；！？： (and their ASCII forms) and before numbered items (一、 （一） 1. （1） ① 第X条 第X章),
   which are recognised in the middle of a line too when their numbering continues the document's own, so a
   text whose line breaks were lost still comes apart at its headings. Headings stay clauses of their own.
3. `guess_metadata`: title, issuer (制定部门), document number (文号), issue date, validity (执行期限), region and
   administrative level, by regular expressions over the document's head and signature.

`policies.clauses` measures 2 and 3 against the annotations (`manage.py evaluate_clause_classifier`).
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.text import clean_text, region_name_forms
from qiaoliang.core.uploads import check_upload

MB = 1024 * 1024
MAX_DOCX_BYTES = 20 * MB
MAX_DOCX_XML_BYTES = 50 * MB  # word/document.xml unpacked; a 300-page policy is about 3 MB
MAX_HTML_CHARS = 5 * MB
MAX_HTML_TAGS = 200_000  # a saved policy page has a few thousand
MAX_TEXT_CHARS = 1_000_000  # pasted text, and the text read from any source

LEVELS = ("national", "provincial", "municipal", "county")


class DocumentError(DomainError):
    """A policy document that cannot be read; the message is for the user."""


@dataclass(frozen=True)
class PolicyText:
    """A policy document read into plain text: one paragraph per line, no HTML.

    `title` and `published` are what the container itself states (a web page's article-title and
    publication-date meta tags or <title>, a Word file's title property), empty when it states nothing.
    """

    text: str
    source: str  # "text", "docx" or "html"
    title: str = ""
    published: str = ""

    @property
    def lines(self) -> list[str]:
        """Return the non-empty lines."""
        return [line for line in self.text.split("\n") if line.strip()]


@dataclass(frozen=True)
class Clause:
    """One clause of a document: a sentence, a numbered item or a heading.

    `number` is the item's label as written (一、 （一） 1. （1） ① 第三条), empty when it has none; `level` is the
    label's rank (1 第X章/第X部分, 2 第X条, 3 一、, 4 （一）, 5 1., 6 （1）, 7 ①; 0 without a label); `order` counts
    the clauses from 1.
    """

    text: str
    number: str
    level: int
    is_heading: bool
    order: int


@dataclass(frozen=True)
class PolicyMetadata:
    """What a document says about itself, guessed; every field may be empty.

    `issuers` lists the bodies of a joint document one by one, `issuer` joins them with 、. `validity` is the
    sentence part that states when the policy applies (自2020年1月1日起施行，有效期三年), `valid_from` and
    `valid_until` what can be read from it (a date "from publication" is the issue date). `region` is the
    issuer's division as written (宁波市江北区), `region_code` its GB/T 2260 code when the name is unambiguous,
    `level` one of `LEVELS`.
    """

    title: str = ""
    issuer: str = ""
    issuers: tuple[str, ...] = ()
    document_number: str = ""
    issue_date: datetime.date | None = None
    validity: str = ""
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    region: str = ""
    region_code: str = ""
    level: str = ""
    notes: dict[str, str] = field(default_factory=dict)


# --- cleaning ------------------------------------------------------------------------------------------------

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018-\u201f\u2026\u2014"
# Kangxi radicals, CJK radicals supplement, compatibility ideographs and parenthesised ideographs (㈠): PDF
# copies turn 一 into ⼀ and 金 into ⾦; NFKC gives the ordinary character back.
_COMPAT_RE = re.compile(r"[\u2e80-\u2fdf\uf900-\ufaff\u3220-\u3243\U0002f800-\U0002fa1f]")
_UNICODE_SPACE_RE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f]")
_SPACES_RE = re.compile(r"[ \t]{2,}")
_STRAY_SPACE_RE = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}]) +| +(?=[{_CJK}{_CJK_PUNCT}])")
# Page numbers a PDF copy leaves on lines of their own (— 3 —, -3-, 第3页 共10页); a bare number may be a table's.
_PAGE_NUMBER_RE = re.compile(r"^(?:[-—–－─]+ ?\d{1,3} ?[-—–－─]+|第 ?\d{1,3} ?页(?: ?[,，/]? ?共 ?\d{1,3} ?页)?)$")
_SENTENCE_END = "。！？；;!?：:"
_CLOSERS = "”’」』"
# Characters kept from clean_text's tag stripping and entity decoding in text that is no HTML (《<办法>》).
_PROTECT = str.maketrans({"<": "\ue000", ">": "\ue001", "&": "\ue002"})
_UNPROTECT = str.maketrans({"\ue000": "<", "\ue001": ">", "\ue002": "&"})


_NOT_A_TAG_RE = re.compile(r"<(?![A-Za-z/!?])[^<>]*>?|(?<![\w\"'/-])>")


def _protect(match: re.Match[str]) -> str:
    return match.group(0).translate(_PROTECT)


def _too_long(limit: int) -> DocumentError:
    return DocumentError(
        _("The document is longer than %(count)s characters; split it and import the parts.") % {"count": f"{limit:,}"},
        code="document_size",
    )


def _clean(raw: str, *, markup: bool) -> str:
    """Return the text cleaned for storage; `markup` lets tags and entities pasted with the text be removed."""
    if len(raw) > 2 * MAX_TEXT_CHARS:
        raise _too_long(MAX_TEXT_CHARS)
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _COMPAT_RE.sub(lambda match: unicodedata.normalize("NFKC", match.group(0)), text)
    # Angle brackets that hold no tag are the text's own (《关于实施<台州市人才新政三十条>的意见》).
    text = text.translate(_PROTECT) if not markup else _NOT_A_TAG_RE.sub(_protect, text)
    text = _UNICODE_SPACE_RE.sub(" ", clean_text(text, multiline=True).translate(_UNPROTECT))  # &nbsp; decoded
    lines = []
    for line in text.split("\n"):
        line = _STRAY_SPACE_RE.sub("", _SPACES_RE.sub(" ", line)).strip()
        if line and _PAGE_NUMBER_RE.match(line):
            continue
        lines.append(line)
    text = "\n".join(_unwrap(lines))
    text = re.sub(r"\n{2,}", "\n", text).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(MAX_TEXT_CHARS)
    return text


def _unwrap(lines: list[str]) -> list[str]:
    """Join lines a PDF viewer hard-wrapped at a fixed width (many long lines of the same length).

    A line of that width that does not end a sentence is continued by the next line unless the next one starts
    with an item number. Documents whose lines are paragraphs have no common width and are left alone.
    """
    lengths = [len(line) for line in lines if len(line) >= 15]
    if len(lengths) < 6:
        return lines
    counts: dict[int, int] = {}
    for length in lengths:
        counts[length] = counts.get(length, 0) + 1
    width, seen = max(counts.items(), key=lambda item: (item[1], item[0]))
    near = sum(count for length, count in counts.items() if abs(length - width) <= 1)
    if seen < 4 or near < 0.3 * len(lengths):
        return lines
    out: list[str] = []
    joining = False
    for line in lines:
        if joining and line and not _label_at(line, 0):
            out[-1] += line
        else:
            out.append(line)
        joining = bool(line) and abs(len(line) - width) <= 1 and line[-1] not in _SENTENCE_END + _CLOSERS
    return out


# --- reading -------------------------------------------------------------------------------------------------


def read_text(text: str) -> PolicyText:
    """Return pasted text as a PolicyText (cleaned; HTML pasted with it removed); refuse overlong text."""
    if len(text) > 2 * MAX_TEXT_CHARS:
        raise _too_long(MAX_TEXT_CHARS)
    cleaned = _clean(text, markup=True)
    if not cleaned:
        raise DocumentError(_("The document holds no text."), code="document_empty")
    return PolicyText(text=cleaned, source="text")


class _NamedBytes(io.BytesIO):
    """An in-memory upload with the name and size check_upload reads."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


def _as_upload(file: Any) -> Any:
    """Return an object with name, size, read and seek for a path, an uploaded file or a binary stream."""
    if isinstance(file, str | Path):
        path = Path(file)
        if path.stat().st_size > MAX_DOCX_BYTES:
            raise DocumentError(
                _("The file is larger than %(size)d MB.") % {"size": MAX_DOCX_BYTES // MB}, code="file_size"
            )
        return _NamedBytes(path.read_bytes(), path.name)
    name = getattr(file, "name", None)
    if isinstance(name, str) and name and isinstance(getattr(file, "size", None), int):
        return file
    data = file.read(MAX_DOCX_BYTES + 1)
    if len(data) > MAX_DOCX_BYTES:
        raise DocumentError(
            _("The file is larger than %(size)d MB.") % {"size": MAX_DOCX_BYTES // MB}, code="file_size"
        )
    return _NamedBytes(data, Path(name).name if isinstance(name, str) and name else "document.docx")


def read_docx(file: IO[bytes] | str | Path | Any) -> PolicyText:
    """Return the text of a Word (.docx) file: paragraphs and table cells in document order.

    The file is checked first (`core.uploads.check_upload`: at most 20 MB, a whole DOCX zip without macros,
    bounded unpacked size) and its main part may unpack to at most 50 MB. Raises DomainError (DocumentError
    for this module's own checks) with a message for the user.
    """
    import docx  # python-docx; imported here so that reading text and HTML does not load lxml's packages

    upload = _as_upload(file)
    check_upload(upload, allowed=(".docx",), max_bytes=MAX_DOCX_BYTES)
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            main = archive.getinfo("word/document.xml")
            if main.file_size > MAX_DOCX_XML_BYTES:
                raise DocumentError(_("The document unpacks to too much data."), code="file_size")
        upload.seek(0)
        document = docx.Document(upload)
    except DocumentError:
        raise
    except Exception as error:  # python-docx raises KeyError, ValueError, lxml errors … for broken parts
        raise DocumentError(_("The Word document cannot be read; save it again as .docx."), code="file_type") from error
    finally:
        upload.seek(0)
    lines: list[str] = []
    _docx_lines(document, lines, _WordNumbering(document))
    title = ""
    try:
        title = clean_text(document.core_properties.title or "", multiline=False)
    except Exception:
        title = ""
    text = _clean("\n".join(lines), markup=False)
    if not text:
        raise DocumentError(_("The document holds no text."), code="document_empty")
    return PolicyText(text=text, source="docx", title=title[:300])


def _docx_lines(container: Any, lines: list[str], numbering: _WordNumbering, depth: int = 0) -> None:
    """Append the lines of a document, cell or table container: paragraphs (with the numbers Word generates for
    numbered lists), then each table cell's content."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if isinstance(block, Table):
            if depth > 5:  # tables nested deeper than that are layout debris
                continue
            for row in block.rows:
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell is listed once per grid column it spans
                        continue
                    seen.add(id(cell._tc))
                    _docx_lines(cell, lines, numbering, depth + 1)
        else:
            text = block.text
            label = numbering.label(block) if text.strip() else ""
            lines.append(label + text if label and not _label_at(text.strip(), 0) else text)
        if len(lines) > MAX_TEXT_CHARS // 4:
            raise _too_long(MAX_TEXT_CHARS)


_CN_DIGIT_CHARS = "〇一二三四五六七八九"
_CHINESE_FORMATS = {"chineseCounting", "chineseCountingThousand", "ideographTraditional", "japaneseCounting",
                    "taiwaneseCounting", "taiwaneseCountingThousand", "koreanCounting", "ideographDigital"}  # fmt: skip


def chinese_numeral(value: int) -> str:
    """Return a number below 1000 written in Chinese numerals as item numbers write it (12 → 十二, 20 → 二十)."""
    if value <= 0 or value >= 1000:
        return str(value)
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    out = _CN_DIGIT_CHARS[hundreds] + "百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else _CN_DIGIT_CHARS[tens]) + "十"
    elif hundreds and units:
        out += "零"
    return out + (_CN_DIGIT_CHARS[units] if units else "")


class _WordNumbering:
    """The numbers Word shows before the paragraphs of its numbered lists (they are not in the text).

    Reads numbering.xml: each list (numId) points to a definition (abstractNum) whose levels have a start, a
    format (decimal, chineseCounting …) and a pattern (%1、 （%1）); counters run per list and a level restarts
    when a higher one moves on. Bullets and unknown formats give no number.
    """

    def __init__(self, document: Any) -> None:
        from docx.oxml.ns import qn

        self._qn = qn
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for definition in root.findall(qn("w:abstractNum")):
            levels = {}
            for level in definition.findall(qn("w:lvl")):
                levels[self._int(level.get(qn("w:ilvl")))] = (
                    self._value(level, "w:numFmt") or "decimal",
                    self._value(level, "w:lvlText") or "",
                    self._int(self._value(level, "w:start"), 1),
                )
            abstract[definition.get(qn("w:abstractNumId")) or ""] = levels
        for item in root.findall(qn("w:num")):
            num_id = item.get(qn("w:numId")) or ""
            for ilvl, (fmt, pattern, start) in abstract.get(self._value(item, "w:abstractNumId") or "", {}).items():
                self.levels[(num_id, ilvl)] = (fmt, pattern, start)
            for override in item.findall(qn("w:lvlOverride")):
                ilvl = self._int(override.get(qn("w:ilvl")))
                restart = self._value(override, "w:startOverride")
                if (num_id, ilvl) in self.levels and restart:
                    fmt, pattern, _start = self.levels[(num_id, ilvl)]
                    self.levels[(num_id, ilvl)] = (fmt, pattern, self._int(restart, 1))

    def _value(self, element: Any, child: str) -> str | None:
        found = element.find(self._qn(child))
        return None if found is None else found.get(self._qn("w:val"))

    @staticmethod
    def _int(value: str | None, default: int = 0) -> int:
        try:
            return int(value or default)
        except ValueError:
            return default

    def label(self, paragraph: Any) -> str:
        """Return the number Word shows before a paragraph, or ''."""
        if not self.levels:
            return ""
        properties = paragraph._p.pPr
        numbering = properties.numPr if properties is not None else None
        if numbering is None:
            style = getattr(paragraph.style, "element", None)
            style_properties = style.pPr if style is not None else None
            numbering = style_properties.numPr if style_properties is not None else None
        if numbering is None or numbering.numId is None:
            return ""
        num_id = str(numbering.numId.val)
        ilvl = int(numbering.ilvl.val) if numbering.ilvl is not None else 0
        if (num_id, ilvl) not in self.levels:
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, self.levels[(num_id, ilvl)][2] - 1) + 1
        for deeper in [level for level in counters if level > ilvl]:
            del counters[deeper]
        fmt, pattern, _start = self.levels[(num_id, ilvl)]
        if fmt in {"bullet", "none"} or not pattern:
            return ""

        def number(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            level_fmt = self.levels.get((num_id, level), (fmt, "", 1))[0]
            value = counters.get(level, self.levels.get((num_id, level), ("", "", 1))[2])
            if level_fmt in _CHINESE_FORMATS:
                return chinese_numeral(value)
            if level_fmt in {"decimalEnclosedCircle", "decimalEnclosedCircleChinese"} and 1 <= value <= 20:
                return chr(0x2460 + value - 1)
            return str(value)

        return re.sub(r"%([1-9])", number, pattern)


_SKIPPED_TAGS = frozenset({"script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe",
                           "object", "select", "button", "form", "aside", "canvas", "math"})  # fmt: skip
_BLOCK_TAGS = frozenset({"address", "article", "blockquote", "br", "caption", "center", "dd", "div", "dl", "dt",
                         "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main",
                         "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
                         "ul"})  # fmt: skip
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                        "wbr"})  # fmt: skip
_TITLE_META = ("articletitle", "og:title", "title", "dc.title")
_DATE_META = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time", "dc.date", "date")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


class _TextExtractor(HTMLParser):
    """Collect the visible text of a page, a line break for each block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.page_title: list[str] = []
        self.heading: list[str] = []
        self._skip_tag = ""
        self._skip_depth = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag == "meta":
            key = (values.get("name") or values.get("property") or "").lower()
            if key and values.get("content") and key not in self.meta:
                self.meta[key] = values["content"][:500]
            return
        hidden = (
            "hidden" in values
            or values.get("aria-hidden") == "true"
            or _HIDDEN_STYLE_RE.search(values.get("style", ""))
        )
        if (tag in _SKIPPED_TAGS or hidden) and tag not in _VOID_TAGS:
            self._skip_tag, self._skip_depth = tag, 1
            return
        if tag == "title":
            self._in_title = True
        elif tag == "h1":
            self._in_h1 = True
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth <= 0:
                    self._skip_tag = ""
            return
        if tag == "title":
            self._in_title = False
        elif tag == "h1":
            self._in_h1 = False
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_tag:
            return
        if self._in_title:
            self.page_title.append(data)
            return
        if self._in_h1:
            self.heading.append(data)
        self.parts.append(data)


def _decode_html(data: bytes) -> str:
    """Return the text of a saved page's bytes: BOM, then the declared charset, then UTF-8, then GB18030."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    declared = re.search(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w-]{2,20})""", data[:4096], re.IGNORECASE)
    if declared:
        encoding = declared.group(1).decode("ascii").lower()
        if encoding in {"gb2312", "gbk", "gb18030", "x-gbk", "cp936"}:
            encoding = "gb18030"
        try:
            return data.decode(encoding, errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


_TAG_START_RE = re.compile(r"<[A-Za-z/!?][^<>]{0,4000}>")


def _defuse(markup: str) -> str:
    """Return markup html.parser reads in linear time: comments dropped (an unclosed one with the rest), every
    '<' that does not open a complete tag written as &lt;.

    html.parser looks for the end of an unclosed tag or comment again at every later '<', so a page of "<a <a …"
    or "<!--<!--…" would take minutes; after this each '<' is looked at once.
    """
    out: list[str] = []
    position = 0
    while (start := markup.find("<", position)) >= 0:
        out.append(markup[position:start])
        if markup.startswith("<!--", start):
            end = markup.find("-->", start + 4)
            if end < 0:
                return "".join(out)
            position = end + 3
            continue
        tag = _TAG_START_RE.match(markup, start)
        if tag:
            out.append(tag.group(0))
            position = tag.end()
        else:
            out.append("&lt;")
            position = start + 1
    out.append(markup[position:])
    return "".join(out)


def read_html(page: str | bytes) -> PolicyText:
    """Return the visible text of an HTML page or fragment (pasted or a saved page's bytes) as plain text.

    Scripts, styles, navigation, page header and footer, forms and hidden elements are dropped; block elements
    become line breaks; entities are decoded. At most 5 MB of HTML is read; the result holds no markup.
    """
    if len(page) > MAX_HTML_CHARS:
        raise DocumentError(
            _("The page is larger than %(size)d MB; save only the article.") % {"size": MAX_HTML_CHARS // MB},
            code="document_size",
        )
    markup = _decode_html(page) if isinstance(page, bytes) else page
    if markup.count("<") > MAX_HTML_TAGS:
        raise DocumentError(
            _("The page has too much markup; save only the article or paste its text."), code="document_size"
        )
    parser = _TextExtractor()
    try:
        parser.feed(_defuse(markup))
        parser.close()
    except (AssertionError, ValueError) as error:  # very broken markup
        raise DocumentError(_("The page cannot be read as HTML."), code="file_type") from error
    # Entities were decoded by the parser: what is left that looks like a tag is the text's own (&lt;b&gt;).
    text = _clean("".join(parser.parts), markup=False)
    if not text:
        raise DocumentError(_("The document holds no text."), code="document_empty")
    return PolicyText(text=text, source="html", title=_page_title(parser), published=_page_date(parser.meta))


def _page_title(parser: _TextExtractor) -> str:
    for key in _TITLE_META:
        if parser.meta.get(key):
            return clean_text(html.unescape(parser.meta[key]), multiline=False)[:300]
    heading = clean_text("".join(parser.heading), multiline=False)
    if heading:
        return heading[:300]
    title = clean_text("".join(parser.page_title), multiline=False)
    # "关于…的通知_嘉兴市人民政府" / "… - 政策文件": the article's title is the longest part.
    parts = [part.strip() for part in re.split(r"\s*(?:_|\||｜| - | — | -- )\s*", title) if part.strip()]
    return max(parts, key=len)[:300] if parts else ""


def _page_date(meta: dict[str, str]) -> str:
    for key in _DATE_META:
        if meta.get(key):
            return meta[key][:40]
    return ""


# --- numbered items ------------------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
_CN_NUM = "一二三四五六七八九十百零〇两"
_LABEL_RE = re.compile(
    rf"""
    (?P<chapter>第[{_CN_NUM}\d]{{1,4}}(?:章|节|部分))
    |(?P<article>第[{_CN_NUM}\d]{{1,4}}条)
    |(?P<cn>[一二三四五六七八九十百]{{1,4}}[、.．](?![一二三四五六七八九十]、))
    |(?P<pcn>[（(][一二三四五六七八九十百]{{1,4}}[)）])
    |(?P<ar>(?<![\d.．A-Za-z])\d{{1,2}}[.．、](?!\d))
    |(?P<par>[（(]\d{{1,2}}[)）])
    |(?P<circ>[①-⑳])
    """,
    re.VERBOSE,
)
_LEVELS = {"chapter": 1, "article": 2, "cn": 3, "pcn": 4, "ar": 5, "par": 6, "circ": 7}
# After an Arabic item number these make it no item: 1、2月 (a digit), 5.%, 1、、.
_NOT_AFTER_ARABIC = set("%％、，,.．")
# Before an item number in mid-line these make it a reference or an enumeration: 第（三）项, 和（四）.
_NOT_BEFORE_ITEM = set("第、，,和及与或至到按照据依《“\"'")
_WORD_BEFORE_NUMERAL = set("统唯之单同均划专合万逐初整归另")


def chinese_number(value: str) -> int:
    """Return the value of a Chinese or Arabic numeral up to 9999 (二十九 → 29, 一百零五 → 105, 12 → 12)."""
    if value.isdigit():
        return int(value)
    total, current = 0, 0
    for char in value:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[char]
            total += (current or 1) * unit
            current = 0
    return total + current


def _label_value(kind: str, label: str) -> int:
    digits = re.sub(r"[^0-9" + _CN_NUM + "]", "", label.replace("第", "", 1) if label.startswith("第") else label)
    return chinese_number(digits) if digits else 0


def _label_at(text: str, position: int) -> re.Match[str] | None:
    """Return the item-number match at position if one starts there and looks like an item (not a quantity)."""
    match = _LABEL_RE.match(text, position)
    if not match:
        return None
    kind = match.lastgroup or ""
    after = text[match.end() : match.end() + 1]
    if kind == "ar" and (not after or after in _NOT_AFTER_ARABIC or after.isdigit()):
        return None
    if kind in {"pcn", "par", "circ"} and (
        (after and after in "条款") or (after == "项" and text[match.end() + 1 : match.end() + 2] != "目")
    ):
        return None  # （三）项 is a reference; （三）项目认定 an item
    if kind in {"cn", "ar"} and not after:
        return None
    return match


class _Numbering:
    """The item numbers seen so far, per style: a mid-line number is an item only if it continues them."""

    def __init__(self) -> None:
        self.local: dict[str, int] = {}
        self.overall: dict[str, int] = {}

    def continues(self, kind: str, value: int) -> bool:
        return value in {self.local.get(kind, 0) + 1, self.overall.get(kind, 0) + 1}

    def record(self, kind: str, value: int) -> None:
        self.local[kind] = value
        self.overall[kind] = value
        rank = _LEVELS[kind]
        for other, other_rank in _LEVELS.items():
            if other_rank > rank:
                self.local[other] = 0


# --- clauses -------------------------------------------------------------------------------------------------

_WORD_RE = re.compile(rf"[{_CJK}A-Za-z0-9]")
_HEADING_MAX = 40
_ADDRESSEES_RE = re.compile(
    r"(?:通知|意见|办法|细则|规定|方案|决定|批复|措施|政策|条|举措)(?:[（(][^（）()]{1,12}[)）])?》?(?P<to>各[^：:]{2,200}[：:])$"
)
_DOCNO_IN_HEAD_RE = re.compile(r"[〔\[［【(（](?:19|20)\d{2}[〕\]］】)）]第?\d{1,4}号")


@dataclass
class _Piece:
    text: str


def _sentence_cuts(line: str) -> list[int]:
    """Return the positions after which a line is cut: runs of sentence-ending marks (with closing quotes)."""
    cuts = []
    index, length = 0, len(line)
    while index < length:
        char = line[index]
        if char in _SENTENCE_END:
            end = index + 1
            while end < length and line[end] in _SENTENCE_END + _CLOSERS:
                end += 1
            if _keeps_going(line, index, end):
                index = end
                continue
            cuts.append(end)
            index = end
        else:
            index += 1
    return cuts


def _keeps_going(line: str, mark: int, end: int) -> bool:
    """Tell whether the sentence goes on after the mark: a time (9:30), an address (http://), a bracketed
    remark that belongs to it (。（由区财政局负责）)."""
    char = line[mark]
    if end >= len(line):
        return False
    if char == ":" and ((line[mark - 1 : mark].isdigit() and line[end : end + 1].isdigit()) or line[end] == "/"):
        return True
    return char in "。！？!?" and line[end] in "（(" and not _label_at(line, end)


_OPENERS = {"（": "）", "(": ")", "《": "》", "“": "”", "〈": "〉", "[": "]", "【": "】"}


def _closed(text: str) -> bool:
    """Tell whether every bracket and quotation mark opened in text is closed again."""
    return all(text.count(opener) <= text.count(closer) for opener, closer in _OPENERS.items())


def _line_pieces(line: str, numbering: _Numbering, *, document_start: bool) -> list[_Piece]:
    """Cut one line into pieces at sentence ends and before the item numbers that continue the numbering."""
    starts = [0, *_sentence_cuts(line)]
    pieces: list[_Piece] = []
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else len(line)
        if start >= stop:
            continue
        segment_start = start
        label = _label_at(line, start)
        position = start
        if label:
            numbering.record(label.lastgroup or "", _label_value(label.lastgroup or "", label.group(0)))
            position = label.end()
        for match in _LABEL_RE.finditer(line, position, stop):
            at = match.start()
            if at <= segment_start:
                continue
            candidate = _label_at(line, at)
            if candidate is None or candidate.end() != match.end():
                continue
            kind = candidate.lastgroup or ""
            value = _label_value(kind, candidate.group(0))
            before = line[at - 1]
            if before in _NOT_BEFORE_ITEM or before.isdigit() or (before.isascii() and before.isalpha()):
                continue
            if kind in {"chapter", "article"} and before in "本该其":
                continue
            if kind == "cn" and before in _WORD_BEFORE_NUMERAL:
                continue  # 统一、规范: a word, not an item
            if not _closed(line[segment_start:at]):
                continue  # inside brackets or quotes: （仙政发〔2016〕20号第一条至第四条）
            if not numbering.continues(kind, value):
                continue
            pieces.append(_Piece(line[segment_start:at]))
            segment_start = at
            numbering.record(kind, value)
        pieces.append(_Piece(line[segment_start:stop]))
    if document_start and pieces:
        pieces = _cut_front_matter(pieces[:3]) + pieces[3:]
    return pieces


def _cut_front_matter(pieces: list[_Piece]) -> list[_Piece]:
    """Cut a document's first line after its document number (平政发〔2020〕126号 | 平湖市人民政府关于…) and
    between its title and the addressees (…的若干意见 | 各镇人民政府，…：)."""
    out: list[_Piece] = []
    for index, piece in enumerate(pieces):
        text = piece.text
        if index == 0:
            match = _DOCNO_IN_HEAD_RE.search(text[:200])
            if (
                match
                and match.end() < len(text)
                and text[match.end()] not in "）)，,、文的和及"
                and _closed(text[: match.start()])
            ):
                out.append(_Piece(text[: match.end()]))
                text = text[match.end() :]
        addressees = _ADDRESSEES_RE.search(text) if index < 3 and text.endswith(("：", ":")) else None
        if addressees and _closed(text[: addressees.start("to")]):
            out.append(_Piece(text[: addressees.start("to")]))
            text = text[addressees.start("to") :]
        out.append(_Piece(text))
    return out


def _merge_fragments(pieces: list[_Piece]) -> list[_Piece]:
    """Merge pieces that are no clause: marks alone go to the clause before, a bare item number to the next."""
    merged: list[_Piece] = []
    carry = ""
    for piece in pieces:
        text = piece.text.strip()
        if not text:
            continue
        if carry:
            text, carry = carry + text, ""
        label = _label_at(text, 0)
        if label and not _WORD_RE.search(text[label.end() :]):
            carry = text  # （三） alone: it numbers what follows
            continue
        if not _WORD_RE.search(text) and merged:
            merged[-1].text += text
            continue
        merged.append(_Piece(text))
    if carry:
        merged.append(_Piece(carry))
    return merged


def split_clauses(text: str | PolicyText) -> list[Clause]:
    """Return the clauses of a document: sentences, numbered items and headings, in order.

    Lines are cut after 。！？；： and their ASCII forms (a remark in brackets right after 。 stays with its
    sentence; a time such as 9:30 is no cut) and before item numbers that continue the document's numbering,
    so a heading run into its first item (一、总体要求（一）…) still comes apart. A document's first line is also
    cut after its document number. Item numbers alone are joined to what follows, marks alone to what precedes.
    """
    body = text.text if isinstance(text, PolicyText) else text
    numbering = _Numbering()
    pieces: list[_Piece] = []
    first = True
    for line in body.split("\n"):
        line = line.strip()
        if not line:
            continue
        pieces.extend(_line_pieces(line, numbering, document_start=first))
        first = False
    merged = _merge_fragments(pieces)
    labels = [_label_at(piece.text, 0) for piece in merged]
    clauses = []
    for index, (piece, label) in enumerate(zip(merged, labels, strict=True)):
        next_numbered = index + 1 < len(labels) and labels[index + 1] is not None
        clauses.append(
            Clause(
                text=piece.text,
                number=label.group(0) if label else "",
                level=_LEVELS[label.lastgroup or ""] if label else 0,
                is_heading=_is_heading(piece.text, label is not None, next_numbered),
                order=index + 1,
            )
        )
    return clauses


def _is_heading(text: str, numbered: bool, next_numbered: bool) -> bool:
    """Tell whether a clause is a heading: short, without a sentence mark or comma, and numbered (一、总体要求) or
    followed by a numbered item (总则 | 第一条…) while being no date, document number or signature."""
    if len(text) > _HEADING_MAX or text[-1] in _SENTENCE_END + "，,、" or re.search("[，。；：,;]", text):
        return False
    if numbered:
        return True
    return next_numbered and not (_DATE_RE.search(text) or _DOCNO_RE.search(text) or _ORG_END_RE.search(text))


# --- metadata ------------------------------------------------------------------------------------------------

_HEAD_CHARS = 1500
_TAIL_CHARS = 1500
_ORG_END = (r"(?:人民政府|政府|办公室|办公厅|委员会|管理委员会|管委会|党工委|工委|领导小组办公室|"
            r"领导小组|局|厅|委|部|院|中心支行|中心|支行|分行|银行|小组|联合会|商会|协会|总队|支队|公司|集团|"
            r"署|社)")  # fmt: skip
_ORG_END_RE = re.compile(_ORG_END + "$")
_KIND_RE = re.compile(
    r"通知|意见|办法|细则|规定|方案|决定|批复|公告|通告|措施|政策|条例|规划|计划|指南|纲要|举措|规则|条"
)
_TITLE_SUFFIX_RE = re.compile(
    r"[（(](?:试行|暂行|修订|征求意见稿|草案|\d{4}年(?:修订|修正|版)?|[^（）()]{0,10}修订)[)）]"
)
_CONTINUES_TITLE = set("的和及与、》”〉>实暨")
_PREAMBLE_START = ("为", "根据", "按照", "经", "现", "各", "近年", "当前", "（此件", "(此件", "★")
_DOCNO_RE = re.compile(
    r"[〔\[［【(（]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]］】)）]\s*第?\s*(?P<no>\d{1,4})\s*号"
    r"|(?<=[发办字函综])(?P<year2>(?:19|20)\d{2})(?P<no2>\d{1,4})号"
)
_DOCNO_MARKERS_RE = re.compile(r"文件|通知|意见|办法|决定|" + _ORG_END)
_DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"|(?P<cy>[二〇○零一三四五六七八九]{4})年(?P<cm>[一二三四五六七八九十]{1,2})月(?P<cd>[一二三四五六七八九十]{1,3})日"
    r"|(?P<iy>(?:19|20)\d{2})[-./](?P<im>\d{1,2})[-./](?P<id>\d{1,2})(?!\d)"
)
_SIGNATURE_DATE_AFTER = ("印发", "发布", "签发")
_NATIONAL_RE = re.compile(
    r"^(?:国务院|中共中央|全国|中华人民共和国|国家|中国人民银行(?!.{0,12}[省市区县])|[^省市区县]{2,12}部$|"
    r"(?:财政|商务|科学技术|工业和信息化|人力资源和社会保障|自然资源|生态环境|农业农村|交通运输|文化和旅游|教育)部)"
)
_VALIDITY_RE = re.compile(
    r"(?:自|从)(?:(?:本(?:意见|办法|细则|政策|规定|通知|方案|文件|措施|条例))?(?:发布|发文|印发|颁布|颁发|公布|下发|文件发布|公布施行)"
    r"(?:之日|之时|后)?|\d{4}年\d{1,2}月(?:\d{1,2}日)?)[^。；;，,]{0,40}"
    r"|(?:有效期|执行期|试行期|实施期)[^。；;，,]{0,40}"
    r"|(?:截止|截至)(?:时间)?(?:到|至)?\d{4}年[^。；;，,]{0,20}"
)
_VALIDITY_VERB_RE = re.compile(r"施行|执行|实施|试行|起|有效|算起|开始")
_UNTIL_RE = re.compile(
    r"(?:至|到|截止|截至)(?:时间)?(?:到|至)?\s*(\d{4})\s*年\s*(?:(\d{1,2})\s*月\s*(?:(\d{1,2})\s*日)?|底)?"
)
_YEARS_RE = re.compile(r"(?:有效期|执行期|试行期|实施期)(?:为|暂定)?\s*([一二两三四五六七八九十\d]{1,3})\s*年")


@dataclass(frozen=True)
class _Division:
    name: str
    code: str
    kind: str  # province, city, county
    current: bool = True


@lru_cache(maxsize=1)
def _divisions() -> dict[str, tuple[_Division, ...]]:
    """Return GB/T 2260 divisions by name (current names and former ones), from core's reference files."""
    folder = Path(__file__).resolve().parents[1] / "core" / "data"
    found: dict[str, list[_Division]] = {}

    def add(name: str, code: str, kind: str, current: bool = True) -> None:
        if len(name) >= 2 and name not in {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "县级市"}:
            entries = found.setdefault(name, [])
            if all(entry.code != code for entry in entries):
                entries.append(_Division(name, code, kind, current))

    def rows(file_name: str) -> Iterable[dict[str, str]]:
        with (folder / file_name).open(encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(handle)

    for row in rows("regions_provinces.csv"):
        add(row["name"], row["code"].ljust(6, "0"), "province")
    for row in rows("regions_cities.csv"):
        add(row["name"], row["code"].ljust(6, "0"), "city")
    for row in rows("regions_areas.csv"):
        add(row["name"], row["code"], "county")
    for row in rows("regions_history.csv"):
        code = row["code"]
        kind = "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"
        add(row["name"], code, kind, current=False)
    return {name: tuple(entries) for name, entries in found.items()}


# Zones named after their division's short name: 嘉兴港区, 岱山经济开发区, 杭州高新区.
_ZONE_AFTER_SHORT_NAME = ("经济技术开发区", "经济开发区", "开发区", "高新区", "高新技术产业开发区", "新区", "港区",
                          "园区", "保税区", "度假区", "管委会")  # fmt: skip


@lru_cache(maxsize=1)
def _short_names() -> dict[str, str]:
    """Return the current divisions' short names (岱山 → 岱山县) that belong to exactly one current name."""
    short: dict[str, set[str]] = {}
    for name, entries in _divisions().items():
        if any(entry.current for entry in entries):
            for form in region_name_forms(name) - {name}:
                short.setdefault(form, set()).add(name)
    return {form: names.pop() for form, names in short.items() if len(names) == 1}


@lru_cache(maxsize=1)
def _division_lengths() -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for name in _divisions():
        lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(values, reverse=True)) for first, values in lengths.items()}


def _division_at(text: str, position: int) -> str:
    """Return the longest division name starting at position, or ''."""
    names = _divisions()
    for length in _division_lengths().get(text[position : position + 1], ()):
        candidate = text[position : position + length]
        if len(candidate) == length and candidate in names:
            return candidate
    return ""


def _division_or_zone_at(text: str, position: int) -> tuple[str, int]:
    """Return (division name, characters used) at position: a full name, or a short one before a zone's kind
    (岱山经济开发区 → 岱山县)."""
    name = _division_at(text, position)
    if name:
        return name, len(name)
    shorts = _short_names()
    for length in (4, 3, 2):
        form = text[position : position + length]
        if form in shorts and text.startswith(_ZONE_AFTER_SHORT_NAME, position + length):
            return shorts[form], length
    return "", 0


def _region_of(issuer: str, context: str) -> tuple[str, str, str]:
    """Return (region, GB/T 2260 code or '', kind) of the first run of divisions in an issuer name.

    The region is written as the issuer writes it, a zone's short name as its division's (岱山 → 岱山县).
    """
    for start in range(len(issuer)):
        first, used = _division_or_zone_at(issuer, start)
        if not first:
            continue
        names = [first]
        position = start + used
        while position < len(issuer):
            following, used = _division_or_zone_at(issuer, position)
            if not following:
                break
            names.append(following)
            position += used
        code, kind = _resolve(names, context)
        return "".join(names), code, kind
    return "", "", ""


def _resolve(names: list[str], context: str) -> tuple[str, str]:
    """Return the code and kind of the last division of a run (杭州市 西湖区), using the ones before it."""
    divisions = _divisions()
    candidates = list(divisions[names[-1]])
    if any(candidate.current for candidate in candidates):
        candidates = [candidate for candidate in candidates if candidate.current]
    for parent in names[:-1]:
        parent_codes = {division.code for division in divisions[parent]}
        narrowed = [c for c in candidates if c.code[:2] + "0000" in parent_codes or c.code[:4] + "00" in parent_codes]
        candidates = narrowed or candidates
    if len(candidates) > 1:  # 江北区 (宁波, 重庆): the one whose city or province the document names
        named = [candidate for candidate in candidates if _parent_named(candidate, context)]
        candidates = named or candidates
    kinds = {candidate.kind for candidate in candidates}
    kind = kinds.pop() if len(kinds) == 1 else ""
    return (candidates[0].code if len(candidates) == 1 else ""), kind


def _parent_named(candidate: _Division, context: str) -> bool:
    parents = (candidate.code[:4] + "00", candidate.code[:2] + "0000")
    return any(parent.name in context for code in parents for parent in _by_code().get(code, ()))


@lru_cache(maxsize=1)
def _by_code() -> dict[str, tuple[_Division, ...]]:
    out: dict[str, list[_Division]] = {}
    for entries in _divisions().values():
        for entry in entries:
            out.setdefault(entry.code, []).append(entry)
    return {code: tuple(entries) for code, entries in out.items()}


def _level(issuer: str, region: str, code: str, kind: str) -> str:
    if kind == "province" or (code and code.endswith("0000")):
        # 北京市朝阳区: a municipality's district is county level; the municipality itself is provincial.
        return "provincial"
    if kind == "city":
        return "municipal"
    if kind == "county":
        return "county"
    if not region and issuer and _NATIONAL_RE.search(issuer):
        return "national"
    return ""


def _date(match: re.Match[str]) -> datetime.date | None:
    try:
        if match.group("y"):
            return datetime.date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
        if match.group("cy"):
            year = int("".join(str(_CN_DIGITS.get(char, 0)) for char in match.group("cy")))
            return datetime.date(year, chinese_number(match.group("cm")), chinese_number(match.group("cd")))
        return datetime.date(int(match.group("iy")), int(match.group("im")), int(match.group("id")))
    except ValueError:
        return None


def parse_date(value: str) -> datetime.date | None:
    """Return the first date written in a text (2020年12月31日, 二〇二〇年十二月三十一日, 2020-12-31), or None."""
    match = _DATE_RE.search(value or "")
    return _date(match) if match else None


def _document_number(head: str) -> tuple[str, int]:
    """Return the document's own number (温政发〔2020〕57号) in canonical brackets and where it ends in head."""
    for match in _DOCNO_RE.finditer(head):
        year = match.group("year") or match.group("year2")
        number = match.group("no") or match.group("no2")
        run_start = match.start()
        while run_start > 0 and re.match(rf"[{_CJK}]", head[run_start - 1]) and match.start() - run_start < 40:
            run_start -= 1
        if run_start > 0 and head[run_start - 1] in '（(《“"':
            continue  # a reference: （玉政发[2017]19号）
        prefix = head[run_start : match.start()][-12:]
        if "文件" in prefix:
            prefix = prefix[prefix.rindex("文件") + 2 :]
        cut = _last_marker(prefix)
        if cut:
            prefix = prefix[cut:]
        return f"{prefix}〔{year}〕{int(number)}号", match.end()
    return "", 0


def parse_document_number(text: str) -> str:
    """Return the first document number (文号) of a text that is no reference in brackets, in canonical form
    (温政发202057号 → 温政发〔2020〕57号), or ''."""
    return _document_number(text)[0]


def _last_marker(prefix: str) -> int | None:
    """Return where the rightmost organisation or header word before a number's own prefix ends (财政局|富人社)."""
    best = None
    for marker in _DOCNO_MARKERS_RE.finditer(prefix):
        remaining = len(prefix) - marker.end()
        if remaining >= (3 if len(marker.group(0)) == 1 else 2):  # 区委办发 keeps its 委
            best = marker.end()
    return best


def _title_end(text: str, start: int, limit: int) -> int:
    """Return where a title starting at start ends (after its kind word and a bracketed 试行/修订), or -1.

    An end followed by the addressees (各…), the preamble (为…, 根据…), a line break or a date is taken at once;
    otherwise the first end not followed by a word that continues the title (的, 和, 实施…).
    """
    stop = min(len(text), start + limit)
    weak = -1
    for match in _KIND_RE.finditer(text, start, stop):
        if match.group(0) == "条" and not re.match(rf"[\d{_CN_NUM}]", text[match.start() - 1 : match.start()]):
            continue
        end = match.end()
        suffix = _TITLE_SUFFIX_RE.match(text, end)
        if suffix:
            end = suffix.end()
        if not _closed(text[start:end]):
            continue
        following = text[end : end + 1]
        if following and (following in _CONTINUES_TITLE or _KIND_RE.match(text, end)):
            continue
        if following and following in "，。；：,;:":
            return weak  # the text went on into a sentence
        if not following or following == "\n" or text.startswith(_PREAMBLE_START, end) or _DATE_RE.match(text, end):
            return end
        if weak < 0:
            weak = end
    return weak


def _trim_organisation(run: str) -> str:
    """Return the organisation name at the end of a run of characters, or ''."""
    run = re.sub(r"^.*(?:文件|号|公开发布[）)]|日|附件)", "", run)
    if "关于" in run:  # a title run into its signature: 关于…若干政策意见桐乡市服务业发展工作领导小组
        kinds = [match.end() for match in _KIND_RE.finditer(run, run.index("关于")) if match.group(0) != "条"]
        if kinds:
            run = run[kinds[-1] :]
    run = run.lstrip("★☆（）() ")
    # 玉环市总部经济企业销售回归奖励申请表玉环市经济和信息化局: the names start where they run to the end.
    for start in range(len(run) - 3):
        if _organisation_start(run, start) and _organisations_at(run, start) == run[start:]:
            run = run[start:]
            break
    return run if len(run) >= 4 and _ORG_END_RE.search(run) else ""


def _issuer_before(text: str, position: int, *, previous_line: bool = False) -> str:
    """Return the organisation name written right before position (…人民政府关于 → …人民政府), or ''.

    With previous_line, the name may end the line before (a signature: the body's name, then the date).
    """
    if previous_line:
        while position > 0 and text[position - 1] in " \u3000\n":
            position -= 1
    start = position
    while start > 0 and re.match(rf"[{_CJK}（）()·]", text[start - 1]) and position - start < 80:
        start -= 1
    return _trim_organisation(text[start:position])


_ORGANISATION_MAX = 20  # 桐乡市服务业发展工作领导小组办公室 has 17 characters


def _organisation_start(text: str, position: int) -> bool:
    return bool(_division_at(text, position)) or text.startswith(("中共", "中国"), position)


def _organisations_at(text: str, position: int) -> str:
    """Return the run of organisation names starting at position (a signature block without a date)."""
    end = position
    while end < len(text) and _organisation_start(text, end):
        found = -1
        for match in re.finditer(_ORG_END, text[end : end + _ORGANISATION_MAX]):
            stop = end + match.end()
            if re.search(r"[^\w（）()]", text[end:stop]):
                break
            if (
                stop >= len(text)
                or text[stop] == "\n"
                or _organisation_start(text, stop)
                or text.startswith(("（此件", "(此件"), stop)
                or _DATE_RE.match(text, stop)
            ):
                found = stop
                break
        if found < 0:
            break
        end = found
    return text[position:end]


def _find_title(text: str, head_start: int) -> tuple[str, int]:
    """Return the title and where it starts: a 关于… title, or a line (or head) ending in a kind word."""
    head = text[: head_start + _HEAD_CHARS]
    for match in re.finditer("关于", head):
        at = match.start()
        if at < head_start - 40:
            continue
        before = head[max(0, at - 4) : at]
        if "《" in before or "“" in before or re.search("根据|按照|依据|转发", before):
            continue
        end = _title_end(head, at, 150)
        if end < 0:
            continue
        issuer = _issuer_before(head, at)
        return head[at - len(issuer) : end], at - len(issuer)
    # No 关于: a short line of its own that ends in a kind word (嘉兴市科技保险补贴实施办法（试行）).
    offset = 0
    for line in head.split("\n")[:12]:
        stripped = line.strip()
        if 4 <= len(stripped) <= 80 and not re.search("[，。；：,;:]", stripped):
            end = _title_end(stripped, 0, 80)
            if end == len(stripped):
                return stripped, offset
        offset += len(line) + 1
    # A title run into the preamble: 遂昌县振兴生态工业改革创新三十九条为着力推进…
    start = head_start
    while start < len(head) and head[start] in "\n 　★":
        start += 1
    while number := _DOCNO_LINE_RE.match(head, start):  # a second number: 富财行〔2018〕38号
        start = number.end()
    end = _title_end(head, start, 70)
    if end > 0 and head[end:].startswith(_PREAMBLE_START):
        return head[start:end], start
    return "", -1


def _split_issuers(issuer: str) -> tuple[str, ...]:
    """Return the bodies of a joint issuer name (嘉兴市科学技术局嘉兴市财政局 → 嘉兴市科学技术局, 嘉兴市财政局)."""
    if not issuer:
        return ()
    parts = [part for part in re.split(r"[、，,\s]+", issuer) if part]
    out: list[str] = []
    for part in parts:
        start = 0
        for position in range(2, len(part) - 1):
            if _ORG_END_RE.search(part[start:position]) and (
                _division_at(part, position) or part.startswith("中共", position) or part.startswith("中国", position)
            ):
                out.append(part[start:position])
                start = position
        out.append(part[start:])
    merged: list[str] = []
    for part in out:  # 中国人民银行 | 嘉兴市中心支行 is one body
        if merged and re.search("(?:支行|分行|营业管理部)$", part) and "银行" not in part:
            merged[-1] += part
        else:
            merged.append(part)
    return tuple(dict.fromkeys(merged))


_DOCNO_LINE_RE = re.compile(rf"\s*[{_CJK}]{{0,12}}[〔\[［【(（](?:19|20)\d{{2}}[〕\]］】)）]第?\d{{1,4}}号\s*")
_NOTICE_BODY_RE = re.compile(
    r"(?:印发给你们|现予印发|予以印发|现印发|请认真|请遵照|请结合实际|贯彻执行|贯彻落实|组织实施)[^。\n]{0,40}。"
)
_PUBLIC_RE = re.compile(r"[（(]此件(?:公开)?发布[)）]")
_BRACKETED_DATE_RE = re.compile(r"[（(]\s*(\d{4}年\d{1,2}月\d{1,2}日)\s*[)）]")


def _signature(text: str) -> tuple[str, datetime.date | None]:
    """Return (organisation, date) of the document's first signature, either maybe empty.

    A signature is a body's name before a date that is not an 印发 date (the printing office's), before
    （此件公开发布）, or the names that follow a cover notice's last sentence (…请认真贯彻执行。嘉兴市科学技术局…).
    """
    found: list[tuple[int, str]] = []
    signed_on = None
    for match in _DATE_RE.finditer(text):
        if text.startswith(_SIGNATURE_DATE_AFTER, match.end()):
            continue
        organisation = _issuer_before(text, match.start(), previous_line=True)
        if organisation:
            found.append((match.start(), organisation))
            signed_on = _date(match)
            break
    public = _PUBLIC_RE.search(text)
    if public and (organisation := _issuer_before(text, public.start(), previous_line=True)):
        found.append((public.start(), organisation))
    notice = _NOTICE_BODY_RE.search(text, 0, _HEAD_CHARS)
    if notice and (organisation := _organisations_at(text, notice.end())):
        found.append((notice.end(), organisation))
    return (min(found)[1] if found else ""), signed_on


def _validity(text: str, issue_date: datetime.date | None) -> tuple[str, datetime.date | None, datetime.date | None]:
    """Return (the validity statement, valid from, valid until) from the last sentences that state one."""
    found = ""
    for sentence in reversed(re.split(r"(?<=[。；;\n])", text)):
        match = _VALIDITY_RE.search(sentence)
        if match and _VALIDITY_VERB_RE.search(match.group(0)):
            found = match.group(0).rstrip("，,。；; ")
            # 自…起施行，有效期三年 / 至…止: keep the clause after the comma when it goes on with the period
            rest = sentence[match.end() :]
            more = re.match(r"[，,]\s*((?:有效期|执行期|试行期|执行到|执行至|至|到|从|自)[^。；;，,]{1,30})", rest)
            if more:
                found += "，" + more.group(1)
            break
    if not found:
        return "", None, None
    valid_from = parse_date(found.split("至")[0].split("到")[0])
    if valid_from is None and re.search("发布|发文|印发|颁布|颁发|公布|下发", found):
        valid_from = issue_date
    valid_until = None
    until = _UNTIL_RE.search(found)
    if until:
        year, month, day = int(until.group(1)), until.group(2), until.group(3)
        try:
            if month and day:
                valid_until = datetime.date(year, int(month), int(day))
            elif month:
                next_month = datetime.date(year + int(month) // 12, int(month) % 12 + 1, 1)
                valid_until = next_month - datetime.timedelta(days=1)
            else:
                valid_until = datetime.date(year, 12, 31)
        except ValueError:
            valid_until = None
    years = _YEARS_RE.search(found)
    if valid_until is None and years and valid_from is not None:
        count = chinese_number(years.group(1))
        try:
            valid_until = valid_from.replace(year=valid_from.year + count) - datetime.timedelta(days=1)
        except ValueError:  # 29 February
            valid_until = valid_from.replace(year=valid_from.year + count, day=28)
    return found, valid_from, valid_until


def guess_metadata(document: PolicyText | str) -> PolicyMetadata:
    """Return the title, issuer, document number, dates, validity, region and level a document states.

    Everything is a guess from regular expressions over the head (文号, 发文机关, 标题) and the signatures (发文
    机关 + 成文日期; 印发 dates of the printing office are skipped); staff confirm it before it is saved. `notes`
    says where the issuer and the title were read (title prefix, header, signature, before the number, container).
    """
    if isinstance(document, str):
        document = PolicyText(text=document, source="text")
    text = document.text
    head = text[:_HEAD_CHARS]
    notes: dict[str, str] = {}
    number, number_end = _document_number(head)
    title, _title_start = _find_title(text, number_end if number_end < 300 else 0)
    if document.title and (not title or (len(document.title) > len(title) and title in document.title)):
        title, notes["title"] = document.title, "container"
    signed_by, signed_on = _signature(text)
    issuer = ""
    if "关于" in title and (prefix := _trim_organisation(title[: title.index("关于")])):
        issuer, notes["issuer"] = prefix, "title"
    header = re.search(rf"([{_CJK}（）()]{{4,60}}?)文件", head[:160])
    if not issuer and header and (named := _trim_organisation(header.group(1))):
        issuer, notes["issuer"] = named, "header"
    if not issuer and signed_by:
        issuer, notes["issuer"] = signed_by, "signature"
    if not issuer and number_end:
        line = head[head.rfind("\n", 0, number_end) + 1 : number_end]
        own = number.split("〔")[0]
        before = line[: line.rfind(own)] if own and own in line else ""
        if named := _issuer_before(before, len(before)):
            issuer, notes["issuer"] = named, "before number"
    issue_date = signed_on
    if issue_date is None and (bracketed := _BRACKETED_DATE_RE.search(head[:600])):
        issue_date = parse_date(bracketed.group(1))
    if issue_date is None and (printed := re.search(r"(\d{4}年\d{1,2}月\d{1,2}日)\s*印发", text[-_TAIL_CHARS:])):
        issue_date = parse_date(printed.group(1))
    if issue_date is None and document.published:
        issue_date = parse_date(document.published)
    validity, valid_from, valid_until = _validity(text, issue_date)
    issuers = _split_issuers(issuer)
    region, code, kind = _region_of(issuers[0], head) if issuers else ("", "", "")
    if not region and title:
        region, code, kind = _region_of(title, head)
    return PolicyMetadata(
        title=title.strip(),
        issuer="、".join(issuers),
        issuers=issuers,
        document_number=number,
        issue_date=issue_date,
        validity=validity,
        valid_from=valid_from,
        valid_until=valid_until,
        region=region,
        region_code=code,
        level=_level(issuer, region, code, kind),
        notes=notes,
    )
