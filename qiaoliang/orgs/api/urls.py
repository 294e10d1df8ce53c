"""Routes of the orgs API under /api/v1/."""

from qiaoliang.core.viewsets import Router
from qiaoliang.orgs.api import views

router = Router()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("zones", views.ZoneViewSet, basename="zone")
router.register("enterprises", views.EnterpriseViewSet, basename="enterprise")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("people", views.PersonViewSet, basename="person")

urlpatterns = router.urls
