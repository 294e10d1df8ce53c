"""Routes of the orgs API under /api/v1/."""

from rest_framework.routers import DefaultRouter

from qiaoliang.orgs.api import views

router = DefaultRouter(use_regex_path=False)
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("zones", views.ZoneViewSet, basename="zone")
router.register("enterprises", views.EnterpriseViewSet, basename="enterprise")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("people", views.PersonViewSet, basename="person")

urlpatterns = router.urls
