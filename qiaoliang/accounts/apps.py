from django.utils.translation import gettext_lazy as _

from qiaoliang.core.apps import QiaoliangAppConfig


class AccountsConfig(QiaoliangAppConfig):
    """User accounts, roles and their scope, login security."""

    default = True
    name = "qiaoliang.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
