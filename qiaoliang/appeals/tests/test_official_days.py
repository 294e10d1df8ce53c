"""The official calendar entered by staff ahead of chinesecalendar: entered days count first (a weekday made a
holiday, a Saturday made a working day), deadlines move with them, the CSV import is bounded and all or nothing,
the system check counts entered years, and only federation staff maintain it."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from qiaoliang.appeals import official_days, services
from qiaoliang.appeals.models import Appeal
from qiaoliang.core import checks, workdays
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import AuditLog, OfficialDay

pytestmark = pytest.mark.django_db
URL = "/appeals/calendar/"
MONDAY, SATURDAY = datetime.date(2027, 1, 4), datetime.date(2027, 1, 9)  # 2027: not in chinesecalendar 1.11.0


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def csv_file(text: str, name: str = "2027.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_an_entered_holiday_and_working_saturday_move_an_appeal_deadline(client: Any, world: Any) -> None:
    assert workdays.covered_until() < 2027
    start = datetime.date(2027, 1, 1)  # a Friday
    assert services.deadline_for(5, start) == datetime.date(2027, 1, 8)  # Monday to Friday: 4 … 8 January
    client.force_login(world.staff)
    for day, kind, name in ((MONDAY, "holiday", "元旦"), (SATURDAY, "workday", "元旦调休")):
        response = client.post(URL, {"day": day.isoformat(), "kind": kind, "name": name})
        assert response.status_code == 302, response.content.decode()[:500]
    assert list(OfficialDay.objects.values_list("day", "is_working_day", "name")) == [
        (MONDAY, False, "元旦"), (SATURDAY, True, "元旦调休"),
    ]  # fmt: skip
    assert workdays.is_working_day(MONDAY) is False and workdays.is_working_day(SATURDAY) is True
    assert services.deadline_for(5, start) == SATURDAY  # 5, 6, 7, 8 and the working Saturday 9 January
    assert workdays.working_days_between(start, datetime.date(2027, 1, 11)) == 6
    # An appeal routed that Friday through the page gets the moved deadline.
    appeal = services.submit_appeal(actor=world.contact, enterprise=world.e1, title="银行抽贷，流动资金断裂",
                                    description="今年一季度银行突然抽贷300万元。")  # fmt: skip
    with time_machine.travel(datetime.datetime(2027, 1, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        client.force_login(world.staff)  # a session of today would have expired by then
        response = client.post(reverse("appeals:act", args=[appeal.pk, "assign"]), {
            "department": world.department.pk, "working_days": 5, "version": appeal.version,
        })  # fmt: skip
    assert response.status_code == 302 and response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    assert Appeal.objects.get(pk=appeal.pk).deadline == SATURDAY
    assert AuditLog.objects.filter(action="core.official_day.saved").count() == 2


def test_entered_days_count_before_the_package(world: Any) -> None:
    # chinesecalendar has Saturday 10 October 2026 as a 调休 working day; a correction entered here wins.
    saturday = datetime.date(2026, 10, 10)
    assert workdays.is_working_day(saturday) is True
    assert services.deadline_for(10, datetime.date(2026, 9, 30)) == datetime.date(2026, 10, 20)
    official_days.save_official_day(actor=world.staff, day=saturday, is_working_day=False, name="更正")
    assert workdays.is_working_day(saturday) is False
    assert services.deadline_for(10, datetime.date(2026, 9, 30)) == datetime.date(2026, 10, 21)
    official_days.delete_official_day(actor=world.staff, day=saturday)
    assert workdays.is_working_day(saturday) is True


def test_a_deadline_reads_the_entered_days_once_per_year_not_per_day(world: Any) -> None:
    official_days.save_official_day(actor=world.staff, day=MONDAY, is_working_day=False)
    with CaptureQueriesContext(connection) as captured:
        workdays.add_working_days(datetime.date(2026, 12, 1), 60)  # December 2026 into March 2027
    assert len(captured.captured_queries) == 2  # 2026 and 2027


def test_the_csv_import_enters_every_day(client: Any, world: Any) -> None:
    client.force_login(world.staff)
    text = (
        "date,type,name\n2027-02-06,休,春节\n2027-02-07,holiday,春节\n2027/02/20,班,春节调休\n2027-10-01,假日,国庆节\n"
    )
    response = client.post(URL, {"file": csv_file(text)})
    assert response.status_code == 302 and response["Location"].endswith("?year=2027")
    assert list(OfficialDay.objects.values_list("day", "is_working_day")) == [
        (datetime.date(2027, 2, 6), False), (datetime.date(2027, 2, 7), False), (datetime.date(2027, 2, 20), True),
        (datetime.date(2027, 10, 1), False),
    ]  # fmt: skip
    page = client.get(URL + "?year=2027").content.decode()
    assert "2027-02-20" in page and "春节调休" in page
    # Importing again corrects the same dates, never doubles them.
    client.post(URL, {"file": csv_file("日期,类型,名称\n2027-02-20,holiday,春节\n")})
    assert OfficialDay.objects.count() == 4 and OfficialDay.objects.get(day="2027-02-20").is_working_day is False


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("date,type,name\n2027-02-06,休,春节\n2027-02-31,休,春节\n", "is not a date"),
        ("date,type,name\n2027-02-06,休,春节\n2027-02-07,maybe,春节\n", "Write holiday (休) or workday (班)"),
        ("date,type,name\n2027-02-06,休,春节\n2027-02-06,班,春节\n", "is in row 2 already"),
        ("day,kind\n2027-02-06,休\n", "These columns are missing"),
        ("date,type,name\n" + "2027-01-01,休,x\n" * (official_days.MAX_ROWS + 1), "more than 400 rows"),
        ("date,type,name\n2027-01-01,休," + "长" * 12000 + "\n", "larger than 32 KB"),
    ],
)
def test_a_bad_calendar_file_enters_nothing_and_says_why(client: Any, world: Any, text: str, reason: str) -> None:
    client.force_login(world.staff)
    client.cookies["django_language"] = "en"
    response = client.post(URL, {"file": csv_file(text)})
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not OfficialDay.objects.exists()


def test_only_csv_files_are_read(world: Any) -> None:
    result = official_days.import_official_days(actor=world.staff, upload=io.BytesIO(b"x"), file_name="a.xlsx")
    assert result.file_error == "Only .csv files can be imported here." and not OfficialDay.objects.exists()


def test_bad_days_are_refused_with_a_reason(world: Any) -> None:
    with pytest.raises(DomainError, match="from 2000 to 2100"):
        official_days.save_official_day(actor=world.staff, day=datetime.date(1999, 1, 1), is_working_day=False)
    with pytest.raises(DomainError, match="No day was entered"):
        official_days.delete_official_day(actor=world.staff, day=MONDAY)


def test_only_federation_staff_maintain_the_calendar(client: Any, world: Any) -> None:
    for user in (world.secretary, world.convenor, world.contact, world.liaison, world.provider, world.outsider):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"day": "2027-01-04", "kind": "holiday"}).status_code == 403
        with pytest.raises(NotAllowedError):
            official_days.save_official_day(actor=user, day=MONDAY, is_working_day=False)
    assert not OfficialDay.objects.exists()
    client.force_login(world.staff)
    page = client.get(reverse("appeals:list"))
    assert 'data-testid="official-calendar"' in page.content.decode()
    client.force_login(world.secretary)
    assert 'data-testid="official-calendar"' not in client.get(reverse("appeals:list")).content.decode()


def _check_ids() -> list[str]:
    return [message.id for message in checks.check_calendar()]


def test_the_system_check_counts_a_year_with_entered_days_as_covered(world: Any) -> None:
    assert workdays.covered_until() == 2026
    with time_machine.travel(datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC), tick=False):
        assert _check_ids() == ["qiaoliang.I001"]  # 2027 unknown yet
        official_days.save_official_day(actor=world.staff, day=MONDAY, is_working_day=False, name="元旦")
        assert _check_ids() == []
    with time_machine.travel(datetime.datetime(2027, 12, 1, tzinfo=datetime.UTC), tick=False):
        assert _check_ids() == ["qiaoliang.I001"]  # 2027 entered, 2028 not yet
        official_days.save_official_day(actor=world.staff, day=datetime.date(2028, 1, 1), is_working_day=False)
        assert _check_ids() == []
    with time_machine.travel(datetime.datetime(2029, 3, 1, tzinfo=datetime.UTC), tick=False):
        assert _check_ids() == ["qiaoliang.W001"]
