"""Who may see and change organisations, zones, enterprises, people and memberships.

The rules read the user's scope (`orgs.scope`) and are registered with `core.permissions.rules` when the
app loads; every view, API, export and service asks `for_user` / `get_for_user` / `can` / `require`.
Personal data (mobile, e-mail) is shown only where the user manages the members (`view_personal`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from qiaoliang.core.permissions import (
    CHANGE,
    CREATE,
    DELETE,
    EXPORT,
    IMPORT,
    REVIEW,
    VIEW,
    VIEW_PERSONAL,
    register_capability,
    rules,
)
from qiaoliang.orgs.models import (
    Department,
    Enterprise,
    EnterpriseChangeRequest,
    Membership,
    MembershipApplication,
    MembershipInvitation,
    Organization,
    Partnership,
    Person,
    Position,
    Zone,
)
from qiaoliang.orgs.scope import Scope, get_scope

# --- organisations ----------------------------------------------------------------------------------


def organizations_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(Q(pk__in=scope.view_org_ids) | Q(kind=Organization.Kind.FEDERATION))


def organizations_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_superuser:
        return qs
    return qs.filter(pk__in=scope.change_org_ids)


def organizations_staff_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Creating organisations below one, moving them: federation staff of the tree only."""
    scope = get_scope(user)
    if scope.is_superuser:
        return qs
    if not scope.federation_ids:
        return qs.none()
    return qs.filter(pk__in=scope.change_org_ids)


rules.register(
    Organization,
    **{
        VIEW: organizations_visible,
        EXPORT: organizations_visible,
        CHANGE: organizations_managed,
        IMPORT: organizations_managed,
        REVIEW: organizations_managed,  # membership applications and listings reviewed by the organisation
        CREATE: organizations_staff_managed,
    },
)


# --- zones ---------------------------------------------------------------------------------------------


def zones_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    if scope.is_staff:
        return qs.filter(federation_id__in=scope.federation_ids)
    visible = Organization.objects.for_user(user, VIEW).values("pk")
    through = Zone.organizations.through.objects.filter(zone_id=OuterRef("pk"), organization_id__in=visible)
    return qs.filter(Exists(through))


def zones_convened(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Zones the user runs: staff of their federation, convenors of their zones (zone meetings, minutes)."""
    scope = get_scope(user)
    if scope.is_superuser:
        return qs
    return qs.filter(Q(federation_id__in=scope.change_org_ids) | Q(pk__in=scope.zone_ids))


rules.register(Zone, **{VIEW: zones_visible, CHANGE: zones_convened})


# --- departments and partnerships ---------------------------------------------------------------------


def departments_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_staff:
        return qs
    return qs.filter(pk__in=scope.department_ids)


def departments_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs if get_scope(user).is_staff else qs.none()


rules.register(Department, **{VIEW: departments_visible, CHANGE: departments_managed})


def partnerships_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(organization_id__in=Organization.objects.for_user(user, VIEW).values("pk"))


def partnerships_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.change_org_ids)) if not scope.is_superuser else qs


rules.register(Partnership, **{VIEW: partnerships_visible, CHANGE: partnerships_managed})


# --- enterprises ----------------------------------------------------------------------------------------


def member_of(org_ids: set[int], enterprise_field: str = "pk") -> Q:
    """Return a condition: the enterprise has a membership in one of these organisations."""
    if not org_ids:
        return Q(pk__in=[])
    return Q(Exists(Membership.objects.filter(enterprise_id=OuterRef(enterprise_field), organization_id__in=org_ids)))


def _managed_enterprises(scope: Scope, enterprise_field: str = "pk") -> Q:
    """Members of the organisations the user manages, and enterprises those organisations registered."""
    condition = member_of(scope.manage_member_org_ids, enterprise_field)
    if scope.manage_member_org_ids:
        registered = "registered_by_id__in" if enterprise_field == "pk" else "enterprise__registered_by_id__in"
        condition |= Q(**{registered: scope.manage_member_org_ids})
    return condition


def enterprises_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(member_of(scope.member_org_ids) | _managed_enterprises(scope) | Q(pk__in=scope.own_enterprise_ids))


def enterprises_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Change the profile, see personal data: the managers of a membership, and the enterprise's own contacts."""
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed_enterprises(scope) | Q(pk__in=scope.own_enterprise_ids))


