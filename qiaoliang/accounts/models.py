"""User accounts and the roles that give them a scope."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Store a login: username or mobile number plus password; roles say what it may see."""

    mobile = models.CharField(_("mobile"), max_length=11, null=True, blank=True, unique=True)
    display_name = models.CharField(_("display name"), max_length=40, blank=True)
    person = models.OneToOneField(
        "orgs.Person", models.SET_NULL, null=True, blank=True, related_name="user", verbose_name=_("person")
    )

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    FEDERATION_STAFF = "federation_staff", _("Federation staff")
    CHAMBER_SECRETARY = "chamber_secretary", _("Chamber secretary")
    ZONE_CONVENOR = "zone_convenor", _("Zone convenor")
    ENTERPRISE_CONTACT = "enterprise_contact", _("Enterprise contact")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    SERVICE_PROVIDER = "service_provider", _("Service provider")


class RoleAssignment(models.Model):
    """Give a user one role over one organisation, zone, enterprise or department."""

    user = models.ForeignKey(User, models.CASCADE, related_name="roles", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    organization = models.ForeignKey(
        "orgs.Organization", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("organisation")
    )
    zone = models.ForeignKey(
        "orgs.Zone", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("zone")
    )
    enterprise = models.ForeignKey(
        "orgs.Enterprise", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("enterprise")
    )
    department = models.ForeignKey(
        "orgs.Department", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.CheckConstraint(
                name="accounts_role_has_its_target",
                condition=(
                    Q(role="federation_staff", organization__isnull=False)
                    | Q(role="chamber_secretary", organization__isnull=False)
                    | Q(role="zone_convenor", zone__isnull=False)
                    | Q(role="enterprise_contact", enterprise__isnull=False)
                    | Q(role="department_liaison", department__isnull=False)
                    | Q(role="service_provider")
                ),
            )
        ]

    def __str__(self) -> str:
        target = self.organization or self.zone or self.enterprise or self.department or ""
        return f"{self.user} · {self.get_role_display()} · {target}"
