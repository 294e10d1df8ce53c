from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """User accounts, roles and their scope, login security."""

    name = "qiaoliang.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
