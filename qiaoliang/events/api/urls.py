"""Routes of the events API under /api/v1/."""

from qiaoliang.core.viewsets import Router
from qiaoliang.events.api import views

router = Router()
router.register("events", views.EventViewSet, basename="event")
router.register("registrations", views.RegistrationViewSet, basename="registration")

urlpatterns = router.urls
