"""Matchmaking meeting pages (资源信息交流会): the participants with their offers and needs, joining, asking for
1:1 meetings and answering, the staff's schedule (run, pin, move), each participant's agenda (page, ICS, print)
and the outcomes."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiaoliang.core.api import MAX_ID
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.forms import call_service
from qiaoliang.core.permissions import CHANGE, VIEW, can, get_for_user
from qiaoliang.events import ics, selectors, services
from qiaoliang.events.forms import AnswerForm, JoinForm, MeetingRequestForm, OutcomeForm, ParticipantForm, PlaceForm
from qiaoliang.events.models import Meeting, MeetingRequest, Participant
from qiaoliang.events.permissions import ANSWER, OUTCOME
from qiaoliang.events.views import event_or_404, managed_event
from qiaoliang.exchange.models import Listing
from qiaoliang.orgs.models import Enterprise


def _matchmaking(request: HttpRequest, pk: int) -> Any:
    event = event_or_404(request, pk)
    if not event.is_matchmaking:
        raise Http404
    return event


def _id(value: Any) -> int:
    text = str(value or "")
    if not text.isdecimal() or len(text) > 18:
        raise Http404
    return int(text)


@login_required
def board(request: HttpRequest, pk: int) -> HttpResponse:
    """List the participants with their pitches and published offers and needs; join; ask for meetings."""
    event = _matchmaking(request, pk)
    user: Any = request.user
    own = selectors.own_participants(user, event)
    manages = can(user, CHANGE, event)
    joinable = selectors.joinable_enterprises(user, event)
    context = {
        "event": event,
        "participants": selectors.participants(event),
        "own": own,
        "own_ids": {p.pk for p in own},
        "manages": manages,
        "join_form": JoinForm(event=event, enterprises=Enterprise.objects.filter(pk__in=[e.pk for e in joinable]))
        if joinable and event.status == "published"
        else None,
        "request_form": MeetingRequestForm() if own else None,
        "pitch_times": {p.pk: services.pitch_start(event, p.pitch_order) for p in own},
    }
    return render(request, "events/matchmaking/board.html", context)


@login_required
@require_POST
def join(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter one's enterprise (or, for staff, any enterprise they see) in the meeting."""
    event = _matchmaking(request, pk)
    redirect_on_error(request, reverse("events:matchmaking", args=[event.pk]))
    user: Any = request.user
    if can(user, CHANGE, event) and request.POST.get("uscc"):
        code = request.POST.get("uscc", "").strip().upper()[:18]
        enterprise = get_for_user(Enterprise.objects.all(), user, VIEW, uscc=code)
        services.add_participant(
            actor=user, event=event, enterprise=enterprise, pitch_title=request.POST.get("pitch_title", "")[:120]
        )
        messages.success(request, _("%(enterprise)s takes part.") % {"enterprise": enterprise.name})
        return redirect("events:matchmaking", pk=event.pk)
    enterprises = Enterprise.objects.filter(pk__in=[e.pk for e in selectors.joinable_enterprises(user, event)])
    form = JoinForm(request.POST, event=event, enterprises=enterprises)
    if not form.is_valid():
        messages.error(request, _("Choose your enterprise."))
        return redirect("events:matchmaking", pk=event.pk)
    data = form.cleaned_data
    services.add_participant(
        actor=user,
        event=event,
        enterprise=data["enterprise"],
        pitch_title=data["pitch_title"],
        unavailable_slots=data["unavailable_slots"],
    )
    messages.success(request, _("Your enterprise takes part; ask the others for 1:1 meetings."))
    return redirect("events:matchmaking", pk=event.pk)


