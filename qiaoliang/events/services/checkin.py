"""Check-in at the door: a scanned or typed ticket, or ticks on the list after the event.

A repeated scan changes nothing and says when the person checked in; a cancelled, waiting, unknown, foreign or
expired ticket is refused with the reason. Every check-in (and every repeated scan) is audited. A check-in also
marks the person's attendance on site (see services/attendance.py), once per person and event.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.api import MAX_ID
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import require
from qiaoliang.events.models import CheckIn, Event, Registration
from qiaoliang.events.permissions import CHECKIN
from qiaoliang.events.services.attendance import mark_onsite
from qiaoliang.events.services.registration import normalize_ticket

OPENS_BEFORE = datetime.timedelta(hours=24)  # scanning opens a day before the start (registration desks)
EXPIRES_AFTER = datetime.timedelta(hours=12)  # ... and closes half a day after the end: then tick the list


class TicketNotFoundError(DomainError):
    """Raise when no ticket has the scanned or typed code."""

    status_code = 404


@dataclass(frozen=True)
class CheckInResult:
    """The registration checked in, its check-in, and whether this scan made it (False: a repeat)."""

    registration: Registration
    checkin: CheckIn
    created: bool


def _when(value: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")


def _refuse_unless_valid(registration: Registration, event: Event, *, list_tick: bool = False) -> None:
    if registration.event_id != event.pk:
        raise DomainError(_("This ticket is for another event."), code="foreign_ticket")
    if registration.status == Registration.Status.CANCELLED:
        when = _when(registration.cancelled_at) if registration.cancelled_at else ""
        raise DomainError(_("This registration was cancelled (%(time)s).") % {"time": when}, code="cancelled")
    if registration.status == Registration.Status.WAITING:
        raise DomainError(_("This person is on the waiting list and has no seat."), code="waiting")
    if event.status == Event.Status.CANCELLED:
        raise DomainError(_("The event was cancelled."), code="event_cancelled")
    now = timezone.now()
    if now < event.starts_at - OPENS_BEFORE:
        raise DomainError(
            _("Check-in opens on %(time)s.") % {"time": _when(event.starts_at - OPENS_BEFORE)}, code="too_early"
        )
    if not list_tick and now > event.ends_at + EXPIRES_AFTER:
        raise DomainError(
            _("The ticket expired when the event ended (%(time)s); tick the attendance on the list instead.")
            % {"time": _when(event.ends_at)},
            code="expired",
        )


def _check_in(*, actor: Any, event: Event, registration: Registration, method: str) -> CheckInResult:
    existing = CheckIn.objects.filter(registration=registration).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = CheckIn.objects.create(
                    registration=registration,
                    event=event,
                    checked_in_at=timezone.now(),
                    method=method,
                    checked_in_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError:  # two scans of the same ticket at once: the other one won
            existing = CheckIn.objects.get(registration=registration)
        else:
            mark_onsite(registration)
            audit.record(
                "events.checkin.created",
                actor=actor,
                target=registration,
                organization_id=event.organization_id,
                data={"event": event.pk, "method": method},
            )
            return CheckInResult(registration, existing, created=True)
    audit.record(
        "events.checkin.repeated",
        actor=actor,
        target=registration,
        organization_id=event.organization_id,
        data={"event": event.pk, "method": method, "first": existing.checked_in_at.isoformat()},
    )
    return CheckInResult(registration, existing, created=False)


@transaction.atomic
def check_in(*, actor: Any, event: Event, ticket: str, method: str = CheckIn.Method.SCAN) -> CheckInResult:
    """Check a ticket in at an event; a repeat is harmless (created=False)."""
    require(actor, CHECKIN, event, _("You may not check people in at this event."))
    code = normalize_ticket(ticket)
    if not code:
        raise DomainError(_("Scan the QR code or type the ticket code."), code="ticket")
    registration = Registration.objects.filter(ticket=code).first()
    if registration is None:
        raise TicketNotFoundError(_("No ticket has the code %(code)s.") % {"code": code[:16]}, code="unknown_ticket")
    _refuse_unless_valid(registration, event)
    return _check_in(actor=actor, event=event, registration=registration, method=method)


@transaction.atomic
def bulk_check_in(*, actor: Any, event: Event, registration_ids: Iterable[int]) -> int:
    """Tick people as present from the list (during or after the event); return how many were new."""
    require(actor, CHECKIN, event, _("You may not check people in at this event."))
    ids = sorted({int(pk) for pk in registration_ids})
    # An id past 64 bits is no registration's (and SQLite raises OverflowError on it).
    in_range = [pk for pk in ids if 0 < pk <= MAX_ID]
    registrations = list(Registration.objects.filter(event=event, pk__in=in_range)) if len(in_range) == len(ids) else []
    if len(registrations) != len(ids):
        raise DomainError(_("Some of the ticked people are not registered for this event."), code="registrations")
    created = 0
    for registration in registrations:
        _refuse_unless_valid(registration, event, list_tick=True)
        created += _check_in(actor=actor, event=event, registration=registration, method=CheckIn.Method.LIST).created
    return created
