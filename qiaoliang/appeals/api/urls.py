"""Routes of the appeals API under /api/v1/."""

from qiaoliang.appeals.api import views
from qiaoliang.core.viewsets import Router

router = Router()
router.register("appeals", views.AppealViewSet, basename="appeal")

urlpatterns = router.urls
