"""Working days as China's official calendar has them: public holidays and the adjusted working days (调休).

The State Council publishes each year's holidays in November or December; `chinesecalendar` ships them (2004 to
the year its release knows, see `covered_until`), usually some weeks later. Until then staff enter the notice's
days (`OfficialDay`, the official-calendar page of appeals): a day is a working day as the entered days say first,
then as the package says, then Monday to Friday. `check_calendar` (a Django system check) warns the operator once
the coming year is covered by neither, so that deadlines do not reach into an unknown year.

The entered days are read once per year a computation touches (one indexed query: a deadline loops over days,
never a query per day), so every app server sees an entry at once, with nothing to invalidate.
"""

from __future__ import annotations

import datetime

import chinese_calendar

from qiaoliang.core.models import OfficialDay


def covered_until() -> int:
    """Return the last year the installed calendar package knows the official holidays of."""
    return max(day.year for day in chinese_calendar.constants.holidays)


def entered_years() -> set[int]:
    """Return the years for which staff entered official days."""
    return {day.year for day in OfficialDay.objects.dates("day", "year")}


def is_covered(year: int) -> bool:
    """Tell whether the official holidays of a year are known: in the package, or entered by staff."""
    return year <= covered_until() or OfficialDay.objects.filter(day__year=year).exists()


def _package_says(day: datetime.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the installed calendar does not know yet: Monday to Friday
        return day.weekday() < 5


class Calendar:
    """The working days of one computation: entered days first (read once per year asked), then the package."""

    def __init__(self) -> None:
        self._years: dict[int, dict[datetime.date, bool]] = {}

    def entered(self, year: int) -> dict[datetime.date, bool]:
        days = self._years.get(year)
        if days is None:
            rows = OfficialDay.objects.filter(day__gte=datetime.date(year, 1, 1), day__lte=datetime.date(year, 12, 31))
            days = self._years[year] = dict(rows.values_list("day", "is_working_day"))
        return days

    def is_working_day(self, day: datetime.date) -> bool:
        entered = self.entered(day.year).get(day)
        return entered if entered is not None else _package_says(day)


def is_working_day(day: datetime.date) -> bool:
    """Tell whether a day is an official working day (调休 Saturdays included, holidays excluded)."""
    return Calendar().is_working_day(day)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """Return the date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    calendar = Calendar()
    day = start
    left = days
    while left:
        day += datetime.timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Return the working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    calendar = Calendar()
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        count += calendar.is_working_day(day)
    return count
