from django.utils.translation import gettext_lazy as _

from qiaoliang.core.apps import QiaoliangAppConfig


class ExchangeConfig(QiaoliangAppConfig):
    """Resource exchange (供需对接): offers, needs, matches and the matching engine."""

    default = True
    name = "qiaoliang.exchange"
    label = "exchange"
    verbose_name = _("Resource exchange")
