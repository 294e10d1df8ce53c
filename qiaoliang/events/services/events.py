"""Writes for events: create (from a form, the API or a copy of an earlier one), change, publish, cancel,
conclude; agenda, speakers, materials and photos; minutes; series.

    draft ──▶ published ──▶ concluded (after it started: minutes, photos, attendance shown)
      └──────────┴──────▶ cancelled (everyone registered is told)
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit, notifications
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, VIEW, can, require
from qiaoliang.core.transitions import Transitions
from qiaoliang.core.uploads import IMAGE_TYPES, check_upload
from qiaoliang.events.models import (
    AgendaItem,
    Audience,
    Event,
    EventFile,
    EventSeries,
    EventStatusChange,
    Kind,
    Mode,
    Speaker,
)
from qiaoliang.events.services.registration import MAX_CAPACITY, create_seats, fill_free_seats, resize_seats
from qiaoliang.orgs.models import Department, Organization, Zone
from qiaoliang.orgs.selectors import get_scope

S = Event.Status
EVENT_TRANSITIONS = Transitions(
    model=Event,
    table={
        S.DRAFT: {S.PUBLISHED, S.CANCELLED},
        S.PUBLISHED: {S.CLOSED, S.CANCELLED},
        S.CLOSED: set(),
        S.CANCELLED: set(),
    },
    audit_prefix="events.event",
    history_model=EventStatusChange,
    history_fk="event",
)

# Fields a form or the API may set directly (the rest go through their own service).
EVENT_FIELDS = {
    "title",
    "kind",
    "mode",
    "audience",
    "description",
    "venue",
    "address",
    "livestream_url",
    "replay_url",
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "has_waiting_list",
    "verify_mobile",
    "questions",
    "online_min_minutes",
    "issue_number",
    "pitches_start_at",
    "pitch_minutes",
    "meetings_start_at",
    "slot_count",
    "slot_minutes",
    "table_count",
}
COPIED_FIELDS = EVENT_FIELDS - {
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "issue_number",
    "pitches_start_at",
    "meetings_start_at",
    "replay_url",
}
MAX_SLOTS = 48
MAX_TABLES = 2000
MAX_QUESTIONS = 10
MAX_AGENDA_ITEMS = 100
MAX_SPEAKERS = 200
# Events take place from 2000 to 2100 (the calendar's range): far from the ends of Python's dates, where the default
# registration opening (a minute before the start) or a margin (check-in closes 12 hours after the end) would
# overflow into a server error.
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2101, 1, 1, tzinfo=datetime.UTC)
MOMENT_FIELDS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "pitches_start_at",
    "meetings_start_at",
)
# The whole numbers an event is set up with and their ranges (the API's schema and the form say the same; each
# within its column: an issue number past 2,147,483,647 fails in the database).
NUMBER_LIMITS = {
    "capacity": (1, MAX_CAPACITY),
    "issue_number": (1, 100_000),
    "online_min_minutes": (0, 600),
    "pitch_minutes": (1, 120),
    "slot_count": (0, MAX_SLOTS),
    "slot_minutes": (5, 180),
    "table_count": (0, MAX_TABLES),
}
TEXT_FIELDS = ("title", "description", "venue", "address", "livestream_url", "replay_url")
PHOTO_TYPES = tuple(sorted(IMAGE_TYPES))
MATERIAL_TYPES = (".pdf", ".docx", ".xlsx", ".png", ".jpg", ".jpeg")


# --- checks ---------------------------------------------------------------------------------------------------


def may_organize(actor: Any, organization: Organization, zone: Zone | None = None) -> bool:
    """Tell whether the actor may run events for an organisation (or a zone's meetings)."""
    if actor is None:
        return True
    if zone is not None and zone.pk in get_scope(actor).zone_ids:
        return True
    return can(actor, CHANGE, organization)


def _require_organizer(actor: Any, organization: Organization, zone: Zone | None) -> None:
    if not may_organize(actor, organization, zone):
        raise NotAllowedError(_("You may run events of your own organisations (or your zone's meetings) only."))
    if (
        zone is not None
        and zone.federation_id != organization.pk
        and actor is not None
        and not can(actor, CHANGE, organization)
    ):
        raise NotAllowedError(_("A zone meeting is organised by the zone's federation."))


def parse_questions(text: str) -> list[dict[str, Any]]:
    """Turn one question per line into questions: "Question", "Question*" (required), "Question: a / b / c"."""
    questions: list[dict[str, Any]] = []
    for number, line in enumerate(line.strip() for line in (text or "").splitlines()):
        if not line:
            continue
        label, _sep, options = line.partition("：") if "：" in line else line.partition(":")
        label = label.strip()
        required = label.endswith("*")
        label = label.rstrip("*").strip()[:120]
        choices = [choice.strip()[:60] for choice in re.split(r"[/／|]", options) if choice.strip()]
        if label:
            questions.append({"key": f"q{number + 1}", "label": label, "required": required, "choices": choices})
    return questions


def questions_text(questions: list[dict[str, Any]]) -> str:
    """Write questions back as the form's lines (the inverse of parse_questions)."""
    lines = []
    for question in questions or []:
        line = str(question.get("label", "")) + ("*" if question.get("required") else "")
        if question.get("choices"):
            line += "：" + " / ".join(question["choices"])
        lines.append(line)
    return "\n".join(lines)


def check_moment(value: Any, code: str) -> None:
    """Raise DomainError unless the value is an aware date and time from 2000 to 2100 (None passes)."""
    if value is None:
        return
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise DomainError(_("Give the date and time with the time zone."), code=code)
    if not EARLIEST <= value < LATEST:
        raise DomainError(
            _("Give a date from %(first)d to %(last)d.") % {"first": EARLIEST.year, "last": LATEST.year - 1}, code=code
        )


def _field(name: str) -> Field[Any, Any]:
    field = Event._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _is_whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_number(event: Event, name: str) -> None:
    value = getattr(event, name)
    if value is None and name == "issue_number":
        return
    low, high = NUMBER_LIMITS[name]
    if not _is_whole(value, low, high):
        field = _field(name)
        raise DomainError(
            _("%(field)s: give a whole number from %(min)d to %(max)d.")
            % {"field": str(field.verbose_name).capitalize(), "min": low, "max": high},
            code=name,
        )


def _check_lengths(event: Event) -> None:
    for name in TEXT_FIELDS:
        field = _field(name)
        if field.max_length and len(str(getattr(event, name) or "")) > field.max_length:
            raise DomainError(
                _("%(field)s: at most %(max)d characters.")
                % {"field": str(field.verbose_name).capitalize(), "max": field.max_length},
                code=name,
            )


def _clean_questions(questions: Any) -> list[dict[str, Any]]:
    if not questions:
        return []
    if not isinstance(questions, list) or len(questions) > MAX_QUESTIONS:
        raise DomainError(_("An event can ask up to %(max)d questions.") % {"max": MAX_QUESTIONS}, code="questions")
    cleaned = []
    for number, question in enumerate(questions, start=1):
        if isinstance(question, str):
            question = {"label": question}
        if not isinstance(question, dict) or not str(question.get("label", "")).strip():
            raise DomainError(_("Each question needs its text."), code="questions")
        choices = question.get("choices") or []
        if not isinstance(choices, list):
            raise DomainError(_("The answers to choose from must be a list."), code="questions")
        cleaned.append(
            {
                "key": str(question.get("key") or f"q{number}")[:20],
                "label": str(question["label"]).strip()[:120],
                "required": bool(question.get("required")),
                "choices": [str(c).strip()[:60] for c in choices if str(c).strip()],
            }
        )
    keys = [q["key"] for q in cleaned]
    if len(set(keys)) != len(keys):
        raise DomainError(_("Two questions have the same key."), code="questions")
    return cleaned


def validate(event: Event) -> None:
    """Raise DomainError (with the field's name as code) when the event's fields do not fit together."""
    if not event.title.strip():
        raise DomainError(_("Give the event a title."), code="title")
    if event.kind not in Kind.values:
        raise DomainError(_("Choose the kind of event."), code="kind")
    if event.mode not in Mode.values:
        raise DomainError(_("Choose on site, online or both."), code="mode")
    if event.audience not in Audience.values:
        raise DomainError(_("Choose who the event is for."), code="audience")
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        value = getattr(event, name)
        if value is None or timezone.is_naive(value):
            raise DomainError(_("Give the date and time with the time zone."), code=name)
    for name in MOMENT_FIELDS:
        check_moment(getattr(event, name), name)
    _check_lengths(event)
    if event.ends_at <= event.starts_at:
        raise DomainError(_("The event must end after it starts."), code="ends_at")
    if event.ends_at - event.starts_at > datetime.timedelta(days=31):
        raise DomainError(_("An event lasts 31 days at the most; make a series for longer programmes."), code="ends_at")
    if event.registration_closes_at <= event.registration_opens_at:
        raise DomainError(_("Registration must close after it opens."), code="registration_closes_at")
    if event.registration_closes_at > event.ends_at:
        raise DomainError(_("Registration must close by the end of the event."), code="registration_closes_at")
    if not _is_whole(event.capacity, 1, MAX_CAPACITY):
        raise DomainError(_("Give a number of seats from 1 to %(max)d.") % {"max": MAX_CAPACITY}, code="capacity")
    if event.mode == Mode.OFFLINE and event.livestream_url:
        raise DomainError(_("An on-site event has no livestream; choose on site and online."), code="livestream_url")
    if event.issue_number is not None and event.series_id is None:
        raise DomainError(_("An issue number belongs to a series."), code="issue_number")
    if event.slot_count > MAX_SLOTS or event.table_count > MAX_TABLES:
        raise DomainError(
            _("At most %(slots)d meeting slots and %(tables)d tables.") % {"slots": MAX_SLOTS, "tables": MAX_TABLES},
            code="slot_count",
        )
    for name in ("issue_number", "online_min_minutes", "pitch_minutes", "slot_count", "slot_minutes", "table_count"):
        _check_number(event, name)
    if event.slot_count and not event.meetings_start_at:
        raise DomainError(_("Say when the 1:1 meetings start."), code="meetings_start_at")
    if event.slot_count and not event.slot_minutes:
        raise DomainError(_("Give the length of a meeting slot."), code="slot_minutes")
    if event.meetings_start_at and not event.starts_at <= event.meetings_start_at < event.ends_at:
        raise DomainError(_("The 1:1 meetings take place during the event."), code="meetings_start_at")
    if event.slot_count and event.meetings_start_at:
        last = event.meetings_start_at + datetime.timedelta(minutes=event.slot_count * event.slot_minutes)
        if last > event.ends_at:
            raise DomainError(_("The meeting slots run past the end of the event."), code="slot_count")
    if event.pitches_start_at and not event.starts_at <= event.pitches_start_at < event.ends_at:
        raise DomainError(_("The pitches take place during the event."), code="pitches_start_at")


def _set_relations(
    event: Event,
    actor: Any,
    co_organizers: Iterable[Organization] | None,
    audience_organizations: Iterable[Organization] | None,
) -> None:
    if co_organizers is not None:
        co = [o for o in co_organizers if o.pk != event.organization_id]
        event.co_organizers.set(co)
    if audience_organizations is not None:
        chosen = list(audience_organizations)
        if actor is not None:
            visible = set(
                Organization.objects.for_user(actor, VIEW)
                .filter(pk__in=[o.pk for o in chosen])
                .values_list("pk", flat=True)
            )
            if len(visible) != len({o.pk for o in chosen}):
                raise NotAllowedError(_("You may open an event to organisations you see only."))
        event.audience_organizations.set(chosen)
    if event.audience == Audience.ORGANIZATIONS and not event.audience_organizations.exists():
        raise DomainError(_("Choose the organisations whose members the event is for."), code="audience_organizations")


# --- creating and changing ---------------------------------------------------------------------------------------


@transaction.atomic
def create_event(
    *,
    actor: Any,
    organization: Organization,
    title: str,
    kind: str,
    mode: str,
    audience: str,
    capacity: int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    registration_opens_at: datetime.datetime | None = None,
    registration_closes_at: datetime.datetime | None = None,
    co_organizers: Iterable[Organization] = (),
    audience_organizations: Iterable[Organization] = (),
    zone: Zone | None = None,
    series: EventSeries | None = None,
    agenda: Iterable[dict[str, Any]] = (),
    publish: bool = False,
    copied_from: Event | None = None,
    **fields: Any,
) -> Event:
    """Create an event with its seats (and agenda); publish it at once if asked."""
    _require_organizer(actor, organization, zone)
    unknown = set(fields) - EVENT_FIELDS
    if unknown:
        raise TypeError(f"create_event() got unknown fields: {sorted(unknown)}")
    if series is not None and series.organization_id != organization.pk:
        raise DomainError(_("The series belongs to another organisation."), code="series")
    now = timezone.now()
    # Before the defaults below are computed from them (a year-1 start minus a minute overflows).
    for name, moment in (
        ("starts_at", starts_at),
        ("ends_at", ends_at),
        ("registration_opens_at", registration_opens_at),
        ("registration_closes_at", registration_closes_at),
    ):
        check_moment(moment, name)
    if "questions" in fields:
        fields["questions"] = _clean_questions(fields["questions"])
    event = Event(
        organization=organization,
        title=str(title or "").strip()[:120],
        kind=kind,
        mode=mode,
        audience=audience,
        capacity=capacity,
        starts_at=starts_at,
        ends_at=ends_at,
        registration_opens_at=registration_opens_at or min(now, starts_at - datetime.timedelta(minutes=1)),
        registration_closes_at=registration_closes_at or starts_at,
        zone=zone,
        series=series,
        copied_from=copied_from,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
    )
    if registration_opens_at is None and event.registration_opens_at >= event.registration_closes_at:
        # Only a defaulted opening moves (an event recorded after its registration closed); a window the user
        # gave the wrong way round is refused by validate().
        event.registration_opens_at = event.registration_closes_at - datetime.timedelta(minutes=1)
    validate(event)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError as exc:
        raise DomainError(_("The series already has an event with this issue number."), code="issue_number") from exc
    _set_relations(event, actor, co_organizers, audience_organizations)
    create_seats(event, event.capacity)
    for position, item in enumerate(agenda):
        add_agenda_item(actor=None, event=event, position=position, **item)
    audit.record(
        "events.event.created",
        actor=actor,
        target=event,
        organization_id=organization.pk,
        data={"kind": kind, "capacity": capacity, "copied_from": copied_from.pk if copied_from else None},
    )
    if publish:
        event = EVENT_TRANSITIONS.move(event, S.PUBLISHED, actor=actor, changes={"published_at": now})
    return event


@transaction.atomic
def copy_event(
    *, actor: Any, source: Event, starts_at: datetime.datetime, ends_at: datetime.datetime, **overrides: Any
) -> Event:
    """Create a new event from an earlier one: the same set-up, agenda and speakers moved to the new date."""
    require(actor, VIEW, source)
    shift = starts_at - source.starts_at
    values: dict[str, Any] = {name: getattr(source, name) for name in COPIED_FIELDS}
    if source.series is not None and source.issue_number:
        numbers = source.series.events.exclude(issue_number=None).values_list("issue_number", flat=True)
        values["issue_number"] = max((n for n in numbers if n is not None), default=0) + 1
    for name in ("pitches_start_at", "meetings_start_at"):
        if getattr(source, name):
            values[name] = getattr(source, name) + shift
    values.update(overrides)
    organization = values.pop("organization", source.organization)
    event = create_event(
        actor=actor,
        organization=organization,
        starts_at=starts_at,
        ends_at=ends_at,
        co_organizers=values.pop("co_organizers", list(source.co_organizers.all())),
        audience_organizations=values.pop("audience_organizations", list(source.audience_organizations.all())),
        zone=values.pop("zone", source.zone),
        series=values.pop("series", source.series),
        copied_from=source,
        publish=values.pop("publish", False),
        **values,
    )
    items = {item.pk: item for item in source.agenda.all()}
    copies: dict[int, AgendaItem] = {}
    for item in items.values():
        copies[item.pk] = AgendaItem.objects.create(
            event=event,
            title=item.title,
            description=item.description,
            position=item.position,
            starts_at=item.starts_at + shift if item.starts_at else None,
            ends_at=item.ends_at + shift if item.ends_at else None,
        )
    for speaker in source.speakers.all():
        Speaker.objects.create(
            event=event,
            agenda_item=copies.get(speaker.agenda_item_id) if speaker.agenda_item_id else None,
            name=speaker.name,
            affiliation=speaker.affiliation,
            topic=speaker.topic,
            user=speaker.user,
            department=speaker.department,
            position=speaker.position,
        )
    return event


@transaction.atomic
def update_event(
    *,
    actor: Any,
    event: Event,
    capacity: int | None = None,
    co_organizers: Iterable[Organization] | None = None,
    audience_organizations: Iterable[Organization] | None = None,
    series: Any = ...,
    **changes: Any,
) -> Event:
    """Change an event's fields; a new capacity adds or removes free seats (never below those taken)."""
    require(actor, CHANGE, event)
    locked = Event.objects.select_for_update().get(pk=event.pk)
    if locked.status in (S.CANCELLED,):
        raise DomainError(_("A cancelled event cannot be changed."), code="status")
    unknown = set(changes) - EVENT_FIELDS
    if unknown:
        raise TypeError(f"update_event() got unknown fields: {sorted(unknown)}")
    if "questions" in changes:
        changes["questions"] = _clean_questions(changes["questions"])
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, changes[name])
    if series is not ...:
        if series is not None and series.organization_id != locked.organization_id:
            raise DomainError(_("The series belongs to another organisation."), code="series")
        if locked.series_id != (series.pk if series else None):
            locked.series = series
            changed.append("series")
    if capacity is not None and capacity != locked.capacity:
        resize_seats(event=locked, capacity=capacity)
        locked.capacity = capacity
        changed.append("capacity")
    validate(locked)
    try:
        with transaction.atomic():
            locked.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        raise DomainError(_("The series already has an event with this issue number."), code="issue_number") from exc
    _set_relations(locked, actor, co_organizers, audience_organizations)
    audit.record(
        "events.event.updated",
        actor=actor,
        target=locked,
        organization_id=locked.organization_id,
        data={"fields": sorted(changed)},
    )
    return locked


