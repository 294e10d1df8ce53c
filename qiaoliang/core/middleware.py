"""Request id (one per request, kept in a context variable for the audit log), the idle-timeout session touch,
the locale default and the Content-Security-Policy."""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("current_request", default=None)


class RequestIdMiddleware:
    """Give each request an id (or keep the proxy's X-Request-ID) and expose the request to the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        # Not a secret: a pseudo-random id (no system call, unlike uuid4; the module's generator is reseeded in each
        # forked worker) is enough to find a request in the logs.
        request.request_id = incoming[:36] if incoming else f"{random.getrandbits(128):032x}"  # type: ignore[attr-defined]
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


SESSION_TOUCHED_KEY = "_touched"


@receiver(user_logged_in, dispatch_uid="qiaoliang.core.session_touched_at_login")
def _touched_at_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Signing in saves the session anyway: stamp it, so the next page does not write it again."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_TOUCHED_KEY] = int(time.time())


class SessionTouchMiddleware:
    """Renew a signed-in session at most every SESSION_TOUCH_SECONDS instead of writing it on every request.

    The idle timeout (SESSION_COOKIE_AGE) counts from the last save. Saving on every request
    (SESSION_SAVE_EVERY_REQUEST) made each page a database write, which SQLite serialises across workers;
    with a touch a minute, a session ends between SESSION_COOKIE_AGE - SESSION_TOUCH_SECONDS and
    SESSION_COOKIE_AGE after the last request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            touched = session.get(SESSION_TOUCHED_KEY)
            if not isinstance(touched, int) or not 0 <= now - touched < settings.SESSION_TOUCH_SECONDS:
                session[SESSION_TOUCHED_KEY] = now  # marks the session modified: saved, expiry renewed
        return self.get_response(request)


class ChineseByDefaultLocaleMiddleware(LocaleMiddleware):
    """Serve Simplified Chinese unless the user chose another language with the switcher.

    Django's LocaleMiddleware would follow the browser's Accept-Language header; Qiaoliang's users work in
    Chinese whatever their browser says, and English is an explicit choice (the language cookie). API
    clients negotiate with Accept-Language as HTTP intends.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            super().process_request(request)
            return
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


# Scripts only from this site (htmx, the vendored libraries, our own files): no inline scripts or handlers, no eval.
# Styles may be inline (Bootstrap components and htmx set style attributes). Camera frames for the check-in
# scanner stay in the page (blob:/data: images). The API's interactive docs (Swagger UI) load their own inline
# bootstrap script, so they get a policy of their own.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
API_DOCS_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy header with every page (an answer that set its own keeps it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith("/api/v1/docs")
            response["Content-Security-Policy"] = API_DOCS_POLICY if docs else CONTENT_SECURITY_POLICY
        return response
