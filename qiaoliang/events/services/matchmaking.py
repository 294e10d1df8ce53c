"""Matchmaking meetings (资源信息交流会): participants, 1:1 meeting requests, the schedule, outcomes.

    pending ──(the asked side accepts)──▶ accepted ──▶ a Meeting, placed by the scheduler or by hand
       ├──(declines)──▶ declined
       └──(the asking side withdraws)──▶ withdrawn ◀── accepted (either side, before it took place)

The scheduler (`events.scheduling`, pure Python) places the accepted meetings into slots and tables: nobody
double-booked, nobody in a slot they are unavailable in, meetings placed by hand (pinned) kept, as many placed
as possible. Staff pin or move a meeting by hand (checked the same way) and run the scheduler again around the
pins. After the event each side records what came of a meeting; deals also count in the exchange's statistics.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit, notifications
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.permissions import CHANGE, VIEW, can, require
from qiaoliang.core.transitions import Transitions
from qiaoliang.events.models import (
    Event,
    Meeting,
    MeetingOutcome,
    MeetingRequest,
    MeetingRequestStatusChange,
    Participant,
)
from qiaoliang.events.permissions import ANSWER, OUTCOME
from qiaoliang.events.scheduling import Placement, Problem, ScheduleError, schedule, upper_bound, validate
from qiaoliang.exchange.models import Listing
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import contacts_of, get_scope

Q_ = MeetingRequest.Status
REQUEST_TRANSITIONS = Transitions(
    model=MeetingRequest,
    table={
        Q_.PENDING: {Q_.ACCEPTED, Q_.DECLINED, Q_.CANCELLED},
        Q_.ACCEPTED: {Q_.CANCELLED},
        Q_.DECLINED: set(),
        Q_.CANCELLED: set(),
    },
    audit_prefix="events.meeting_request",
    history_model=MeetingRequestStatusChange,
    history_fk="request",
    organization=lambda request: (
        Event.objects.filter(pk=request.event_id).values_list("organization_id", flat=True).first()
    ),
)
REASON_MAX = 500
SCHEDULE_SECONDS = 5.0
MAX_PITCH_ORDER = 32_767  # the pitch order column (a small integer) holds no more


@dataclass(frozen=True)
class ScheduleResult:
    """What a scheduler run did: meetings placed, those left out, the total and the best possible."""

    placed: int
    total: int
    bound: int
    unplaced: list[Meeting]


def participant_key(participant_id: int) -> str:
    return f"p{participant_id}"


def pair_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}-{high}"


def slot_start(event: Event, slot: int) -> datetime.datetime | None:
    """Return when a meeting slot starts (slots numbered from 0)."""
    if event.meetings_start_at is None:
        return None
    return event.meetings_start_at + datetime.timedelta(minutes=slot * event.slot_minutes)


def pitch_start(event: Event, order: int | None) -> datetime.datetime | None:
    """Return when the participant with this pitch order (from 1) presents."""
    if event.pitches_start_at is None or order is None:
        return None
    return event.pitches_start_at + datetime.timedelta(minutes=(order - 1) * event.pitch_minutes)


def _either(participant_id: int) -> Q:
    """Meetings of a participant, on either side."""
    return Q(a_id=participant_id) | Q(b_id=participant_id)


def _require_matchmaking(event: Event) -> None:
    if not event.is_matchmaking:
        raise DomainError(_("Only resource exchange meetings have 1:1 meetings."), code="kind")


def _require_before_end(event: Event) -> None:
    if event.status != Event.Status.PUBLISHED:
        raise DomainError(_("The event is not open."), code="status")
    if timezone.now() >= event.ends_at:
        raise DomainError(_("The event is over."), code="closed")


def _clean_slots(event: Event, slots: Any) -> list[int]:
    cleaned: set[int] = set()
    for value in slots or []:
        try:
            slot = int(value)
        except (TypeError, ValueError):
            raise DomainError(_("Choose slots from the list."), code="unavailable_slots") from None
        if not 0 <= slot < event.slot_count:
            raise DomainError(_("The event has no slot %(slot)d.") % {"slot": slot + 1}, code="unavailable_slots")
        cleaned.add(slot)
    return sorted(cleaned)


def _tell(
    enterprise_ids: list[int],
    *,
    kind: str,
    title: Any,
    body: Any,
    params: dict[str, Any],
    url: str,
    target: Any,
    event: Event,
    actor: Any,
) -> None:
    notifications.notify(
        users=contacts_of(enterprise_ids),
        kind=kind,
        title=title,
        body=body,
        params=params,
        url=url,
        target=target,
        organization_id=event.organization_id,
        actor=actor,
    )


# --- participants -------------------------------------------------------------------------------------------------


@transaction.atomic
def add_participant(
    *, actor: Any, event: Event, enterprise: Enterprise, pitch_title: str = "", unavailable_slots: Any = ()
) -> Participant:
    """Enter an enterprise in a matchmaking meeting: its staff any enterprise they see, a contact their own."""
    _require_matchmaking(event)
    manages = actor is None or can(actor, CHANGE, event)
    if not manages:
        require(actor, VIEW, event)
        if enterprise.pk not in get_scope(actor).own_enterprise_ids:
            raise NotAllowedError(_("You may enter your own enterprise only."))
    elif actor is not None and not can(actor, VIEW, enterprise):
        raise NotAllowedError(_("You may enter enterprises you see only."))
    _require_before_end(event)
    slots = _clean_slots(event, unavailable_slots)
    try:
        with transaction.atomic():
            participant = Participant.objects.create(
                event=event,
                enterprise=enterprise,
                pitch_title=str(pitch_title or "").strip()[:120],
                unavailable_slots=slots,
                added_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        return Participant.objects.get(event=event, enterprise=enterprise)
    audit.record(
        "events.participant.added",
        actor=actor,
        target=participant,
        organization_id=event.organization_id,
        data={"event": event.pk, "enterprise": enterprise.pk},
    )
    return participant


@transaction.atomic
def update_participant(
    *,
    actor: Any,
    participant: Participant,
    pitch_title: str | None = None,
    unavailable_slots: Any = None,
    pitch_order: int | Any | None = ...,
) -> Participant:
    """Change a participant's pitch and unavailable slots (its contacts or staff); the pitch order (staff)."""
    require(actor, CHANGE, participant)
    event = participant.event
    fields: dict[str, Any] = {}
    if pitch_title is not None:
        fields["pitch_title"] = str(pitch_title).strip()[:120]
    if unavailable_slots is not None:
        slots = _clean_slots(event, unavailable_slots)
        booked = sorted(
            int(slot)
            for slot in Meeting.objects.filter(event=event, is_pinned=True, slot__in=slots)
            .filter(_either(participant.pk))
            .values_list("slot", flat=True)
            if slot is not None
        )
        if booked:
            raise DomainError(
                _("A meeting placed by hand is in slot %(slot)d; ask the staff to move it first.")
                % {"slot": booked[0] + 1},
                code="unavailable_slots",
            )
        fields["unavailable_slots"] = slots
    if pitch_order is not ...:
        require(actor, CHANGE, event, _("The staff set the order of the pitches."))
        if pitch_order is not None and (
            isinstance(pitch_order, bool) or not isinstance(pitch_order, int) or not 1 <= pitch_order <= MAX_PITCH_ORDER
        ):
            raise DomainError(
                _("Give a pitch number from 1 to %(max)d.") % {"max": MAX_PITCH_ORDER}, code="pitch_order"
            )
        fields["pitch_order"] = pitch_order
    Participant.objects.filter(pk=participant.pk).update(**fields)
    audit.record(
        "events.participant.updated",
        actor=actor,
        target=participant,
        organization_id=event.organization_id,
        data={"fields": sorted(fields)},
    )
    participant.refresh_from_db()
    return participant