@transaction.atomic
def transition_event(*, actor: Any, event: Event, to_status: str, note: str = "") -> Event:
    """Publish, conclude or cancel an event (the table says which moves exist)."""
    require(actor, CHANGE, event)
    changes: dict[str, Any] = {}
    if to_status == S.PUBLISHED:
        changes["published_at"] = timezone.now()

    def check(locked: Event) -> None:
        if to_status == S.CLOSED and timezone.now() < locked.starts_at:
            raise DomainError(_("An event can be concluded once it has started."), code="status")
        if to_status == S.PUBLISHED:
            validate(locked)

    moved = EVENT_TRANSITIONS.move(event, to_status, actor=actor, note=note, changes=changes, check=check)
    if to_status == S.CANCELLED:
        enqueue_on_commit("events.tell_event_cancelled", moved.pk)
    if to_status == S.PUBLISHED:
        enqueue_on_commit("events.fill_free_seats", moved.pk)
    return moved


def can_transition_event(event: Event, to_status: str) -> bool:
    return EVENT_TRANSITIONS.allows(event, to_status)


# --- agenda, speakers, files, minutes, series -------------------------------------------------------------------------


@transaction.atomic
def add_agenda_item(
    *,
    actor: Any,
    event: Event,
    title: str,
    starts_at: datetime.datetime | None = None,
    ends_at: datetime.datetime | None = None,
    description: str = "",
    position: int | None = None,
    speakers: Iterable[dict[str, Any]] = (),
) -> AgendaItem:
    """Add an item to the agenda (with its speakers)."""
    require(actor, CHANGE, event)
    title = str(title or "").strip()[:120]
    if not title:
        raise DomainError(_("Give the agenda item a title."), code="title")
    check_moment(starts_at, "starts_at")
    check_moment(ends_at, "ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        raise DomainError(_("The item must end after it starts."), code="ends_at")
    for moment in (starts_at, ends_at):
        if moment and not (event.starts_at - datetime.timedelta(hours=12) <= moment <= event.ends_at):
            raise DomainError(_("The agenda item must take place during the event."), code="starts_at")
    count = event.agenda.count()
    if count >= MAX_AGENDA_ITEMS:
        raise DomainError(
            _("An event has %(max)d agenda items at the most.") % {"max": MAX_AGENDA_ITEMS}, code="agenda"
        )
    if position is None:
        position = count
    item = AgendaItem.objects.create(
        event=event,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        description=str(description or "")[:2000],
        position=position,
    )
    for speaker in speakers:
        add_speaker(actor=None, event=event, agenda_item=item, **speaker)
    audit.record(
        "events.agenda.added",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"item": item.pk, "title": title},
    )
    return item


