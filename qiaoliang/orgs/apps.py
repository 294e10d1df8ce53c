from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    """Organisations, zones, departments, partnerships, member enterprises, people and posts."""

    name = "qiaoliang.orgs"
    label = "orgs"
    verbose_name = _("Organisations and members")
