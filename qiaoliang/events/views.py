"""Event pages: lists (members' and public), the calendar (month and list) and ICS, an event's page and its
closing page; for staff the form (new, copy, edit), status moves, agenda and speakers, files, minutes and the
attendance totals.

Views stay thin: parse input, fetch through the user's scope (visitors see public events only), call one service,
render. Registration and tickets are in views_registration, check-in and attendance in views_checkin,
matchmaking meetings in views_matchmaking.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiaoliang.accounts.models import User
from qiaoliang.core import htmx
from qiaoliang.core.api import MAX_ID
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.files import serve_private_file
from qiaoliang.core.forms import call_service
from qiaoliang.core.permissions import CHANGE, VIEW, can, get_for_user, has_capability
from qiaoliang.events import ics, selectors, services
from qiaoliang.events.forms import (
    AgendaItemForm,
    ClosingForm,
    EventForm,
    FileForm,
    MemberRegistrationForm,
    PersonRegistrationForm,
    SpeakerForm,
    StatusForm,
    TotalsForm,
)
from qiaoliang.events.models import AgendaItem, Event, EventFile, Kind, Mode, Speaker
from qiaoliang.events.permissions import CHECKIN
from qiaoliang.orgs.models import Organization, Zone
from qiaoliang.orgs.selectors import get_scope

PAGE_SIZE = 20
S = Event.Status
STATUS_ACTIONS: dict[str, tuple[Any, str]] = {
    S.PUBLISHED: (gettext_lazy("Publish"), "success"),
    S.CLOSED: (gettext_lazy("Conclude"), "outline-primary"),
    S.CANCELLED: (gettext_lazy("Cancel the event"), "outline-danger"),
}


def event_or_404(request: HttpRequest, pk: int, fields: tuple[str, ...] = ()) -> Event:
    """Fetch an event the user (or a visitor, for a public one) may see (only `fields`, if given)."""
    if pk > MAX_ID:
        raise Http404
    event = selectors.visible_event(request.user, pk, fields)
    if event is None:
        raise Http404
    return event


def managed_event(request: HttpRequest, pk: int, action: str = CHANGE) -> Event:
    """Fetch an event the user runs (404 if unseen, 403 if seen but not run)."""
    if pk > MAX_ID:
        raise Http404
    return get_for_user(Event.objects.all(), request.user, action, pk=pk)


def _status_actions(user: Any, event: Event) -> list[dict[str, Any]]:
    if not can(user, CHANGE, event):
        return []
    return [
        {"to": to, "label": label, "style": style}
        for to, (label, style) in STATUS_ACTIONS.items()
        if services.can_transition_event(event, to)
    ]


# --- lists and calendar -----------------------------------------------------------------------------------------


def event_list(request: HttpRequest) -> HttpResponse:
    """List events: a member's visible events (or those they run), a visitor's public events."""
    filters = selectors.EventFilters.from_mapping(request.GET)
    user: Any = request.user
    signed_in = bool(getattr(user, "is_authenticated", False))
    queryset = selectors.event_list(user, filters) if signed_in else selectors.public_events(filters)
    page = htmx.paginate(request, queryset, PAGE_SIZE)
    context = {
        "page": page,
        "events": list(page.object_list),
        "filters": filters,
        "kinds": Kind.choices,
        "modes": Mode.choices,
        "may_manage": signed_in and has_capability(user, "events.manage"),
        "tickets": list(selectors.my_tickets(user)[:5]) if signed_in else [],
    }
    return htmx.render_list(request, "events/list.html", "events/partials/event_results.html", context)


def public_list(request: HttpRequest) -> HttpResponse:
    """List public events for anyone (no login)."""
    filters = selectors.EventFilters.from_mapping(request.GET)
    page = htmx.paginate(request, selectors.public_events(filters), PAGE_SIZE)
    context = {
        "page": page,
        "events": list(page.object_list),
        "filters": filters,
        "public": True,
        "kinds": Kind.choices,
        "modes": Mode.choices,
    }
    return htmx.render_list(request, "events/list.html", "events/partials/event_results.html", context)


def _month(request: HttpRequest) -> tuple[int, int]:
    text = request.GET.get("month", "")
    try:
        year, month = (int(part) for part in text.split("-", 1))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    today = timezone.localdate()
    return today.year, today.month


def event_calendar(request: HttpRequest) -> HttpResponse:
    """Show a month of events as a grid and as a list (phones see the list)."""
    year, month = _month(request)
    user: Any = request.user
    queryset: QuerySet[Event]
    if getattr(user, "is_authenticated", False):
        queryset = Event.objects.for_user(user, VIEW).exclude(status=S.DRAFT)
    else:
        queryset = selectors.public_events(selectors.EventFilters(when="all"))
    events = selectors.month_events(queryset.select_related("organization"), year, month)
    first = datetime.date(year, month, 1)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    context = {
        "weeks": selectors.month_grid(events, year, month),
        "events": events,
        "month": first,
        "previous": previous.strftime("%Y-%m"),
        "next": following.strftime("%Y-%m"),
    }
    return render(request, "events/calendar.html", context)


def _entry(event: Event) -> ics.Entry:
    location = " ".join(part for part in (event.venue, event.address) if part)
    if event.livestream_url:
        location = f"{location} {event.livestream_url}".strip()
    return ics.Entry(
        uid=f"event-{event.pk}@qiaoliang",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        summary=str(event),
        location=location,
        description=event.description[:1000],
        url=reverse("events:detail", args=[event.pk]),
        cancelled=event.status == S.CANCELLED,
    )


def calendar_ics(request: HttpRequest) -> HttpResponse:
    """Export the coming events the user sees (a visitor: the public ones) as an iCalendar file."""
    user: Any = request.user
    since = timezone.now() - datetime.timedelta(days=30)
    queryset: QuerySet[Event]
    if getattr(user, "is_authenticated", False):
        queryset = Event.objects.for_user(user, VIEW).exclude(status=S.DRAFT)
    else:
        queryset = selectors.public_events(selectors.EventFilters(when="all"))
    events = queryset.filter(ends_at__gte=since).order_by("starts_at")[:500]
    return ics.response(ics.calendar((_entry(event) for event in events), name=_("Events")), "events.ics")


def event_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """Export one event as an iCalendar file."""
    event = event_or_404(request, pk)
    return ics.response(ics.calendar([_entry(event)], name=str(event)), f"event-{event.pk}.ics")


# --- one event ----------------------------------------------------------------------------------------------------


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an event: what, when, where, the agenda, seats, and what the visitor may do (register, ticket...)."""
    event = event_or_404(request, pk)
    user: Any = request.user
    signed_in = bool(getattr(user, "is_authenticated", False))
    manages = signed_in and can(user, CHANGE, event)
    checks_in = signed_in and can(user, CHECKIN, event)
    counts = services.counts(event)
    context: dict[str, Any] = {
        "event": event,
        "counts": counts,
        "agenda": selectors.agenda(event),
        "speakers": selectors.loose_speakers(event),
        "materials": selectors.files(event, EventFile.Kind.MATERIAL),
        "manages": manages,
        "checks_in": checks_in,
        "status_actions": _status_actions(user, event) if signed_in else [],
        "own": selectors.own_registration(user, event),
        "started": timezone.now() >= event.starts_at,
        "is_open": _is_open(event),
        "signed_in": signed_in,
        "enterprise_registrations": selectors.enterprise_registrations(user, event) if signed_in else [],
        "is_contact": signed_in and bool(get_scope(user).own_enterprise_ids),
        "feedback": selectors.feedback_summary(event) if timezone.now() >= event.starts_at else None,
    }
    if context["is_open"] and signed_in:
        context["member_form"] = MemberRegistrationForm(event=event)
        if context["is_contact"]:
            context["colleague_form"] = PersonRegistrationForm(event=event, with_company=False)
            context["colleague_form"].fields["name"].widget.attrs["list"] = "colleague-names"
            context["colleagues"] = selectors.colleagues(user)
    if manages or checks_in:
        context["attendance"] = selectors.attendance(event)
    if event.is_matchmaking and signed_in:
        context["own_participants"] = selectors.own_participants(user, event)
    return render(request, "events/detail.html", context)