@transaction.atomic
def remove_agenda_item(*, actor: Any, item: AgendaItem) -> None:
    """Remove an agenda item (its speakers stay on the event)."""
    require(actor, CHANGE, item.event)
    audit.record(
        "events.agenda.removed",
        actor=actor,
        target=item.event,
        organization_id=item.event.organization_id,
        data={"item": item.pk, "title": item.title},
    )
    item.delete()


@transaction.atomic
def add_speaker(
    *,
    actor: Any,
    event: Event,
    name: str,
    affiliation: str = "",
    topic: str = "",
    agenda_item: AgendaItem | None = None,
    user: Any = None,
    department: Department | None = None,
) -> Speaker:
    """Add a speaker; a department liaison with an account sees the event and is told."""
    require(actor, CHANGE, event)
    name = " ".join(str(name or "").split())[:40]
    if not name:
        raise DomainError(_("Give the speaker's name."), code="name")
    if agenda_item is not None and agenda_item.event_id != event.pk:
        raise DomainError(_("The agenda item belongs to another event."), code="agenda_item")
    position = event.speakers.count()
    if position >= MAX_SPEAKERS:
        raise DomainError(_("An event has %(max)d speakers at the most.") % {"max": MAX_SPEAKERS}, code="speakers")
    if user is not None and department is None:
        department_ids = get_scope(user).department_ids
        department = Department.objects.filter(pk__in=sorted(department_ids)[:1]).first() if department_ids else None
    speaker = Speaker.objects.create(
        event=event,
        agenda_item=agenda_item,
        name=name,
        affiliation=str(affiliation or "").strip()[:120],
        topic=str(topic or "").strip()[:120],
        user=user,
        department=department,
        position=position,
    )
    audit.record(
        "events.speaker.added",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"speaker": speaker.pk, "name": name, "user": getattr(user, "pk", None)},
    )
    if user is not None:
        notifications.notify(
            users=[user],
            kind="events.speaker.invited",
            title=gettext_lazy("You speak at %(event)s"),
            body=gettext_lazy("%(time)s, %(venue)s"),
            params={
                "event": event.title,
                "time": timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M"),
                "venue": event.venue or "—",
            },
            url=f"/events/{event.pk}/",
            target=event,
            organization_id=event.organization_id,
            actor=actor,
        )
    return speaker


