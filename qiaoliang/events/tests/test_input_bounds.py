"""Input past what the columns and dates hold is refused with a 400 and the reason, never a server error.

Found by the API fuzzer (scripts/api_fuzz.py with demo events) and by reading the services for the same faults:
numbers past their columns, dates at the ends of the calendar, ids that are no whole numbers or too large, lists
without a bound, text past its column, and empty links that the schema promises as URIs.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import World
from qiaoliang.core.exceptions import DomainError
from qiaoliang.events import services
from qiaoliang.events.models import AgendaItem, Event, OnlineAttendee, Participant
from qiaoliang.events.tests.test_api import event_body, person, token_client
from qiaoliang.events.tests.test_attendance import csv_file, import_rows

pytestmark = pytest.mark.django_db

BIG = 2**63  # one past the largest 64-bit id: SQLite raises OverflowError on it
MAX_AGENDA_ITEMS = 100  # services.events.MAX_AGENDA_ITEMS
MAX_SPEAKERS = 200  # services.events.MAX_SPEAKERS


def post_event(world: World, soon: datetime.datetime, **changes: Any) -> Any:
    client = token_client(world.staff)
    client.raise_request_exception = False  # a server error is an answer here, not an exception in the test
    return client.post("/api/v1/events/", event_body(world, soon, **changes), format="json")


def refused_field(response: Any) -> str:
    """Return the field a 400 names: the service's `code`, or the serializer's error key."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    return str(body["code"]) if "code" in body else next(iter(body))


# --- numbers past their columns --------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [2**31, BIG])
def test_an_issue_number_past_its_column_is_refused(world: World, soon: datetime.datetime, number: int) -> None:
    # 2**63 was a 500 (OverflowError on SQLite); 2**31 was stored on SQLite and a 500 on PostgreSQL (integer).
    response = post_event(world, soon, series="北京人力资源讲堂", issue_number=number)
    assert refused_field(response) == "issue_number"
    assert not Event.objects.exists()


def test_an_issue_number_past_its_column_is_refused_on_change(world: World, make_event: Any) -> None:
    event = make_event()
    client = token_client(world.staff)
    client.raise_request_exception = False
    response = client.patch(
        f"/api/v1/events/{event.pk}/", {"series": "北京人力资源讲堂", "issue_number": BIG}, format="json"
    )
    assert refused_field(response) == "issue_number"
    event.refresh_from_db()
    assert event.issue_number is None and event.series_id is None


def test_the_service_checks_the_numbers_and_lengths_against_the_columns(world: World, make_event: Any) -> None:
    event = make_event()
    series = services.create_series(actor=world.staff, organization=world.federation, name="讲堂")
    cases: list[dict[str, Any]] = [
        {"series": series, "issue_number": 2**31},
        {"pitch_minutes": 40_000},
        {"slot_minutes": -1},
        {"online_min_minutes": 10**6},
        {"venue": "会" * 121},
        {"address": "路" * 201},
    ]
    for changes in cases:
        with pytest.raises(DomainError) as refused:
            services.update_event(actor=world.staff, event=event, **changes)
        assert refused.value.code == next(name for name in changes if name != "series")
    event.refresh_from_db()
    assert (event.issue_number, event.venue, event.pitch_minutes) == (None, "", 5)


# --- dates at the ends of the calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # A year-1 start: the default registration opening (a minute before) overflowed: 500.
        ({"starts_at": "0001-01-01T00:00:00Z", "ends_at": "0001-01-01T02:00:00Z"}, "starts_at"),
        # A year-9999 event was stored; check-in (12 hours after the end) and the pages overflowed later.
        ({"starts_at": "9999-12-31T10:00:00+08:00", "ends_at": "9999-12-31T12:00:00+08:00"}, "starts_at"),
        # Meeting slots running past the year 9999: 500.
        (
            {
                "starts_at": "9999-12-25T10:00:00+08:00",
                "ends_at": "9999-12-31T12:00:00+08:00",
                "meetings_start_at": "9999-12-31T11:00:00+08:00",
                "slot_count": 48,
                "slot_minutes": 180,
            },
            "starts_at",
        ),
        ({"registration_opens_at": "1900-01-01T00:00:00+08:00"}, "registration_opens_at"),
    ],
)
def test_dates_outside_2000_to_2100_are_refused(
    world: World, soon: datetime.datetime, changes: dict[str, Any], field: str
) -> None:
    response = post_event(world, soon, **changes)
    assert refused_field(response) == field
    assert "2000" in response.json()["detail"]
    assert not Event.objects.exists()


