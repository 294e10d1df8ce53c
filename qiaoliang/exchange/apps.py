from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """Resource exchange (供需对接): offers, needs, matches and the matching engine."""

    name = "qiaoliang.exchange"
    label = "exchange"
    verbose_name = _("Resource exchange")