@transaction.atomic
def remove_speaker(*, actor: Any, speaker: Speaker) -> None:
    require(actor, CHANGE, speaker.event)
    audit.record(
        "events.speaker.removed",
        actor=actor,
        target=speaker.event,
        organization_id=speaker.event.organization_id,
        data={"speaker": speaker.pk, "name": speaker.name},
    )
    speaker.delete()


@transaction.atomic
def add_file(*, actor: Any, event: Event, upload: Any, kind: str, caption: str = "") -> EventFile:
    """Attach a material (PDF, Word, Excel, image) or a photo (image) to an event; the whole file is checked."""
    require(actor, CHANGE, event)
    if kind not in EventFile.Kind.values:
        raise DomainError(_("Choose material or photo."), code="kind")
    allowed = PHOTO_TYPES if kind == EventFile.Kind.PHOTO else MATERIAL_TYPES
    if event.files.count() >= 200:
        raise DomainError(_("An event can have 200 files at the most."), code="file")
    file_type, name = check_upload(upload, allowed=allowed)
    stored = EventFile(
        event=event,
        kind=kind,
        name=name,
        caption=str(caption or "").strip()[:120],
        size=upload.size,
        content_type=file_type.content_type,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    stored.file.save(name, upload, save=False)
    stored.save()
    audit.record(
        "events.file.added",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"file": stored.pk, "name": name, "kind": kind},
    )
    return stored


