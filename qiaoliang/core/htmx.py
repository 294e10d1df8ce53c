"""htmx helpers shared by the list pages: one view returns the whole page or the partial it includes."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int) -> Page:
    """Return the requested page (a bad or missing page number gives the first or last page)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def wants_partial(request: HttpRequest) -> bool:
    """Tell whether htmx asked for the results partial (a history restore needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def render_list(request: HttpRequest, template: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    """Render the whole page, or only its results partial for htmx; caches must keep both apart."""
    response = render(request, partial if wants_partial(request) else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
