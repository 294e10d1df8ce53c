"""Reads for events: lists and calendars through the user's scope, public events for visitors, a person's tickets
and agendas, seat counts, attendance totals, matchmaking boards and schedules, survey results, meeting deals."""

from __future__ import annotations

import calendar
import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Exists, F, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from qiaoliang.core.permissions import CHANGE, VIEW
from qiaoliang.core.sql import ColumnReader, fetch_one_prepared
from qiaoliang.events.models import (
    AgendaItem,
    Attendance,
    Audience,
    CheckIn,
    Event,
    EventFile,
    EventSeries,
    FeedbackResponse,
    Meeting,
    MeetingOutcome,
    MeetingRequest,
    Participant,
    Registration,
    Speaker,
)
from qiaoliang.events.services.events import EARLIEST, LATEST
from qiaoliang.exchange.models import Listing
from qiaoliang.orgs.models import Enterprise, Organization, Person
from qiaoliang.orgs.selectors import get_scope

COUNTED = Q(onsite=True) | Q(online_minutes__gte=F("event__online_min_minutes"))
ONLINE = Q(online_minutes__gte=F("event__online_min_minutes"))
# Annotation names differ from the fields they count (an annotation named "onsite" would shadow the field).
_FIGURES = {
    "n_onsite": Count("pk", filter=Q(onsite=True)),
    "n_online": Count("pk", filter=ONLINE),
    "n_total": Count("pk", filter=COUNTED),
}


