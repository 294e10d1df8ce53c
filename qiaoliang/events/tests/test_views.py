"""The event pages: public pages without login, the public registration with its text-message code, tickets,
the staff's forms, check-in and attendance pages, matchmaking pages, home panels and query counts."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import World
from qiaoliang.core import channels
from qiaoliang.core.models import AuditLog
from qiaoliang.events import services
from qiaoliang.events.models import CheckIn, Event, FeedbackResponse, Meeting, Registration

pytestmark = pytest.mark.django_db


def client_for(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_public_pages_need_no_login(event: Event, make_event: Any) -> None:
    members_only = make_event(title="会员专场", audience="members")
    client = client_for()
    listing = client.get("/events/public/")
    assert listing.status_code == 200
    assert event.title in listing.content.decode() and "会员专场" not in listing.content.decode()
    assert client.get(f"/events/{event.pk}/").status_code == 200
    assert client.get(f"/events/{members_only.pk}/").status_code == 404
    assert client.get(f"/events/{event.pk}/register/").status_code == 200
    calendar = client.get("/events/calendar.ics")
    assert calendar["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in calendar.content.decode() and "会员专场" not in calendar.content.decode()


def code_from_outbox(mobile: str) -> str:
    message = [m for m in channels.outbox if m.to == mobile][-1]
    return re.search(r"\d{6}", message.text).group(0)


def test_a_visitor_registers_with_a_code_and_gets_the_ticket(
    event: Event, _sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/events/{event.pk}/register/code/", {"purpose": "registration", "mobile": "13912345678"})
    assert sent.status_code == 200
    wrong = client.post(
        f"/events/{event.pk}/register/",
        {"as": "public", "name": "张三", "mobile": "13912345678", "code": "000000", "submission_key": "k1"},
    )
    assert wrong.status_code == 200 and not Registration.objects.exists()
    sent_again_too_soon = client.post(f"/events/{event.pk}/register/code/", {"mobile": "13912345678"})
    assert sent_again_too_soon.status_code == 400
    code = code_from_outbox("13912345678")
    form = {
        "as": "public",
        "name": "张三",
        "mobile": "139 1234 5678",
        "code": code,
        "company": "天马辉",
        "position": "经理",
        "submission_key": "k2",
    }
    done = client.post(f"/events/{event.pk}/register/", form)
    registration = Registration.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/events/tickets/{registration.ticket}/?registered=1"
    assert registration.is_mobile_verified and registration.mobile == "13912345678"
    again = client.post(f"/events/{event.pk}/register/", form)  # the form sent twice: the same registration
    assert again["Location"] == f"/events/tickets/{registration.ticket}/?existing=1"
    assert Registration.objects.count() == 1
    ticket = client.get(done["Location"]).content.decode()
    assert "<svg" in ticket and registration.ticket_display in ticket and "139****5678" in ticket


def test_the_ticket_page_cancels_and_the_waiting_list_moves_up(world: World, make_event: Any) -> None:
    event = make_event(capacity=1)
    first = services.register_person(actor=world.staff, event=event, name="甲", mobile="13900000001").registration
    second = services.register_person(actor=world.staff, event=event, name="乙", mobile="13900000002").registration
    waiting_page = client_for().get(f"/events/tickets/{second.ticket}/").content.decode()
    assert 'data-testid="waiting-position"' in waiting_page
    client_for().post(f"/events/tickets/{first.ticket}/cancel/")
    second.refresh_from_db()
    assert Registration.objects.get(pk=first.pk).status == "cancelled" and second.status == "confirmed"
    assert client_for().get("/events/tickets/NOSUCHTICKET/").status_code == 404


def test_a_ticket_offers_no_cancel_or_calendar_once_the_event_is_over(world: World, make_event: Any) -> None:
    event = make_event(capacity=5)
    ticket = services.register_person(actor=world.staff, event=event, name="甲", mobile="13900000001").registration
    before = client_for().get(f"/events/tickets/{ticket.ticket}/").content.decode()
    assert 'data-testid="cancel-registration"' in before and "event.ics" in before
    with time_machine.travel(event.ends_at + datetime.timedelta(hours=1)):
        after = client_for().get(f"/events/tickets/{ticket.ticket}/").content.decode()
    assert 'data-testid="cancel-registration"' not in after and "event.ics" not in after


def test_a_member_registers_with_their_account(world: World, make_event: Any) -> None:
    event = make_event(audience="members", questions=[{"label": "用餐", "required": True, "choices": ["是", "否"]}])
    client = client_for(world.contact)
    refused = client.post(f"/events/{event.pk}/register/", {"as": "member"})
    assert refused.status_code == 200 and not Registration.objects.exists()
    done = client.post(f"/events/{event.pk}/register/", {"as": "member", "answer_q1": "是"})
    assert done.status_code == 302
    assert Registration.objects.get().answers == {"q1": "是"}
    page = client.get(f"/events/{event.pk}/").content.decode()
    assert 'data-testid="open-ticket"' in page


def test_a_contact_registers_a_colleague_from_the_event_page(world: World, make_event: Any) -> None:
    event = make_event(audience="members")
    client = client_for(world.contact)
    client.post(
        f"/events/{event.pk}/register/colleague/", {"name": "李四", "mobile": "13911112222", "position": "工程师"}
    )
    registration = Registration.objects.get()
    assert (registration.enterprise, registration.company) == (world.e1, world.e1.name)
    assert "李四" in client.get(f"/events/{event.pk}/").content.decode()


def test_staff_create_copy_edit_and_publish_an_event(world: World, soon: datetime.datetime) -> None:
    client = client_for(world.staff)
    assert client.get("/events/new/").status_code == 200
    local = timezone.localtime(soon)
    form = {
        "title": "上海人力资源讲堂",
        "kind": "lecture",
        "mode": "hybrid",
        "organization": world.federation.pk,
        "new_series": "上海人力资源讲堂",
        "issue_number": 12,
        "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "venue": "报告厅",
        "audience": "public",
        "capacity": 80,
        "has_waiting_list": "on",
        "verify_mobile": "on",
        "questions": "想咨询的问题\n用餐*：是 / 否",
        "online_min_minutes": 10,
        "pitch_minutes": 5,
        "slot_count": 0,
        "slot_minutes": 15,
        "table_count": 0,
        "action": "draft",
    }
    created = client.post("/events/new/", form)
    assert created.status_code == 302, created.content.decode()[:2000]
    event = Event.objects.get()
    assert (event.status, event.capacity, event.seats.count(), event.series.name) == (
        "draft",
        80,
        80,
        "上海人力资源讲堂",
    )
    assert event.questions[1] == {"key": "q2", "label": "用餐", "required": True, "choices": ["是", "否"]}
    services.add_agenda_item(actor=world.staff, event=event, title="主讲", starts_at=event.starts_at)
    copy_page = client.get(f"/events/{event.pk}/copy/").content.decode()
    assert 'value="13"' in copy_page  # the next issue number
    copied = client.post(
        f"/events/{event.pk}/copy/",
        {**form, "new_series": "", "series": event.series_id, "issue_number": 13, "action": "publish"},
    )
    assert copied.status_code == 302
    copy = Event.objects.exclude(pk=event.pk).get()
    assert (copy.status, copy.copied_from, copy.agenda.count()) == ("published", event, 1)
    edit = client.post(f"/events/{event.pk}/edit/", {**form, "capacity": 100, "title": "改过的标题"})
    assert edit.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.seats.count()) == ("改过的标题", 100)
    client.post(f"/events/{event.pk}/status/", {"to": "published"})
    assert Event.objects.get(pk=event.pk).status == "published"


def test_the_form_shows_the_services_refusal_on_the_field(world: World, soon: datetime.datetime) -> None:
    local = timezone.localtime(soon)
    response = client_for(world.staff).post(
        "/events/new/",
        {
            "title": "倒着的时间",
            "kind": "meeting",
            "mode": "offline",
            "organization": world.federation.pk,
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": local.strftime("%Y-%m-%dT%H:%M"),
            "audience": "members",
            "capacity": 10,
            "online_min_minutes": 10,
            "pitch_minutes": 5,
            "slot_count": 0,
            "slot_minutes": 15,
            "table_count": 0,
            "action": "publish",
        },
    )
    assert response.status_code == 200
    assert 'data-testid="error-ends_at"' in response.content.decode()
    assert not Event.objects.exists()


def test_the_times_are_refused_with_the_other_field_errors_in_one_round(world: World, soon: datetime.datetime) -> None:
    local = timezone.localtime(soon)
    response = client_for(world.staff).post("/events/new/", {
        "title": "", "kind": "meeting", "mode": "offline", "organization": world.federation.pk,
        "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "audience": "members", "capacity": -1, "online_min_minutes": 10, "pitch_minutes": 5, "slot_count": 0,
        "slot_minutes": 15, "table_count": 0, "action": "publish",
    })  # fmt: skip
    errors = response.context["form"].errors
    assert {"title", "capacity", "ends_at"} <= set(errors)  # the time error no longer waits for a second round
    assert not Event.objects.exists()


def test_a_contact_cannot_open_the_staff_pages(world: World, event: Event) -> None:
    client = client_for(world.contact)
    for path in [
        "new/",
        f"{event.pk}/edit/",
        f"{event.pk}/registrations/",
        f"{event.pk}/checkin/",
        f"{event.pk}/attendance/",
        "attendance/",
    ]:
        assert client.get(f"/events/{path}").status_code == 403, path


@pytest.fixture
def running(make_event: Any) -> Event:
    now = timezone.now()
    return make_event(
        capacity=3,
        starts_at=now - datetime.timedelta(minutes=10),
        ends_at=now + datetime.timedelta(hours=2),
        registration_opens_at=now - datetime.timedelta(days=2),
        registration_closes_at=now + datetime.timedelta(hours=1),
    )


def test_the_check_in_page_answers_typed_codes_with_htmx(world: World, running: Event) -> None:
    registration = services.register_person(
        actor=world.staff, event=running, name="张三", mobile="13912345678"
    ).registration
    client = client_for(world.staff)
    page = client.get(f"/events/{running.pk}/checkin/").content.decode()
    assert "vendor/jsqr/jsQR.js" in page and "<script>" not in page.replace("<script src", "")
    url = f"/events/{running.pk}/checkin/"
    first = client.post(url, {"ticket": registration.ticket_display, "method": "typed"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="checkin-ok"' in first.content.decode()
    counter = re.search(r'<div[^>]*id="checkin-count"[^>]*hx-swap-oob="true"[^>]*>([^<]*)<', first.content.decode())
    assert counter is not None and "1" in counter.group(1)  # the page's counter moves without a reload
    again = client.post(url, {"ticket": registration.ticket, "method": "scan"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="checkin-repeat"' in again.content.decode()
    unknown = client.post(url, {"ticket": "XXXX", "method": "typed"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="checkin-refused"' in unknown.content.decode()
    assert CheckIn.objects.count() == 1


def test_the_list_ticks_people_in_after_the_event(world: World, running: Event) -> None:
    regs = [
        services.register_person(actor=world.staff, event=running, name=f"人{n}", mobile=f"1391234567{n}").registration
        for n in range(2)
    ]
    with time_machine.travel(running.ends_at + datetime.timedelta(days=2)):
        client = client_for(world.staff)
        client.post(f"/events/{running.pk}/checkin/list/", {"registration": [r.pk for r in regs]})
    assert CheckIn.objects.count() == 2
    assert AuditLog.objects.filter(action="events.checkin.created").count() == 2


def test_staff_import_an_online_export_through_the_pages(world: World, running: Event) -> None:
    registration = services.register_person(
        actor=world.staff, event=running, name="张三", mobile="13912345678"
    ).registration
    services.bulk_check_in(actor=world.staff, event=running, registration_ids=[registration.pk])
    client = client_for(world.staff)
    csv = "姓名,电话,观看时长\n张三,13912345678,40\n李四,13987650000,25\n王五,,3\n".encode()
    uploaded = client.post(
        f"/events/{running.pk}/attendance/",
        {"file": SimpleUploadedFile("直播观看明细.csv", csv, content_type="text/csv")},
    )
    assert uploaded.status_code == 302
    mapping_page = client.get(uploaded["Location"]).content.decode()
    assert "观看时长" in mapping_page and "李四" in mapping_page  # the headers and the first rows
    counted = client.post(uploaded["Location"], {"name": "姓名", "mobile": "电话", "duration": "观看时长"})
    assert counted.status_code == 302
    page = client.get(f"/events/{running.pk}/attendance/").content.decode()
    assert re.search(r'data-testid="attendance-total">2<', page)  # 张三 once (on site and online), 李四 online
    totals = client.get("/events/attendance/").content.decode()
    assert 'data-testid="totals-total">2<' in totals
    assert "vendor/echarts/echarts.min.js" in totals and 'id="attendance-chart-data"' in totals


def test_calendar_month_and_list_and_event_ics(world: World, event: Event) -> None:
    client = client_for(world.contact)
    month = timezone.localtime(event.starts_at).strftime("%Y-%m")
    page = client.get(f"/events/calendar/?month={month}").content.decode()
    assert 'data-testid="calendar-grid"' in page and event.title in page
    ics = client.get(f"/events/{event.pk}/event.ics").content.decode()
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and f"UID:event-{event.pk}@qiaoliang" in ics


def test_the_closing_page_shows_minutes_attendance_and_feedback(world: World, running: Event) -> None:
    registration = services.register_person(
        actor=world.staff, event=running, name="张三", mobile="13912345678"
    ).registration
    services.bulk_check_in(actor=world.staff, event=running, registration_ids=[registration.pk])
    client = client_for(world.staff)
    client.post(f"/events/{running.pk}/closing/edit/", {"minutes": "一、会议议定事项。", "closing_summary": "圆满"})
    anonymous = client_for()
    survey = anonymous.post(
        f"/events/tickets/{registration.ticket}/feedback/",
        {"overall": "5", "content": "4", "organisation": "5", "comment": "很好"},
    )
    assert survey.status_code == 302 and FeedbackResponse.objects.count() == 1
    page = anonymous.get(f"/events/{running.pk}/closing/").content.decode()
    assert "一、会议议定事项。" in page and 'data-testid="attendance-onsite">1<' in page
    assert 'data-testid="feedback-overall">5.0<' in page


def test_matchmaking_pages_for_a_contact_and_the_staff(world: World, make_event: Any, soon: datetime.datetime) -> None:
    event = make_event(
        title="资源信息交流会",
        kind="exchange",
        audience="members",
        ends_at=soon + datetime.timedelta(hours=4),
        meetings_start_at=soon + datetime.timedelta(hours=1),
        slot_count=4,
        slot_minutes=20,
        table_count=3,
    )
    contact = client_for(world.contact)
    board = contact.get(f"/events/{event.pk}/matchmaking/").content.decode()
    assert 'data-testid="join-form"' in board
    contact.post(
        f"/events/{event.pk}/matchmaking/join/",
        {"enterprise": world.e1.pk, "pitch_title": "智慧餐饮", "unavailable_slots": [3]},
    )
    other = services.add_participant(actor=world.staff, event=event, enterprise=world.e2)
    own = event.participants.get(enterprise=world.e1)
    contact.post(
        f"/events/{event.pk}/matchmaking/request/", {"requester": own.pk, "recipient": other.pk, "reason": "采购工装"}
    )
    staff = client_for(world.staff)
    request = event.meeting_requests.get()
    staff.post(f"/events/{event.pk}/matchmaking/requests/{request.pk}/answer/", {"answer": "accept"})
    staff.post(f"/events/{event.pk}/matchmaking/schedule/run/")
    meeting = Meeting.objects.get()
    assert meeting.slot is not None and meeting.slot != 3
    agenda = contact.get(f"/events/{event.pk}/matchmaking/agenda/{own.pk}/").content.decode()
    assert world.e2.name in agenda
    ics = contact.get(f"/events/{event.pk}/matchmaking/agenda/{own.pk}.ics").content.decode()
    assert f"UID:meeting-{meeting.pk}@qiaoliang" in ics
    assert contact.get(f"/events/{event.pk}/matchmaking/agenda/{other.pk}/").status_code == 404
    assert contact.get(f"/events/{event.pk}/matchmaking/schedule/").status_code == 403
    staff.post(f"/events/{event.pk}/matchmaking/meetings/{meeting.pk}/place/", {"slot": 1, "table": 2})
    meeting.refresh_from_db()
    assert (meeting.slot, meeting.table, meeting.is_pinned) == (0, 1, True)


def test_home_panels_per_role(world: World, event: Event) -> None:
    services.register_self(actor=world.contact, event=event)
    assert 'data-testid="panel-events-manage"' in client_for(world.staff).get("/").content.decode()
    contact_home = client_for(world.contact).get("/").content.decode()
    assert 'data-testid="panel-events-enterprise"' in contact_home and event.title in contact_home
    assert 'data-testid="panel-events-speaker"' in client_for(world.liaison).get("/").content.decode()
    stats = client_for(world.staff).get("/exchange/stats/").content.decode()
    assert 'data-testid="meeting-deals"' in stats


def test_list_pages_have_a_constant_query_count(world: World, make_event: Any) -> None:
    client = client_for(world.staff)
    make_event(title="活动0")
    for path in ["/events/", "/events/?mine=1&when=all"]:
        client.get(path)
        with CaptureQueriesContext(connection) as few:
            client.get(path)
        for n in range(1, 4):
            make_event(title=f"活动{path[-3:]}{n}")
        with CaptureQueriesContext(connection) as many:
            client.get(path)
        assert len(many) == len(few), path


def test_registrations_page_and_export(world: World, event: Event) -> None:
    for n in range(3):
        services.register_person(actor=world.staff, event=event, name=f"人{n}", mobile=f"1391234567{n}")
    client = client_for(world.staff)
    page = client.get(f"/events/{event.pk}/registrations/").content.decode()
    assert "13912345670" in page
    export = client.get(f"/events/{event.pk}/registrations/?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditLog.objects.filter(action="events.registrations.exported").exists()


def test_copying_a_matchmaking_day_keeps_its_timetable_a_week_later(world: World, make_event: Any) -> None:
    starts = timezone.now() + datetime.timedelta(days=3)
    event = make_event(kind="exchange", slot_count=4, table_count=5, starts_at=starts,
                       ends_at=starts + datetime.timedelta(hours=6),
                       pitches_start_at=starts + datetime.timedelta(minutes=30),
                       meetings_start_at=starts + datetime.timedelta(hours=2))  # fmt: skip
    form = client_for(world.staff).get(f"/events/{event.pk}/copy/").context["form"]
    week = datetime.timedelta(days=7)
    for name in ("pitches_start_at", "meetings_start_at"):
        expected = timezone.localtime(getattr(event, name) + week).replace(tzinfo=None)
        assert form.initial[name] == expected, name


@pytest.mark.parametrize("capacity", [1, 50])  # the second sending finds a seat or the waiting list
def test_a_form_sent_twice_without_a_code_finds_what_the_first_made(make_event: Any, capacity: int) -> None:
    event = make_event(verify_mobile=False, capacity=capacity)
    services.register_public(event=event, name="甲", mobile="13900000009")  # the only seat goes when capacity is 1
    client = client_for()
    form = {
        "as": "public",
        "name": "李四",
        "mobile": "13911112222",
        "company": "",
        "position": "",
        "submission_key": "s1",
    }
    done = client.post(f"/events/{event.pk}/register/", form)
    registration = Registration.objects.get(submission_key="s1")
    assert done["Location"] == f"/events/tickets/{registration.ticket}/?registered=1"
    again = client.post(f"/events/{event.pk}/register/", form)
    assert again["Location"] == f"/events/tickets/{registration.ticket}/?existing=1"
    edited = client.post(f"/events/{event.pk}/register/", {**form, "mobile": "13933334444"})  # resent after an edit
    assert edited["Location"] == f"/events/tickets/{registration.ticket}/?existing=1"
    assert Registration.objects.filter(event=event).count() == 2
