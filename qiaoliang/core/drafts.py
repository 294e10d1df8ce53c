"""What a refused form held, kept for the page it goes back to: a POST that is refused redirects back with a
message (post, redirect, get), and the form there is filled again from the draft, so nothing typed is lost.

Drafts live in the session, by a name the view chooses (``policies.ask.12``), bounded in number and size, and
are read once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest

from qiaoliang.core.exceptions import DomainError

SESSION_KEY = "form-drafts"
MAX_DRAFTS = 5
MAX_FIELDS = 20
MAX_CHARS = 20_000


def keep(request: HttpRequest, name: str, data: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Keep the given fields of a refused form (text only: files cannot be kept) under a name."""
    kept = {field: str(data.get(field, ""))[:MAX_CHARS] for field in list(fields)[:MAX_FIELDS] if data.get(field)}
    drafts = dict(request.session.get(SESSION_KEY, {}))
    drafts.pop(name, None)
    drafts[name] = kept
    request.session[SESSION_KEY] = dict(list(drafts.items())[-MAX_DRAFTS:])


def take(request: HttpRequest, name: str) -> dict[str, str] | None:
    """Return (and forget) the draft kept under a name, or None."""
    drafts = request.session.get(SESSION_KEY)
    if not drafts or name not in drafts:
        return None
    drafts = dict(drafts)
    found = drafts.pop(name)
    request.session[SESSION_KEY] = drafts
    return dict(found) if isinstance(found, dict) else None


@contextmanager
def kept_if_refused(request: HttpRequest, name: str, fields: Iterable[str]) -> Iterator[None]:
    """Keep the POST's fields when the service refuses it (the DomainError goes on to the error middleware)."""
    try:
        yield
    except DomainError:
        keep(request, name, request.POST, fields)
        raise