def test_a_date_outside_the_range_is_refused_on_change(world: World, make_event: Any) -> None:
    event = make_event()
    client = token_client(world.staff)
    response = client.patch(f"/api/v1/events/{event.pk}/", {"pitches_start_at": "2101-01-01T10:00:00Z"}, format="json")
    assert refused_field(response) == "pitches_start_at"
    assert "2000" in response.json()["detail"]


def test_the_service_refuses_naive_and_far_dates_before_using_them(world: World, soon: datetime.datetime) -> None:
    values: dict[str, Any] = {
        "actor": world.staff,
        "organization": world.federation,
        "title": "讲座",
        "kind": "lecture",
        "mode": "offline",
        "audience": "public",
        "capacity": 10,
    }
    naive = soon.replace(tzinfo=None)
    # Naive: comparing it with now() raised TypeError (a 500) before validate() could say what was wrong.
    with pytest.raises(DomainError) as refused:
        services.create_event(**values, starts_at=naive, ends_at=naive + datetime.timedelta(hours=1))
    assert refused.value.code == "starts_at"
    first = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)
    with pytest.raises(DomainError) as refused:
        services.create_event(**values, starts_at=first, ends_at=first + datetime.timedelta(hours=1))
    assert refused.value.code == "starts_at"
    assert not Event.objects.exists()


def test_attendance_totals_with_far_dates_answer_the_page(world: World) -> None:
    client = Client()
    client.raise_request_exception = False
    client.force_login(world.staff)
    for query in ("until=9999-12-31", "since=0001-01-01", "since=1999-12-31&until=2101-01-01"):
        # The day after 9999-12-31, and year 1 in UTC, overflowed: 500.
        assert client.get(f"/events/attendance/?{query}").status_code == 200, query


# --- ids --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"organizer": 1.5}, "organizer"),  # was read as organisation 1
        ({"organizer": "1.5"}, "organizer"),
        ({"organizer": BIG}, "organizer"),
        ({"organizer": True}, "organizer"),
        ({"co_organizers": [1.5]}, "co_organizers"),
        ({"audience_organizations": [BIG]}, "audience_organizations"),
    ],
)
def test_ids_must_be_whole_numbers_in_range(
    world: World, soon: datetime.datetime, changes: dict[str, Any], field: str
) -> None:
    assert refused_field(post_event(world, soon, **changes)) == field
    assert not Event.objects.exists()


def test_an_enterprise_id_that_is_no_whole_number_is_refused(world: World, make_event: Any) -> None:
    event = make_event()
    client = token_client(world.staff)
    for enterprise in (world.e1.pk + 0.5, BIG):
        response = client.post(
            f"/api/v1/events/{event.pk}/registrations/", {**person(1), "enterprise": enterprise}, format="json"
        )
        assert refused_field(response) == "enterprise"
    assert not event.registrations.exists()


# --- lists without a bound ---------------------------------------------------------------------------------------


def test_an_agenda_past_the_limit_is_refused(world: World, soon: datetime.datetime) -> None:
    # Each item was a row, its position a small integer: 32,768 items were a 500 on PostgreSQL.
    response = post_event(world, soon, agenda=[{"title": f"第{n}项"} for n in range(MAX_AGENDA_ITEMS + 1)])
    assert refused_field(response) == "agenda"
    assert not AgendaItem.objects.exists()


def test_too_many_organisations_are_refused_before_any_look_up(world: World, soon: datetime.datetime) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = post_event(world, soon, co_organizers=[world.chamber1.pk] * 10_000)
    assert refused_field(response) == "co_organizers"
    assert len(queries) < 20  # not one look-up per id


def test_the_services_stop_agendas_and_speakers_at_their_limits(world: World, make_event: Any) -> None:
    event = make_event()
    for n in range(MAX_AGENDA_ITEMS):
        AgendaItem.objects.create(event=event, title=f"第{n}项", position=n)
    with pytest.raises(DomainError) as refused:
        services.add_agenda_item(actor=world.staff, event=event, title="再加一项")
    assert refused.value.code == "agenda"
    for n in range(MAX_SPEAKERS):
        event.speakers.create(name=f"嘉宾{n}", position=n)
    with pytest.raises(DomainError) as refused:
        services.add_speaker(actor=world.staff, event=event, name="再加一位")
    assert refused.value.code == "speakers"


# --- what the answers promise ----------------------------------------------------------------------------------


