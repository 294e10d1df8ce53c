from django.utils.translation import gettext_lazy as _

from qiaoliang.core.apps import QiaoliangAppConfig


class EventsConfig(QiaoliangAppConfig):
    """Events: meetings, lectures and trainings with registration, QR check-in, hybrid attendance, matchmaking."""

    default = True
    name = "qiaoliang.events"
    label = "events"
    verbose_name = _("Events")
