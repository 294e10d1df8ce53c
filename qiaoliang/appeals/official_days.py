"""The official calendar page's writes: the State Council's holidays and adjusted working days (调休) of a year,
entered by federation staff before `chinesecalendar` ships them (`core.OfficialDay`, read first by
`core.workdays`, so appeal and question deadlines count them at once), one day at a time or from a small CSV.

The CSV has the columns date,type,name (日期,类型,名称 also read): type is `holiday` (休, 放假, 假日) or `workday`
(班, 上班, 补班, 调休); at most `MAX_ROWS` rows and `MAX_BYTES` bytes; every row is checked first, and if any row
has an error nothing is written.
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from qiaoliang.core import audit, sheets
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import OfficialDay
from qiaoliang.core.permissions import require_capability

CAPABILITY = "appeals.calendar"
MAX_ROWS = 400  # a year's notice has about 30 days; a few years at once
MAX_BYTES = 32 * 1024
FIRST_YEAR, LAST_YEAR = 2000, 2100
HOLIDAY_WORDS = {"holiday", "休", "放假", "假", "假日", "节假日", "休息"}
WORKDAY_WORDS = {"workday", "working day", "working", "班", "上班", "补班", "调休", "调休上班", "工作日"}


def _check_day(day: Any) -> datetime.date:
    if not isinstance(day, datetime.date):
        raise DomainError(_("Give the date as YYYY-MM-DD."), code="day")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise DomainError(_("Give a date from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR},
                          code="day")  # fmt: skip
    return day


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) > 40:
        raise DomainError(_("At most %(max)d characters.") % {"max": 40}, code="name")
    return name


def _write(actor: Any, day: datetime.date, is_working_day: bool, name: str) -> OfficialDay:
    entry, _created = OfficialDay.objects.update_or_create(
        day=day, defaults={"is_working_day": is_working_day, "name": name,
                           "updated_by": actor if getattr(actor, "is_authenticated", False) else None},
    )  # fmt: skip
    return entry


@transaction.atomic
def save_official_day(*, actor: Any, day: datetime.date, is_working_day: bool, name: str = "") -> OfficialDay:
    """Enter (or correct) one day of the official calendar: a holiday, or an adjusted working day."""
    require_capability(actor, CAPABILITY, _("Only federation staff maintain the official calendar."))
    entry = _write(actor, _check_day(day), bool(is_working_day), _check_name(name))
    audit.record("core.official_day.saved", actor=entry.updated_by, target=entry,
                 data={"day": day.isoformat(), "working": entry.is_working_day, "name": entry.name})  # fmt: skip
    return entry


@transaction.atomic
def delete_official_day(*, actor: Any, day: datetime.date) -> None:
    """Remove an entered day: the package (or Monday to Friday) decides it again."""
    require_capability(actor, CAPABILITY, _("Only federation staff maintain the official calendar."))
    deleted, _kinds = OfficialDay.objects.filter(day=day).delete()
    if not deleted:
        raise DomainError(_("No day was entered for %(day)s.") % {"day": day.isoformat()}, code="day")
    audit.record("core.official_day.deleted", actor=actor if getattr(actor, "is_authenticated", False) else None,
                 data={"day": day.isoformat()})  # fmt: skip


def _day_cell(value: Any) -> datetime.date:
    day = sheets.cell_date(value)
    if day is None:
        raise sheets.CellError(_("The date is missing."))
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise sheets.CellError(_("Give a date from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR})
    return day


def _type_cell(value: Any) -> bool:
    text = unicodedata.normalize("NFKC", sheets.cell_text(value)).strip().lower()
    if text in HOLIDAY_WORDS:
        return False
    if text in WORKDAY_WORDS:
        return True
    raise sheets.CellError(_("Write holiday (休) or workday (班), not %(value)s.") % {"value": text[:20]})


def _name_cell(value: Any) -> str:
    text = sheets.cell_text(value)
    if len(text) > 40:
        raise sheets.CellError(_("At most %(max)d characters.") % {"max": 40})
    return text


def _spec() -> sheets.SheetSpec:
    """The calendar file's columns and limits (built per upload: its messages are in the reader's language)."""
    return sheets.SheetSpec(
        columns=(
            sheets.Column("date", _day_cell, required=True, aliases=("日期",)),
            sheets.Column("type", _type_cell, required=True, aliases=("类型",)),
            sheets.Column("name", _name_cell, aliases=("名称", "节日")),
        ),
        max_rows=MAX_ROWS,
        max_columns=3,
        max_cell_chars=100,
        what=_("calendar file"),
        hint=_("The first row is date,type,name."),
    )


@dataclass
class CalendarImport:
    """What an uploaded calendar file held: its days, the errors in it, or one error about the whole file."""

    file_name: str = ""
    days: list[tuple[datetime.date, bool, str]] = field(default_factory=list)
    errors: list[sheets.RowError] = field(default_factory=list)
    file_error: str = ""
    written: int = 0


def read_calendar_file(upload: IO[bytes], file_name: str) -> CalendarImport:
    """Read and check a calendar CSV (bounded in bytes and rows) without writing anything."""
    result = CalendarImport(file_name=sheets.file_name_of(upload, file_name))
    if not result.file_name.lower().endswith(".csv"):
        result.file_error = _("Only .csv files can be imported here.")
        return result
    size = getattr(upload, "size", None)
    if not isinstance(size, int):
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(0)
    if size > MAX_BYTES:
        result.file_error = _("The file is larger than %(max)d KB.") % {"max": MAX_BYTES // 1024}
        return result
    sheet = sheets.read_sheet(upload, _spec(), result.file_name)
    if sheet.file_error:
        result.file_error = sheet.file_error
        return result
    seen: dict[datetime.date, int] = {}
    for row in sheet.rows:
        result.errors.extend(row.errors)
        if row.errors:
            continue
        day = row.values["date"]
        if day in seen:
            message = _("%(day)s is in row %(first)d already.") % {"day": day.isoformat(), "first": seen[day]}
            result.errors.append(sheets.RowError(row.number, "date", message))
            continue
        seen[day] = row.number
        result.days.append((day, row.values["type"], row.values["name"] or ""))
    return result


@transaction.atomic
def import_official_days(*, actor: Any, upload: IO[bytes], file_name: str) -> CalendarImport:
    """Enter every day of a calendar CSV, or none when any row has an error (entered days of the same dates are
    corrected, others kept)."""
    require_capability(actor, CAPABILITY, _("Only federation staff maintain the official calendar."))
    result = read_calendar_file(upload, file_name)
    if result.file_error or result.errors:
        return result
    for day, is_working_day, name in result.days:
        _write(actor, day, is_working_day, name)
    result.written = len(result.days)
    years = sorted({day.year for day, _working, _name in result.days})
    audit.record("core.official_day.imported", actor=actor if getattr(actor, "is_authenticated", False) else None,
                 data={"file": result.file_name, "days": result.written, "years": years})  # fmt: skip
    return result


__all__ = ["delete_official_day", "import_official_days", "read_calendar_file", "save_official_day"]
