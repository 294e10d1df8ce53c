from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Shared building blocks: reference codes, audit log, permissions, Chinese text."""

    name = "qiaoliang.core"
    label = "core"
    verbose_name = _("Core")
