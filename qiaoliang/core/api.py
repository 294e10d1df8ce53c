"""API plumbing shared by every app: pagination and the one place domain errors become HTTP."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qiaoliang.core.exceptions import DomainError


class Pagination(PageNumberPagination):
    """Page-number pagination with a client-chosen page size up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map DomainError to a 400/403 JSON answer; leave the rest to DRF."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    return drf_exception_handler(exc, context)