def _count_of(status: str) -> Coalesce:
    rows = (
        Registration.objects.filter(event_id=OuterRef("pk"), status=status)
        .order_by()
        .values("event_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def with_counts(queryset: QuerySet[Event]) -> QuerySet[Event]:
    """Annotate each event with its confirmed and waiting registrations (one query for any page size)."""
    return queryset.annotate(confirmed_count=_count_of("confirmed"), waiting_count=_count_of("waiting"))


# --- lists ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    """The event list's filters, as the pages and the API share them."""

    q: str = ""
    kind: str = ""
    mode: str = ""
    when: str = "upcoming"  # upcoming, past, all
    organization: int | None = None
    mine: bool = False  # events the user runs

    @classmethod
    def from_mapping(cls, data: Any) -> EventFilters:
        organization = str(data.get("organization") or "").strip()
        when = str(data.get("when") or "upcoming")
        return cls(
            q=str(data.get("q") or "").strip()[:60],
            kind=str(data.get("kind") or "").strip()[:16],
            mode=str(data.get("mode") or "").strip()[:8],
            when=when if when in {"upcoming", "past", "all"} else "upcoming",
            organization=int(organization) if organization.isdecimal() and len(organization) < 19 else None,
            mine=str(data.get("mine") or "") == "1",
        )


def _filtered(queryset: QuerySet[Event], filters: EventFilters) -> QuerySet[Event]:
    now = timezone.now()
    if filters.q:
        queryset = queryset.filter(
            Q(title__icontains=filters.q) | Q(series__name__icontains=filters.q) | Q(venue__icontains=filters.q)
        )
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.mode:
        queryset = queryset.filter(mode=filters.mode)
    if filters.organization:
        queryset = queryset.filter(organization_id=filters.organization)
    if filters.when == "upcoming":
        return queryset.filter(ends_at__gte=now).order_by("starts_at", "id")
    if filters.when == "past":
        return queryset.filter(ends_at__lt=now).order_by("-starts_at", "-id")
    return queryset.order_by("-starts_at", "-id")


def event_list(user: Any, filters: EventFilters) -> QuerySet[Event]:
    """Return the events a user sees (or runs, with `mine`), filtered, with their seat counts."""
    action = CHANGE if filters.mine else VIEW
    queryset = Event.objects.for_user(user, action).select_related("organization", "series")
    return with_counts(_filtered(queryset, filters))


def linkable_events(user: Any, limit: int = 200) -> list[Event]:
    """Events another app may link to (a policy's interpretation lectures): the ones the user sees, not drafts,
    newest first."""
    queryset = Event.objects.for_user(user, VIEW).exclude(status=Event.Status.DRAFT)
    return list(queryset.only("pk", "title", "starts_at").order_by("-starts_at", "-pk")[:limit])


def visible_among(user: Any, ids: Any, limit: int = 20) -> list[Event]:
    """Of the given events, the ones the user may see (public ones for visitors), soonest first."""
    if getattr(user, "is_authenticated", False):
        queryset = Event.objects.for_user(user, VIEW)
    else:
        queryset = Event.objects.filter(audience=Audience.PUBLIC)
    queryset = queryset.exclude(status=Event.Status.DRAFT).filter(pk__in=ids)
    return list(queryset.only("pk", "title", "starts_at").order_by("starts_at", "pk")[:limit])


def public_events(filters: EventFilters | None = None) -> QuerySet[Event]:
    """Return the public events anyone may see without logging in."""
    queryset = Event.objects.filter(audience=Audience.PUBLIC).exclude(status=Event.Status.DRAFT)
    return with_counts(_filtered(queryset.select_related("organization", "series"), filters or EventFilters()))


def visible_event(user: Any, pk: int, fields: tuple[str, ...] = ()) -> Event | None:
    """Return an event the user (or an anonymous visitor, for public events) may see, or None.

    `fields` loads only those columns (a registration burst needs a dozen of the event's forty-odd).
    """
    queryset = Event.objects.only(*fields) if fields else Event.objects.all()
    if getattr(user, "is_authenticated", False):
        found = queryset.for_user(user, VIEW).filter(pk=pk).order_by().first()
        if found is not None:
            return found
    if fields:
        return _public_event_columns(pk, tuple(fields))
    return queryset.filter(pk=pk, audience=Audience.PUBLIC).exclude(status=Event.Status.DRAFT).order_by().first()


@functools.cache
def _event_reader(fields: tuple[str, ...], vendor: str, public: bool) -> tuple[ColumnReader, str]:
    """The reader and statement of `event_columns` / `_public_event_columns` (built once per process)."""
    reader = ColumnReader(Event, fields)
    quote = connection.ops.quote_name
    sql = f"SELECT {reader.columns} FROM {quote(Event._meta.db_table)} WHERE {quote(str(Event._meta.pk.column))} = %s"
    if public:
        sql += f" AND {quote('audience')} = %s AND NOT {quote('status')} = %s"
    return reader, sql


def _public_event_columns(pk: int, fields: tuple[str, ...]) -> Event | None:
    """A public, not draft event with only `fields` loaded, read in plain SQL.

    The same rows and values as `Event.objects.only(*fields).filter(pk=pk, audience=PUBLIC).exclude(status=DRAFT)`
    (a test holds them equal), without compiling that query on every request: a registration burst reads the
    event once per registration, and the ORM's compiler cost more than the rest of the registration's Python.
    """
    reader, sql = _event_reader(fields, connection.vendor, public=True)
    row = fetch_one_prepared(sql, [pk, str(Audience.PUBLIC), str(Event.Status.DRAFT)])
    return None if row is None else reader.instance(row)


def event_columns(pk: int, fields: tuple[str, ...]) -> Event | None:
    """Any event with only `fields` loaded, read in plain SQL (no permission: the caller decides)."""
    reader, sql = _event_reader(fields, connection.vendor, public=False)
    row = fetch_one_prepared(sql, [pk])
    return None if row is None else reader.instance(row)


def month_grid(events: list[Event], year: int, month: int) -> list[list[dict[str, Any]]]:
    """Return the weeks of a month (Monday first), each day with the events that touch it."""
    by_day: dict[datetime.date, list[Event]] = defaultdict(list)
    for event in events:
        start = timezone.localtime(event.starts_at).date()
        end = timezone.localtime(event.ends_at).date()
        day = start
        while day <= end and (day - start).days < 40:
            by_day[day].append(event)
            day += datetime.timedelta(days=1)
    today = timezone.localdate()
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                {"date": day, "in_month": day.month == month, "is_today": day == today, "events": by_day.get(day, [])}
                for day in week
            ]
        )
    return weeks


def month_events(queryset: QuerySet[Event], year: int, month: int) -> list[Event]:
    """Return the events of a queryset that touch a month (local time)."""
    tz = timezone.get_current_timezone()
    first = datetime.datetime(year, month, 1, tzinfo=tz)
    last = datetime.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return list(queryset.filter(starts_at__lt=last, ends_at__gte=first).order_by("starts_at", "id")[:500])


# --- one event ---------------------------------------------------------------------------------------------------


def agenda(event: Event) -> list[AgendaItem]:
    """Return the agenda with each item's speakers (two queries)."""
    return list(
        event.agenda.prefetch_related(Prefetch("speakers", queryset=Speaker.objects.order_by("position", "id")))
    )


def loose_speakers(event: Event) -> list[Speaker]:
    """Return the speakers of the event who are not on an agenda item."""
    return list(event.speakers.filter(agenda_item=None).select_related("department"))


def files(event: Event, kind: str) -> list[EventFile]:
    return list(event.files.filter(kind=kind).order_by("id"))


