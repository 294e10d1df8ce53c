"""Working days as China's official calendar has them: public holidays and the adjusted working days (调休).

The State Council publishes each year's holidays in November or December; `chinesecalendar` ships them (2004 to
the year its release knows, see `covered_until`). Beyond that year a day counts as working when it is Monday to
Friday, and `check_calendar` (a Django system check) warns the operator once the coming year is not covered, so
that the package is updated before deadlines reach into the unknown year.
"""

from __future__ import annotations

import datetime

import chinese_calendar


def covered_until() -> int:
    """Return the last year the installed calendar knows the official holidays of."""
    return max(day.year for day in chinese_calendar.constants.holidays)


def is_working_day(day: datetime.date) -> bool:
    """Tell whether a day is an official working day (调休 Saturdays included, holidays excluded)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the installed calendar does not know yet: Monday to Friday
        return day.weekday() < 5


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """Return the date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Return the working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        count += is_working_day(day)
    return count
