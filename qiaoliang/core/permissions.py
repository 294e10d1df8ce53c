"""One vocabulary for permissions: a user's scope, `for_user` filters, `get_for_user`, `can`.

A user's roles (accounts.RoleAssignment) become a `Scope`: which organisations they see, which
organisations' members they see or manage, and which enterprises are their own. Every
organisation-owned queryset filters through the scope, so views, API, exports and search agree.

| role               | sees organisations            | sees and manages members of            |
|--------------------|-------------------------------|----------------------------------------|
| federation staff   | all                           | all (manage)                           |
| chamber secretary  | its subtree and ancestors     | its subtree (manage)                   |
| zone convenor      | the zone's subtrees, ancestors| the zone's subtrees (view only, masked)|
| enterprise contact | its enterprise's orgs         | its own enterprise (manage profile)    |
| department liaison | federations only              | none (appeals come with their issue)   |
| service provider   | federations only              | none                                   |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.http import Http404

if TYPE_CHECKING:
    from qiaoliang.orgs.models import (
        EnterpriseQuerySet,
        MembershipQuerySet,
        OrganizationQuerySet,
        PersonQuerySet,
    )

VIEW = "view"
CHANGE = "change"
CREATE = "create"
DELETE = "delete"
VIEW_PERSONAL = "view_personal"
EXPORT = "export"
IMPORT = "import"
_READ_ACTIONS = {VIEW, VIEW_PERSONAL, EXPORT}

M = TypeVar("M", bound=models.Model)


@dataclass
class Scope:
    """What one user may see and change, worked out once per request from their roles."""

    is_authenticated: bool = False
    is_all: bool = False
    view_org_ids: set[int] = field(default_factory=set)
    change_org_ids: set[int] = field(default_factory=set)
    member_org_ids: set[int] = field(default_factory=set)
    manage_member_org_ids: set[int] = field(default_factory=set)
    own_enterprise_ids: set[int] = field(default_factory=set)
    zone_ids: set[int] = field(default_factory=set)
    department_ids: set[int] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)

    @property
    def can_manage_members(self) -> bool:
        return self.is_all or bool(self.manage_member_org_ids)

    @property
    def can_see_roster(self) -> bool:
        return self.is_all or bool(self.member_org_ids) or bool(self.own_enterprise_ids)

    # --- organisations ---------------------------------------------------
    def filter_organizations(self, qs: OrganizationQuerySet, action: str) -> OrganizationQuerySet:
        if not self.is_authenticated:
            return qs.none()
        if self.is_all:
            return qs
        if action in _READ_ACTIONS:
            return qs.filter(Q(pk__in=self.view_org_ids) | Q(kind="federation"))
        if action in {CHANGE, IMPORT}:
            return qs.filter(pk__in=self.change_org_ids)
        return qs.none()

    # --- enterprises ------------------------------------------------------
    def _member_filter(self, org_ids: set[int], enterprise_field: str = "pk") -> Q:
        from qiaoliang.orgs.models import Membership

        condition = Q(pk__in=[])
        if org_ids:
            condition = Q(
                Exists(Membership.objects.filter(enterprise_id=OuterRef(enterprise_field), organization_id__in=org_ids))
            )
        return condition

    def filter_enterprises(self, qs: EnterpriseQuerySet, action: str) -> EnterpriseQuerySet:
        if not self.is_authenticated:
            return qs.none()
        if self.is_all:
            return qs
        own = Q(pk__in=self.own_enterprise_ids)
        if action == VIEW_PERSONAL:  # personal data only where the user manages the members (data minimisation)
            return qs.filter(self._member_filter(self.manage_member_org_ids) | own)
        if action in _READ_ACTIONS:
            return qs.filter(self._member_filter(self.member_org_ids) | own)
        if action == CHANGE:
            return qs.filter(self._member_filter(self.manage_member_org_ids) | own)
        if action == DELETE:
            return qs.none()
        return qs.none()

    # --- memberships -----------------------------------------------------
    def filter_memberships(self, qs: MembershipQuerySet, action: str) -> MembershipQuerySet:
        if not self.is_authenticated:
            return qs.none()
        if self.is_all:
            return qs
        if action in _READ_ACTIONS:
            return qs.filter(Q(organization_id__in=self.member_org_ids) | Q(enterprise_id__in=self.own_enterprise_ids))
        if action in {CHANGE, CREATE, DELETE}:
            return qs.filter(organization_id__in=self.manage_member_org_ids)
        return qs.none()

    # --- people --------------------------------------------------------------
    def filter_people(self, qs: PersonQuerySet, action: str) -> PersonQuerySet:
        from qiaoliang.orgs.models import Position

        if not self.is_authenticated:
            return qs.none()
        if self.is_all:
            return qs
        own = Q(enterprise_id__in=self.own_enterprise_ids)
        if action == VIEW_PERSONAL:
            return qs.filter(self._member_filter(self.manage_member_org_ids, "enterprise_id") | own)
        if action in _READ_ACTIONS:
            office_holder = Q(
                Exists(Position.objects.filter(person_id=OuterRef("pk"), organization_id__in=self.member_org_ids))
            )
            zone_holder = Q(Exists(Position.objects.filter(person_id=OuterRef("pk"), zone_id__in=self.zone_ids)))
            return qs.filter(
                self._member_filter(self.member_org_ids, "enterprise_id") | own | office_holder | zone_holder
            )
        if action == CHANGE:
            return qs.filter(self._member_filter(self.manage_member_org_ids, "enterprise_id") | own)
        return qs.none()


def _subtree_ids(root_ids: set[int]) -> set[int]:
    from qiaoliang.orgs.models import Organization

    if not root_ids:
        return set()
    paths = list(Organization.objects.filter(pk__in=root_ids).values_list("path", flat=True))
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return set(Organization.objects.filter(condition).values_list("pk", flat=True))


def _with_ancestors(org_ids: set[int]) -> set[int]:
    from qiaoliang.orgs.models import Organization

    result = set(org_ids)
    for path in Organization.objects.filter(pk__in=org_ids).values_list("path", flat=True):
        result.update(int(part) for part in path.strip("/").split("/") if part)
    return result


def build_scope(user: Any) -> Scope:
    """Work out a user's scope from their role assignments (a few queries, once per request)."""
    from qiaoliang.accounts.models import Role, RoleAssignment
    from qiaoliang.orgs.models import Membership, Zone

    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    scope = Scope(is_authenticated=True)
    if user.is_superuser:
        scope.is_all = True
        return scope
    assignments = list(RoleAssignment.objects.filter(user=user))
    scope.roles = {a.role for a in assignments}
    if Role.FEDERATION_STAFF in scope.roles:
        scope.is_all = True
        return scope
    secretary_roots = {a.organization_id for a in assignments if a.role == Role.CHAMBER_SECRETARY and a.organization_id}
    scope.zone_ids = {a.zone_id for a in assignments if a.role == Role.ZONE_CONVENOR and a.zone_id}
    scope.own_enterprise_ids = {
        a.enterprise_id for a in assignments if a.role == Role.ENTERPRISE_CONTACT and a.enterprise_id
    }
    scope.department_ids = {
        a.department_id for a in assignments if a.role == Role.DEPARTMENT_LIAISON and a.department_id
    }
    managed = _subtree_ids(secretary_roots)
    zone_roots: set[int] = set()
    if scope.zone_ids:
        zone_roots = set(
            Zone.organizations.through.objects.filter(zone_id__in=scope.zone_ids).values_list(
                "organization_id", flat=True
            )
        )
    zone_orgs = _subtree_ids(zone_roots)
    scope.change_org_ids = managed
    scope.manage_member_org_ids = managed
    scope.member_org_ids = managed | zone_orgs
    own_orgs: set[int] = set()
    if scope.own_enterprise_ids:
        own_orgs = set(
            Membership.objects.filter(enterprise_id__in=scope.own_enterprise_ids).values_list(
                "organization_id", flat=True
            )
        )
    scope.view_org_ids = _with_ancestors(scope.member_org_ids | own_orgs)
    return scope