def registrations(event: Event, *, status: str = "", q: str = "") -> QuerySet[Registration]:
    """Return an event's registrations for its staff, with their check-ins (one query per page)."""
    queryset = Registration.objects.filter(event=event).select_related("checkin", "enterprise")
    if status in Registration.Status.values:
        queryset = queryset.filter(status=status)
    elif status == "checked_in":
        queryset = queryset.filter(checkin__isnull=False)
    if q:
        queryset = queryset.filter(
            Q(name__icontains=q)
            | Q(mobile__startswith=q)
            | Q(company__icontains=q)
            | Q(ticket=q.upper().replace("-", ""))
        )
    return queryset.order_by("status", "id")


def waiting_position(registration: Registration) -> int | None:
    """Return a waiting registration's place on the list (1 = next to be promoted)."""
    if registration.status != Registration.Status.WAITING:
        return None
    ahead = Registration.objects.filter(
        event_id=registration.event_id, status=Registration.Status.WAITING, pk__lt=registration.pk
    ).count()
    return ahead + 1


def own_registration(user: Any, event: Event) -> Registration | None:
    """Return the user's active registration for an event (made with their account)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Registration.objects.filter(event=event, user=user, status__in=Registration.ACTIVE).first()


def enterprise_registrations(user: Any, event: Event) -> list[Registration]:
    """Return the registrations of the user's own enterprises for an event (an enterprise contact's people)."""
    own = get_scope(user).own_enterprise_ids
    if not own:
        return []
    return list(
        Registration.objects.filter(event=event, enterprise_id__in=own).select_related("checkin").order_by("id")
    )


def colleagues(user: Any) -> list[Person]:
    """Return the people of the user's own enterprises (the people an enterprise contact registers)."""
    own = get_scope(user).own_enterprise_ids
    return list(Person.objects.filter(enterprise_id__in=own).exclude(mobile=None).order_by("name_pinyin")[:200])


def my_tickets(user: Any) -> QuerySet[Registration]:
    """Return the user's registrations and those of their enterprises, upcoming events first."""
    own = get_scope(user).own_enterprise_ids
    condition = Q(user=user) | Q(registered_by=user)
    if own:
        condition |= Q(enterprise_id__in=own)
    return (
        Registration.objects.filter(condition)
        .exclude(status=Registration.Status.CANCELLED)
        .filter(event__ends_at__gte=timezone.now() - datetime.timedelta(days=30))
        .select_related("event", "checkin")
        .order_by("event__starts_at", "id")
    )


@dataclass
class AttendanceFigures:
    """On site, online and total attendances (人次) of one or more events."""

    onsite: int = 0
    online: int = 0
    total: int = 0
    checked_in: int = 0


def attendance(event: Event) -> AttendanceFigures:
    """Return an event's attendance: on site, online above the minimum minutes, and each person once."""
    figures = Attendance.objects.filter(event=event).aggregate(**_FIGURES)
    return AttendanceFigures(
        onsite=figures["n_onsite"],
        online=figures["n_online"],
        total=figures["n_total"],
        checked_in=CheckIn.objects.filter(event=event).count(),
    )


def feedback_summary(event: Event) -> dict[str, Any]:
    """Return the survey's answers: count, averages and the distribution of the overall rating."""
    answers = FeedbackResponse.objects.filter(event=event)
    summary = answers.aggregate(
        count=Count("pk"), overall=Avg("overall"), content=Avg("content"), organisation=Avg("organisation")
    )
    distribution = dict(answers.values_list("overall").annotate(n=Count("pk")).values_list("overall", "n"))
    count = summary["count"] or 0
    summary["distribution"] = [
        {
            "rating": rating,
            "count": distribution.get(rating, 0),
            "share": round(100 * distribution.get(rating, 0) / count) if count else 0,
        }
        for rating in range(5, 0, -1)
    ]
    return summary


def feedback_comments(event: Event, limit: int = 50) -> list[FeedbackResponse]:
    return list(FeedbackResponse.objects.filter(event=event).exclude(comment="").order_by("-created_at")[:limit])


# --- attendance totals ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TotalsFilters:
    """Which events the attendance totals add up: an organisation's subtree, a series, a period."""

    organization: int | None = None
    series: int | None = None
    since: datetime.date | None = None
    until: datetime.date | None = None

    @classmethod
    def from_mapping(cls, data: Any) -> TotalsFilters:
        def number(name: str) -> int | None:
            text = str(data.get(name) or "").strip()
            return int(text) if text.isdecimal() and len(text) < 19 else None

        def day(name: str) -> datetime.date | None:
            try:
                parsed = datetime.date.fromisoformat(str(data.get(name) or "").strip())
            except ValueError:
                return None
            # Events take place from 2000 to 2100; the ends of the calendar overflow (the day after 9999-12-31).
            return parsed if EARLIEST.year <= parsed.year < LATEST.year else None

        return cls(organization=number("organization"), series=number("series"), since=day("since"), until=day("until"))


