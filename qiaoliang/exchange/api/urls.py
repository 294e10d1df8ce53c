"""Routes of the exchange API under /api/v1/."""

from rest_framework.routers import DefaultRouter

from qiaoliang.exchange.api import views

router = DefaultRouter(use_regex_path=False)
router.register("listings", views.ListingViewSet, basename="listing")
router.register("matches", views.MatchViewSet, basename="match")

urlpatterns = router.urls
