"""Uploaded files (attachments, business licences): the whole file checked against its claimed type, stored
under a random name, served only through a permission-checked view.

A first-bytes check is not enough: a PNG signature followed by an SVG script, or "%PDF" followed by HTML,
would pass it. Each type is parsed far enough to know it is what it claims: a PNG's chunks with their
CRCs up to IEND and nothing after; a JPEG's markers from SOI to EOI; a PDF's header, objects and %%EOF
trailer, without JavaScript actions; a DOCX or XLSX as a bounded zip with its main part and no macros.
"""

from __future__ import annotations

import re
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError

MB = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    label: str


TYPES = {
    ".pdf": FileType(".pdf", "application/pdf", "PDF"),
    ".jpg": FileType(".jpg", "image/jpeg", "JPG"),
    ".jpeg": FileType(".jpeg", "image/jpeg", "JPG"),
    ".png": FileType(".png", "image/png", "PNG"),
    ".docx": FileType(".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    ".xlsx": FileType(".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}
IMAGE_TYPES = {".jpg", ".jpeg", ".png"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PDF_HEADER = re.compile(rb"^%PDF-[12]\.\d")
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia)\b")
_SUSPICIOUS_NAME = re.compile(r"[/\\\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_HTML = re.compile(rb"<\s*(?:html|script|svg|body|iframe)\b", re.IGNORECASE)


def random_name(prefix: str, original: str) -> str:
    """Return a storage path with a random name that keeps only the (checked) extension."""
    extension = ("." + original.rsplit(".", 1)[-1].lower()) if "." in original else ""
    if extension not in TYPES:
        extension = ".bin"
    return f"{prefix}/{uuid.uuid4().hex}{extension}"


def clean_name(original: str) -> str:
    """Return a display name without directories, control or direction-override characters."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if ch.isprintable() and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )
    return name.strip()[:200] or "file"


def _png_is_whole(data: bytes) -> bool:
    if not data.startswith(_PNG_SIGNATURE):
        return False
    position = len(_PNG_SIGNATURE)
    seen_header = False
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data) or not kind.isalpha():
            return False
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : end])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            return False
        if not seen_header and kind != b"IHDR":
            return False
        seen_header = True
        position = end
        if kind == b"IEND":
            return not data[position:].strip(b"\x00")
    return False


def _jpeg_is_whole(data: bytes) -> bool:
    if not data.startswith(b"\xff\xd8\xff"):
        return False
    trimmed = data.rstrip(b"\x00")
    if not trimmed.endswith(b"\xff\xd9"):
        return False
    # Walk the marker segments up to the start of the scan: each has a length that must fit.
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data follows up to EOI
            return True
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if length < 2:
            return False
        position += 2 + length
    return False


def _pdf_problem(data: bytes) -> str:
    if not _PDF_HEADER.match(data[:16]):
        return _("The file is not a PDF document.")
    if b"%%EOF" not in data[-2048:] or b" obj" not in data:
        return _("The file is not a complete PDF document.")
    if _HTML.search(data[:4096]):
        return _("The file is not a PDF document.")
    if _PDF_ACTIVE.search(data):
        return _("PDF files with scripts, launch actions or embedded files are refused; print it to PDF again.")
    return ""


def _office_problem(file_obj: IO[bytes], main_part: str) -> str:
    try:
        file_obj.seek(0)
        with zipfile.ZipFile(file_obj) as archive:
            entries = archive.infolist()
            if len(entries) > 2000 or sum(entry.file_size for entry in entries) > 200 * MB:
                return _("The document unpacks to too much data.")
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names or main_part not in names:
                return _("The file's content does not match its type.")
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return _("Documents with macros are refused.")
            if archive.testzip() is not None:
                return _("The document is damaged.")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return _("The file's content does not match its type.")
    finally:
        file_obj.seek(0)
    return ""


def check_upload(
    upload: Any, *, allowed: tuple[str, ...] = tuple(TYPES), max_bytes: int | None = None
) -> tuple[FileType, str]:
    """Check an uploaded file (name, size and whole content); return its type and clean name, or raise DomainError."""
    sent = getattr(upload, "name", "") or ""
    if _SUSPICIOUS_NAME.search(sent):
        raise DomainError(
            _("The file name holds folder separators or hidden control characters; rename the file and try again."),
            code="file_name",
        )
    name = clean_name(sent)
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    kinds = ", ".join(sorted({TYPES[e].label for e in allowed}))
    if extension not in allowed:
        raise DomainError(
            _("Files of type %(type)s cannot be uploaded here; use %(kinds)s.")
            % {"type": extension or "?", "kinds": kinds},
            code="file_type",
        )
    limit = max_bytes or int(getattr(settings, "UPLOAD_MAX_BYTES", 10 * MB))
    size = getattr(upload, "size", None)
    if size is None or size > limit:
        raise DomainError(_("The file is larger than %(size)d MB.") % {"size": limit // MB}, code="file_size")
    if size == 0:
        raise DomainError(_("The file is empty."), code="file_size")
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    mismatch = _("The file's content does not match its type %(type)s.") % {"type": extension}
    problem = ""
    if (extension == ".png" and not _png_is_whole(data)) or (
        extension in {".jpg", ".jpeg"} and not _jpeg_is_whole(data)
    ):
        problem = mismatch
    elif extension == ".pdf":
        problem = _pdf_problem(data)
    elif extension == ".docx":
        problem = _office_problem(upload, "word/document.xml")
    elif extension == ".xlsx":
        problem = _office_problem(upload, "xl/workbook.xml")
    if problem:
        raise DomainError(problem, code="file_type")
    return TYPES[extension], name