@dataclass
class Totals:
    """Attendance totals: per event, per month and per series, and the grand total."""

    events: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    total: AttendanceFigures = field(default_factory=AttendanceFigures)
    event_count: int = 0


def _totals_events(user: Any, filters: TotalsFilters) -> QuerySet[Event]:
    events = Event.objects.for_user(user, VIEW).exclude(status__in=[Event.Status.DRAFT, Event.Status.CANCELLED])
    events = events.filter(starts_at__lte=timezone.now())
    if filters.organization:
        root = Organization.objects.for_user(user, VIEW).filter(pk=filters.organization).first()
        if root is None:
            return events.none()
        events = events.filter(organization__path__startswith=root.path)
    if filters.series:
        events = events.filter(series_id=filters.series)
    tz = timezone.get_current_timezone()
    if filters.since:
        events = events.filter(starts_at__gte=datetime.datetime.combine(filters.since, datetime.time(), tz))
    if filters.until:
        after = datetime.datetime.combine(filters.until + datetime.timedelta(days=1), datetime.time(), tz)
        events = events.filter(starts_at__lt=after)
    return events


def attendance_totals(user: Any, filters: TotalsFilters, *, event_limit: int = 200) -> Totals:
    """Add up attendances (人次) over the events a user sees: per event, month and series, and in all."""
    events = _totals_events(user, filters)
    rows: Any = Attendance.objects.filter(event__in=events.values("pk")).values("event_id").annotate(**_FIGURES)
    by_event = {
        row["event_id"]: {"onsite": row["n_onsite"], "online": row["n_online"], "total": row["n_total"]} for row in rows
    }
    totals = Totals(event_count=events.count())
    listed = list(events.select_related("series", "organization").order_by("-starts_at", "-id")[:event_limit])
    for event in listed:
        row = by_event.get(event.pk, {})
        totals.events.append(
            {
                "event": event,
                "onsite": row.get("onsite", 0),
                "online": row.get("online", 0),
                "total": row.get("total", 0),
            }
        )
    months: dict[datetime.date, dict[str, Any]] = {}
    series: dict[int | None, dict[str, Any]] = {}
    meta = events.annotate(month=TruncMonth("starts_at")).values_list("pk", "month", "series_id", "series__name")
    for pk, month, series_id, series_name in meta:
        row = by_event.get(pk, {})
        key = month.date() if isinstance(month, datetime.datetime) else month
        bucket = months.setdefault(key, {"month": key, "events": 0, "onsite": 0, "online": 0, "total": 0})
        group = series.setdefault(
            series_id, {"series": series_name, "id": series_id, "events": 0, "onsite": 0, "online": 0, "total": 0}
        )
        for target in (bucket, group):
            target["events"] += 1
            for name in ("onsite", "online", "total"):
                target[name] += row.get(name, 0)
        totals.total.onsite += row.get("onsite", 0)
        totals.total.online += row.get("online", 0)
        totals.total.total += row.get("total", 0)
    totals.months = [months[key] for key in sorted(months)]
    totals.series = sorted(series.values(), key=lambda row: (-row["total"], row["series"] or ""))
    return totals


def series_choices(user: Any) -> QuerySet[EventSeries]:
    """Return the series a user sees (for filters)."""
    return EventSeries.objects.for_user(user, VIEW).select_related("organization").order_by("name")


def managed_series(user: Any) -> QuerySet[EventSeries]:
    return EventSeries.objects.for_user(user, CHANGE).select_related("organization").order_by("name")


def organizer_choices(user: Any) -> QuerySet[Organization]:
    """Return the organisations whose events the user may run."""
    return Organization.objects.for_user(user, CHANGE).order_by("path")


# --- matchmaking ---------------------------------------------------------------------------------------------------


def participants(event: Event) -> list[Participant]:
    """Return a matchmaking meeting's participants with their enterprises' published offers and needs."""
    rows = list(
        Participant.objects.filter(event=event)
        .select_related("enterprise", "enterprise__industry")
        .order_by(F("pitch_order").asc(nulls_last=True), "id")
    )
    listings: dict[int, list[Listing]] = defaultdict(list)
    for listing in (
        Listing.objects.published()
        .filter(enterprise_id__in=[p.enterprise_id for p in rows])
        .order_by("direction", "-published_at")
    ):
        listings[listing.enterprise_id].append(listing)
    for participant in rows:
        own = listings.get(participant.enterprise_id, [])
        participant.offers = [listing for listing in own if listing.direction == "offer"][:6]  # type: ignore[attr-defined]
        participant.needs = [listing for listing in own if listing.direction == "need"][:6]  # type: ignore[attr-defined]
    return rows


