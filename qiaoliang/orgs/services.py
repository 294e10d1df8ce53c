"""Writes for organisations and members: every change goes through here, audited, in a transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.codes import normalize_mobile, normalize_uscc
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.text import pinyin_key
from qiaoliang.orgs.models import (
    Department,
    Enterprise,
    Membership,
    Organization,
    Partnership,
    Person,
    Position,
    Zone,
    enterprise_search_fields,
)

PATH_WIDTH = 8

ORGANIZATION_FIELDS = {
    "name", "short_name", "kind", "chamber_kind", "founded_on", "address", "region", "contact_name",
    "contact_phone", "contact_email", "website", "description", "is_active",
}  # fmt: skip
ENTERPRISE_FIELDS = {
    "name", "short_name", "industry", "region", "size", "ownership", "founded_on", "employees",
    "main_business", "website", "address", "is_active",
}  # fmt: skip
PERSON_FIELDS = {"name", "mobile", "email", "enterprise", "job_title", "is_primary_contact"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _apply_changes(obj: Model, changes: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """Set the allowed fields that differ and return {field: [old, new]} for the audit entry."""
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(obj, name)
        if old != value:
            diff[name] = [_jsonable(old), _jsonable(value)]
            setattr(obj, name, value)
    return diff


def _full_clean(obj: Model, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        raise DomainError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc


# --- organisations ----------------------------------------------------------


@transaction.atomic
def create_organization(
    *, actor: Any, code: str, name: str, kind: str, parent: Organization | None = None, **fields: Any
) -> Organization:
    """Create an organisation under `parent` and place it in the tree."""
    if kind != Organization.Kind.FEDERATION and parent is None:
        raise DomainError(_("Only a federation can stand at the top of the tree."))
    organization = Organization(code=code.strip(), name=name.strip(), kind=kind, parent=parent, **fields)
    organization.name_pinyin = pinyin_key(organization.name)
    _full_clean(organization, exclude=["path"])
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
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    diff = _apply_changes(organization, changes, ORGANIZATION_FIELDS)
    if not diff:
        return organization
    if "name" in diff:
        organization.name_pinyin = pinyin_key(organization.name)
    _full_clean(organization)
    organization.save(update_fields=[*diff, "name_pinyin", "updated_at"])
    audit.record(
        "orgs.organization.updated", actor=actor, target=organization, organization_id=organization.pk, data=diff
    )
    return organization


@transaction.atomic
def move_organization(*, actor: Any, organization: Organization, new_parent: Organization) -> Organization:
    """Move an organisation and its subtree under another parent."""
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
    """Create a zone grouping organisations of one federation."""
    zone = Zone(code=code, name=name, federation=federation, description=description)
    _full_clean(zone)
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
    """Create a liaison department."""
    department = Department(code=code, name=name, **fields)
    _full_clean(department)
    department.save()
    audit.record("orgs.department.created", actor=actor, target=department)
    return department


@transaction.atomic
def create_partnership(*, actor: Any, organization: Organization, partner_name: str, kind: str,
                       **fields: Any) -> Partnership:  # fmt: skip
    """Record a partnership agreement of an organisation."""
    partnership = Partnership(organization=organization, partner_name=partner_name, kind=kind, **fields)
    _full_clean(partnership)
    partnership.save()
    audit.record(
        "orgs.partnership.created", actor=actor, target=partnership, organization_id=organization.pk,
        data={"kind": kind},
    )  # fmt: skip
    return partnership


# --- enterprises and memberships -------------------------------------------


@transaction.atomic
def create_enterprise(
    *,
    actor: Any,
    uscc: str,
    name: str,
    organization: Organization | None = None,
    level: str = Membership.Level.MEMBER,
    joined_on: datetime.date | None = None,
    **fields: Any,
) -> Enterprise:
    """Create a member enterprise and, if an organisation is given, its membership there."""
    try:
        code = normalize_uscc(uscc)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="uscc") from exc
    if Enterprise.objects.filter(uscc=code).exists():
        raise DomainError(_("An enterprise with unified social credit code %(uscc)s already exists.") % {"uscc": code})
    enterprise = Enterprise(uscc=code, name=name.strip(), **fields, **enterprise_search_fields(name))
    _full_clean(enterprise)
    enterprise.save()
    audit.record(
        "orgs.enterprise.created",
        actor=actor,
        target=enterprise,
        organization_id=organization.pk if organization else None,
        data={"uscc": code},
    )
    if organization is not None:
        add_membership(actor=actor, enterprise=enterprise, organization=organization, level=level, joined_on=joined_on)
    return enterprise


@transaction.atomic
def update_enterprise(*, actor: Any, enterprise: Enterprise, **changes: Any) -> Enterprise:
    """Change an enterprise's profile; the USCC never changes."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    diff = _apply_changes(enterprise, changes, ENTERPRISE_FIELDS)
    if not diff:
        return enterprise
    update_fields = [*diff, "updated_at"]
    if "name" in diff:
        for key, value in enterprise_search_fields(enterprise.name).items():
            setattr(enterprise, key, value)
        update_fields += ["name_search", "name_pinyin", "name_initials", "name_grams"]
    _full_clean(enterprise)
    enterprise.save(update_fields=update_fields)
    audit.record("orgs.enterprise.updated", actor=actor, target=enterprise, data=diff)
    return enterprise