@login_required
def participant_edit(request: HttpRequest, pk: int, participant_id: int) -> HttpResponse:
    """Change a participant's pitch and the slots it cannot meet in."""
    event = _matchmaking(request, pk)
    participant = get_for_user(
        Participant.objects.filter(event=event).select_related("enterprise"),
        request.user,
        CHANGE,
        pk=min(participant_id, MAX_ID),
    )
    form = ParticipantForm(
        request.POST or None,
        event=event,
        initial={"pitch_title": participant.pitch_title, "unavailable_slots": participant.unavailable_slots},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if call_service(
            form,
            lambda: services.update_participant(
                actor=request.user,
                participant=participant,
                pitch_title=data["pitch_title"],
                unavailable_slots=data["unavailable_slots"],
            ),
        ):
            messages.success(request, _("Saved."))
            return redirect("events:matchmaking", pk=event.pk)
    return render(
        request, "events/matchmaking/participant.html", {"event": event, "participant": participant, "form": form}
    )


@login_required
@require_POST
def request_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask another participant for a 1:1 meeting."""
    event = _matchmaking(request, pk)
    redirect_on_error(request, reverse("events:matchmaking", args=[event.pk]))
    requester = get_for_user(
        Participant.objects.filter(event=event), request.user, CHANGE, pk=_id(request.POST.get("requester"))
    )
    recipient = get_object_or_404(
        Participant.objects.select_related("enterprise"), event=event, pk=_id(request.POST.get("recipient"))
    )
    form = MeetingRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you would like to meet."))
        return redirect("events:matchmaking", pk=event.pk)
    listing_id = form.cleaned_data.get("listing")
    listing = Listing.objects.filter(pk=listing_id).first() if listing_id and listing_id <= MAX_ID else None
    services.request_meeting(
        actor=request.user,
        requester=requester,
        recipient=recipient,
        reason=form.cleaned_data["reason"],
        listing=listing,
    )
    messages.success(request, _("Your request was sent to %(enterprise)s.") % {"enterprise": recipient.enterprise.name})
    return redirect("events:requests", pk=event.pk)


@login_required
def requests(request: HttpRequest, pk: int) -> HttpResponse:
    """List the meeting requests the user's enterprise made and received (staff: all of them)."""
    event = _matchmaking(request, pk)
    user: Any = request.user
    own_ids = {p.pk for p in selectors.own_participants(user, event)}
    rows = list(selectors.requests_for(user, event)[:500])
    for row in rows:
        row.may_answer = row.status == "pending" and can(user, ANSWER, row)  # type: ignore[attr-defined]
        row.incoming = row.recipient_id in own_ids  # type: ignore[attr-defined]
    context = {
        "event": event,
        "rows": rows,
        "answer_form": AnswerForm(),
        "manages": can(user, CHANGE, event),
        "own_ids": own_ids,
    }
    return render(request, "events/matchmaking/requests.html", context)


@login_required
@require_POST
def request_answer(request: HttpRequest, pk: int, request_id: int) -> HttpResponse:
    """Accept or decline a meeting request."""
    event = _matchmaking(request, pk)
    redirect_on_error(request, reverse("events:requests", args=[event.pk]))
    meeting_request = get_for_user(
        MeetingRequest.objects.filter(event=event), request.user, ANSWER, pk=min(request_id, MAX_ID)
    )
    form = AnswerForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    accept = request.POST.get("answer") == "accept"
    services.answer_request(actor=request.user, request=meeting_request, accept=accept, note=note)
    messages.success(request, _("Accepted: the meeting will be scheduled.") if accept else _("Declined."))
    return redirect("events:requests", pk=event.pk)


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int, request_id: int) -> HttpResponse:
    """Withdraw a request or call off an accepted meeting."""
    event = _matchmaking(request, pk)
    redirect_on_error(request, reverse("events:requests", args=[event.pk]))
    meeting_request = get_for_user(
        MeetingRequest.objects.filter(event=event), request.user, CHANGE, pk=min(request_id, MAX_ID)
    )
    services.withdraw_request(actor=request.user, request=meeting_request, note=request.POST.get("note", "")[:300])
    messages.success(request, _("Withdrawn."))
    return redirect("events:requests", pk=event.pk)


# --- the schedule ----------------------------------------------------------------------------------------------------


@login_required
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """The staff's schedule: every accepted meeting with its slot and table; run the scheduler; pin and move."""
    event = managed_event(request, pk)
    if not event.is_matchmaking:
        raise Http404
    meetings = selectors.schedule(event)
    placed = [m for m in meetings if m.slot is not None]
    by_slot: dict[int, list[Meeting]] = {}
    for meeting in placed:
        by_slot.setdefault(meeting.slot or 0, []).append(meeting)
    slots = [
        {"number": slot + 1, "start": services.slot_start(event, slot), "meetings": by_slot.get(slot, [])}
        for slot in range(event.slot_count)
    ]
    context = {
        "event": event,
        "slots": slots,
        "unplaced": [m for m in meetings if m.slot is None],
        "placed_count": len(placed),
        "total": len(meetings),
        "place_form": PlaceForm(),
        "pinned": sum(1 for m in meetings if m.is_pinned),
    }
    return render(request, "events/matchmaking/schedule.html", context)


