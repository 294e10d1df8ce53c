"""Routes of the exchange API under /api/v1/."""

from qiaoliang.core.viewsets import Router
from qiaoliang.exchange.api import views

router = Router()
router.register("listings", views.ListingViewSet, basename="listing")
router.register("matches", views.MatchViewSet, basename="match")

urlpatterns = router.urls
