"""Registration under bursts: seats, the waiting list, tickets.

How capacity holds whatever the concurrency
-------------------------------------------
An event has exactly `capacity` seat rows. A registration claims the first free seat with one statement,

    UPDATE events_seat SET is_taken = TRUE
     WHERE id = (SELECT id FROM events_seat WHERE event_id = %s AND NOT is_taken
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id

and the registration row holds the seat through a unique foreign key (a confirmed registration must hold one,
a check constraint says so). Two registrations can therefore never hold the same seat and there are never more
confirmed registrations than seats: the database refuses it, not the code. `SKIP LOCKED` lets concurrent
registrations take different seats and commit in parallel (a single counter row would make every registration
wait for the previous one's commit: about 280 per second at 3.5 ms per fsync). On SQLite, writes are serialised
by `BEGIN IMMEDIATE`, so the plain subquery is already race-free.

Without a free seat the registration joins the waiting list (status `waiting`), in id order. A cancelled
confirmed registration hands its seat to the first waiting one in the same transaction. A seat can become free
without anyone to hand it to in the same transaction (a cancellation while the newest waiting registration was
not yet committed, a claim rolled back by a duplicate, more capacity): `fill_free_seats` then runs after commit
and promotes waiting registrations into free seats, in order.

One person has at most one active registration per event: a partial unique index on (event, mobile) and one on
(event, user) for active registrations. A duplicate that slips past the first look-up hits the index; the
seat claim is rolled back with its savepoint and the existing registration is returned.
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit, channels, notifications
from qiaoliang.core.background import enqueue_on_commit, get_task
from qiaoliang.core.codes import normalize_mobile
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import AuditLog
from qiaoliang.core.permissions import CHANGE, VIEW, can, require
from qiaoliang.core.sql import fetch_one_prepared
from qiaoliang.core.transitions import Transitions
from qiaoliang.events.models import Audience, Event, Registration, RegistrationStatusChange, Seat
from qiaoliang.orgs.models import Enterprise, Person
from qiaoliang.orgs.selectors import get_scope

R = Registration.Status
REGISTRATION_TRANSITIONS = Transitions(
    model=Registration,
    table={R.CONFIRMED: {R.CANCELLED}, R.WAITING: {R.CONFIRMED, R.CANCELLED}, R.CANCELLED: set()},
    audit_prefix="events.registration",
    history_model=RegistrationStatusChange,
    history_fk="registration",
    organization=lambda registration: (
        Event.objects.filter(pk=registration.event_id).values_list("organization_id", flat=True).first()
    ),
    system_moves=frozenset({(R.WAITING, R.CONFIRMED)}),
)
# The fields registering reads from an event (a registration burst fetches the event with these only).
REGISTRATION_FIELDS = (
    "id",
    "organization_id",
    "zone_id",
    "status",
    "audience",
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "has_waiting_list",
    "verify_mobile",
    "questions",
    "title",
)
TICKET_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: typed from a phone screen
assert 256 % len(TICKET_ALPHABET) == 0
TICKET_LENGTH = 12  # 60 bits
TICKET_SWEEP_SECONDS = 30  # a queued ticket sweep is trusted this long before another is queued
MAX_CAPACITY = 100_000
SEAT_BATCH = 2000


@dataclass(frozen=True)
class RegistrationResult:
    """A registration and whether this call made it (False: the same person's existing one was found)."""

    registration: Registration
    created: bool


def new_ticket() -> str:
    """Return a random ticket code (12 characters that cannot be mistaken for one another)."""
    # One read of the system's random source; 256 is a multiple of the alphabet's 32 letters, so each is as likely.
    return "".join(TICKET_ALPHABET[byte % len(TICKET_ALPHABET)] for byte in secrets.token_bytes(TICKET_LENGTH))


def normalize_ticket(value: Any) -> str:
    """Return a typed or scanned ticket code as stored: upper case, without spaces and dashes."""
    text = str(value or "").strip().upper()
    if "/" in text:  # a scanned ticket link: the code is its last part
        text = text.rstrip("/").rsplit("/", 1)[-1]
    return "".join(ch for ch in text if ch.isalnum())[:32]


def ticket_url(registration: Registration) -> str:
    return reverse("events:ticket", args=[registration.ticket])


def _when(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")


# --- seats ----------------------------------------------------------------------------------------------------


def _claim_seat(event_id: int) -> int | None:
    """Take the first free seat of an event; return its id, or None when every seat is taken or being taken."""
    table = connection.ops.quote_name(Seat._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (
            f"UPDATE {table} SET is_taken = TRUE WHERE id = (SELECT id FROM {table} WHERE event_id = %s "
            "AND NOT is_taken ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
        )
    else:
        sql = (
            f"UPDATE {table} SET is_taken = 1 WHERE id = (SELECT id FROM {table} WHERE event_id = %s "
            "AND is_taken = 0 ORDER BY id LIMIT 1) RETURNING id"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [event_id])
        row = cursor.fetchone()
    return int(row[0]) if row else None


_INSERT_COLUMNS = ("event_id", "ticket", "user_id", "person_id", "enterprise_id", "name", "mobile", "company",
                   "position", "answers", "source", "is_mobile_verified", "submission_key", "registered_by_id",
                   "created_at")  # fmt: skip
_ANSWERS_INDEX = _INSERT_COLUMNS.index("answers")


@functools.cache
def _claim_and_insert_sql(audit_columns: tuple[str, ...]) -> str:
    """The statement of `_claim_and_insert` (built once per process: quoting names costs more than running it)."""
    quote = connection.ops.quote_name
    seat_table, table = quote(Seat._meta.db_table), quote(Registration._meta.db_table)
    columns = ", ".join(quote(name) for name in _INSERT_COLUMNS)

    def typed(model: Any, name: str) -> str:  # a prepared statement's parameters need their types (a NULL has none)
        return f"CAST(%s AS {model._meta.get_field(name).cast_db_type(connection)})"

    placeholders = ", ".join(typed(Registration, name) for name in _INSERT_COLUMNS)
    audit_placeholders = ", ".join(
        f"{typed(AuditLog, name)} || jsonb_build_object('status', made.status)" if name == "data"
        else typed(AuditLog, name) for name in audit_columns
    )  # fmt: skip
    audit_column_names = ", ".join(quote(name) for name in audit_columns)
    return (
        f"WITH free AS (SELECT id FROM {seat_table} WHERE event_id = %s AND NOT is_taken ORDER BY id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED), "
        f"made AS (INSERT INTO {table} ({columns}, status, seat_id, confirmed_at) "
        f"SELECT {placeholders}, CASE WHEN free.id IS NULL THEN 'waiting' ELSE 'confirmed' END, free.id, "
        "CASE WHEN free.id IS NULL THEN NULL ELSE %s::timestamptz END FROM (SELECT 1) AS one LEFT JOIN free ON TRUE "
        "ON CONFLICT DO NOTHING RETURNING id, seat_id, status), "
        f"taken AS (UPDATE {seat_table} SET is_taken = TRUE WHERE id = (SELECT seat_id FROM made)), "
        f"audited AS (INSERT INTO {quote(AuditLog._meta.db_table)} (created_at, target_id, {audit_column_names}) "
        f"SELECT %s, made.id::text, {audit_placeholders} FROM made) "
        "SELECT id, seat_id FROM made"
    )  # table and column names from the models, values as parameters


def _claim_and_insert(registration: Registration, audit_values: dict[str, Any]) -> tuple[bool, int | None]:
    """Claim a seat, insert the registration and its audit entry in one statement (PostgreSQL).

    Return (inserted, seat id). One statement is one transaction: no BEGIN, no COMMIT, no savepoint, one round trip
    (in a registration burst the round trips are a large share of each request's time). The first free seat is
    locked (`FOR UPDATE SKIP LOCKED`: concurrent registrations take different seats), the registration is inserted
    holding it, and the seat is marked taken only if the insert happened: when the person already has an active
    registration (a unique index), nothing is written and the seat stays free. The audit entry's data gets the
    status the statement decided.
    """
    now = timezone.now()
    values: list[Any] = [getattr(registration, name) for name in _INSERT_COLUMNS[:-1]] + [now]
    values[_ANSWERS_INDEX] = json.dumps(registration.answers, ensure_ascii=False)
    audit_values = {**audit_values, "data": json.dumps(audit_values["data"], ensure_ascii=False)}
    row = fetch_one_prepared(
        _claim_and_insert_sql(tuple(audit_values)), [registration.event_id, *values, now, now, *audit_values.values()]
    )
    if row is None:  # the person is registered already (or a resent form): nothing was written
        return False, None
    pk, seat_id = row
    registration.pk, registration.seat_id, registration.created_at = pk, seat_id, now
    registration.status = R.CONFIRMED if seat_id else R.WAITING
    registration.confirmed_at = now if seat_id else None
    registration._state.adding = False
    return True, int(seat_id) if seat_id else None


def create_seats(event: Event, count: int) -> None:
    """Add seat rows to an event (inside the caller's transaction)."""
    for start in range(0, count, SEAT_BATCH):
        Seat.objects.bulk_create([Seat(event=event) for _ in range(min(SEAT_BATCH, count - start))])


def resize_seats(*, event: Event, capacity: int) -> None:
    """Make the event's seats match a new capacity; refuse to go below the seats that are taken."""
    if not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(_("Give a number of seats from 1 to %(max)d.") % {"max": MAX_CAPACITY}, code="capacity")
    current = Seat.objects.filter(event=event).count()
    if capacity > current:
        create_seats(event, capacity - current)
        enqueue_on_commit("events.fill_free_seats", event.pk)
    elif capacity < current:
        surplus = current - capacity
        free = list(
            Seat.objects.filter(event=event, is_taken=False)
            .order_by("-id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:surplus]
        )
        if len(free) < surplus:
            taken = current - len(free)
            raise DomainError(
                _("%(taken)d seats are taken; the event cannot have fewer seats than that.") % {"taken": taken},
                code="capacity",
            )
        Seat.objects.filter(pk__in=free).delete()


def fill_free_seats(*, event: Event) -> int:
    """Promote waiting registrations into free seats, first come first served; return how many were promoted.

    Idempotent and safe to run at any time (after commit, from a task, from a command): each promotion is its
    own transaction that claims a seat and locks the first waiting registration.
    """
    promoted = 0
    if not Seat.objects.filter(event=event, is_taken=False).order_by("id").values_list("id", flat=True)[:1]:
        return 0  # ordered so that the free-seat partial index answers (exists() drops the order)
    while True:
        with transaction.atomic():
            if not Registration.objects.filter(event=event, status=R.WAITING).exists():
                return promoted
            seat_id = _claim_seat(event.pk)
            if seat_id is None:
                return promoted
            first = (
                Registration.objects.filter(event=event, status=R.WAITING)
                .order_by("id")
                .select_for_update(skip_locked=True)
                .first()
            )
            if first is None:
                transaction.set_rollback(True)  # nobody to give the seat to: it stays free
                return promoted
            _promote(first, seat_id)
            promoted += 1


def _promote(registration: Registration, seat_id: int) -> Registration:
    promoted = REGISTRATION_TRANSITIONS.move(
        registration,
        R.CONFIRMED,
        actor=None,
        system=True,
        changes={"seat_id": seat_id, "confirmed_at": timezone.now()},
        note="waiting list",
    )
    enqueue_on_commit("events.tell_promoted", promoted.pk)
    return promoted


# --- checks ------------------------------------------------------------------------------------------------------


def check_open(event: Event, *, bypass_window: bool = False, system: bool = False) -> None:
    """Raise unless the event takes registrations now (published, within its registration window).

    The event's staff may register people outside the window until the event ends; the system (a command typing
    in a past event's paper list) may register people for a published or concluded event at any time.
    """
    if event.status == Event.Status.CANCELLED:
        raise DomainError(_("The event was cancelled."), code="cancelled")
    if system and event.status in (Event.Status.PUBLISHED, Event.Status.CLOSED):
        return
    if event.status != Event.Status.PUBLISHED:
        raise DomainError(_("The event does not take registrations."), code="not_open")
    if bypass_window:
        if timezone.now() >= event.ends_at:
            raise DomainError(_("The event is over."), code="closed")
        return
    now = timezone.now()
    if now < event.registration_opens_at:
        raise DomainError(
            _("Registration opens on %(time)s.") % {"time": _when(event.registration_opens_at)}, code="not_yet_open"
        )
    if now >= event.registration_closes_at:
        raise DomainError(
            _("Registration closed on %(time)s.") % {"time": _when(event.registration_closes_at)}, code="closed"
        )


def clean_answers(event: Event, answers: dict[str, Any] | None, *, require_all: bool = True) -> dict[str, str]:
    """Return the answers to the event's questions, checked (required answers, allowed choices, length)."""
    answers = answers or {}
    cleaned: dict[str, str] = {}
    for question in event.questions or []:
        key = str(question.get("key", ""))
        value = str(answers.get(key, "") or "").strip()[:500]
        if not value:
            if question.get("required") and require_all:
                raise DomainError(
                    _("Answer the question “%(question)s”.") % {"question": question.get("label", key)}, code="answers"
                )
            continue
        choices = question.get("choices") or []
        if choices and value not in choices:
            raise DomainError(
                _("“%(answer)s” is not one of the answers to “%(question)s”.")
                % {"answer": value[:40], "question": question.get("label", key)},
                code="answers",
            )
        cleaned[key] = value
    return cleaned


def clean_mobile(value: Any, *, required: bool = True) -> str:
    """Return an 11-digit mainland mobile number, or raise DomainError."""
    if not str(value or "").strip():
        if required:
            raise DomainError(_("Give a mobile number."), code="mobile")
        return ""
    try:
        return normalize_mobile(value)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="mobile") from exc


def _clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())[:40]
    if not name:
        raise DomainError(_("Give the name of the person who attends."), code="name")
    return name


# --- registering ---------------------------------------------------------------------------------------------------


def _existing(event: Event, *, mobile: str, user: Any, submission_key: str = "") -> Registration | None:
    condition = Q(pk__in=[])
    if mobile:
        condition |= Q(mobile=mobile)
    if user is not None:
        condition |= Q(user=user)
    found = Registration.objects.filter(condition, event=event, status__in=Registration.ACTIVE).first()
    if found is None and submission_key:
        found = Registration.objects.filter(event=event, submission_key=submission_key).first()
    return found


def _found(event: Event, *, mobile: str, user: Any, submission_key: str) -> RegistrationResult:
    """Return the person's registration that a unique index found (a duplicate, even a concurrent one)."""
    found = _existing(event, mobile=mobile, user=user, submission_key=submission_key)
    if found is None:  # not the person's registration: another unique column (a ticket code) collided
        raise DomainError(_("The registration could not be saved; try again."), code="retry")
    # A seat this attempt claimed (and held while it waited on the unique index) is free again: others may have
    # skipped it and joined the waiting list meanwhile.
    transaction.on_commit(partial(_fill_if_free, event.pk))
    return RegistrationResult(found, created=False)


def _fill_if_free(event_id: int) -> None:
    """After commit: if a seat is free while this registration waits, hand out free seats.

    Runs for every waiting registration of a burst, so it is one index probe in plain SQL.
    """
    table = connection.ops.quote_name(Seat._meta.db_table)
    free = "NOT is_taken" if connection.vendor == "postgresql" else "is_taken = 0"
    # ORDER BY id makes the plan the free-seat partial index whatever the statistics say: without it the generic
    # plan of the prepared statement scans the whole seat table once the event is full.
    sql = f"SELECT 1 FROM {table} WHERE event_id = %s AND {free} ORDER BY id LIMIT 1"
    if fetch_one_prepared(sql, [event_id]) is not None:
        enqueue_on_commit("events.fill_free_seats", event_id)


def _register(
    *,
    event: Event,
    actor: Any,
    name: str,
    mobile: str,
    company: str,
    position: str,
    answers: dict[str, str],
    source: str,
    user: Any = None,
    person: Person | None = None,
    enterprise: Enterprise | None = None,
    is_mobile_verified: bool = False,
    submission_key: str = "",
) -> RegistrationResult:
    """Take a seat or a place on the waiting list (the caller checked who may and whether the event is open).

    The person's existing registration, and the one a resent form made (`submission_key`, unique per event), are
    found by the unique indexes, not by a look-up first: the common case (a new person) costs no extra query, and a
    duplicate, even a concurrent one, can never slip through.
    """
    seat_id: int | None = None
    registration = Registration(
        event=event, ticket=new_ticket(), user=user, person=person, enterprise=enterprise, name=name, mobile=mobile,
        company=company[:120], position=position[:60], answers=answers, source=source,
        is_mobile_verified=is_mobile_verified, submission_key=submission_key[:40],
        registered_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    audit_data = {"event": event.pk, "source": source}
    if connection.vendor == "postgresql" and event.has_waiting_list:
        # One statement writes the registration, its seat and its audit entry: atomic without a transaction block.
        audit_values = audit.entry_values(
            "events.registration.created",
            actor=actor,
            target_type=Registration._meta.label_lower,
            target_repr=str(registration),
            organization_id=event.organization_id,
            data=audit_data,
        )
        inserted, seat_id = _claim_and_insert(registration, audit_values)
        if not inserted:
            return _found(event, mobile=mobile, user=user, submission_key=submission_key)
    else:
        try:
            with transaction.atomic():
                seat_id = _claim_seat(event.pk)
                if seat_id is None and not event.has_waiting_list:
                    raise DomainError(_("The event is full."), code="full")
                registration.status = R.CONFIRMED if seat_id else R.WAITING
                registration.seat_id = seat_id
                registration.confirmed_at = timezone.now() if seat_id else None
                registration.save(force_insert=True)
                audit.record(
                    "events.registration.created",
                    actor=actor,
                    target=registration,
                    organization_id=event.organization_id,
                    data={**audit_data, "status": registration.status},
                )
        except IntegrityError:
            return _found(event, mobile=mobile, user=user, submission_key=submission_key)
        except DomainError:
            existing = _existing(event, mobile=mobile, user=user)
            if existing is not None:  # a full event still finds the person's own registration
                return RegistrationResult(existing, created=False)
            raise
    transaction.on_commit(partial(schedule_ticket_sweep, event.pk))
    if seat_id is None:
        # A seat may have been freed while this registration was not yet visible to the one who freed it.
        transaction.on_commit(lambda: _fill_if_free(event.pk))
    return RegistrationResult(registration, created=True)


def register_self(*, actor: Any, event: Event, answers: dict[str, Any] | None = None) -> RegistrationResult:
    """Register the signed-in member for an event their audience includes, with their account's details."""
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowedError(_("Log in to register with your account."))
    require(actor, VIEW, event)
    check_open(event)
    person: Person | None = getattr(actor, "person", None)
    enterprise = person.enterprise if person is not None else None
    if enterprise is None:
        own = sorted(get_scope(actor).own_enterprise_ids)
        enterprise = Enterprise.objects.filter(pk__in=own[:1]).first() if own else None
    mobile = actor.mobile or (person.mobile if person is not None else "") or ""
    return _register(
        event=event,
        actor=actor,
        name=_clean_name(person.name if person else (actor.display_name or actor.username)),
        mobile=mobile,
        company=enterprise.name if enterprise else "",
        position=person.job_title if person else "",
        answers=clean_answers(event, answers),
        source=Registration.Source.MEMBER,
        user=actor,
        person=person,
        enterprise=enterprise,
        is_mobile_verified=bool(mobile),
    )


def register_public(
    *,
    event: Event,
    name: str,
    mobile: str,
    company: str = "",
    position: str = "",
    answers: dict[str, Any] | None = None,
    mobile_verified: bool = False,
    submission_key: str = "",
) -> RegistrationResult:
    """Register someone without an account from a public event's page (the view checked the mobile's code)."""
    if event.audience != Audience.PUBLIC:
        raise NotAllowedError(_("Only members may register for this event; log in first."))
    check_open(event)
    mobile = clean_mobile(mobile)
    if event.verify_mobile and not mobile_verified:
        raise DomainError(_("Confirm the mobile number with the code sent to it."), code="code")
    result = _register(
        event=event,
        actor=None,
        name=_clean_name(name),
        mobile=mobile,
        company=str(company or "").strip(),
        position=str(position or "").strip(),
        answers=clean_answers(event, answers),
        source=Registration.Source.PUBLIC,
        is_mobile_verified=mobile_verified,
        submission_key=submission_key,
    )
    return result


def register_person(
    *,
    actor: Any,
    event: Event,
    name: str,
    mobile: str,
    company: str = "",
    position: str = "",
    answers: dict[str, Any] | None = None,
    enterprise: Enterprise | None = None,
    source: str = "",
) -> RegistrationResult:
    """Register someone else: the event's staff anyone, an enterprise contact the people of their enterprise."""
    mobile = clean_mobile(mobile)
    manages = actor is None or can(actor, CHANGE, event)
    if manages:
        check_open(event, bypass_window=True, system=actor is None)
        if enterprise is not None and actor is not None and not can(actor, VIEW, enterprise):
            raise NotAllowedError(_("You may not register people of this enterprise."))
        # The person and their enterprise are looked up from the mobile after commit (send_ticket), off the path
        # of a registration burst.
        return _register(
            event=event,
            actor=actor,
            name=_clean_name(name),
            mobile=mobile,
            company=str(company or "").strip(),
            position=str(position or "").strip(),
            answers=clean_answers(event, answers, require_all=False),
            source=source or Registration.Source.STAFF,
            enterprise=enterprise,
        )
    require(actor, VIEW, event)
    own = get_scope(actor).own_enterprise_ids
    if not own:
        raise NotAllowedError(_("Only the event's staff and enterprise contacts may register other people."))
    if enterprise is None:
        if len(own) > 1:
            raise DomainError(_("Say which of your enterprises the person works for."), code="enterprise")
        enterprise = Enterprise.objects.get(pk=next(iter(own)))
    elif enterprise.pk not in own:
        raise NotAllowedError(_("You may register the people of your own enterprise only."))
    check_open(event)
    person = Person.objects.filter(mobile=mobile).first()
    if person is not None and person.enterprise_id not in (None, enterprise.pk):
        raise DomainError(_("This mobile number belongs to a person of another enterprise."), code="mobile")
    return _register(
        event=event,
        actor=actor,
        name=_clean_name(name),
        mobile=mobile,
        company=enterprise.name,
        position=str(position or "").strip(),
        answers=clean_answers(event, answers),
        source=source or Registration.Source.CONTACT,
        person=person,
        enterprise=enterprise,
        is_mobile_verified=False,
    )


# --- cancelling ----------------------------------------------------------------------------------------------------


@transaction.atomic
def cancel_registration(
    *, actor: Any, registration: Registration, by_ticket: bool = False, reason: str = ""
) -> Registration:
    """Cancel a registration; its seat goes to the first on the waiting list in the same transaction.

    `by_ticket`: the person cancels from the ticket page (holding the ticket code is the right to cancel).
    Cancelling a cancelled registration changes nothing.
    """
    if not by_ticket:
        require(actor, CHANGE, registration, _("You may not cancel this registration."))
    locked = Registration.objects.select_for_update().select_related("event").get(pk=registration.pk)
    if locked.status == R.CANCELLED:
        return locked
    event = locked.event
    if timezone.now() >= event.starts_at and event.status != Event.Status.CANCELLED:
        raise DomainError(_("The event has started; a registration can no longer be cancelled."), code="started")
    if hasattr(locked, "checkin"):
        raise DomainError(
            _("The person has checked in; the registration can no longer be cancelled."), code="checked_in"
        )
    seat_id = locked.seat_id
    cancelled = REGISTRATION_TRANSITIONS.move(
        locked,
        R.CANCELLED,
        actor=actor,
        note=reason,
        changes={"seat_id": None, "cancelled_at": timezone.now()},
        data={"by_ticket": by_ticket},
    )
    if seat_id is not None:
        first = (
            Registration.objects.filter(event=event, status=R.WAITING)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .first()
        )
        if first is not None and event.status == Event.Status.PUBLISHED:
            _promote(first, seat_id)
        else:
            Seat.objects.filter(pk=seat_id).update(is_taken=False)
            enqueue_on_commit("events.fill_free_seats", event.pk)
    return cancelled


# --- telling people ------------------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{str(settings.SITE_URL).rstrip('/')}{path}"


def _tell(registration: Registration, kind: str, title: Any, body: Any, **extra: Any) -> None:
    event = registration.event
    params = {"event": event.title, "time": _when(event.starts_at), "ticket": registration.ticket_display, **extra}
    if registration.user is not None:
        notifications.notify(
            users=[registration.user],
            kind=kind,
            title=title,
            body=body,
            params=params,
            url=ticket_url(registration),
            target=registration,
            organization_id=event.organization_id,
            notify_actor=True,
        )
    elif registration.mobile:
        with translation.override(settings.LANGUAGE_CODE):
            text = f"{str(title) % params} {str(body) % params} {_absolute(ticket_url(registration))}"
        with contextlib.suppress(channels.ChannelError):  # the in-app ticket page stays the reference
            channels.send_sms(registration.mobile, text[:300])


def _sweep_key(event_id: int) -> str:
    return f"events:v1:ticket-sweep:{event_id}"


def schedule_ticket_sweep(event_id: int) -> None:
    """After a registration commits, make sure a sweep that sends the event's unsent tickets is queued.

    One queued sweep serves a whole burst: the first registration queues it (a cache key marks it queued), the
    others find the key and queue nothing. The sweep deletes the key before it looks for unsent tickets, so a
    registration committed after that look queues the next sweep; one committed before it is found by it.
    """
    if cache.add(_sweep_key(event_id), 1, timeout=TICKET_SWEEP_SECONDS):
        get_task("events.send_tickets").enqueue(event_id)


def send_pending_tickets(*, event_id: int, limit: int = 2000) -> int:
    """Send the event's unsent tickets (idempotent: each ticket is claimed once); return how many were sent."""
    cache.delete(_sweep_key(event_id))
    pending = list(
        Registration.objects.filter(event_id=event_id, ticket_sent_at__isnull=True)
        .exclude(status=R.CANCELLED)
        .order_by("id")
        .values_list("pk", flat=True)[: limit + 1]
    )
    sent = sum(send_ticket(registration_id=pk) for pk in pending[:limit])
    if len(pending) > limit:  # a large burst: the rest in the next sweep
        schedule_ticket_sweep(event_id)
    return sent


def link_person(registration: Registration) -> None:
    """Link a registration made for someone else to the member person with its mobile (and their enterprise)."""
    if registration.person_id or not registration.mobile:
        return
    person = Person.objects.filter(mobile=registration.mobile).only("pk", "enterprise_id").first()
    if person is None:
        return
    changes: dict[str, Any] = {"person_id": person.pk}
    if registration.enterprise_id is None and person.enterprise_id:
        changes["enterprise_id"] = person.enterprise_id
    Registration.objects.filter(pk=registration.pk, person=None).update(**changes)


def send_ticket(*, registration_id: int) -> bool:
    """Send a registration's ticket link (in-app and by the person's channels, or by SMS); once."""
    now = timezone.now()
    if not Registration.objects.filter(pk=registration_id, ticket_sent_at__isnull=True).update(ticket_sent_at=now):
        return False
    registration = Registration.objects.select_related("event", "user").get(pk=registration_id)
    link_person(registration)
    if registration.status == R.CONFIRMED:
        _tell(
            registration,
            "events.registration.confirmed",
            gettext_lazy("Registered: %(event)s on %(time)s"),
            gettext_lazy("Your ticket %(ticket)s: show its QR code at the entrance."),
        )
    elif registration.status == R.WAITING:
        _tell(
            registration,
            "events.registration.waiting",
            gettext_lazy("On the waiting list: %(event)s"),
            gettext_lazy("You will be told when a seat frees up. Ticket %(ticket)s."),
        )
    return True


def tell_promoted(*, registration_id: int) -> None:
    """Tell a person that a seat freed up and their registration is confirmed."""
    registration = Registration.objects.select_related("event", "user").filter(pk=registration_id).first()
    if registration is None or registration.status != R.CONFIRMED:
        return
    _tell(
        registration,
        "events.registration.promoted",
        gettext_lazy("A seat freed up: you are registered for %(event)s"),
        gettext_lazy("Your ticket %(ticket)s is now valid for %(time)s."),
    )


def tell_event_cancelled(*, event_id: int) -> int:
    """Tell everyone registered that the event was cancelled; return how many were told."""
    event = Event.objects.get(pk=event_id)
    step = event.history.filter(to_status=Event.Status.CANCELLED).order_by("-id").first()
    reason = step.note if step is not None else ""
    body = (
        gettext_lazy("The event on %(time)s will not take place. Reason: %(reason)s")
        if reason
        else gettext_lazy("The event on %(time)s will not take place.")
    )
    registrations = Registration.objects.filter(event=event).exclude(cancelled_at__isnull=False).select_related("user")
    told = 0
    for registration in registrations.iterator(chunk_size=500):
        registration.event = event
        _tell(registration, "events.event.cancelled", gettext_lazy("Cancelled: %(event)s"), body, reason=reason)
        told += 1
    return told


def counts(event: Event) -> dict[str, int]:
    """Return the event's seats, confirmed and waiting registrations (two indexed counts)."""
    by_status = dict(
        Registration.objects.filter(event=event, status__in=Registration.ACTIVE)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "capacity": event.capacity,
        "confirmed": by_status.get(R.CONFIRMED, 0),
        "waiting": by_status.get(R.WAITING, 0),
    }
