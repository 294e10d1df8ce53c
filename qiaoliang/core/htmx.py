"""htmx helpers shared by the list pages: one view returns the whole page or the partial it includes.

Also the paginators lists use: Django's (an exact COUNT), or `CappedPaginator` for lists that can be large and
are searched (the member directory), which counts up to a limit and says "1,000+" beyond it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

COUNT_LIMIT = 1000


class CappedCount(int):
    """A count that stopped at a limit: it compares and computes as the limit, and reads "1,000+"."""

    def __str__(self) -> str:
        return f"{int(self):,}+"

    def __repr__(self) -> str:
        return f"CappedCount({int(self)})"


class CappedPaginator(Paginator):
    """Count at most `limit` rows; below it, page through the ids found while counting.

    An exact COUNT(*) of a search that matches a third of 100,000 names reads all of them; this reads the first
    `limit` + 1 matches in whatever order is cheapest and stops. Then:

    - at most `limit` matches: the count is exact and the matches' ids and sort keys are already in hand, so a
      page is fetched by its ids (a primary-key lookup, whatever the filters);
    - more: `count` is a CappedCount (shown "1,000+", and `num_pages` "20+") and pages go up to the limit. A
      page's ids come from the ordered query (narrow: no joins, no wide rows), or, when `parts` gives querysets
      whose union is the list, each read in its own fastest order, from the first rows of each part merged
      (see selectors.enterprise_directory_parts); then the page's rows are fetched by id.

    A page costs the same number of queries whatever its size. The sort keys are compared in Python (as the C
    collation compares them), so the query must be ordered by plain ascending columns ending with a unique one
    (the directory's name_pinyin, id); any other ordering counts with a capped COUNT and pages by slicing.
    """

    def __init__(self, object_list: Any, per_page: int | str, *args: Any, limit: int | None = None,
                 parts: Callable[[], Sequence[QuerySet[Any]] | None] | None = None, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(object_list, per_page, *args, **kwargs)
        self.limit = COUNT_LIMIT if limit is None else limit
        self.parts = parts
        self.capped = False
        self._ids: list[Any] | None = None

    def _sort_fields(self) -> list[str] | None:
        queryset: Any = self.object_list
        if not isinstance(queryset, QuerySet):
            return None
        ordering: list[Any] = list(
            queryset.query.order_by or (queryset.query.get_meta().ordering or [] if queryset.ordered else [])
        )
        if not ordering or not all(isinstance(name, str) and name.replace("_", "").isalnum() for name in ordering):
            return None
        return [str(name) for name in ordering] if ordering[-1] in ("id", "pk") else None

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        queryset: Any = self.object_list
        fields = self._sort_fields()
        if fields is None:
            if not isinstance(queryset, QuerySet):
                return super().count
            found = queryset.order_by()[: self.limit + 1].count()
        else:
            rows = list(queryset.order_by().values_list(*fields)[: self.limit + 1])  # the last field is the id
            found = len(rows)
            if found <= self.limit and not any(value is None for row in rows for value in row):
                rows.sort()
                self._ids = [row[-1] for row in rows]
        if found > self.limit:
            self.capped = True
            return CappedCount(self.limit)
        return found

    @cached_property
    def num_pages(self) -> int:  # type: ignore[override]
        pages = super().num_pages
        return CappedCount(pages) if self.capped else pages

    def page(self, number: Any) -> Page:
        count = self.count  # counts first: it may find the ids
        fields = self._sort_fields()
        if fields is None:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= count:
            top = count
        if self._ids is not None:
            ids = self._ids[bottom:top]
        else:
            parts = self.parts() if self.parts is not None else None
            if parts:
                merged = {row for part in parts for row in part.values_list(*fields)[:top]}
                ids = [row[-1] for row in sorted(merged)][bottom:top]
            else:
                # The page's ids by a narrow query (no joins, no wide rows to sort), then its rows by id.
                queryset: Any = self.object_list
                ids = list(queryset.values_list("pk", flat=True)[bottom:top])
        found = {obj.pk: obj for obj in self._rows(ids)} if ids else {}
        return self._get_page([found[pk] for pk in ids if pk in found], number, self)  # type: ignore[attr-defined]

    def _rows(self, ids: list[Any]) -> QuerySet[Any]:
        """Return the rows of these ids with the list's joins, prefetches and deferred fields but not its filters:
        the ids came from the filtered query a moment ago, and its conditions (a sub-select of thousands of ids,
        the user's scope) would cost more than fetching 50 rows by primary key."""
        queryset: Any = self.object_list
        query = queryset.query
        if query.annotations or query.extra or query.combinator or query.distinct:
            return queryset.filter(pk__in=ids)
        rows = queryset.model._default_manager.filter(pk__in=ids)
        rows.query.select_related = query.select_related
        rows.query.deferred_loading = query.deferred_loading
        return rows.prefetch_related(*queryset._prefetch_related_lookups)


def paginate(
    request: HttpRequest, queryset: QuerySet[Any], per_page: int, paginator_class: Callable[..., Paginator] = Paginator
) -> Page:
    """Return the requested page (a bad or missing page number gives the first or last page)."""
    return paginator_class(queryset, per_page).get_page(request.GET.get("page"))


def wants_partial(request: HttpRequest) -> bool:
    """Tell whether htmx asked for the results partial (a history restore needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def render_list(request: HttpRequest, template: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    """Render the whole page, or only its results partial for htmx; caches must keep both apart."""
    response = render(request, partial if wants_partial(request) else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
