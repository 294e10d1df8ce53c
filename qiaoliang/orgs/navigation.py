"""What the orgs app offers in the navigation and on each role's home page."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.navigation import HomePanel, NavItem, register_nav, register_panel
from qiaoliang.core.permissions import REVIEW, VIEW, has_capability
from qiaoliang.orgs import selectors
from qiaoliang.orgs.models import (
    Department,
    Enterprise,
    EnterpriseChangeRequest,
    Membership,
    MembershipApplication,
    Organization,
    Zone,
)
from qiaoliang.orgs.scope import get_scope


def _member_roles(user: Any) -> bool:
    scope = get_scope(user)
    return scope.is_all or bool(scope.member_org_ids or scope.own_enterprise_ids)


register_nav(NavItem("home", _("My work"), "core:home", 0, lambda user: True, url_names=("core:home",)))
register_nav(
    NavItem("my-enterprise", _("My enterprise"), "orgs:my_enterprise", 10,
            lambda user: has_capability(user, "orgs.enterprise_contact"),
            url_names=("orgs:my_enterprise", "orgs:enterprise", "orgs:enterprise_edit"))
)  # fmt: skip
register_nav(
    NavItem("organisations", _("Organisations"), "orgs:tree", 20, _member_roles,
            url_names=("orgs:tree", "orgs:organization", "orgs:organization_edit"))
)  # fmt: skip
register_nav(
    NavItem("zones", _("Zones"), "orgs:zones", 30,
            lambda user: Zone.objects.for_user(user, VIEW).exists(), url_names=("orgs:zones", "orgs:zone"))
)  # fmt: skip
register_nav(
    NavItem("directory", _("Member directory"), "orgs:directory", 40,
            lambda user: has_capability(user, "orgs.browse_directory"),
            url_names=("orgs:directory", "orgs:enterprise_create"))
)  # fmt: skip
register_nav(
    NavItem("people", _("People"), "orgs:people", 50, lambda user: has_capability(user, "orgs.browse_directory"),
            url_names=("orgs:people", "orgs:person"))
)  # fmt: skip
register_nav(
    NavItem("applications", _("Applications"), "orgs:applications", 60,
            lambda user: has_capability(user, "orgs.review_applications"),
            url_names=("orgs:applications", "orgs:application", "orgs:change_request"),
            badge=lambda user: selectors.open_application_count(user))
)  # fmt: skip
register_nav(
    NavItem("roster-import", _("Import roster"), "orgs:roster_import", 70,
            lambda user: has_capability(user, "orgs.import_roster"),
            url_names=("orgs:roster_import", "orgs:roster_import_preview"))
)  # fmt: skip


# --- home panels --------------------------------------------------------------------------------------


def _staff_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    organizations = Organization.objects.for_user(user, VIEW)
    return {
        "title": _("Members"),
        "organizations": organizations.count(),
        "members": selectors.member_count(user),
        "non_members": selectors.non_member_count(user),
        "applications": selectors.open_application_count(user),
        "change_requests": EnterpriseChangeRequest.objects.for_user(user, REVIEW)
        .filter(status=EnterpriseChangeRequest.Status.PENDING)
        .count(),
        "recent_applications": list(
            MembershipApplication.objects.for_user(user, REVIEW)
            .filter(status=MembershipApplication.Status.SUBMITTED)
            .select_related("organization")
            .order_by("created_at")[:5]
        ),
    }


register_panel(
    HomePanel("orgs-managed", 10, "orgs/panels/managed.html",
              lambda user: has_capability(user, "orgs.review_applications"), _staff_context)
)  # fmt: skip


def _convenor_context(request: HttpRequest) -> dict[str, Any]:
    scope = get_scope(request.user)
    zones = list(
        Zone.objects.filter(pk__in=scope.zone_ids)
        .annotate(organization_count=Count("organizations", distinct=True))
        .order_by("code")
    )
    organizations = list(
        Organization.objects.filter(member_of_zones__in=scope.zone_ids)
        .annotate(member_count=Count("memberships", filter=Q(memberships__status=Membership.Status.ACTIVE)))
        .order_by("path")
        .distinct()[:20]
    )
    return {"zones": zones, "organizations": organizations}


register_panel(
    HomePanel("orgs-zone", 15, "orgs/panels/zone.html", lambda user: has_capability(user, "orgs.zone_convenor"),
              _convenor_context)
)  # fmt: skip


def _enterprise_context(request: HttpRequest) -> dict[str, Any]:
    scope = get_scope(request.user)
    enterprises = list(Enterprise.objects.filter(pk__in=scope.own_enterprise_ids).select_related("industry", "region"))
    return {
        "enterprises": [
            {"enterprise": enterprise, "completeness": selectors.profile_completeness(enterprise),
             "memberships": list(enterprise.memberships.select_related("organization").filter(
                 status=Membership.Status.ACTIVE)),
             "pending_change": EnterpriseChangeRequest.objects.filter(
                 enterprise=enterprise, status=EnterpriseChangeRequest.Status.PENDING).exists()}
            for enterprise in enterprises
        ]
    }  # fmt: skip


register_panel(
    HomePanel("orgs-enterprise", 5, "orgs/panels/enterprise.html",
              lambda user: has_capability(user, "orgs.enterprise_contact"), _enterprise_context)
)  # fmt: skip


def _applicant_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "applications": list(
            MembershipApplication.objects.filter(applicant_id=request.user.pk).select_related("organization")[:5]
        )
    }


register_panel(
    HomePanel("orgs-applicant", 1, "orgs/panels/applicant.html",
              lambda user: has_capability(user, "orgs.apply_for_membership"), _applicant_context)
)  # fmt: skip


def _department_context(request: HttpRequest) -> dict[str, Any]:
    scope = get_scope(request.user)
    return {"departments": list(Department.objects.filter(pk__in=scope.department_ids).order_by("code"))}


register_panel(
    HomePanel("orgs-department", 5, "orgs/panels/department.html",
              lambda user: has_capability(user, "orgs.department_liaison"), _department_context)
)  # fmt: skip