@transaction.atomic
def add_membership(
    *,
    actor: Any,
    enterprise: Enterprise,
    organization: Organization,
    level: str = Membership.Level.MEMBER,
    joined_on: datetime.date | None = None,
    status: str = Membership.Status.ACTIVE,
) -> Membership:
    """Make an enterprise a member of an organisation (one membership per pair)."""
    if Membership.objects.filter(enterprise=enterprise, organization=organization).exists():
        raise DomainError(
            _("%(enterprise)s is already a member of %(organization)s.")
            % {"enterprise": enterprise.name, "organization": organization.name}
        )
    membership = Membership(
        enterprise=enterprise, organization=organization, level=level, joined_on=joined_on, status=status
    )
    _full_clean(membership, exclude=["enterprise", "organization"])
    try:
        with transaction.atomic():  # a concurrent request may have added the same pair since the check
            membership.save()
    except IntegrityError as exc:
        raise DomainError(
            _("%(enterprise)s is already a member of %(organization)s.")
            % {"enterprise": enterprise.name, "organization": organization.name}
        ) from exc
    audit.record(
        "orgs.membership.created",
        actor=actor,
        target=membership,
        organization_id=organization.pk,
        data={"enterprise": enterprise.pk, "level": level},
    )
    return membership


@transaction.atomic
def update_membership(*, actor: Any, membership: Membership, **changes: Any) -> Membership:
    """Change a membership's level, join date or status."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    diff = _apply_changes(membership, changes, {"level", "joined_on", "status"})
    if not diff:
        return membership
    _full_clean(membership, exclude=["enterprise", "organization"])
    membership.save(update_fields=[*diff, "updated_at"])
    audit.record(
        "orgs.membership.updated", actor=actor, target=membership, organization_id=membership.organization_id, data=diff
    )
    return membership


# --- people and posts ------------------------------------------------------------


def _clean_mobile(mobile: str | None) -> str | None:
    if not mobile:
        return None
    try:
        return normalize_mobile(mobile)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="mobile") from exc


@transaction.atomic
def create_person(*, actor: Any, name: str, mobile: str | None = None, **fields: Any) -> Person:
    """Create a person; a mobile number belongs to one person only."""
    number = _clean_mobile(mobile)
    if number and Person.objects.filter(mobile=number).exists():
        raise DomainError(_("Mobile number %(mobile)s already belongs to another person.") % {"mobile": number})
    person = Person(name=name.strip(), mobile=number, name_pinyin=pinyin_key(name), **fields)
    _full_clean(person)
    person.save()
    audit.record("orgs.person.created", actor=actor, target=person, data={"mobile": number or ""})
    return person


@transaction.atomic
def update_person(*, actor: Any, person: Person, **changes: Any) -> Person:
    """Change a person's details."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if "mobile" in changes:
        changes["mobile"] = _clean_mobile(changes["mobile"])
        if changes["mobile"] and Person.objects.filter(mobile=changes["mobile"]).exclude(pk=person.pk).exists():
            raise DomainError(
                _("Mobile number %(mobile)s already belongs to another person.") % {"mobile": changes["mobile"]}
            )
    diff = _apply_changes(person, changes, PERSON_FIELDS)
    if not diff:
        return person
    update_fields = [*diff, "updated_at"]
    if "name" in diff:
        person.name_pinyin = pinyin_key(person.name)
        update_fields.append("name_pinyin")
    _full_clean(person)
    person.save(update_fields=update_fields)
    audit.record("orgs.person.updated", actor=actor, target=person, data=diff)
    return person


@transaction.atomic
def assign_position(
    *,
    actor: Any,
    person: Person,
    title: str,
    organization: Organization | None = None,
    zone: Zone | None = None,
    term_start: datetime.date | None = None,
    term_end: datetime.date | None = None,
) -> Position:
    """Give a person a post in an organisation or a zone for a term."""
    if (organization is None) == (zone is None):
        raise DomainError(_("A post belongs to exactly one organisation or one zone."))
    if term_start and term_end and term_end < term_start:
        raise DomainError(_("A term cannot end before it starts."))
    position = Position(
        person=person, title=title, organization=organization, zone=zone, term_start=term_start, term_end=term_end
    )
    _full_clean(position)
    position.save()
    audit.record(
        "orgs.position.assigned",
        actor=actor,
        target=position,
        organization_id=organization.pk if organization else zone.federation_id if zone else None,
        data={"person": person.pk, "title": title},
    )
    return position