def _is_open(event: Event) -> bool:
    now = timezone.now()
    return event.status == S.PUBLISHED and event.registration_opens_at <= now < event.registration_closes_at


def closing(request: HttpRequest, pk: int) -> HttpResponse:
    """Show what an event gave once it took place: summary, minutes, photos, attendance, feedback."""
    event = event_or_404(request, pk)
    if timezone.now() < event.starts_at:
        messages.info(request, _("The closing page opens when the event starts."))
        return redirect("events:detail", pk=event.pk)
    user: Any = request.user
    manages = bool(getattr(user, "is_authenticated", False)) and can(user, CHANGE, event)
    context = {
        "event": event,
        "attendance": selectors.attendance(event),
        "photos": selectors.files(event, EventFile.Kind.PHOTO),
        "feedback": selectors.feedback_summary(event),
        "manages": manages,
        "comments": selectors.feedback_comments(event) if manages else [],
        "deals": selectors.meeting_deals(user, event=event) if event.is_matchmaking and manages else None,
    }
    return render(request, "events/closing.html", context)


def event_file(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """Send a material or photo of an event to whoever may see the event."""
    event = event_or_404(request, pk)
    if file_id > MAX_ID:
        raise Http404
    stored = get_object_or_404(EventFile, pk=file_id, event=event)
    return serve_private_file(stored.file, name=stored.name, content_type=stored.content_type)


# --- the form: new, copy, edit ---------------------------------------------------------------------------------------


def _form(request: HttpRequest, data: Any = None, initial: dict[str, Any] | None = None) -> EventForm:
    user: Any = request.user
    scope = get_scope(user)
    organizations = selectors.organizer_choices(user)
    zones = Zone.objects.filter(pk__in=scope.zone_ids) if not scope.is_all else Zone.objects.all()
    if scope.zone_ids and not scope.change_org_ids and not scope.is_all:
        # A convenor runs zone meetings: the zone's federation organises them.
        organizations = Organization.objects.filter(pk__in=zones.values("federation_id"))
    visible = Organization.objects.for_user(user, VIEW).order_by("path")
    return EventForm(
        data,
        initial=initial,
        organizations=organizations,
        zones=zones,
        visible_organizations=visible,
        series=selectors.managed_series(user),
    )


def _series_of(request: HttpRequest, form: EventForm) -> Any:
    data = form.cleaned_data
    if data.get("new_series"):
        return services.create_series(actor=request.user, organization=data["organization"], name=data["new_series"])
    return data.get("series")


@login_required
def event_create(request: HttpRequest) -> HttpResponse:
    """Create an event from the form (draft, or published at once)."""
    user: Any = request.user
    if not has_capability(user, "events.manage"):
        raise PermissionDenied
    form = _form(request, request.POST or None, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        event = call_service(
            form,
            lambda: services.create_event(
                actor=user,
                organization=data["organization"],
                zone=data.get("zone"),
                series=_series_of(request, form),
                co_organizers=data["co_organizers"],
                audience_organizations=data["audience_organizations"],
                capacity=data["capacity"],
                publish=request.POST.get("action") == "publish",
                **form.event_fields(),
            ),
            fields={"audience_organizations": "audience_organizations"},
        )
        if event is not None:
            messages.success(request, _("The event was saved."))
            return redirect("events:detail", pk=event.pk)
    return render(request, "events/form.html", {"form": form, "groups": _groups(form)})


@login_required
def event_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """Create an event from a copy of an earlier one: its set-up, agenda and speakers, on a new date."""
    source = event_or_404(request, pk)
    user: Any = request.user
    if not has_capability(user, "events.manage"):
        raise PermissionDenied
    form = _form(request, request.POST or None, initial=EventForm.initial_from(source, copy=True))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = form.event_fields()
        event = call_service(
            form,
            lambda: services.copy_event(
                actor=user,
                source=source,
                organization=data["organization"],
                zone=data.get("zone"),
                series=_series_of(request, form),
                co_organizers=data["co_organizers"],
                audience_organizations=data["audience_organizations"],
                capacity=data["capacity"],
                publish=request.POST.get("action") == "publish",
                **fields,
            ),
        )
        if event is not None:
            messages.success(request, _("The copy was saved; check its agenda and dates."))
            return redirect("events:detail", pk=event.pk)
    return render(request, "events/form.html", {"form": form, "groups": _groups(form), "source": source})


@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an event (a new capacity moves the waiting list up, or is refused below the seats taken)."""
    event = managed_event(request, pk)
    form = _form(request, request.POST or None, initial=EventForm.initial_from(event))
    form.fields["organization"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = form.event_fields()
        for name in ("registration_opens_at", "registration_closes_at"):  # left empty: keep the window
            if fields[name] is None:
                del fields[name]
        changed = call_service(
            form,
            lambda: services.update_event(
                actor=request.user,
                event=event,
                capacity=data["capacity"],
                co_organizers=data["co_organizers"],
                audience_organizations=data["audience_organizations"],
                series=_series_of(request, form),
                **fields,
            ),
        )
        if changed is not None:
            messages.success(request, _("The event was saved."))
            return redirect("events:detail", pk=event.pk)
    return render(request, "events/form.html", {"form": form, "groups": _groups(form), "event": event})


def _groups(form: EventForm) -> list[dict[str, Any]]:
    return [{"title": title, "fields": [form[name] for name in names]} for title, names in form.GROUPS]


@login_required
@require_POST
def event_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish, conclude or cancel an event."""
    event = managed_event(request, pk)
    redirect_on_error(request, reverse("events:detail", args=[event.pk]))
    form = StatusForm(request.POST)
    if form.is_valid():
        moved = services.transition_event(
            actor=request.user, event=event, to_status=form.cleaned_data["to"], note=form.cleaned_data["note"]
        )
        messages.success(request, _("The event is now %(status)s.") % {"status": moved.get_status_display()})
    return redirect("events:detail", pk=event.pk)


# --- agenda, speakers, files, minutes ---------------------------------------------------------------------------


def _user_for(account: str) -> Any:
    text = account.strip()
    if not text:
        return None
    return (
        User.objects.filter(is_active=True).filter(username=text).first()
        or User.objects.filter(is_active=True, mobile=text).first()
    )


@login_required
def agenda_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Add and remove agenda items and speakers."""
    event = managed_event(request, pk)
    redirect_on_error(request, reverse("events:agenda_edit", args=[event.pk]))
    item_form = AgendaItemForm(request.POST if request.POST.get("form") == "item" else None, prefix="item")
    speaker_form = SpeakerForm(
        request.POST if request.POST.get("form") == "speaker" else None, prefix="speaker", items=event.agenda.all()
    )
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "item" and item_form.is_valid():
            data = item_form.cleaned_data
            starts, ends = (
                timezone.make_aware(v) if v and timezone.is_naive(v) else v
                for v in (data["starts_at"], data["ends_at"])
            )
            if call_service(
                item_form,
                lambda: services.add_agenda_item(
                    actor=request.user,
                    event=event,
                    title=data["title"],
                    starts_at=starts,
                    ends_at=ends,
                    description=data["description"],
                ),
            ):
                return redirect("events:agenda_edit", pk=event.pk)
        elif which == "speaker" and speaker_form.is_valid():
            data = speaker_form.cleaned_data
            account = _user_for(data["account"])
            if data["account"] and account is None:
                speaker_form.add_error("account", _("No active account has this username or mobile."))
            elif call_service(
                speaker_form,
                lambda: services.add_speaker(
                    actor=request.user,
                    event=event,
                    name=data["name"],
                    affiliation=data["affiliation"],
                    topic=data["topic"],
                    agenda_item=data["agenda_item"],
                    user=account,
                ),
            ):
                return redirect("events:agenda_edit", pk=event.pk)
        elif which == "remove_item":
            item = get_object_or_404(AgendaItem, pk=_int(request.POST.get("id")), event=event)
            services.remove_agenda_item(actor=request.user, item=item)
            return redirect("events:agenda_edit", pk=event.pk)
        elif which == "remove_speaker":
            speaker = get_object_or_404(Speaker, pk=_int(request.POST.get("id")), event=event)
            services.remove_speaker(actor=request.user, speaker=speaker)
            return redirect("events:agenda_edit", pk=event.pk)
    context = {
        "event": event,
        "agenda": selectors.agenda(event),
        "speakers": selectors.loose_speakers(event),
        "item_form": item_form,
        "speaker_form": speaker_form,
    }
    return render(request, "events/agenda_edit.html", context)


def _int(value: Any) -> int:
    text = str(value or "")
    if not text.isdecimal() or len(text) > 18:
        raise Http404
    return int(text)


@login_required
def files_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload and remove an event's materials and photos."""
    event = managed_event(request, pk)
    redirect_on_error(request, reverse("events:files_edit", args=[event.pk]))
    form = FileForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if request.POST.get("remove"):
            stored = get_object_or_404(EventFile, pk=_int(request.POST.get("remove")), event=event)
            services.remove_file(actor=request.user, event_file=stored)
            return redirect("events:files_edit", pk=event.pk)
        if form.is_valid():
            data = form.cleaned_data
            if call_service(
                form,
                lambda: services.add_file(
                    actor=request.user, event=event, upload=data["file"], kind=data["kind"], caption=data["caption"]
                ),
                fields={"file_type": "file", "file_size": "file"},
            ):
                messages.success(request, _("The file was added."))
                return redirect("events:files_edit", pk=event.pk)
    context = {
        "event": event,
        "form": form,
        "materials": selectors.files(event, EventFile.Kind.MATERIAL),
        "photos": selectors.files(event, EventFile.Kind.PHOTO),
    }
    return render(request, "events/files_edit.html", context)


@login_required
def closing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Write an event's minutes and summary (a zone's convenors write their meetings')."""
    event = managed_event(request, pk)
    form = ClosingForm(
        request.POST or None, initial={"minutes": event.minutes, "closing_summary": event.closing_summary}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if call_service(
            form,
            lambda: services.save_closing(
                actor=request.user, event=event, minutes=data["minutes"], closing_summary=data["closing_summary"]
            ),
        ):
            messages.success(request, _("The minutes were saved."))
            return redirect("events:closing", pk=event.pk)
    return render(request, "events/closing_edit.html", {"event": event, "form": form})


# --- attendance totals --------------------------------------------------------------------------------------------


@login_required
def totals(request: HttpRequest) -> HttpResponse:
    """Add up attendances (人次) per event, month and series over an organisation's subtree and a period."""
    user: Any = request.user
    if not has_capability(user, "events.manage"):
        raise PermissionDenied
    filters = selectors.TotalsFilters.from_mapping(request.GET)
    form = TotalsForm(
        request.GET or None,
        organizations=Organization.objects.for_user(user, VIEW).order_by("path"),
        series=selectors.series_choices(user),
    )
    result = selectors.attendance_totals(user, filters)
    chart = {
        "months": [row["month"].strftime("%Y-%m") for row in result.months],
        "onsite": [row["onsite"] for row in result.months],
        "online": [row["online"] for row in result.months],
        "total": [row["total"] for row in result.months],
        "labels": {"onsite": _("On site"), "online": _("Online"), "total": _("Attendances (each person once)")},
    }
    return render(request, "events/totals.html", {"form": form, "totals": result, "chart": chart})