@transaction.atomic
def number_pitches(*, actor: Any, event: Event) -> int:
    """Give the participants with a pitch consecutive pitch numbers in the order they joined; return how many."""
    require(actor, CHANGE, event)
    _require_matchmaking(event)
    pitching = list(Participant.objects.filter(event=event).exclude(pitch_title="").order_by("created_at", "id"))
    Participant.objects.filter(event=event).update(pitch_order=None)
    for number, participant in enumerate(pitching, start=1):
        Participant.objects.filter(pk=participant.pk).update(pitch_order=number)
    audit.record(
        "events.pitches.numbered",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"count": len(pitching)},
    )
    return len(pitching)


# --- requests ---------------------------------------------------------------------------------------------------------


def _request_url(event: Event) -> str:
    return reverse("events:requests", args=[event.pk])


@transaction.atomic
def request_meeting(
    *, actor: Any, requester: Participant, recipient: Participant, reason: str, listing: Listing | None = None
) -> MeetingRequest:
    """Ask another participant for a 1:1 meeting, saying why; they are told and answer."""
    event = requester.event
    _require_matchmaking(event)
    require(actor, CHANGE, requester, _("You may ask for meetings on behalf of your own enterprise only."))
    if recipient.event_id != event.pk:
        raise DomainError(_("Both enterprises must take part in the same meeting."), code="recipient")
    if recipient.pk == requester.pk or recipient.enterprise_id == requester.enterprise_id:
        raise DomainError(_("An enterprise cannot ask itself for a meeting."), code="recipient")
    _require_before_end(event)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise DomainError(_("Say why you would like to meet."), code="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("Say it in %(max)d characters at the most.") % {"max": REASON_MAX}, code="reason")
    if listing is not None and (
        listing.status != Listing.Status.PUBLISHED
        or listing.enterprise_id not in (requester.enterprise_id, recipient.enterprise_id)
    ):
        raise DomainError(_("Choose a published offer or need of one of the two enterprises."), code="listing")
    key = pair_key(requester.pk, recipient.pk)
    open_request = MeetingRequest.objects.filter(
        event=event, pair_key=key, status__in=[Q_.PENDING, Q_.ACCEPTED]
    ).first()
    if open_request is not None:
        if open_request.requester_id == recipient.pk and open_request.status == Q_.PENDING:
            raise DomainError(_("They already asked you for a meeting; answer their request."), code="duplicate")
        raise DomainError(_("The two enterprises already have a meeting request."), code="duplicate")
    try:
        with transaction.atomic():
            request = MeetingRequest.objects.create(
                event=event,
                requester=requester,
                recipient=recipient,
                pair_key=key,
                reason=reason,
                listing=listing,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError as exc:
        raise DomainError(_("The two enterprises already have a meeting request."), code="duplicate") from exc
    audit.record(
        "events.meeting_request.created",
        actor=actor,
        target=request,
        organization_id=event.organization_id,
        data={"event": event.pk, "requester": requester.pk, "recipient": recipient.pk},
    )
    _tell(
        [recipient.enterprise_id],
        kind="events.meeting.requested",
        title=gettext_lazy("%(enterprise)s would like to meet you at %(event)s"),
        body="%(reason)s",
        params={"enterprise": requester.enterprise.name, "event": event.title, "reason": reason[:200]},
        url=_request_url(event),
        target=request,
        event=event,
        actor=actor,
    )
    return request


@transaction.atomic
def answer_request(*, actor: Any, request: MeetingRequest, accept: bool, note: str = "") -> MeetingRequest:
    """Accept (a meeting is created, to be scheduled) or decline a request; the asking side is told."""
    require(actor, ANSWER, request, _("Only the enterprise that was asked may answer."))
    event = request.event
    _require_before_end(event)
    to_status = Q_.ACCEPTED if accept else Q_.DECLINED
    answered = REQUEST_TRANSITIONS.move(
        request,
        to_status,
        actor=actor,
        note=note,
        changes={"answered_at": timezone.now(), "answer_note": str(note or "").strip()[:300]},
    )
    if accept:
        Meeting.objects.create(event=event, request=answered, a_id=answered.requester_id, b_id=answered.recipient_id)
    recipient = Participant.objects.select_related("enterprise").get(pk=answered.recipient_id)
    requester = Participant.objects.get(pk=answered.requester_id)
    title = (
        gettext_lazy("%(enterprise)s accepted your meeting request")
        if accept
        else gettext_lazy("%(enterprise)s declined your meeting request")
    )
    _tell(
        [requester.enterprise_id],
        kind=f"events.meeting.{to_status}",
        title=title,
        body="%(note)s",
        params={"enterprise": recipient.enterprise.name, "note": str(note or "")[:200]},
        url=_request_url(event),
        target=answered,
        event=event,
        actor=actor,
    )
    return answered


@transaction.atomic
def withdraw_request(*, actor: Any, request: MeetingRequest, note: str = "") -> MeetingRequest:
    """Withdraw a request, or call off an accepted meeting before it took place (either side, or staff)."""
    require(actor, CHANGE, request)
    meeting = Meeting.objects.filter(request=request).first()
    if meeting is not None and meeting.outcomes.exists():
        raise DomainError(_("The meeting took place; record its outcome instead."), code="held")
    withdrawn = REQUEST_TRANSITIONS.move(request, Q_.CANCELLED, actor=actor, note=note)
    if meeting is not None:
        meeting.delete()
    other = (
        request.recipient
        if request.requester.enterprise_id in get_scope(actor).own_enterprise_ids
        else request.requester
    )
    _tell(
        [other.enterprise_id],
        kind="events.meeting.cancelled",
        title=gettext_lazy("A 1:1 meeting at %(event)s was called off"),
        body="%(note)s",
        params={"event": request.event.title, "note": str(note or "")[:200]},
        url=_request_url(request.event),
        target=withdrawn,
        event=request.event,
        actor=actor,
    )
    return withdrawn


# --- the schedule -----------------------------------------------------------------------------------------------------


def build_problem(event: Event) -> tuple[Problem, dict[tuple[str, str], Meeting]]:
    """Return the scheduling problem of an event's accepted meetings, and the meeting of each pair."""
    participants = list(Participant.objects.filter(event=event).only("pk", "unavailable_slots"))
    unavailable = {
        participant_key(p.pk): frozenset(int(s) for s in p.unavailable_slots or [] if 0 <= int(s) < event.slot_count)
        for p in participants
    }
    meetings = list(Meeting.objects.filter(event=event, request__status=Q_.ACCEPTED).order_by("request_id"))
    pairs: dict[tuple[str, str], Meeting] = {}
    ordered: list[tuple[str, str]] = []
    pinned: list[Placement] = []
    for meeting in meetings:
        a, b = participant_key(meeting.a_id), participant_key(meeting.b_id)
        key = (a, b) if a <= b else (b, a)
        if key in pairs:
            continue
        pairs[key] = meeting
        ordered.append((a, b))
        if meeting.is_pinned and meeting.slot is not None and meeting.table is not None:
            pinned.append(Placement(a, b, meeting.slot, meeting.table))
    problem = Problem(
        slots=event.slot_count, tables=event.table_count, unavailable=unavailable, meetings=ordered, pinned=pinned
    )
    return problem, pairs


@transaction.atomic
def schedule_event(*, actor: Any, event: Event, seed: int = 0, time_limit: float = SCHEDULE_SECONDS) -> ScheduleResult:
    """Place the event's accepted meetings into slots and tables around the pinned ones; everyone is told."""
    require(actor, CHANGE, event)
    _require_matchmaking(event)
    event = Event.objects.select_for_update().get(pk=event.pk)  # one run (or hand move) at a time
    if not event.slot_count or not event.table_count:
        raise DomainError(_("Set the number of meeting slots and tables first."), code="slot_count")
    problem, pairs = build_problem(event)
    try:
        result = schedule(problem, seed=seed, time_limit=time_limit)
        bound = upper_bound(problem)
    except ScheduleError as exc:
        raise DomainError(
            _("The meetings placed by hand do not fit together; move them first. %(details)s")
            % {"details": "; ".join(exc.errors[:3])},
            code="schedule",
        ) from exc
    problems = validate(problem, result)
    if problems:  # never expected: the scheduler's own invariants
        raise DomainError(
            _("The schedule could not be made: %(details)s") % {"details": "; ".join(problems[:3])}, code="schedule"
        )
    Meeting.objects.filter(event=event, is_pinned=False).exclude(slot=None).update(slot=None, table=None)
    changed: list[Meeting] = []
    for placement in result.placed:
        meeting = pairs[placement.key]
        if meeting.is_pinned:
            continue
        meeting.slot, meeting.table = placement.slot, placement.table
        changed.append(meeting)
    Meeting.objects.bulk_update(changed, ["slot", "table"], batch_size=500)
    unplaced = [pairs[(a, b) if a <= b else (b, a)] for a, b in result.unplaced]
    for meeting in unplaced:
        meeting.slot = meeting.table = None
    audit.record(
        "events.meetings.scheduled",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"placed": len(result.placed), "total": len(pairs), "bound": bound, "seed": seed},
    )
    enqueue_on_commit("events.tell_schedule", event.pk)
    return ScheduleResult(placed=len(result.placed), total=len(pairs), bound=bound, unplaced=unplaced)


@transaction.atomic
def place_meeting(*, actor: Any, meeting: Meeting, slot: int, table: int, pin: bool = True) -> Meeting:
    """Put a meeting in a slot and at a table by hand (pinned: the scheduler keeps it there)."""
    require(actor, CHANGE, meeting)
    event = Event.objects.select_for_update().get(pk=meeting.event_id)
    meeting = Meeting.objects.select_for_update().select_related("a__enterprise", "b__enterprise").get(pk=meeting.pk)
    if not 0 <= slot < event.slot_count:
        raise DomainError(_("Choose a slot from 1 to %(count)d.") % {"count": event.slot_count}, code="slot")
    if not 0 <= table < event.table_count:
        raise DomainError(_("Choose a table from 1 to %(count)d.") % {"count": event.table_count}, code="table")
    for participant in (meeting.a, meeting.b):
        if slot in (participant.unavailable_slots or []):
            raise DomainError(
                _("%(enterprise)s is not available in slot %(slot)d.")
                % {"enterprise": participant.enterprise.name, "slot": slot + 1},
                code="slot",
            )
    others = Meeting.objects.filter(event=event, slot=slot).exclude(pk=meeting.pk)
    busy = (
        others.filter(_either(meeting.a_id) | _either(meeting.b_id))
        .select_related("a__enterprise", "b__enterprise")
        .first()
    )
    if busy is not None:
        name = meeting.a.enterprise.name if meeting.a_id in (busy.a_id, busy.b_id) else meeting.b.enterprise.name
        raise DomainError(
            _("%(enterprise)s already has a meeting in slot %(slot)d.") % {"enterprise": name, "slot": slot + 1},
            code="slot",
        )
    if others.filter(table=table).exists():
        raise DomainError(
            _("Table %(table)d is taken in slot %(slot)d.") % {"table": table + 1, "slot": slot + 1}, code="table"
        )
    Meeting.objects.filter(pk=meeting.pk).update(slot=slot, table=table, is_pinned=pin, updated_at=timezone.now())
    audit.record(
        "events.meeting.placed",
        actor=actor,
        target=meeting,
        organization_id=event.organization_id,
        data={"slot": slot, "table": table, "pinned": pin},
    )
    meeting.refresh_from_db()
    return meeting


@transaction.atomic
def unpin_meeting(*, actor: Any, meeting: Meeting) -> Meeting:
    """Let the scheduler move a meeting placed by hand again."""
    require(actor, CHANGE, meeting)
    Meeting.objects.filter(pk=meeting.pk).update(is_pinned=False, updated_at=timezone.now())
    audit.record("events.meeting.unpinned", actor=actor, target=meeting, organization_id=meeting.event.organization_id)
    meeting.refresh_from_db()
    return meeting


def tell_schedule(*, event_id: int) -> int:
    """Tell each participant's contacts that their personal agenda is ready; return how many enterprises."""
    event = Event.objects.get(pk=event_id)
    enterprise_ids = list(Participant.objects.filter(event=event).values_list("enterprise_id", flat=True))
    for enterprise_id in enterprise_ids:
        participant = Participant.objects.get(event=event, enterprise_id=enterprise_id)
        _tell(
            [enterprise_id],
            kind="events.meeting.scheduled",
            title=gettext_lazy("Your 1:1 meetings at %(event)s are scheduled"),
            body=gettext_lazy("Open your agenda for the times and tables."),
            params={"event": event.title},
            url=reverse("events:agenda", args=[event.pk, participant.pk]),
            target=event,
            event=event,
            actor=None,
        )
    return len(enterprise_ids)


# --- outcomes -------------------------------------------------------------------------------------------------------


@transaction.atomic
def record_outcome(
    *,
    actor: Any,
    meeting: Meeting,
    participant: Participant,
    held: bool,
    result: str,
    deal_amount: Decimal | None = None,
    note: str = "",
) -> MeetingOutcome:
    """Record one side's outcome of a meeting: held, intent, deal (with the amount in yuan)."""
    require(actor, OUTCOME, meeting, _("Only the two enterprises of a meeting record its outcome."))
    if participant.pk not in (meeting.a_id, meeting.b_id):
        raise DomainError(_("The enterprise did not take part in this meeting."), code="participant")
    if (
        actor is not None
        and not can(actor, CHANGE, meeting.event)
        and participant.enterprise_id not in get_scope(actor).own_enterprise_ids
    ):
        raise NotAllowedError(_("You record the outcome for your own enterprise."))
    event = meeting.event
    if timezone.now() < event.starts_at:
        raise DomainError(_("The outcome is recorded after the meeting."), code="result")
    if result not in MeetingOutcome.Result.values:
        raise DomainError(_("Choose a result."), code="result")
    if not held and result != MeetingOutcome.Result.NONE:
        raise DomainError(_("A meeting that did not take place has no result."), code="result")
    amount = check_fits(MeetingOutcome, "deal_amount", deal_amount, code="deal_amount")
    if result == MeetingOutcome.Result.DEAL:
        if amount is None or amount <= 0:
            raise DomainError(_("Give the deal amount in yuan."), code="deal_amount")
    else:
        amount = None
    outcome, _created = MeetingOutcome.objects.update_or_create(
        meeting=meeting,
        participant=participant,
        defaults={
            "held": held,
            "result": result,
            "deal_amount": amount,
            "note": str(note or "").strip()[:300],
            "recorded_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    audit.record(
        "events.meeting.outcome",
        actor=actor,
        target=meeting,
        organization_id=event.organization_id,
        data={
            "participant": participant.pk,
            "held": held,
            "result": result,
            "amount": str(amount) if amount is not None else None,
        },
    )
    return outcome
