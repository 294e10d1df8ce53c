"""Writes for the organisation tree, zones, departments and partnerships; each checks the actor's right."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, CREATE, has_capability, require
from qiaoliang.core.text import pinyin_key
from qiaoliang.core.transitions import Transitions
from qiaoliang.orgs.announcements import organization_moved
from qiaoliang.orgs.models import Department, Organization, Partnership, PartnershipStatusChange, Zone
from qiaoliang.orgs.scope import invalidate_scopes
from qiaoliang.orgs.services.common import apply_changes, full_clean

PATH_WIDTH = 8

ORGANIZATION_FIELDS = {
    "name", "short_name", "kind", "chamber_kind", "founded_on", "address", "region", "contact_name",
    "contact_phone", "contact_email", "website", "description", "is_active",
}  # fmt: skip

P = Partnership.Status
PARTNERSHIP_TRANSITIONS = Transitions(
    model=Partnership,
    table={P.ACTIVE: {P.SUSPENDED, P.ENDED}, P.SUSPENDED: {P.ACTIVE, P.ENDED}, P.ENDED: set()},
    audit_prefix="orgs.partnership",
    history_model=PartnershipStatusChange,
    history_fk="partnership",
)


@transaction.atomic
def create_organization(
    *, actor: Any, code: str, name: str, kind: str, parent: Organization | None = None, **fields: Any
) -> Organization:
    """Create an organisation under `parent` and place it in the tree (staff of the tree; a root: the system)."""
    if kind != Organization.Kind.FEDERATION and parent is None:
        raise DomainError(_("Only a federation can stand at the top of the tree."))
    if parent is None:
        if actor is not None and not getattr(actor, "is_superuser", False):
            raise NotAllowedError(_("Only an administrator may create a new federation."))
    else:
        require(actor, CREATE, parent, _("You may not add organisations here."))
    organization = Organization(code=code.strip(), name=name.strip(), kind=kind, parent=parent, **fields)
    organization.name_pinyin = pinyin_key(organization.name)
    full_clean(organization, exclude=["path"])
    organization.save()
    organization.path = (parent.path if parent else "") + f"{organization.pk:0{PATH_WIDTH}d}/"
    organization.depth = parent.depth + 1 if parent else 0
    organization.save(update_fields=["path", "depth"])
    audit.record(
        "orgs.organization.created",
        actor=actor,
        target=organization,
        organization_id=organization.pk,
        data={"code": organization.code, "kind": kind, "parent": parent.pk if parent else None},
    )
    return organization


@transaction.atomic
def update_organization(*, actor: Any, organization: Organization, **changes: Any) -> Organization:
    """Change an organisation's details (not its place in the tree: see move_organization)."""
    require(actor, CHANGE, organization, _("You may not change this organisation."))
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    diff = apply_changes(organization, changes, ORGANIZATION_FIELDS)
    if not diff:
        return organization
    if "name" in diff:
        organization.name_pinyin = pinyin_key(organization.name)
    full_clean(organization)
    organization.save(update_fields=[*diff, "name_pinyin", "updated_at"])
    audit.record(
        "orgs.organization.updated", actor=actor, target=organization, organization_id=organization.pk, data=diff
    )
    return organization


@transaction.atomic
def move_organization(*, actor: Any, organization: Organization, new_parent: Organization) -> Organization:
    """Move an organisation and its subtree under another parent (staff of both places)."""
    require(actor, CREATE, new_parent, _("You may not move organisations here."))
    require(actor, CREATE, organization, _("You may not move this organisation."))
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if new_parent.path.startswith(organization.path):
        raise DomainError(_("An organisation cannot be moved under itself or its own subtree."))
    old_path = organization.path
    new_path = new_parent.path + f"{organization.pk:0{PATH_WIDTH}d}/"
    depth_change = new_parent.depth + 1 - organization.depth
    subtree = list(Organization.objects.select_for_update().filter(path__startswith=old_path))
    for node in subtree:
        node.path = new_path + node.path[len(old_path) :]
        node.depth += depth_change
        if node.pk == organization.pk:
            node.parent = new_parent
    Organization.objects.bulk_update(subtree, ["path", "depth", "parent"])
    invalidate_scopes()  # a bulk update sends no signal
    organization_moved(organization.pk, old_path, new_path)
    audit.record(
        "orgs.organization.moved",
        actor=actor,
        target=organization,
        organization_id=organization.pk,
        data={"from": old_path, "to": new_path},
    )
    organization.refresh_from_db()
    return organization


@transaction.atomic
def create_zone(*, actor: Any, code: str, name: str, federation: Organization, organizations: list[Organization],
                description: str = "") -> Zone:  # fmt: skip
    """Create a zone grouping organisations of one federation (its staff)."""
    require(actor, CREATE, federation, _("You may not create zones here."))
    outside = [o.name for o in organizations if not o.path.startswith(federation.path)]
    if outside:
        raise DomainError(_("These organisations are not in the federation: %(names)s") % {"names": "、".join(outside)})
    zone = Zone(code=code, name=name, federation=federation, description=description)
    full_clean(zone)
    zone.save()
    zone.organizations.set(organizations)
    audit.record(
        "orgs.zone.created",
        actor=actor,
        target=zone,
        organization_id=federation.pk,
        data={"organizations": [o.pk for o in organizations]},
    )
    return zone


@transaction.atomic
def create_department(*, actor: Any, code: str, name: str, **fields: Any) -> Department:
    """Create a liaison department (federation staff)."""
    if actor is not None and not has_capability(actor, "orgs.staff"):
        raise NotAllowedError(_("Only federation staff may add liaison departments."))
    department = Department(code=code, name=name, **fields)
    full_clean(department)
    department.save()
    audit.record("orgs.department.created", actor=actor, target=department)
    return department


@transaction.atomic
def create_partnership(*, actor: Any, organization: Organization, partner_name: str, kind: str,
                       **fields: Any) -> Partnership:  # fmt: skip
    """Record a partnership agreement of an organisation."""
    require(actor, CHANGE, organization, _("You may not record partnerships of this organisation."))
    partnership = Partnership(organization=organization, partner_name=partner_name, kind=kind, **fields)
    full_clean(partnership)
    partnership.save()
    audit.record(
        "orgs.partnership.created", actor=actor, target=partnership, organization_id=organization.pk,
        data={"kind": kind},
    )  # fmt: skip
    return partnership


def transition_partnership(*, actor: Any, partnership: Partnership, to_status: str, note: str = "") -> Partnership:
    """Suspend, resume or end a partnership (its organisation's managers), with a history row."""
    require(actor, CHANGE, partnership, _("You may not change this partnership."))
    return PARTNERSHIP_TRANSITIONS.move(partnership, to_status, actor=actor, note=note)
