"""Private files (attachments, licences) sent only through views that checked the user's right to see them.

In production the web server sends the bytes: the view answers with `X-Accel-Redirect` to an internal
location (nginx `internal;`, see docs/operations.md) so no public URL reaches MEDIA_ROOT. In development and
tests Django streams the file itself. Either way the answer is sandboxed and never sniffed as another type.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

INLINE_TYPES = {"image/png", "image/jpeg", "application/pdf"}


def delete_on_commit(storage: Any, names: Iterable[str]) -> None:
    """Delete stored files once the transaction that stopped referring to them commits (kept if it rolls back)."""
    wanted = [name for name in names if name]
    if wanted:
        transaction.on_commit(lambda: [storage.delete(name) for name in wanted] and None)


def serve_private_file(file: FieldFile, *, name: str, content_type: str) -> HttpResponseBase:
    """Answer with a stored file under its display name; images and PDFs inline, the rest as a download."""
    if not file or not file.name:
        raise Http404
    inline = content_type in INLINE_TYPES
    prefix = str(getattr(settings, "PRIVATE_FILES_ACCEL_PREFIX", ""))
    response: HttpResponseBase
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(file.name)
    else:
        try:
            handle = file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, name) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=0"
    return response
