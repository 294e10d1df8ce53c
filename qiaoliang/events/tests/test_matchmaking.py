"""Matchmaking meetings: participants, requests and answers, the schedule (invariants, pins, hand moves),
personal agendas, outcomes on the exchange's statistics, and the schedule_meetings command."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import World, make_uscc, make_user
from qiaoliang.accounts.models import Role
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.events import selectors, services
from qiaoliang.events.models import Event, Meeting, MeetingRequest, Participant
from qiaoliang.events.scheduling import Problem, first_fit
from qiaoliang.orgs import services as org_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def exchange(make_event: Any, soon: datetime.datetime) -> Event:
    return make_event(
        title="企业资源信息交流会",
        kind="exchange",
        mode="offline",
        audience="members",
        capacity=100,
        ends_at=soon + datetime.timedelta(hours=4),
        meetings_start_at=soon + datetime.timedelta(hours=1),
        slot_count=4,
        slot_minutes=20,
        table_count=3,
        pitches_start_at=soon,
        pitch_minutes=5,
    )


def enterprises(world: World, count: int) -> list[Any]:
    made = [world.e1, world.e2, world.e3]
    for n in range(len(made), count):
        made.append(
            org_services.create_enterprise(
                actor=None, uscc=make_uscc(100 + n), name=f"参会企业{n}有限公司", organization=world.chamber1
            )
        )
    return made[:count]


def test_a_contact_joins_with_their_enterprise_and_asks_another_for_a_meeting(world: World, exchange: Event) -> None:
    own = services.add_participant(
        actor=world.contact, event=exchange, enterprise=world.e1, pitch_title="智慧餐饮", unavailable_slots=[3]
    )
    with pytest.raises(NotAllowedError):
        services.add_participant(actor=world.contact, event=exchange, enterprise=world.e2)
    other = services.add_participant(actor=world.staff, event=exchange, enterprise=world.e2)
    request = services.request_meeting(actor=world.contact, requester=own, recipient=other, reason="采购鞋类工装")
    assert request.status == "pending" and own.unavailable_slots == [3]
    with pytest.raises(DomainError) as duplicate:
        services.request_meeting(actor=world.staff, requester=other, recipient=own, reason="回访")
    assert duplicate.value.code == "duplicate"
    with pytest.raises(NotAllowedError):  # only the asked side (or staff) answers
        services.answer_request(actor=world.contact, request=request, accept=True)
    buyer = make_user("buyer", Role.ENTERPRISE_CONTACT, enterprise=world.e2)
    accepted = services.answer_request(actor=buyer, request=request, accept=True, note="欢迎")
    assert accepted.status == "accepted"
    assert Meeting.objects.get(request=request).slot is None


def test_a_participant_cannot_ask_itself_and_a_reason_is_needed(world: World, exchange: Event) -> None:
    own = services.add_participant(actor=world.staff, event=exchange, enterprise=world.e1)
    other = services.add_participant(actor=world.staff, event=exchange, enterprise=world.e2)
    with pytest.raises(DomainError):
        services.request_meeting(actor=world.staff, requester=own, recipient=own, reason="x")
    with pytest.raises(DomainError) as refused:
        services.request_meeting(actor=world.staff, requester=own, recipient=other, reason="  ")
    assert refused.value.code == "reason"


def accepted_meetings(world: World, event: Event, people: list[Participant], pairs: list[tuple[int, int]]) -> None:
    for a, b in pairs:
        request = services.request_meeting(actor=world.staff, requester=people[a], recipient=people[b], reason="洽谈")
        services.answer_request(actor=world.staff, request=request, accept=True)


def check_schedule(event: Event) -> None:
    """Assert the stored schedule's invariants: nobody twice in a slot, availability, tables in range and free."""
    meetings = list(Meeting.objects.filter(event=event).select_related("a", "b"))
    seen: set[tuple[int, int]] = set()
    tables: set[tuple[int, int]] = set()
    for meeting in meetings:
        if meeting.slot is None:
            assert meeting.table is None
            continue
        assert 0 <= meeting.slot < event.slot_count and 0 <= meeting.table < event.table_count
        assert (meeting.slot, meeting.table) not in tables
        tables.add((meeting.slot, meeting.table))
        for participant in (meeting.a, meeting.b):
            assert meeting.slot not in participant.unavailable_slots
            assert (participant.pk, meeting.slot) not in seen
            seen.add((participant.pk, meeting.slot))


