from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QiaoliangAppConfig(AppConfig):
    """Load an app's registrations when Django starts: permission rules, tasks, navigation and home panels.

    Every app of the platform has the same files; the ones that register into `core` are imported here,
    so a model's rules exist before any request asks `for_user`.
    """

    registering_modules: tuple[str, ...] = ("permissions", "tasks", "navigation")

    def ready(self) -> None:
        for module in self.registering_modules:
            name = f"{self.name}.{module}"
            if find_spec(name) is not None:
                import_module(name)


class CoreConfig(QiaoliangAppConfig):
    """Shared building blocks: reference codes, audit log, permissions, notifications, Chinese text."""

    default = True
    name = "qiaoliang.core"
    label = "core"
    verbose_name = _("Core")
    registering_modules = (*QiaoliangAppConfig.registering_modules, "middleware", "checks")  # sign-in receiver, checks