@login_required
@require_POST
def schedule_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the scheduler around the pinned meetings."""
    event = managed_event(request, pk)
    redirect_on_error(request, reverse("events:schedule", args=[event.pk]))
    result = services.schedule_event(actor=request.user, event=event)
    messages.success(
        request,
        _("%(placed)d of %(total)d meetings placed (at most %(bound)d can be).")
        % {"placed": result.placed, "total": result.total, "bound": result.bound},
    )
    return redirect("events:schedule", pk=event.pk)


@login_required
@require_POST
def meeting_place(request: HttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    """Pin a meeting to a slot and table by hand (numbers as people read them: from 1)."""
    event = managed_event(request, pk)
    redirect_on_error(request, reverse("events:schedule", args=[event.pk]))
    meeting = get_for_user(Meeting.objects.filter(event=event), request.user, CHANGE, pk=min(meeting_id, MAX_ID))
    if request.POST.get("unpin"):
        services.unpin_meeting(actor=request.user, meeting=meeting)
        return redirect("events:schedule", pk=event.pk)
    form = PlaceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the slot and the table as numbers."))
        return redirect("events:schedule", pk=event.pk)
    services.place_meeting(
        actor=request.user, meeting=meeting, slot=form.cleaned_data["slot"] - 1, table=form.cleaned_data["table"] - 1
    )
    messages.success(request, _("The meeting is pinned there; run the scheduler to place the others around it."))
    return redirect("events:schedule", pk=event.pk)


@login_required
@require_POST
def pitches(request: HttpRequest, pk: int) -> HttpResponse:
    """Number the pitches in the order the participants joined."""
    event = managed_event(request, pk)
    count = services.number_pitches(actor=request.user, event=event)
    messages.success(request, _("%(count)d pitches numbered.") % {"count": count})
    return redirect("events:matchmaking", pk=event.pk)


# --- a participant's agenda -----------------------------------------------------------------------------------


def _participant(request: HttpRequest, event: Any, participant_id: int) -> Participant:
    participant = (
        Participant.objects.filter(event=event, pk=min(participant_id, MAX_ID)).select_related("enterprise").first()
    )
    if participant is None or not (can(request.user, CHANGE, participant) or can(request.user, CHANGE, event)):
        raise Http404
    return participant


@login_required
def agenda(request: HttpRequest, pk: int, participant_id: int) -> HttpResponse:
    """A participant's personal agenda: pitch time, meetings with time, table and the other side; outcomes."""
    event = _matchmaking(request, pk)
    participant = _participant(request, event, participant_id)
    meetings = selectors.personal_agenda(participant)
    for meeting in meetings:
        meeting.start = services.slot_start(event, meeting.slot) if meeting.slot is not None else None  # type: ignore[attr-defined]
        own = meeting.own_outcome  # type: ignore[attr-defined]
        meeting.outcome_form = OutcomeForm(  # type: ignore[attr-defined]
            prefix=f"m{meeting.pk}",
            initial={"held": own.held, "result": own.result, "deal_amount": own.deal_amount, "note": own.note}
            if own
            else None,
        )
    context = {
        "event": event,
        "participant": participant,
        "meetings": meetings,
        "pitch": services.pitch_start(event, participant.pitch_order),
        "started": event.starts_at <= timezone.now(),
        "printable": request.GET.get("print") == "1",
        "agenda": selectors.agenda(event),
    }
    return render(request, "events/matchmaking/agenda.html", context)


@login_required
def agenda_ics(request: HttpRequest, pk: int, participant_id: int) -> HttpResponse:
    """A participant's agenda as an iCalendar file: the event, the pitch and each placed meeting."""
    event = _matchmaking(request, pk)
    participant = _participant(request, event, participant_id)
    location = " ".join(part for part in (event.venue, event.address) if part)
    entries = [
        ics.Entry(
            uid=f"event-{event.pk}@qiaoliang",
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            summary=str(event),
            location=location,
            url=reverse("events:detail", args=[event.pk]),
        )
    ]
    pitch = services.pitch_start(event, participant.pitch_order)
    if pitch is not None:
        entries.append(
            ics.Entry(
                uid=f"pitch-{participant.pk}@qiaoliang",
                starts_at=pitch,
                ends_at=pitch + datetime.timedelta(minutes=event.pitch_minutes),
                summary=_("Pitch: %(title)s") % {"title": participant.pitch_title},
                location=location,
            )
        )
    for meeting in selectors.personal_agenda(participant):
        if meeting.slot is None or meeting.table is None:
            continue
        start = services.slot_start(event, meeting.slot)
        if start is None:
            continue
        other = meeting.other  # type: ignore[attr-defined]
        entries.append(
            ics.Entry(
                uid=f"meeting-{meeting.pk}@qiaoliang",
                starts_at=start,
                ends_at=start + datetime.timedelta(minutes=event.slot_minutes),
                summary=_("1:1 meeting with %(enterprise)s, table %(table)d")
                % {"enterprise": other.enterprise.name, "table": meeting.table + 1},
                location=location,
                description=meeting.request.reason,
                url=reverse("events:agenda", args=[event.pk, participant.pk]),
            )
        )
    return ics.response(
        ics.calendar(entries, name=f"{event} · {participant.enterprise.name}"),
        f"agenda-{event.pk}-{participant.pk}.ics",
    )


@login_required
@require_POST
def outcome(request: HttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    """Record what came of a meeting for one side."""
    event = _matchmaking(request, pk)
    meeting = get_for_user(Meeting.objects.filter(event=event), request.user, OUTCOME, pk=min(meeting_id, MAX_ID))
    participant = get_object_or_404(Participant, pk=_id(request.POST.get("participant")), event=event)
    back = reverse("events:agenda", args=[event.pk, participant.pk])
    redirect_on_error(request, back)
    form = OutcomeForm(request.POST, prefix=f"m{meeting.pk}")
    if not form.is_valid():
        messages.error(
            request,
            _("Check the outcome: %(errors)s")
            % {"errors": "; ".join(str(error) for errors in form.errors.values() for error in errors)},
        )
        return redirect(back)
    data = form.cleaned_data
    services.record_outcome(
        actor=request.user,
        meeting=meeting,
        participant=participant,
        held=data["held"],
        result=data["result"],
        deal_amount=data["deal_amount"],
        note=data["note"],
    )
    messages.success(request, _("The outcome was recorded."))
    return redirect(back)
