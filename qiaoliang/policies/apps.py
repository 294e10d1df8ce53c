from django.utils.translation import gettext_lazy as _

from qiaoliang.core.apps import QiaoliangAppConfig


class PoliciesConfig(QiaoliangAppConfig):
    """Policies (惠企政策): library, computable eligibility rules, enterprise facts, decisions, pushes, Q&A."""

    default = True
    name = "qiaoliang.policies"
    label = "policies"
    verbose_name = _("Policies")