def enterprises_administered(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Deleting or merging enterprises, changing reviewed key fields directly: the managers, not the contacts."""
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed_enterprises(scope))


rules.register(
    Enterprise,
    **{
        VIEW: enterprises_visible,
        EXPORT: enterprises_visible,
        VIEW_PERSONAL: enterprises_managed,
        CHANGE: enterprises_managed,
        REVIEW: enterprises_administered,
        DELETE: enterprises_administered,
    },
)


# --- memberships ------------------------------------------------------------------------------------------


def memberships_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(Q(organization_id__in=scope.member_org_ids) | Q(enterprise_id__in=scope.own_enterprise_ids))


def memberships_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.manage_member_org_ids))


rules.register(
    Membership,
    **{
        VIEW: memberships_visible,
        EXPORT: memberships_visible,
        CHANGE: memberships_managed,
        CREATE: memberships_managed,
        DELETE: memberships_managed,
    },
)


# --- people and posts --------------------------------------------------------------------------------------


def people_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    office_holder = Q(
        Exists(Position.objects.filter(person_id=OuterRef("pk"), organization_id__in=scope.member_org_ids))
    )
    zone_holder = Q(Exists(Position.objects.filter(person_id=OuterRef("pk"), zone_id__in=scope.zone_ids)))
    return qs.filter(
        member_of(scope.member_org_ids, "enterprise_id")
        | _managed_enterprises(scope, "enterprise_id")
        | Q(enterprise_id__in=scope.own_enterprise_ids)
        | office_holder
        | zone_holder
    )


def people_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed_enterprises(scope, "enterprise_id") | Q(enterprise_id__in=scope.own_enterprise_ids))


rules.register(
    Person, **{VIEW: people_visible, EXPORT: people_visible, VIEW_PERSONAL: people_managed, CHANGE: people_managed}
)


def positions_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    visible_orgs = Organization.objects.for_user(user, VIEW).values("pk")
    visible_zones = Zone.objects.for_user(user, VIEW).values("pk")
    return qs.filter(Q(organization_id__in=visible_orgs) | Q(zone_id__in=visible_zones))


def positions_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_superuser:
        return qs
    zones = Zone.objects.for_user(user, CHANGE).values("pk")
    return qs.filter(Q(organization_id__in=scope.change_org_ids) | Q(zone_id__in=zones))


rules.register(Position, **{VIEW: positions_visible, CHANGE: positions_managed})


# --- membership applications and reviewed profile changes ----------------------------------------------


def applications_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(Q(applicant=user) | Q(organization_id__in=scope.change_org_ids))


def applications_own(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(applicant=user)


def applications_reviewed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.change_org_ids))


rules.register(
    MembershipApplication, **{VIEW: applications_visible, CHANGE: applications_own, REVIEW: applications_reviewed}
)


def invitations_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs.filter(scope.org_ids_q(scope.change_org_ids))


rules.register(MembershipInvitation, **{VIEW: invitations_managed, CHANGE: invitations_managed})


def change_requests_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(
        Q(enterprise_id__in=Enterprise.objects.for_user(user, CHANGE).values("pk"))
        | Q(enterprise_id__in=Enterprise.objects.for_user(user, REVIEW).values("pk"))
    )


def change_requests_reviewed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(enterprise_id__in=Enterprise.objects.for_user(user, REVIEW).values("pk"))


rules.register(EnterpriseChangeRequest, **{VIEW: change_requests_visible, REVIEW: change_requests_reviewed})


# --- capabilities -------------------------------------------------------------------------------------------

register_capability("orgs.staff", lambda user: get_scope(user).is_staff)
register_capability("orgs.manage_members", lambda user: get_scope(user).manages_members)
register_capability(
    "orgs.import_roster", lambda user: get_scope(user).is_superuser or bool(get_scope(user).change_org_ids)
)
register_capability(
    "orgs.see_roster",
    lambda user: get_scope(user).is_all or bool(get_scope(user).member_org_ids or get_scope(user).own_enterprise_ids),
)
register_capability(
    "orgs.browse_directory", lambda user: get_scope(user).is_all or bool(get_scope(user).member_org_ids)
)
register_capability("orgs.has_role", lambda user: get_scope(user).has_role)
register_capability("orgs.enterprise_contact", lambda user: bool(get_scope(user).own_enterprise_ids))
register_capability("orgs.zone_convenor", lambda user: bool(get_scope(user).zone_ids))
register_capability("orgs.department_liaison", lambda user: bool(get_scope(user).department_ids))
register_capability("orgs.service_provider", lambda user: "service_provider" in get_scope(user).roles)
register_capability(
    "orgs.review_applications", lambda user: get_scope(user).is_superuser or bool(get_scope(user).change_org_ids)
)
register_capability(
    "orgs.apply_for_membership",
    lambda user: not get_scope(user).has_role,  # an account without a role yet: a new enterprise applying
)
