"""API plumbing shared by every app: pagination, bounded ids and the one place domain errors become HTTP answers.

The router and the scoped base viewset are in `core.viewsets` (DRF reads DEFAULT_PAGINATION_CLASS from here
while it defines its viewsets, so this module must not import them).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qiaoliang.core.exceptions import DomainError

# Primary keys are 64-bit; a larger number in a path or filter can never match and must not reach the database
# (SQLite raises OverflowError on it).
MAX_ID = 2**63 - 1


class Pagination(PageNumberPagination):
    """Page-number pagination with a client-chosen page size up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def parse_id(value: Any, name: str) -> int:
    """Return a positive 64-bit id from a query or body value, or raise a 400 with the parameter's name."""
    text = str(value).strip()
    if not text.isdecimal() or not 0 < int(text) <= MAX_ID:
        raise ValidationError({name: [_("Give a whole number from 1 to %(max)d.") % {"max": MAX_ID}]})
    return int(text)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer a DomainError with its message and code (400/403); Django's 404/403 as DRF's; the rest as DRF does."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = DRFPermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class BoundedFilterBackend(DjangoFilterBackend):
    """django-filter, with numbers in id and number filters checked against 64 bits before any query.

    A filter such as `?organization=99999999999999999999` or `?offer=1e20` can never match a row; on SQLite
    it would raise OverflowError deep in the driver (a 500). It gets a 400 naming the parameter instead.
    """

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            for name, declared in filterset_class.base_filters.items():
                if not isinstance(declared, django_filters.NumberFilter | django_filters.ModelChoiceFilter):
                    continue
                raw = request.query_params.get(name)
                if raw in (None, ""):
                    continue
                try:
                    number = Decimal(str(raw).strip())
                except InvalidOperation:
                    continue  # the filter's own form says what is wrong with it
                if not number.is_finite() or abs(number) > MAX_ID:
                    raise ValidationError({name: [_("Give a whole number from 1 to %(max)d.") % {"max": MAX_ID}]})
        return super().filter_queryset(request, queryset, view)