def test_the_scheduler_places_everything_that_fits_and_keeps_pins(world: World, exchange: Event) -> None:
    people = [
        services.add_participant(actor=world.staff, event=exchange, enterprise=e, unavailable_slots=slots)
        for e, slots in zip(enterprises(world, 5), [[0], [], [1], [], [3]], strict=True)
    ]
    accepted_meetings(world, exchange, people, [(0, 1), (0, 2), (1, 2), (1, 3), (3, 4), (2, 4), (0, 3)])
    pinned = Meeting.objects.get(a=people[1], b=people[3])
    services.place_meeting(actor=world.staff, meeting=pinned, slot=2, table=2)
    result = services.schedule_event(actor=world.staff, event=exchange)
    assert result.placed == result.total == result.bound == 7
    check_schedule(exchange)
    pinned.refresh_from_db()
    assert (pinned.slot, pinned.table, pinned.is_pinned) == (2, 2, True)


def test_hand_moves_are_checked_and_refused_with_the_reason(world: World, exchange: Event) -> None:
    people = [
        services.add_participant(actor=world.staff, event=exchange, enterprise=e, unavailable_slots=slots)
        for e, slots in zip(enterprises(world, 3), [[1], [], []], strict=True)
    ]
    accepted_meetings(world, exchange, people, [(0, 1), (1, 2)])
    first, second = Meeting.objects.filter(event=exchange).order_by("id")
    with pytest.raises(DomainError) as unavailable:
        services.place_meeting(actor=world.staff, meeting=first, slot=1, table=0)
    assert unavailable.value.code == "slot"
    services.place_meeting(actor=world.staff, meeting=first, slot=0, table=0)
    with pytest.raises(DomainError) as double_booked:  # participant 1 is in both meetings
        services.place_meeting(actor=world.staff, meeting=second, slot=0, table=1)
    assert double_booked.value.code == "slot"
    with pytest.raises(DomainError) as out_of_range:
        services.place_meeting(actor=world.staff, meeting=second, slot=9, table=0)
    assert out_of_range.value.code == "slot"
    with pytest.raises(NotAllowedError):
        services.place_meeting(actor=world.contact, meeting=second, slot=2, table=0)


def test_scheduling_needs_slots_and_tables(world: World, make_event: Any) -> None:
    event = make_event(kind="exchange")
    with pytest.raises(DomainError) as refused:
        services.schedule_event(actor=world.staff, event=event)
    assert refused.value.code == "slot_count"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_stored_schedules_keep_the_invariants_and_beat_first_fit(world: World, exchange: Event, data: Any) -> None:
    """Property: random participants, unavailability and accepted requests (and a pin) give a valid stored schedule."""
    with transaction.atomic():
        count = data.draw(st.integers(3, 7))
        people = []
        for enterprise in enterprises(world, count):
            slots = data.draw(st.lists(st.integers(0, 3), max_size=2, unique=True))
            people.append(
                services.add_participant(
                    actor=world.staff, event=exchange, enterprise=enterprise, unavailable_slots=slots
                )
            )
        pairs = data.draw(
            st.lists(
                st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)).filter(lambda p: p[0] < p[1]),
                max_size=10,
                unique=True,
            )
        )
        accepted_meetings(world, exchange, people, pairs)
        result = services.schedule_event(actor=world.staff, event=exchange, time_limit=1.0)
        check_schedule(exchange)
        problem, _pairs = services.build_problem(exchange)
        baseline = first_fit(Problem(problem.slots, problem.tables, problem.unavailable, problem.meetings))
        assert result.placed >= len(baseline.placed)
        assert result.placed <= result.bound
        transaction.set_rollback(True)


