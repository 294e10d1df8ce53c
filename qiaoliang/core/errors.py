"""One place where refusals become responses: domain errors, 403/404/500 and CSRF failures.

- HTML: a `DomainError` a view did not turn into a form error becomes a message and a redirect back
  (POST), an alert fragment (htmx) or the error page in the site's layout; `NotAllowedError` is a 403.
- API: `core.api.exception_handler` answers JSON with the same message and code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme

from qiaoliang.core.exceptions import DomainError, NotAllowedError


def redirect_on_error(request: HttpRequest, url: str) -> None:
    """Name the page a refused POST goes back to when the form sent no `next` and the browser no Referer."""
    request.domain_error_redirect = url  # type: ignore[attr-defined]


def safe_next(request: HttpRequest, default: str = "") -> str:
    """Return the page to go back to (?next= or the Referer), if it is on this site, else `default`."""
    fallback = getattr(request, "domain_error_redirect", "")
    for candidate in (request.POST.get("next"), request.GET.get("next"), request.headers.get("Referer"), fallback):
        if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
            return candidate
    return default


def error_page(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    """Render the error page of a status in the site's layout."""
    return render(request, f"errors/{status}.html", {"message": message, "status": status}, status=status)


class DomainErrorMiddleware:
    """Turn an uncaught DomainError of an HTML view into a message and a way back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotAllowedError):
            return error_page(request, 403, exception.message)
        if getattr(request, "htmx", False):
            response = render(request, "partials/alert.html", {"message": exception.message, "level": "danger"},
                              status=exception.status_code)  # fmt: skip
            response["HX-Retarget"] = "#messages"
            response["HX-Reswap"] = "innerHTML"
            return response
        if request.method == "POST":
            back = safe_next(request)
            if back:
                messages.error(request, exception.message)
                return HttpResponseRedirect(back)
        return error_page(request, exception.status_code, exception.message)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else ""
    return error_page(request, 403, message)


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: whatever failed may fail again while rendering the page.
    return HttpResponse(loader.get_template("errors/500.html").render({"status": 500}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/csrf.html", {"status": 403}, status=403)
