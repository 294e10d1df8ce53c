"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """Add the site's name and languages."""
    return {"SITE_LANGUAGES": settings.LANGUAGES, "IS_PRODUCTION": settings.IS_PRODUCTION}
