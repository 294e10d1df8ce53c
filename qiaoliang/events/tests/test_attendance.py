"""Hybrid attendance: check-ins plus an imported online export, matched by mobile then name, each person once."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from conftest import World
from qiaoliang.core.exceptions import DomainError
from qiaoliang.events import selectors, services
from qiaoliang.events.models import Attendance, ColumnMapping, Event, OnlineAttendee, OnlineImport
from qiaoliang.events.services.attendance import online_minutes, parse_duration

pytestmark = pytest.mark.django_db

HEADERS = ["用户昵称", "手机号", "入会时间", "退会时间", "参会时长(分钟)"]


def csv_file(rows: list[list[Any]], headers: list[str] = HEADERS, name: str = "腾讯会议参会明细.csv") -> Any:
    lines = [",".join(headers)] + [",".join(str(cell) for cell in row) for row in rows]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode("utf-8-sig"), content_type="text/csv")


def xlsx_file(rows: list[list[Any]], headers: list[str]) -> Any:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("attendees.xlsx", buffer.getvalue())


@pytest.fixture
def past(make_event: Any, world: World) -> Event:
    """A hybrid lecture that took place yesterday 14:00–16:00 with three registrations."""
    start = timezone.localtime(timezone.now() - datetime.timedelta(days=1)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    event = make_event(
        capacity=10,
        online_min_minutes=10,
        starts_at=start + datetime.timedelta(days=2),
        ends_at=start + datetime.timedelta(days=2, hours=2),
    )
    for name, mobile in [("张三", "13900000001"), ("李四", "13900000002"), ("王五", "13900000003")]:
        services.register_person(actor=world.staff, event=event, name=name, mobile=mobile)
    Event.objects.filter(pk=event.pk).update(
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        registration_opens_at=start - datetime.timedelta(days=5),
        registration_closes_at=start,
    )
    event.refresh_from_db()
    return event


def at(event: Event, minutes: int) -> str:
    return (timezone.localtime(event.starts_at) + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


def import_rows(world: World, event: Event, upload: Any, mapping: dict[str, str] | None = None) -> OnlineImport:
    started = services.start_online_import(actor=world.staff, event=event, upload=upload)
    return services.apply_online_import(actor=world.staff, online_import=started, mapping=mapping or started.mapping)


def test_the_usual_headers_are_recognised(world: World, past: Event) -> None:
    started = services.start_online_import(actor=world.staff, event=past, upload=csv_file([]))
    assert started.mapping == {
        "name": "用户昵称",
        "mobile": "手机号",
        "joined_at": "入会时间",
        "left_at": "退会时间",
        "duration": "参会时长(分钟)",
    }


def test_check_ins_and_online_rows_count_each_person_once(world: World, past: Event) -> None:
    zhang = past.registrations.get(name="张三")
    services.bulk_check_in(actor=world.staff, event=past, registration_ids=[zhang.pk])
    rows = [
        ["张三", "13900000001", at(past, 0), at(past, 90), 90],  # on site and online: one person
        ["李四-天马辉科技", "", at(past, 5), at(past, 60), 55],  # matched by name (nickname with the company)
        ["路人甲", "13700000009", at(past, 0), at(past, 30), 30],  # not registered: counts by mobile
        ["路人甲", "13700000009", at(past, 20), at(past, 50), 30],  # re-joined: 0–50 is 50 minutes, not 60
        ["短暂", "13700000008", at(past, 0), at(past, 5), 5],  # below the minimum: not counted
    ]
    done = import_rows(world, past, csv_file(rows))
    assert (done.row_count, done.matched_by_mobile, done.matched_by_name, done.unmatched) == (5, 1, 1, 3)
    figures = selectors.attendance(past)
    assert (figures.onsite, figures.online, figures.total, figures.checked_in) == (1, 3, 3, 1)  # 张三 once
    assert Attendance.objects.get(event=past, person_key="m:13700000009").online_minutes == Decimal("50.00")


def test_importing_the_same_file_twice_does_not_count_anyone_twice(world: World, past: Event) -> None:
    rows = [["李四", "13900000002", at(past, 0), at(past, 40), 40]]
    import_rows(world, past, csv_file(rows))
    import_rows(world, past, csv_file(rows))
    figures = selectors.attendance(past)
    assert (figures.online, figures.total) == (1, 1)
    assert Attendance.objects.get(event=past).online_minutes == Decimal("40.00")


def test_a_malformed_file_is_refused_with_the_rows_and_counts_nothing(world: World, past: Event) -> None:
    rows = [
        ["张三", "13900000001", at(past, 0), at(past, 30), 30],
        ["李四", "12345", "昨天下午", at(past, 30), "半小时"],
    ]
    started = services.start_online_import(actor=world.staff, event=past, upload=csv_file(rows))
    with pytest.raises(DomainError) as refused:
        services.apply_online_import(actor=world.staff, online_import=started, mapping=started.mapping)
    assert refused.value.code == "rows"
    assert "3" in refused.value.message  # the row number as the spreadsheet shows it
    assert not OnlineAttendee.objects.exists() and not Attendance.objects.exists()
    assert OnlineImport.objects.get().status == "uploaded"


def test_a_file_that_is_no_spreadsheet_is_refused_at_upload(world: World, past: Event) -> None:
    with pytest.raises(DomainError) as refused:
        services.start_online_import(
            actor=world.staff, event=past, upload=SimpleUploadedFile("export.xlsx", b"not a zip at all")
        )
    assert refused.value.code == "file"
    assert not OnlineImport.objects.exists()


def test_a_mapping_without_names_or_durations_is_refused(world: World, past: Event) -> None:
    started = services.start_online_import(actor=world.staff, event=past, upload=csv_file([]))
    with pytest.raises(DomainError):
        services.apply_online_import(actor=world.staff, online_import=started, mapping={"name": "用户昵称"})
    with pytest.raises(DomainError):
        services.apply_online_import(
            actor=world.staff, online_import=started, mapping={"name": "不存在的列", "duration": "参会时长(分钟)"}
        )


def test_columns_mapped_by_hand_are_remembered_for_the_organisation(world: World, past: Event) -> None:
    headers = ["观众", "电话号码(选填)", "累计观看(分钟)"]
    rows = [["张三", "13900000001", "45"]]
    mapping = {"name": "观众", "mobile": "电话号码(选填)", "duration": "累计观看(分钟)"}
    import_rows(world, past, xlsx_file(rows, headers), mapping)
    assert ColumnMapping.objects.get(organization=past.organization).mapping["name"] == "观众"
    again = services.start_online_import(actor=world.staff, event=past, upload=xlsx_file(rows, headers))
    assert again.mapping["duration"] == "累计观看(分钟)" and again.mapping["name"] == "观众"


def test_deleting_an_import_takes_its_people_out_of_the_count(world: World, past: Event) -> None:
    done = import_rows(world, past, csv_file([["王五", "13900000003", at(past, 0), at(past, 60), 60]]))
    assert selectors.attendance(past).total == 1
    services.delete_online_import(actor=world.staff, online_import=done)
    assert selectors.attendance(past).total == 0


def test_only_the_events_staff_import(world: World, past: Event) -> None:
    from qiaoliang.core.exceptions import NotAllowedError

    with pytest.raises(NotAllowedError):
        services.start_online_import(actor=world.contact, event=past, upload=csv_file([]))


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        (83, "83.00"),
        ("83.5", "83.50"),
        ("83分钟", "83.00"),
        ("1小时23分", "83.00"),
        ("01:23:30", "83.50"),
        ("12:30", "12.50"),
        (datetime.timedelta(minutes=7), "7.00"),
        ("2h 5min", "125.00"),
    ],
)
def test_durations_are_read_the_ways_platforms_write_them(value: Any, minutes: str) -> None:
    assert parse_duration(value) == Decimal(minutes)


def test_online_minutes_are_the_union_of_intervals_or_the_sum() -> None:
    t = datetime.datetime(2026, 3, 1, 14, 0, tzinfo=datetime.UTC)
    m = datetime.timedelta(minutes=1)
    assert online_minutes([(t, t + 30 * m, Decimal(30)), (t + 20 * m, t + 50 * m, Decimal(30))]) == Decimal("50.00")
    assert online_minutes([(t, t + 30 * m, Decimal(30)), (None, None, Decimal(15))]) == Decimal("45.00")


def test_totals_add_up_per_series_organisation_subtree_and_period(world: World, past: Event, make_event: Any) -> None:
    import_rows(
        world,
        past,
        csv_file(
            [
                ["张三", "13900000001", at(past, 0), at(past, 60), 60],
                ["李四", "13900000002", at(past, 0), at(past, 60), 60],
            ]
        ),
    )
    series = services.create_series(actor=world.staff, organization=world.federation, name="上海人力资源讲堂")
    services.update_event(actor=world.staff, event=past, series=series, issue_number=13)
    other = make_event(organization=world.chamber1, actor=world.secretary, mode="online")
    Event.objects.filter(pk=other.pk).update(
        starts_at=past.starts_at,
        ends_at=past.ends_at,
        registration_opens_at=past.registration_opens_at,
        registration_closes_at=past.registration_closes_at,
    )
    import_rows(world, other, csv_file([["访客", "13700000001", at(past, 0), at(past, 60), 60]]))
    everything = selectors.attendance_totals(world.staff, selectors.TotalsFilters())
    assert (everything.total.total, everything.event_count) == (3, 2)
    by_series = {row["series"]: row["total"] for row in everything.series}
    assert by_series == {"上海人力资源讲堂": 2, None: 1}
    district = selectors.attendance_totals(world.staff, selectors.TotalsFilters(organization=world.district.pk))
    assert district.total.total == 1
    secretary = selectors.attendance_totals(world.secretary, selectors.TotalsFilters())
    assert secretary.event_count == 2  # a public event of the federation is visible to the secretary too
    later = selectors.attendance_totals(world.staff, selectors.TotalsFilters(since=timezone.localdate()))
    assert later.total.total == 0
