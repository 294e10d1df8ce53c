"""Top-level URLs: the web UI per app, the back office and the REST API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("qiaoliang.core.urls")),
    path("accounts/", include("qiaoliang.accounts.urls")),
    path("orgs/", include("qiaoliang.orgs.urls")),
    path("exchange/", include("qiaoliang.exchange.urls")),
    path("events/", include("qiaoliang.events.urls")),
    path("appeals/", include("qiaoliang.appeals.urls")),
    path("policies/", include("qiaoliang.policies.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("qiaoliang.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "qiaoliang.core.errors.bad_request"
handler403 = "qiaoliang.core.errors.permission_denied"
handler404 = "qiaoliang.core.errors.page_not_found"
handler500 = "qiaoliang.core.errors.server_error"
