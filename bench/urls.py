"""The project's URLs plus /bench/bare/: the cheapest response Django can give through the same middleware."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from qiaoliang.urls import urlpatterns as project_urlpatterns


def bare_view(request: HttpRequest) -> HttpResponse:
    """Return "ok": the baseline the other endpoints' requests/s are compared with."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare_view), *project_urlpatterns]