def get_scope(user: Any) -> Scope:
    """Return the user's scope, cached on the user object for the rest of the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope()
    cached = getattr(user, "_qiaoliang_scope", None)
    if cached is None:
        cached = build_scope(user)
        user._qiaoliang_scope = cached
    return cached


def forget_scope(user: Any) -> None:
    """Drop a cached scope after the user's roles changed."""
    if hasattr(user, "_qiaoliang_scope"):
        del user._qiaoliang_scope


def get_for_user(queryset: models.QuerySet[M], user: Any, action: str = VIEW, **lookup: Any) -> M:
    """Fetch one object: 404 if the user may not see it, 403 if they see it but may not do `action`."""
    visible = queryset.for_user(user, VIEW)  # type: ignore[attr-defined]
    obj = visible.filter(**lookup).first()
    if obj is None:
        raise Http404
    if action != VIEW and not queryset.for_user(user, action).filter(pk=obj.pk).exists():  # type: ignore[attr-defined]
        raise PermissionDenied
    return obj


def can(user: Any, action: str, obj: models.Model) -> bool:
    """Tell whether the user may do `action` to `obj` (templates use the `can` filter)."""
    manager = type(obj)._default_manager
    if not hasattr(manager, "for_user"):
        return bool(get_scope(user).is_all)
    cache: dict[tuple[str, str, Any], bool] = getattr(user, "_qiaoliang_can_cache", None) or {}
    key = (type(obj)._meta.label_lower, action, obj.pk)
    if key not in cache:
        cache[key] = manager.for_user(user, action).filter(pk=obj.pk).exists()
        if getattr(user, "is_authenticated", False):
            user._qiaoliang_can_cache = cache
    return cache[key]
