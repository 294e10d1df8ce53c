"""REST API v1: each app contributes its routes from `<app>/api/urls.py`."""

from django.urls import include, path

urlpatterns = [
    path("", include("qiaoliang.orgs.api.urls")),
    path("", include("qiaoliang.exchange.api.urls")),
    path("", include("qiaoliang.events.api.urls")),
    path("", include("qiaoliang.appeals.api.urls")),
    path("", include("qiaoliang.policies.api.urls")),
]