def test_links_not_given_are_null_not_empty_strings(world: World, make_event: Any) -> None:
    # The schema says format uri: "" broke response_schema_conformance on list, detail and change.
    event = make_event(mode="hybrid", livestream_url="https://live.example.cn/1")
    client = token_client(world.staff)
    detail = client.get(f"/api/v1/events/{event.pk}/").json()
    assert (detail["livestream_url"], detail["replay_url"]) == ("https://live.example.cn/1", None)
    listed = client.get("/api/v1/events/").json()["results"][0]
    assert listed["replay_url"] is None
    changed = client.patch(f"/api/v1/events/{event.pk}/", {"livestream_url": ""}, format="json").json()
    assert changed["livestream_url"] is None


# --- the services the pages use ----------------------------------------------------------------------------------


def test_bulk_check_in_refuses_ids_past_64_bits(world: World, make_event: Any) -> None:
    now = timezone.now()
    event = make_event(starts_at=now - datetime.timedelta(minutes=5), ends_at=now + datetime.timedelta(hours=1))
    result = services.register_person(actor=world.staff, event=event, name="张三", mobile="13900000001")
    with pytest.raises(DomainError) as refused:  # was OverflowError on SQLite
        services.bulk_check_in(actor=world.staff, event=event, registration_ids=[result.registration.pk, 2**64])
    assert refused.value.code == "registrations"


@pytest.mark.parametrize("order", [0, -1, 40_000])
def test_a_pitch_number_outside_its_range_is_refused(world: World, make_event: Any, order: Any) -> None:
    exchange = make_event(kind="exchange", mode="offline", audience="members")
    participant = services.add_participant(actor=world.staff, event=exchange, enterprise=world.e1)
    with pytest.raises(DomainError) as refused:
        services.update_participant(actor=world.staff, participant=participant, pitch_order=order)
    assert refused.value.code == "pitch_order"
    assert Participant.objects.get().pitch_order is None


def test_an_attendee_row_longer_than_any_event_is_refused(world: World, make_event: Any) -> None:
    # Minutes have 6 digits before the point: a row from 2000 to 2001 (525,600 minutes) fits, 2000 to 2002
    # did not (a 500 on PostgreSQL); and each person's sum of rows could pass the column too.
    event = _past_event(make_event)
    rows = [["张三", "13900000001", "2000-01-01 00:00:00", "2002-01-01 00:00:00", ""]]
    with pytest.raises(DomainError) as refused:
        import_rows(world, event, csv_file(rows))
    assert refused.value.code == "rows"
    assert not OnlineAttendee.objects.exists()


def test_an_attendee_row_in_year_1_is_refused(world: World, make_event: Any) -> None:
    # Year 1 in Beijing time is year 0 in UTC: OverflowError when it was stored on SQLite.
    event = _past_event(make_event)
    rows = [["张三", "13900000001", "0001-01-01 00:00:00", "0001-01-01 01:00:00", 60]]
    with pytest.raises(DomainError) as refused:
        import_rows(world, event, csv_file(rows))
    assert refused.value.code == "rows"


def test_a_person_s_online_minutes_stop_at_what_the_column_holds(world: World, make_event: Any) -> None:
    event = _past_event(make_event)
    # 30 rows of 31 days each: 1,339,200 minutes, past the 999,999.99 the column holds.
    rows = [["张三", "13900000001", "", "", 60 * 24 * 31] for _ in range(30)]
    import_rows(world, event, csv_file(rows))
    attendance = event.attendances.get()
    assert attendance.online_minutes == 60 * 24 * 31


def _past_event(make_event: Any) -> Event:
    event = make_event(capacity=10, online_min_minutes=10)
    start = timezone.now() - datetime.timedelta(days=1)
    Event.objects.filter(pk=event.pk).update(
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        registration_opens_at=start - datetime.timedelta(days=5),
        registration_closes_at=start,
    )
    event.refresh_from_db()
    return event


def test_a_registration_window_given_the_wrong_way_round_is_refused_not_shrunk(
    world: World, soon: datetime.datetime
) -> None:
    # It was silently turned into a one-minute window ending at the given close.
    response = post_event(
        world,
        soon,
        registration_opens_at=(soon - datetime.timedelta(hours=2)).isoformat(),
        registration_closes_at=(soon - datetime.timedelta(hours=5)).isoformat(),
    )
    assert refused_field(response) == "registration_closes_at"
    assert not Event.objects.exists()