def own_participants(user: Any, event: Event) -> list[Participant]:
    """Return the user's enterprises' participations in an event."""
    own = get_scope(user).own_enterprise_ids
    return list(Participant.objects.filter(event=event, enterprise_id__in=own).select_related("enterprise"))


def own_participations(user: Any) -> list[Participant]:
    """Return the user's enterprises' participations in matchmaking meetings that are not over."""
    own = get_scope(user).own_enterprise_ids
    if not own:
        return []
    return list(
        Participant.objects.filter(enterprise_id__in=own, event__ends_at__gte=timezone.now())
        .exclude(event__status=Event.Status.CANCELLED)
        .select_related("event", "enterprise")
        .order_by("event__starts_at")
    )


def joinable_enterprises(user: Any, event: Event) -> list[Enterprise]:
    """Return the user's own enterprises that have not joined the event yet."""
    own = get_scope(user).own_enterprise_ids
    joined = Participant.objects.filter(event=event).values("enterprise_id")
    return list(Enterprise.objects.filter(pk__in=own).exclude(pk__in=joined))


def requests_for(user: Any, event: Event) -> QuerySet[MeetingRequest]:
    """Return the meeting requests of an event the user may see, newest first, with both enterprises."""
    return (
        MeetingRequest.objects.for_user(user, VIEW)
        .filter(event=event)
        .select_related("requester__enterprise", "recipient__enterprise", "listing", "meeting")
        .order_by("-created_at", "-id")
    )


def schedule(event: Event) -> list[Meeting]:
    """Return the accepted meetings of an event, placed ones by slot and table, then the unplaced."""
    return list(
        Meeting.objects.filter(event=event)
        .select_related("a__enterprise", "b__enterprise", "request")
        .order_by(F("slot").asc(nulls_last=True), "table", "id")
    )


def personal_agenda(participant: Participant) -> list[Meeting]:
    """Return a participant's meetings in slot order (unplaced last), with the other side."""
    meetings = list(
        Meeting.objects.filter(Q(a=participant) | Q(b=participant))
        .select_related("a__enterprise", "b__enterprise", "request", "request__listing")
        .prefetch_related("outcomes")
        .order_by(F("slot").asc(nulls_last=True), "id")
    )
    for meeting in meetings:
        meeting.other = meeting.b if meeting.a_id == participant.pk else meeting.a  # type: ignore[attr-defined]
        meeting.own_outcome = next((o for o in meeting.outcomes.all() if o.participant_id == participant.pk), None)  # type: ignore[attr-defined]
    return meetings


@dataclass(frozen=True)
class MeetingDeals:
    """What came of matchmaking meetings: meetings held, intents and deals (a meeting counts once)."""

    meetings: int
    held: int
    intents: int
    deals: int
    amount: Decimal


def meeting_deals(user: Any, *, event: Event | None = None) -> MeetingDeals:
    """Count the meetings the user may see and what came of them (a deal's amount: the larger side's figure)."""
    events = Event.objects.for_user(user, VIEW).filter(kind="exchange")
    meetings = Meeting.objects.filter(event__in=events.values("pk"))
    if event is not None:
        meetings = meetings.filter(event=event)
    outcomes = MeetingOutcome.objects.filter(meeting__in=meetings.values("pk"))
    held = outcomes.filter(held=True).values("meeting_id").distinct().count()
    deal_rows = list(
        outcomes.filter(result=MeetingOutcome.Result.DEAL).values("meeting_id").annotate(top=Max("deal_amount"))
    )
    deal_ids = {row["meeting_id"] for row in deal_rows}
    intent_ids = set(outcomes.filter(result=MeetingOutcome.Result.INTENT).values_list("meeting_id", flat=True))
    return MeetingDeals(
        meetings=meetings.count(),
        held=held,
        intents=len(intent_ids - deal_ids),
        deals=len(deal_rows),
        amount=sum((row["top"] or Decimal(0) for row in deal_rows), Decimal(0)),
    )


def speaking_events(user: Any) -> QuerySet[Event]:
    """Return the upcoming events a user speaks at (a department liaison at a symposium)."""
    return (
        Event.objects.filter(Exists(Speaker.objects.filter(event_id=OuterRef("pk"), user=user)))
        .exclude(status__in=[Event.Status.DRAFT, Event.Status.CANCELLED])
        .filter(ends_at__gte=timezone.now())
        .order_by("starts_at")
    )