def test_outcomes_count_once_per_meeting_on_the_exchange_statistics(world: World, exchange: Event) -> None:
    people = [services.add_participant(actor=world.staff, event=exchange, enterprise=e) for e in enterprises(world, 3)]
    accepted_meetings(world, exchange, people, [(0, 1), (1, 2)])
    first, second = Meeting.objects.filter(event=exchange).order_by("id")
    with pytest.raises(DomainError):  # before the event
        services.record_outcome(
            actor=world.contact,
            meeting=first,
            participant=people[0],
            held=True,
            result="deal",
            deal_amount=Decimal(1000),
        )
    with time_machine.travel(exchange.starts_at + datetime.timedelta(hours=2)):
        services.record_outcome(
            actor=world.contact,
            meeting=first,
            participant=people[0],
            held=True,
            result="deal",
            deal_amount=Decimal("1200000"),
        )
        services.record_outcome(
            actor=world.staff,
            meeting=first,
            participant=people[1],
            held=True,
            result="deal",
            deal_amount=Decimal("1000000"),
        )
        services.record_outcome(actor=world.staff, meeting=second, participant=people[2], held=True, result="intent")
        with pytest.raises(NotAllowedError):  # e1's contact speaks for e1 only
            services.record_outcome(actor=world.contact, meeting=first, participant=people[1], held=True, result="none")
        with pytest.raises(DomainError) as refused:
            services.record_outcome(actor=world.staff, meeting=second, participant=people[1], held=True, result="deal")
        assert refused.value.code == "deal_amount"
    deals = selectors.meeting_deals(world.staff)
    assert (deals.meetings, deals.held, deals.intents, deals.deals, deals.amount) == (2, 2, 1, 1, Decimal("1200000"))


def test_withdrawing_an_accepted_meeting_removes_it(world: World, exchange: Event) -> None:
    people = [services.add_participant(actor=world.staff, event=exchange, enterprise=e) for e in enterprises(world, 2)]
    accepted_meetings(world, exchange, people, [(0, 1)])
    request = MeetingRequest.objects.get()
    services.withdraw_request(actor=world.contact, request=request, note="时间冲突")
    assert not Meeting.objects.exists()
    assert MeetingRequest.objects.get().status == "cancelled"


def test_the_personal_agenda_lists_the_other_side_in_slot_order(world: World, exchange: Event) -> None:
    people = [services.add_participant(actor=world.staff, event=exchange, enterprise=e) for e in enterprises(world, 3)]
    accepted_meetings(world, exchange, people, [(0, 1), (0, 2)])
    services.schedule_event(actor=world.staff, event=exchange)
    agenda = selectors.personal_agenda(people[0])
    assert [m.other.pk for m in agenda] and {m.other.pk for m in agenda} == {people[1].pk, people[2].pk}
    assert agenda[0].slot < agenda[1].slot


# --- the command -----------------------------------------------------------------------------------------------------


def test_the_command_schedules_a_json_file(tmp_path: Path) -> None:
    problem = {
        "slots": 2,
        "tables": 1,
        "participants": [{"id": "p1", "unavailable": [0]}, {"id": "p2"}, {"id": "p3"}],
        "meetings": [["p1", "p2"], ["p2", "p3"], ["p1", "p3"]],
    }
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps(problem))
    call_command("schedule_meetings", "--input", str(source), "--output", str(target))
    result = json.loads(target.read_text())
    assert set(result) == {"meetings", "unplaced"}
    assert len(result["meetings"]) == 2 and len(result["unplaced"]) == 1
    assert all(m["slot"] in (0, 1) and m["table"] == 0 for m in result["meetings"])
    assert not any(m["slot"] == 0 and "p1" in (m["a"], m["b"]) for m in result["meetings"])


def test_the_command_refuses_an_impossible_file(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"slots": 2, "tables": 1, "participants": [{"id": "p1"}], "meetings": [["p1", "p9"]]}))
    with pytest.raises(CommandError) as refused:
        call_command("schedule_meetings", "--input", str(source), "--output", str(tmp_path / "out.json"))
    assert "p9" in str(refused.value)
    source.write_text("{not json")
    with pytest.raises(CommandError):
        call_command("schedule_meetings", "--input", str(source))


def test_the_command_schedules_an_event(world: World, exchange: Event, capsys: Any) -> None:
    people = [services.add_participant(actor=world.staff, event=exchange, enterprise=e) for e in enterprises(world, 3)]
    accepted_meetings(world, exchange, people, [(0, 1), (1, 2), (0, 2)])
    call_command("schedule_meetings", str(exchange.pk))
    assert Meeting.objects.filter(event=exchange).exclude(slot=None).count() == 3
    with pytest.raises(CommandError):
        call_command("schedule_meetings", "999999")
