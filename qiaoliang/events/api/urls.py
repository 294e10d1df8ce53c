"""Routes of the events API under /api/v1/."""

from qiaoliang.core.viewsets import Router

router = Router()

urlpatterns = router.urls