@transaction.atomic
def remove_file(*, actor: Any, event_file: EventFile) -> None:
    require(actor, CHANGE, event_file.event)
    audit.record(
        "events.file.removed",
        actor=actor,
        target=event_file.event,
        organization_id=event_file.event.organization_id,
        data={"name": event_file.name},
    )
    stored = event_file.file
    event_file.delete()
    transaction.on_commit(lambda: stored.delete(save=False))


@transaction.atomic
def save_closing(*, actor: Any, event: Event, minutes: str, closing_summary: str = "") -> Event:
    """Write an event's minutes (会议纪要) and closing summary; a zone's convenors write their meetings'."""
    require(actor, CHANGE, event)
    if timezone.now() < event.starts_at:
        raise DomainError(_("Minutes are written once the event has started."), code="minutes")
    Event.objects.filter(pk=event.pk).update(
        minutes=str(minutes or "")[:20000], closing_summary=str(closing_summary or "")[:5000], updated_at=timezone.now()
    )
    audit.record(
        "events.event.minutes",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"length": len(minutes or "")},
    )
    event.refresh_from_db()
    return event


@transaction.atomic
def create_series(*, actor: Any, organization: Organization, name: str, description: str = "") -> EventSeries:
    """Start a series of events (讲堂, 沙龙) that numbers its issues."""
    if actor is not None and not can(actor, CHANGE, organization):
        raise NotAllowedError(_("You may start series of your own organisations only."))
    name = " ".join(str(name or "").split())[:80]
    if not name:
        raise DomainError(_("Give the series a name."), code="name")
    series, created = EventSeries.objects.get_or_create(
        organization=organization, name=name, defaults={"description": description[:2000]}
    )
    if created:
        audit.record("events.series.created", actor=actor, target=series, organization_id=organization.pk)
    return series


def fill_seats(*, event: Event) -> int:
    """Promote waiting registrations into free seats (the task and the command call this)."""
    return fill_free_seats(event=event)
