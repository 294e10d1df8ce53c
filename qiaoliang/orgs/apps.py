from django.utils.translation import gettext_lazy as _

from qiaoliang.core.apps import QiaoliangAppConfig


class OrgsConfig(QiaoliangAppConfig):
    """Organisations, zones, departments, partnerships, member enterprises, people and posts."""

    default = True
    name = "qiaoliang.orgs"
    label = "orgs"
    verbose_name = _("Organisations and members")
    registering_modules = (*QiaoliangAppConfig.registering_modules, "signals")  # cached scopes made stale
