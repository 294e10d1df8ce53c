"""Check-in: a repeat is harmless, refusals say why, ticks on the list after the event, every check-in audited."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from conftest import World, make_user
from qiaoliang.accounts.models import Role
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import AuditLog
from qiaoliang.events import services
from qiaoliang.events.models import Attendance, CheckIn, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(make_event: Any) -> Event:
    now = timezone.now()
    return make_event(
        capacity=2,
        starts_at=now - datetime.timedelta(minutes=10),
        ends_at=now + datetime.timedelta(hours=2),
        registration_opens_at=now - datetime.timedelta(days=2),
        registration_closes_at=now + datetime.timedelta(hours=1),
    )


def register(event: Event, n: int, world: World) -> Any:
    return services.register_person(actor=world.staff, event=event, name=f"人{n}", mobile=f"139{n:08d}").registration


def test_a_second_scan_changes_nothing_and_tells_when(world: World, running: Event) -> None:
    registration = register(running, 1, world)
    first = services.check_in(actor=world.staff, event=running, ticket=registration.ticket)
    again = services.check_in(actor=world.staff, event=running, ticket=f" {registration.ticket_display.lower()} ")
    assert first.created and not again.created
    assert again.checkin.checked_in_at == first.checkin.checked_in_at
    assert CheckIn.objects.count() == 1
    assert Attendance.objects.get(event=running).onsite is True
    actions = list(AuditLog.objects.filter(action__startswith="events.checkin").values_list("action", flat=True))
    assert sorted(actions) == ["events.checkin.created", "events.checkin.repeated"]
    assert AuditLog.objects.get(action="events.checkin.created").organization_id == world.federation.pk


def test_a_scanned_ticket_link_is_read_as_its_code(world: World, running: Event) -> None:
    registration = register(running, 1, world)
    result = services.check_in(
        actor=world.staff, event=running, ticket=f"https://x/events/tickets/{registration.ticket}/"
    )
    assert result.created


@pytest.mark.parametrize("case", ["unknown", "foreign", "cancelled", "waiting"])
def test_refused_tickets_say_why_and_write_nothing(world: World, running: Event, make_event: Any, case: str) -> None:
    if case == "unknown":
        ticket, code = "ABCDEFGHJKMN", "unknown_ticket"
    elif case == "foreign":
        ticket, code = register(make_event(title="别的活动"), 9, world).ticket, "foreign_ticket"
    elif case == "cancelled":
        registration = register(running, 1, world)
        with time_machine.travel(running.starts_at - datetime.timedelta(hours=1)):
            services.cancel_registration(actor=world.staff, registration=registration)
        ticket, code = registration.ticket, "cancelled"
    else:
        for n in range(2):
            register(running, n + 10, world)
        ticket, code = register(running, 3, world).ticket, "waiting"
    with pytest.raises(DomainError) as refused:
        services.check_in(actor=world.staff, event=running, ticket=ticket)
    assert refused.value.code == code
    assert refused.value.message
    assert not CheckIn.objects.exists()


def test_an_expired_ticket_is_refused_but_the_list_still_works(world: World, running: Event) -> None:
    registration = register(running, 1, world)
    with time_machine.travel(running.ends_at + datetime.timedelta(days=1)):
        with pytest.raises(DomainError) as refused:
            services.check_in(actor=world.staff, event=running, ticket=registration.ticket)
        assert refused.value.code == "expired"
        assert services.bulk_check_in(actor=world.staff, event=running, registration_ids=[registration.pk]) == 1
    assert CheckIn.objects.get().method == "list"


def test_check_in_opens_a_day_before(world: World, make_event: Any) -> None:
    event = make_event(
        starts_at=timezone.now() + datetime.timedelta(days=3),
        ends_at=timezone.now() + datetime.timedelta(days=3, hours=2),
    )
    registration = register(event, 1, world)
    with pytest.raises(DomainError) as refused:
        services.check_in(actor=world.staff, event=event, ticket=registration.ticket)
    assert refused.value.code == "too_early"


def test_bulk_check_in_counts_new_ones_and_audits_each(world: World, running: Event) -> None:
    first, second = register(running, 1, world), register(running, 2, world)
    services.check_in(actor=world.staff, event=running, ticket=first.ticket)
    assert services.bulk_check_in(actor=world.staff, event=running, registration_ids=[first.pk, second.pk]) == 1
    assert CheckIn.objects.count() == 2
    assert AuditLog.objects.filter(action="events.checkin.created").count() == 2


def test_bulk_check_in_refuses_other_events_registrations(world: World, running: Event, make_event: Any) -> None:
    other = register(make_event(title="别的活动"), 5, world)
    with pytest.raises(DomainError):
        services.bulk_check_in(actor=world.staff, event=running, registration_ids=[other.pk])


def test_only_the_events_staff_and_co_organisers_check_in(world: World, make_event: Any) -> None:
    now = timezone.now()
    event = make_event(
        organization=world.chamber1,
        co_organizers=[world.chamber2],
        actor=world.secretary,
        starts_at=now - datetime.timedelta(minutes=5),
        ends_at=now + datetime.timedelta(hours=1),
        registration_opens_at=now - datetime.timedelta(days=1),
        registration_closes_at=now + datetime.timedelta(minutes=30),
    )
    registration = register(event, 1, world)
    co_secretary = make_user("co-secretary", Role.CHAMBER_SECRETARY, organization=world.chamber2)
    with pytest.raises(NotAllowedError):
        services.check_in(actor=world.contact, event=event, ticket=registration.ticket)
    assert services.check_in(actor=co_secretary, event=event, ticket=registration.ticket).created
    with pytest.raises(NotAllowedError):
        services.update_event(actor=co_secretary, event=event, title="改名")
