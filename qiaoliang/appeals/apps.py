from django.utils.translation import gettext_lazy as _

from qiaoliang.core.apps import QiaoliangAppConfig


class AppealsConfig(QiaoliangAppConfig):
    """Appeals (诉求): intake, classification and routing suggestions, department workflow, visits, common problems."""

    default = True
    name = "qiaoliang.appeals"
    label = "appeals"
    verbose_name = _("Appeals")
