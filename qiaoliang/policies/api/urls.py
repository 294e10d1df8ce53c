"""Routes of the policies API under /api/v1/."""

from qiaoliang.core.viewsets import Router
from qiaoliang.policies.api import views

router = Router()
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("policy-checkup", views.CheckupViewSet, basename="policy-checkup")
router.register("policy-questions", views.QuestionViewSet, basename="policy-question")

urlpatterns = router.urls
