"""Writes for member enterprises, memberships, people and posts; each checks the actor's right and tells the
people the change concerns.

Key profile fields (name, industry, region, size, ownership) changed by an enterprise's own contact are held
as a change request for the managers to review; the rest applies at once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit, notifications, sheets
from qiaoliang.core.codes import normalize_mobile, normalize_uscc
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import Industry, Region
from qiaoliang.core.permissions import CHANGE, REVIEW, has_capability, require
from qiaoliang.core.text import pinyin_key
from qiaoliang.core.transitions import Transitions
from qiaoliang.orgs import recipients
from qiaoliang.orgs.announcements import MEMBERSHIP, enterprises_changed
from qiaoliang.orgs.models import (
    Enterprise,
    EnterpriseChangeRequest,
    Membership,
    MembershipStatusChange,
    Organization,
    Person,
    Position,
    Zone,
    enterprise_search_fields,
)
from qiaoliang.orgs.scope import invalidate_scopes
from qiaoliang.orgs.services.common import apply_changes, full_clean, jsonable

ENTERPRISE_FIELDS = {
    "name", "short_name", "industry", "region", "size", "ownership", "founded_on", "employees",
    "main_business", "website", "address", "is_active",
}  # fmt: skip
# Changed by the enterprise's own contact, these wait for the managers' review (they change how the
# federation counts and finds the member).
KEY_FIELDS = {"name", "industry", "region", "size", "ownership", "is_active"}
PERSON_FIELDS = {"name", "mobile", "email", "enterprise", "job_title", "is_primary_contact"}

MS = Membership.Status
MEMBERSHIP_TRANSITIONS = Transitions(
    model=Membership,
    table={MS.ACTIVE: {MS.SUSPENDED, MS.WITHDRAWN}, MS.SUSPENDED: {MS.ACTIVE, MS.WITHDRAWN}, MS.WITHDRAWN: {MS.ACTIVE}},
    audit_prefix="orgs.membership",
    history_model=MembershipStatusChange,
    history_fk="membership",
)
MEMBERSHIP_MESSAGES: dict[str, Any] = {
    MS.ACTIVE: gettext_lazy("Your membership of %(organization)s is active again"),
    MS.SUSPENDED: gettext_lazy("Your membership of %(organization)s was suspended"),
    MS.WITHDRAWN: gettext_lazy("Your membership of %(organization)s has ended"),
}


# --- enterprises ------------------------------------------------------------------------------------------


def clean_uscc(value: str) -> str:
    try:
        return normalize_uscc(value)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="uscc") from exc


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
    """Create an enterprise and, if an organisation is given, its membership there (the organisation's managers)."""
    if organization is not None:
        require(actor, CHANGE, organization, _("You may not add members to this organisation."))
    elif actor is not None and not has_capability(actor, "orgs.staff"):
        raise NotAllowedError(_("Choose the organisation the enterprise joins."))
    code = clean_uscc(uscc)
    if Enterprise.objects.filter(uscc=code).exists():
        raise DomainError(
            _("An enterprise with unified social credit code %(uscc)s already exists.") % {"uscc": code}, code="uscc"
        )
    enterprise = Enterprise(uscc=code, name=name.strip(), registered_by=organization, **fields,
                            **enterprise_search_fields(name))  # fmt: skip
    full_clean(enterprise)
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


@dataclass
class ProfileResult:
    """What became of a profile change: the enterprise as saved and the request holding reviewed fields."""

    enterprise: Enterprise
    change_request: EnterpriseChangeRequest | None = None


def _save_enterprise(actor: Any, enterprise: Enterprise, changes: dict[str, Any]) -> Enterprise:
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    diff = apply_changes(enterprise, changes, ENTERPRISE_FIELDS)
    if not diff:
        return enterprise
    update_fields = [*diff, "updated_at"]
    if "name" in diff:
        search_keys = enterprise_search_fields(enterprise.name)
        for key, value in search_keys.items():
            setattr(enterprise, key, value)
        update_fields += list(search_keys)  # every search key, so none falls behind the name
    full_clean(enterprise)
    enterprise.save(update_fields=update_fields)
    audit.record("orgs.enterprise.updated", actor=actor, target=enterprise, data=diff)
    enterprises_changed([enterprise.pk], diff)
    return enterprise


@transaction.atomic
def change_profile(*, actor: Any, enterprise: Enterprise, **changes: Any) -> ProfileResult:
    """Change an enterprise's profile: managers directly; its own contact directly for the details and by a
    reviewed request for the key fields."""
    require(actor, CHANGE, enterprise, _("You may not change this enterprise."))
    unknown = set(changes) - ENTERPRISE_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    direct = actor is None or Enterprise.objects.for_user(actor, REVIEW).filter(pk=enterprise.pk).exists()
    if direct:
        return ProfileResult(_save_enterprise(actor, enterprise, changes))
    reviewed = {name: value for name, value in changes.items() if name in KEY_FIELDS}
    immediate = {name: value for name, value in changes.items() if name not in KEY_FIELDS}
    enterprise = _save_enterprise(actor, enterprise, immediate)
    request = _request_change(actor, enterprise, reviewed) if reviewed else None
    return ProfileResult(enterprise, request)


def update_enterprise(*, actor: Any, enterprise: Enterprise, **changes: Any) -> Enterprise:
    """Change an enterprise's profile as `change_profile` does; return the enterprise as saved."""
    return change_profile(actor=actor, enterprise=enterprise, **changes).enterprise


def _stored(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else jsonable(value)


def _request_change(actor: Any, enterprise: Enterprise, reviewed: dict[str, Any]) -> EnterpriseChangeRequest | None:
    diff = {}
    for name, value in reviewed.items():
        old = getattr(enterprise, f"{name}_id" if name in {"industry", "region"} else name)
        new = _stored(value)
        if old != new:
            diff[name] = [old, new]
    if not diff:
        return None
    request = (
        EnterpriseChangeRequest.objects.select_for_update()
        .filter(enterprise=enterprise, status=EnterpriseChangeRequest.Status.PENDING)
        .first()
    )
    if request is None:
        request = EnterpriseChangeRequest.objects.create(enterprise=enterprise, requested_by=actor, changes=diff)
    elif all(request.changes.get(name) == value for name, value in diff.items()):
        return request  # asked for again as it stands: nothing new to review
    else:
        request.changes = {**request.changes, **diff}
        request.requested_by = actor
        request.save(update_fields=["changes", "requested_by", "updated_at"])
    organization = _home_organization(enterprise)
    audit.record("orgs.enterprise.change_requested", actor=actor, target=enterprise,
                 organization_id=organization.pk if organization else None, data={"changes": diff})  # fmt: skip
    if organization is not None:
        notifications.notify(
            users=recipients.organization_managers(organization), kind="orgs.enterprise.change_requested",
            title=gettext_lazy("%(enterprise)s asks to change its profile"),
            body=gettext_lazy("Fields: %(fields)s. Review the change in the member's profile."),
            params={"enterprise": enterprise.name, "fields": "、".join(sorted(diff))},
            url=reverse("orgs:change_request", args=[request.pk]), target=request,
            organization_id=organization.pk, actor=actor,
        )  # fmt: skip
    return request


def _home_organization(enterprise: Enterprise) -> Organization | None:
    membership = (
        Membership.objects.filter(enterprise=enterprise, status=MS.ACTIVE)
        .select_related("organization")
        .order_by("-organization__depth", "organization__path")
        .first()
    )
    return membership.organization if membership else enterprise.registered_by


def _field_value(name: str, value: Any) -> Any:
    if name == "industry":
        return Industry.objects.filter(pk=value).first()
    if name == "region":
        return Region.objects.filter(pk=value).first()
    return value


@transaction.atomic
def decide_change_request(
    *, actor: Any, request: EnterpriseChangeRequest, approve: bool, note: str = ""
) -> EnterpriseChangeRequest:
    """Apply or refuse a contact's change to key fields (a reason is needed to refuse); tell the requester."""
    require(actor, REVIEW, request, _("You may not review this change."))
    request = EnterpriseChangeRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != EnterpriseChangeRequest.Status.PENDING:
        raise DomainError(_("This change was already decided."), code="decided")
    if not approve and not note.strip():
        raise DomainError(_("Say why the change is refused."), code="note")
    if approve:
        current = Enterprise.objects.get(pk=request.enterprise_id)
        _save_enterprise(
            actor, current, {name: _field_value(name, new) for name, (_old, new) in request.changes.items()}
        )
    request.status = EnterpriseChangeRequest.Status.APPROVED if approve else EnterpriseChangeRequest.Status.REJECTED
    request.review_note = note.strip()[:500]
    request.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
    request.reviewed_at = timezone.now()
    request.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"])
    audit.record(f"orgs.enterprise.change_{request.status}", actor=actor, target=request.enterprise,
                 data={"request": request.pk, "note": note})  # fmt: skip
    notifications.notify(
        users=[request.requested_by] if request.requested_by else [],
        kind=f"orgs.enterprise.change_{request.status}",
        title=gettext_lazy("Your profile change was approved") if approve
        else gettext_lazy("Your profile change was not accepted"),
        body=gettext_lazy("Reason: %(note)s") if note.strip() else "",
        params={"note": note.strip()},
        url=reverse("orgs:enterprise", args=[request.enterprise_id]), target=request, actor=actor,
    )  # fmt: skip
    return request


@dataclass(frozen=True)
class EnterpriseRecord:
    """An enterprise named in an imported sheet (resource sheets and the like)."""

    uscc: str
    name: str
    industry_id: str | None = None
    region_id: str | None = None


def existing_enterprises(usccs: list[str]) -> dict[str, int]:
    """Return {USCC: id} of the enterprises already recorded."""
    found: dict[str, int] = {}
    for chunk in sheets.chunks(list(dict.fromkeys(usccs))):
        found.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    return found


@transaction.atomic
def record_enterprises(
    *, actor: Any, organization: Organization, records: list[EnterpriseRecord], as_members: bool = False
) -> dict[str, int]:
    """Record the enterprises of an import that are new (in bulk); return {USCC: id} for every record.

    They are recorded by `organization` (its managers see them) and become its members only with
    `as_members`: an enterprise met through a resource sheet is not counted as a member until it joins.
    """
    require(actor, CHANGE, organization, _("You may not record enterprises for this organisation."))
    known = existing_enterprises([record.uscc for record in records])
    fresh = {record.uscc: record for record in records if record.uscc not in known}
    Enterprise.objects.bulk_create(
        [
            Enterprise(uscc=record.uscc, name=record.name, industry_id=record.industry_id, region_id=record.region_id,
                       registered_by=organization, **enterprise_search_fields(record.name))
            for record in fresh.values()
        ],
        batch_size=1000,
    )  # fmt: skip
    known.update(existing_enterprises(list(fresh)))
    if as_members and fresh:
        Membership.objects.bulk_create(
            [Membership(enterprise_id=known[uscc], organization=organization, status=MS.ACTIVE) for uscc in fresh],
            batch_size=1000,
        )
        invalidate_scopes()  # a bulk insert sends no signal
        enterprises_changed((known[uscc] for uscc in fresh), [MEMBERSHIP])
    if fresh:
        audit.record("orgs.enterprises.recorded", actor=actor, target=organization, organization_id=organization.pk,
                     data={"created": len(fresh), "as_members": as_members})  # fmt: skip
    return known


# --- memberships ------------------------------------------------------------------------------------------


@transaction.atomic
def add_membership(
    *,
    actor: Any,
    enterprise: Enterprise,
    organization: Organization,
    level: str = Membership.Level.MEMBER,
    joined_on: datetime.date | None = None,
    status: str = MS.ACTIVE,
) -> Membership:
    """Make an enterprise a member of an organisation (one membership per pair; the organisation's managers)."""
    require(actor, CHANGE, organization, _("You may not add members to this organisation."))
    if Membership.objects.filter(enterprise=enterprise, organization=organization).exists():
        raise DomainError(
            _("%(enterprise)s is already a member of %(organization)s.")
            % {"enterprise": enterprise.name, "organization": organization.name},
            code="membership",
        )
    membership = Membership(
        enterprise=enterprise, organization=organization, level=level, joined_on=joined_on, status=status
    )
    full_clean(membership, exclude=["enterprise", "organization"])
    try:
        with transaction.atomic():  # a concurrent request may have added the same pair since the check
            membership.save()
    except IntegrityError as exc:
        raise DomainError(
            _("%(enterprise)s is already a member of %(organization)s.")
            % {"enterprise": enterprise.name, "organization": organization.name},
            code="membership",
        ) from exc
    audit.record(
        "orgs.membership.created",
        actor=actor,
        target=membership,
        organization_id=organization.pk,
        data={"enterprise": enterprise.pk, "level": level},
    )
    enterprises_changed([enterprise.pk], [MEMBERSHIP])
    return membership


@transaction.atomic
def update_membership(*, actor: Any, membership: Membership, **changes: Any) -> Membership:
    """Change a membership's level or join date; a status change goes through `transition_membership`."""
    require(actor, CHANGE, membership, _("You may not change this membership."))
    status = changes.pop("status", None)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    diff = apply_changes(membership, changes, {"level", "joined_on"})
    if diff:
        full_clean(membership, exclude=["enterprise", "organization"])
        membership.save(update_fields=[*diff, "updated_at"])
        audit.record("orgs.membership.updated", actor=actor, target=membership,
                     organization_id=membership.organization_id, data=diff)  # fmt: skip
    if status is not None and status != membership.status:
        membership = transition_membership(actor=actor, membership=membership, to_status=status)
    return membership


def transition_membership(*, actor: Any, membership: Membership, to_status: str, note: str = "") -> Membership:
    """Suspend, end or reinstate a membership, with a history row; the enterprise's contacts are told why."""
    require(actor, CHANGE, membership, _("You may not change this membership."))
    with transaction.atomic():
        moved = MEMBERSHIP_TRANSITIONS.move(membership, to_status, actor=actor, note=note)
        organization = Organization.objects.get(pk=moved.organization_id)
        notifications.notify(
            users=recipients.enterprise_contacts([moved.enterprise_id]), kind=f"orgs.membership.{to_status}",
            title=MEMBERSHIP_MESSAGES[to_status], body=gettext_lazy("Reason: %(note)s") if note else "",
            params={"organization": organization.name, "note": note},
            url=reverse("orgs:enterprise", args=[moved.enterprise_id]), target=moved,
            organization_id=organization.pk, actor=actor,
        )  # fmt: skip
        enterprises_changed([moved.enterprise_id], [MEMBERSHIP])
    return moved


# --- people and posts ------------------------------------------------------------------------------------


def clean_mobile(mobile: str | None) -> str | None:
    if not mobile:
        return None
    try:
        return normalize_mobile(mobile)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="mobile") from exc


def _require_people_right(actor: Any, enterprise: Enterprise | None) -> None:
    if enterprise is not None:
        require(actor, CHANGE, enterprise, _("You may not change this enterprise's people."))
    elif actor is not None and not has_capability(actor, "orgs.staff"):
        raise NotAllowedError(_("Only federation staff may record people outside an enterprise."))


@transaction.atomic
def create_person(*, actor: Any, name: str, mobile: str | None = None, **fields: Any) -> Person:
    """Create a person; a mobile number belongs to one person only."""
    _require_people_right(actor, fields.get("enterprise"))
    number = clean_mobile(mobile)
    if number and Person.objects.filter(mobile=number).exists():
        raise DomainError(
            _("Mobile number %(mobile)s already belongs to another person.") % {"mobile": number}, code="mobile"
        )
    person = Person(name=name.strip(), mobile=number, name_pinyin=pinyin_key(name), **fields)
    full_clean(person)
    person.save()
    audit.record("orgs.person.created", actor=actor, target=person, data={"mobile": number or ""})
    return person


@transaction.atomic
def update_person(*, actor: Any, person: Person, **changes: Any) -> Person:
    """Change a person's details."""
    require(actor, CHANGE, person, _("You may not change this person."))
    person = Person.objects.select_for_update().get(pk=person.pk)
    if "mobile" in changes:
        changes["mobile"] = clean_mobile(changes["mobile"])
        if changes["mobile"] and Person.objects.filter(mobile=changes["mobile"]).exclude(pk=person.pk).exists():
            raise DomainError(
                _("Mobile number %(mobile)s already belongs to another person.") % {"mobile": changes["mobile"]},
                code="mobile",
            )
    diff = apply_changes(person, changes, PERSON_FIELDS)
    if not diff:
        return person
    update_fields = [*diff, "updated_at"]
    if "name" in diff:
        person.name_pinyin = pinyin_key(person.name)
        update_fields.append("name_pinyin")
    full_clean(person)
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
    """Give a person a post in an organisation or a zone for a term (its managers)."""
    if (organization is None) == (zone is None):
        raise DomainError(_("A post belongs to exactly one organisation or one zone."))
    require(actor, CHANGE, organization or zone, _("You may not assign posts here."))  # type: ignore[arg-type]
    if term_start and term_end and term_end < term_start:
        raise DomainError(_("A term cannot end before it starts."))
    position = Position(
        person=person, title=title, organization=organization, zone=zone, term_start=term_start, term_end=term_end
    )
    full_clean(position)
    position.save()
    audit.record(
        "orgs.position.assigned",
        actor=actor,
        target=position,
        organization_id=organization.pk if organization else zone.federation_id if zone else None,
        data={"person": person.pk, "title": title},
    )
    return position
