"""Who a user is: their roles turned into the organisations and enterprises they see and manage.

| role               | sees organisations                 | sees and manages members of                |
|--------------------|------------------------------------|--------------------------------------------|
| federation staff   | its federation's tree              | its federation's tree (manage)             |
| chamber secretary  | its subtree and ancestors          | its subtree (manage)                       |
| zone convenor      | the zone's subtrees and ancestors  | the zone's subtrees (view only, masked)    |
| enterprise contact | its enterprise's organisations     | its own enterprise (manage its profile)    |
| department liaison | federations only                   | none (answers the appeals routed to it)    |
| service provider   | federations only                   | none                                       |

A superuser sees everything. Federation staff are scoped to the tree of the federation their role names;
when that tree holds every organisation (one federation per installation, the common case) the filters
are skipped (`sees_everything`), which keeps the directory's queries simple.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from qiaoliang.accounts.models import Role, RoleAssignment
from qiaoliang.core.permissions import cached_on_user, is_active_user
from qiaoliang.orgs.models import Membership, Organization, Zone


@dataclass
class Scope:
    """What one user may see and change, worked out once per request from their roles."""

    is_authenticated: bool = False
    is_superuser: bool = False
    sees_everything: bool = False
    roles: set[str] = field(default_factory=set)
    federation_ids: set[int] = field(default_factory=set)  # federations where the user is staff
    view_org_ids: set[int] = field(default_factory=set)
    change_org_ids: set[int] = field(default_factory=set)
    member_org_ids: set[int] = field(default_factory=set)
    manage_member_org_ids: set[int] = field(default_factory=set)
    own_enterprise_ids: set[int] = field(default_factory=set)
    own_organization_ids: set[int] = field(default_factory=set)  # organisations the own enterprises belong to
    zone_ids: set[int] = field(default_factory=set)
    department_ids: set[int] = field(default_factory=set)
    secretary_org_ids: set[int] = field(default_factory=set)  # the roots of a secretary's subtrees

    @property
    def is_all(self) -> bool:
        """Tell whether no filter applies (a superuser, or staff whose federation tree holds everything)."""
        return self.is_superuser or self.sees_everything

    @property
    def is_staff(self) -> bool:
        """Tell whether the user is federation staff (or a superuser)."""
        return self.is_superuser or bool(self.federation_ids)

    @property
    def manages_members(self) -> bool:
        return self.is_all or bool(self.manage_member_org_ids)

    @property
    def has_role(self) -> bool:
        return self.is_superuser or bool(self.roles)

    def org_ids_q(self, ids: set[int], field_name: str = "organization_id") -> Q:
        """Return a condition on an organisation column; everything when the scope sees everything.

        Use it alone in a filter: an empty Q() ORed with another condition drops out of the OR.
        """
        if self.is_all:
            return Q()
        return Q(**{f"{field_name}__in": ids}) if ids else Q(pk__in=[])


def subtree_ids(root_ids: set[int]) -> set[int]:
    """Return the ids of these organisations and everything under them."""
    if not root_ids:
        return set()
    paths = list(Organization.objects.filter(pk__in=root_ids).values_list("path", flat=True))
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return set(Organization.objects.filter(condition).values_list("pk", flat=True))


def with_ancestors(org_ids: set[int]) -> set[int]:
    """Return the ids with every ancestor added."""
    result = set(org_ids)
    for path in Organization.objects.filter(pk__in=org_ids).values_list("path", flat=True):
        result.update(int(part) for part in path.strip("/").split("/") if part)
    return result


def build_scope(user: Any) -> Scope:
    """Work out a user's scope from their role assignments (a few queries, once per request)."""
    if not is_active_user(user):
        return Scope()
    scope = Scope(is_authenticated=True)
    if user.is_superuser:
        scope.is_superuser = True
        return scope
    assignments = list(RoleAssignment.objects.filter(user=user))
    scope.roles = {a.role for a in assignments}

    def targets(role: str, attribute: str) -> set[int]:
        return {getattr(a, attribute) for a in assignments if a.role == role and getattr(a, attribute)}

    scope.federation_ids = targets(Role.FEDERATION_STAFF, "organization_id")
    scope.secretary_org_ids = targets(Role.CHAMBER_SECRETARY, "organization_id")
    scope.zone_ids = targets(Role.ZONE_CONVENOR, "zone_id")
    scope.own_enterprise_ids = targets(Role.ENTERPRISE_CONTACT, "enterprise_id")
    scope.department_ids = targets(Role.DEPARTMENT_LIAISON, "department_id")

    managed = subtree_ids(scope.federation_ids | scope.secretary_org_ids)
    if scope.federation_ids and managed:
        scope.sees_everything = not Organization.objects.exclude(pk__in=managed).exists()
    zone_roots: set[int] = set()
    if scope.zone_ids:
        zone_roots = set(
            Zone.organizations.through.objects.filter(zone_id__in=scope.zone_ids).values_list(
                "organization_id", flat=True
            )
        )
    zone_orgs = subtree_ids(zone_roots)
    scope.change_org_ids = managed
    scope.manage_member_org_ids = managed
    scope.member_org_ids = managed | zone_orgs
    if scope.own_enterprise_ids:
        scope.own_organization_ids = set(
            Membership.objects.filter(
                enterprise_id__in=scope.own_enterprise_ids, status=Membership.Status.ACTIVE
            ).values_list("organization_id", flat=True)
        )
    scope.view_org_ids = with_ancestors(scope.member_org_ids | scope.own_organization_ids)
    return scope


def get_scope(user: Any) -> Scope:
    """Return the user's scope: cached on the user object for the rest of the request, and in the shared cache
    across requests until anything it is built from changes (`invalidate_scopes`)."""
    if not is_active_user(user):
        return Scope()
    return cached_on_user(user, "orgs.scope", lambda: _shared_scope(user))  # type: ignore[no-any-return]


# The shared cache holds each user's scope beside the generation it was built in. Every write that can change a
# scope (a role, the tree, a zone, a membership) gives the generation a new random value, so no scope built
# before the write is used after it; a random value rather than a counter, so that an evicted generation key
# can never come back as a value some old entry carries.
GENERATION_KEY = "orgs.scope.generation"


def _shared_scope(user: Any) -> Scope:
    seconds = settings.SCOPE_CACHE_SECONDS
    if not seconds or user.is_superuser or user.pk is None:
        return build_scope(user)
    joined = user.date_joined.timestamp() if getattr(user, "date_joined", None) else 0
    key = f"orgs.scope.{user.pk}.{joined:.6f}"
    found = cache.get_many([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(GENERATION_KEY, generation, None):
            generation = cache.get(GENERATION_KEY) or generation
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        return entry[1]  # type: ignore[no-any-return]
    scope = build_scope(user)
    cache.set(key, (generation, scope), seconds)
    return scope


def invalidate_scopes() -> None:
    """Make every cached scope stale: now (for this transaction's own later reads) and again once the transaction
    commits (a scope another process built from the data before the commit must not outlive it)."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
