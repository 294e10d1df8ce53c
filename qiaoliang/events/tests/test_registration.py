"""Registration: seats, the waiting list and its promotion, one active registration per person, tickets."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from conftest import World
from qiaoliang.core import channels
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import AuditLog, Notification
from qiaoliang.events import services
from qiaoliang.events.models import Registration, RegistrationStatusChange, Seat

pytestmark = pytest.mark.django_db


def register(event: Any, n: int, actor: Any) -> Any:
    return services.register_person(actor=actor, event=event, name=f"参会人{n}", mobile=f"139{n:08d}")


def test_registrations_beyond_the_seats_join_the_waiting_list_in_order(world: World, make_event: Any) -> None:
    event = make_event(capacity=2)
    results = [register(event, n, world.staff) for n in range(4)]
    assert [r.registration.status for r in results] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert services.counts(event) == {"capacity": 2, "confirmed": 2, "waiting": 2}
    assert Seat.objects.filter(event=event, is_taken=True).count() == 2
    assert all(r.created for r in results)


def test_cancelling_a_confirmed_registration_promotes_the_first_waiting_one(world: World, make_event: Any) -> None:
    event = make_event(capacity=1)
    first, second, third = (register(event, n, world.staff).registration for n in range(3))
    cancelled = services.cancel_registration(actor=world.staff, registration=first)
    assert cancelled.status == "cancelled" and cancelled.seat_id is None
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, third.status) == ("confirmed", "waiting")
    assert second.seat_id is not None
    assert list(
        RegistrationStatusChange.objects.filter(registration=second).values_list("from_status", "to_status")
    ) == [("waiting", "confirmed")]
    assert services.counts(event) == {"capacity": 1, "confirmed": 1, "waiting": 1}


def test_the_same_mobile_again_returns_the_existing_registration(world: World, event: Any) -> None:
    first = register(event, 7, world.staff)
    again = services.register_person(actor=world.staff, event=event, name="别的名字", mobile="13900000007")
    assert again.created is False and again.registration.pk == first.registration.pk
    assert Registration.objects.filter(event=event).count() == 1


def test_a_cancelled_person_may_register_again(world: World, event: Any) -> None:
    first = register(event, 1, world.staff).registration
    services.cancel_registration(actor=world.staff, registration=first)
    again = register(event, 1, world.staff)
    assert again.created and again.registration.pk != first.pk


def test_registration_outside_the_window_is_refused(world: World, make_event: Any, soon: datetime.datetime) -> None:
    event = make_event(
        registration_opens_at=soon - datetime.timedelta(hours=3),
        registration_closes_at=soon - datetime.timedelta(hours=1),
    )
    with pytest.raises(DomainError) as refused:
        services.register_public(event=event, name="张三", mobile="13912345678", mobile_verified=True)
    assert refused.value.code == "not_yet_open"
    assert not Registration.objects.exists()


def test_a_full_event_without_waiting_list_refuses(world: World, make_event: Any) -> None:
    event = make_event(capacity=1, has_waiting_list=False)
    register(event, 1, world.staff)
    with pytest.raises(DomainError) as refused:
        register(event, 2, world.staff)
    assert refused.value.code == "full"
    assert Registration.objects.filter(event=event).count() == 1
    assert Seat.objects.filter(event=event, is_taken=True).count() == 1


def test_public_registration_needs_a_verified_mobile(event: Any) -> None:
    with pytest.raises(DomainError) as refused:
        services.register_public(event=event, name="张三", mobile="13912345678")
    assert refused.value.code == "code"


def test_members_only_event_refuses_the_public_form(make_event: Any) -> None:
    event = make_event(audience="members")
    with pytest.raises(NotAllowedError):
        services.register_public(event=event, name="张三", mobile="13912345678", mobile_verified=True)


def test_a_contact_registers_the_people_of_their_own_enterprise_only(world: World, make_event: Any) -> None:
    event = make_event(audience="members")
    result = services.register_person(actor=world.contact, event=event, name="李四", mobile="13911112222")
    assert result.registration.enterprise == world.e1
    assert result.registration.company == world.e1.name
    with pytest.raises(NotAllowedError):
        services.register_person(
            actor=world.contact, event=event, name="王五", mobile="13911113333", enterprise=world.e2
        )
    with pytest.raises(DomainError) as refused:  # 王小明 works for e2
        services.register_person(actor=world.contact, event=event, name="王小明", mobile="13987654321")
    assert refused.value.code == "mobile"


def test_a_member_registers_with_their_account_once(world: World, make_event: Any) -> None:
    event = make_event(audience="members")
    first = services.register_self(actor=world.contact, event=event)
    again = services.register_self(actor=world.contact, event=event)
    assert first.created and not again.created
    assert first.registration.user == world.contact


def test_the_ticket_is_sent_after_commit_by_text_message(
    world: World, event: Any, _sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        registration = register(event, 3, world.staff).registration
    assert [m.to for m in _sms_outbox] == ["13900000003"]
    assert registration.ticket_display in _sms_outbox[0].text
    registration.refresh_from_db()
    assert registration.ticket_sent_at is not None


def test_registration_writes_an_audit_entry_with_the_organisation(world: World, event: Any) -> None:
    registration = register(event, 4, world.staff).registration
    entry = AuditLog.objects.get(action="events.registration.created", target_id=str(registration.pk))
    assert entry.organization_id == world.federation.pk
    assert "1390****0004" in str(entry.target_repr) or "13900000004" not in str(entry.data)


def test_capacity_cannot_go_below_the_seats_taken_and_more_capacity_promotes(
    world: World, make_event: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = make_event(capacity=2)
    regs = [register(event, n, world.staff).registration for n in range(4)]
    with pytest.raises(DomainError) as refused:
        services.update_event(actor=world.staff, event=event, capacity=1)
    assert refused.value.code == "capacity"
    with django_capture_on_commit_callbacks(execute=True):
        services.update_event(actor=world.staff, event=event, capacity=3)
    assert [Registration.objects.get(pk=r.pk).status for r in regs] == [
        "confirmed",
        "confirmed",
        "confirmed",
        "waiting",
    ]
    assert Seat.objects.filter(event=event).count() == 3


def test_cancelling_twice_changes_nothing(world: World, event: Any) -> None:
    registration = register(event, 1, world.staff).registration
    services.cancel_registration(actor=world.staff, registration=registration)
    again = services.cancel_registration(actor=world.staff, registration=registration)
    assert again.status == "cancelled"
    assert RegistrationStatusChange.objects.filter(registration=registration).count() == 1


def test_a_started_event_refuses_cancellation(world: World, make_event: Any) -> None:
    now = timezone.now()
    event = make_event(
        starts_at=now - datetime.timedelta(minutes=5),
        ends_at=now + datetime.timedelta(hours=1),
        registration_opens_at=now - datetime.timedelta(days=1),
        registration_closes_at=now + datetime.timedelta(minutes=30),
    )
    registration = register(event, 1, world.staff).registration
    with pytest.raises(DomainError) as refused:
        services.cancel_registration(actor=world.staff, registration=registration)
    assert refused.value.code == "started"


def test_a_cancelled_events_registrants_are_told_why(world: World, make_event: Any, settings: Any) -> None:
    settings.SMS_BACKEND = "locmem"
    channels.outbox.clear()
    event = make_event(capacity=5)
    services.register_self(actor=world.contact, event=event)
    services.register_person(actor=world.staff, event=event, name="甲", mobile="13900000001")
    services.transition_event(actor=world.staff, event=event, to_status="cancelled", note="场地检修，另行通知")
    services.tell_event_cancelled(event_id=event.pk)  # the task, run here whatever the queue
    told = Notification.objects.filter(user=world.contact, kind="events.event.cancelled").last()
    assert told is not None and "场地检修" in told.body
    assert any("场地检修" in message.text for message in channels.outbox if message.to == "13900000001")
    channels.outbox.clear()


def test_the_audit_entry_says_who_registered_whom_and_the_status_the_write_decided(
    world: World, make_event: Any
) -> None:
    event = make_event(capacity=1)
    seated, waiting = (register(event, n, world.staff).registration for n in (5, 6))
    public = services.register_public(event=event, name="访客", mobile="13900000008", mobile_verified=True).registration
    entries = {
        e.target_id: e
        for e in AuditLog.objects.filter(action="events.registration.created", target_type="events.registration")
    }
    assert set(entries) == {str(seated.pk), str(waiting.pk), str(public.pk)}
    assert entries[str(seated.pk)].data == {"event": event.pk, "status": "confirmed", "source": "staff"}
    assert entries[str(waiting.pk)].data == {"event": event.pk, "status": "waiting", "source": "staff"}
    assert entries[str(public.pk)].data == {"event": event.pk, "status": "waiting", "source": "public"}
    assert entries[str(seated.pk)].actor_id == world.staff.pk and entries[str(public.pk)].actor_id is None
    assert entries[str(seated.pk)].organization_id == world.federation.pk
    assert entries[str(public.pk)].target_repr == f"访客 · {event.pk}"


def test_a_registration_refused_as_a_duplicate_writes_nothing_and_leaves_the_seat_free(
    world: World, make_event: Any
) -> None:
    event = make_event(capacity=2)
    first = register(event, 1, world.staff)
    again = register(event, 1, world.staff)
    assert again.created is False and again.registration.pk == first.registration.pk
    assert Seat.objects.filter(event=event, is_taken=True).count() == 1
    assert AuditLog.objects.filter(action="events.registration.created").count() == 1
    assert register(event, 2, world.staff).registration.status == "confirmed"


def test_the_registration_read_of_an_event_is_what_the_orm_reads(world: World, make_event: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    from qiaoliang.events import selectors
    from qiaoliang.events.models import Event

    questions = [{"key": "diet", "label": "饮食", "required": True, "choices": ["清真", "素食"]}]
    event = make_event(questions=questions, verify_mobile=True)
    fields = services.REGISTRATION_FIELDS
    fast = selectors.visible_event(AnonymousUser(), event.pk, fields)
    orm = Event.objects.only(*fields).get(pk=event.pk)
    assert fast is not None
    assert {name: getattr(fast, name) for name in fields} == {name: getattr(orm, name) for name in fields}
    assert fast.questions == questions and fast.get_deferred_fields() == orm.get_deferred_fields()
    draft = make_event(publish=False)
    members_only = make_event(audience="members")
    assert selectors.visible_event(AnonymousUser(), draft.pk, fields) is None
    assert selectors.visible_event(AnonymousUser(), members_only.pk, fields) is None


def test_tickets_use_the_whole_alphabet_and_nothing_else() -> None:
    from qiaoliang.events.services.registration import TICKET_ALPHABET, TICKET_LENGTH, new_ticket

    tickets = [new_ticket() for _ in range(400)]
    assert all(len(t) == TICKET_LENGTH and set(t) <= set(TICKET_ALPHABET) for t in tickets)
    assert set("".join(tickets)) == set(TICKET_ALPHABET) and len(set(tickets)) == len(tickets)
