"""Hybrid attendance: on-site check-ins plus online attendees from the meeting platform's export, each person once.

How an online export is counted
-------------------------------
1. Upload (xlsx or CSV, bounded by `core.sheets`): the header row is read and the columns are mapped to name,
   mobile, joined at, left at and duration in the UI; the organisation's last mapping is offered again when the
   file has those headers, otherwise common platform headers (腾讯会议, 钉钉, 飞书, Zoom) are guessed.
2. Apply: every row is parsed (a bad cell refuses the whole file: nothing is counted from half a file); a row is
   matched to a registration by mobile, then by name (the nickname's part before a separator, Traditional
   folded to Simplified), and only if the name is unique among the event's registrations.
3. Each person (the registration, else the mobile, else the name) gets their online minutes: the length of the
   union of their join–leave intervals when every row has both times (re-joins and duplicate rows overlap), else
   the sum of their rows' durations. They count online once that reaches the event's minimum minutes.

An attendance (人次) is one person at one event who checked in on site or counted online; a person who did
both is one attendance. Totals over events, series, organisation subtrees and periods add these up.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit
from qiaoliang.core.codes import normalize_mobile
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import CHANGE, require
from qiaoliang.core.sheets import (
    CellError,
    Column,
    RowError,
    SheetRefusedError,
    SheetSpec,
    cell_text,
    file_name_of,
    normalize_header,
    open_rows,
    read_sheet,
)
from qiaoliang.core.text import to_simplified
from qiaoliang.events.models import (
    Attendance,
    CheckIn,
    ColumnMapping,
    Event,
    OnlineAttendee,
    OnlineImport,
    Registration,
)
from qiaoliang.events.services.events import EARLIEST, LATEST

MAX_ROWS = 50_000
MAX_COLUMNS = 60
MAX_ROW_ERRORS_SHOWN = 8
TWO_PLACES = Decimal("0.01")
# Nobody follows an event longer than it lasts (31 days at the most): a row or a person's total above that is a
# mistake in the file, and far below what the minutes columns hold (999,999.99).
MAX_MINUTES = 60 * 24 * 31

# The fields of an attendee export, in the order the mapping form shows them.
FIELDS: list[tuple[str, Any]] = [
    ("name", gettext_lazy("Name or nickname")),
    ("mobile", gettext_lazy("Mobile")),
    ("joined_at", gettext_lazy("Joined at")),
    ("left_at", gettext_lazy("Left at")),
    ("duration", gettext_lazy("Duration (minutes)")),
]
FIELD_NAMES = [name for name, _label in FIELDS]
# Headers the usual platforms write (normalised: spaces removed), used when nothing was remembered.
GUESSES: dict[str, tuple[str, ...]] = {
    "name": (
        "姓名",
        "用户昵称",
        "入会昵称",
        "参会者",
        "参会人",
        "昵称",
        "用户名",
        "名称",
        "参会人员",
        "观众昵称",
        "name",
        "username",
        "participantname",
        "name(originalname)",
    ),
    "mobile": ("手机号", "手机号码", "手机", "电话", "联系电话", "电话号码", "mobile", "phone", "phonenumber"),
    "joined_at": (
        "入会时间",
        "首次入会时间",
        "加入时间",
        "进入时间",
        "进入直播时间",
        "开始观看时间",
        "jointime",
        "joined",
        "jointime(utc+8)",
    ),
    "left_at": (
        "退会时间",
        "最后退会时间",
        "离会时间",
        "离开时间",
        "退出时间",
        "离开直播时间",
        "结束观看时间",
        "leavetime",
        "left",
        "leavetime(utc+8)",
    ),
    "duration": (
        "参会时长",
        "参会时长(分钟)",
        "参会时长（分钟）",
        "累计参会时长",
        "观看时长",
        "观看时长(分钟)",
        "在线时长",
        "在线时长(分钟)",
        "时长",
        "时长(分钟)",
        "duration",
        "duration(minutes)",
    ),
}
_SEPARATORS = re.compile(r"[-－—_＿()（）\[\]【】|｜/／\s·•@]")
_DURATION_HMS = re.compile(r"^(\d{1,3}):(\d{1,2})(?::(\d{1,2}))?$")
_DURATION_WORDS = re.compile(
    r"^(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h))?\s*(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|min|m))?"
    r"\s*(?:(\d+(?:\.\d+)?)\s*(?:秒钟|秒|s))?$",
    re.IGNORECASE,
)
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
)


# --- cells -----------------------------------------------------------------------------------------------------


def normalize_name(value: Any) -> str:
    """Return a name as compared: NFKC, Simplified, no spaces, lower case."""
    text = unicodedata.normalize("NFKC", cell_text(value))
    return to_simplified(re.sub(r"\s+", "", text)).lower()[:60]


def _name_candidates(value: Any) -> list[str]:
    full = normalize_name(value)
    first = _SEPARATORS.split(unicodedata.normalize("NFKC", cell_text(value)).strip())[0]
    short = normalize_name(first)
    return [full] if not short or short == full else [full, short]


def parse_name(value: Any) -> str:
    text = " ".join(cell_text(value).split())[:60]
    if not text:
        raise CellError(_("The name is empty."))
    return text


def parse_mobile(value: Any) -> str:
    """Return a mobile number, or '' for an empty or masked one (138****5678): those rows match by name."""
    text = cell_text(value)
    if not text or "*" in text:
        return ""
    try:
        return normalize_mobile(text)
    except Exception as exc:  # ValidationError: shown as the row's reason
        raise CellError(_("%(value)s is not a mainland mobile number.") % {"value": text[:20]}) from exc


def parse_moment(value: Any) -> datetime.datetime | None:
    """Return an aware date and time from a date cell or text (local time when the file has no offset)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    moment: datetime.datetime | None = None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            for pattern in _DATETIME_FORMATS:
                try:
                    moment = datetime.datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
    if moment is None:
        raise CellError(
            _("%(value)s is not a date and time; write it as YYYY-MM-DD HH:MM:SS.") % {"value": cell_text(value)[:30]}
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    if not EARLIEST <= moment < LATEST:  # year 1 in Beijing time is year 0 in UTC: it cannot be stored
        raise CellError(
            _("%(value)s is not a date from %(first)d to %(last)d.")
            % {"value": cell_text(value)[:30], "first": EARLIEST.year, "last": LATEST.year - 1}
        )
    return moment


def parse_duration(value: Any) -> Decimal | None:
    """Return minutes from 83, 83.5, "83分钟", "1小时23分", "01:23:45" (h:m:s) or a time cell; None if empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError(_("%(value)s is not a duration in minutes.") % {"value": value})
    if isinstance(value, int | float | Decimal):
        minutes = Decimal(str(value))
    elif isinstance(value, datetime.timedelta):
        minutes = Decimal(value.total_seconds()) / 60
    elif isinstance(value, datetime.time):
        minutes = Decimal(value.hour * 60 + value.minute) + Decimal(value.second) / 60
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
        hms = _DURATION_HMS.match(text)
        words = _DURATION_WORDS.match(text)
        try:
            if hms:
                hours, mins, secs = hms.groups()
                if secs is None:  # "83:20" is minutes and seconds, as the platforms write short durations
                    minutes = Decimal(hours) + Decimal(mins) / 60
                else:
                    minutes = Decimal(hours) * 60 + Decimal(mins) + Decimal(secs) / 60
            elif text and words and any(words.groups()):
                hours, mins, secs = (Decimal(part) if part else Decimal(0) for part in words.groups())
                minutes = hours * 60 + mins + secs / 60
            else:
                minutes = Decimal(text)
        except (InvalidOperation, ValueError) as exc:
            raise CellError(_("%(value)s is not a duration in minutes.") % {"value": str(value)[:20]}) from exc
    if minutes < 0 or minutes > MAX_MINUTES:
        raise CellError(_("%(value)s is not a duration in minutes.") % {"value": cell_text(value)[:20]})
    return minutes.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


PARSERS = {
    "name": parse_name,
    "mobile": parse_mobile,
    "joined_at": parse_moment,
    "left_at": parse_moment,
    "duration": parse_duration,
}


# --- on site ----------------------------------------------------------------------------------------------------


def registration_key(registration_id: int) -> str:
    return f"r:{registration_id}"


def mark_onsite(registration: Registration) -> None:
    """Count a checked-in person on site at their event (once; their online minutes are kept).

    The event row is locked so that a check-in and an import of the online export never write the same
    person's row at once.
    """
    list(Event.objects.select_for_update().filter(pk=registration.event_id).values_list("pk", flat=True))
    key = registration_key(registration.pk)
    if Attendance.objects.filter(event_id=registration.event_id, person_key=key).update(onsite=True):
        return
    try:
        with transaction.atomic():
            Attendance.objects.create(
                event_id=registration.event_id,
                person_key=key,
                registration=registration,
                name=registration.name[:60],
                onsite=True,
            )
    except IntegrityError:
        Attendance.objects.filter(event_id=registration.event_id, person_key=key).update(onsite=True)


# --- the online export ---------------------------------------------------------------------------------------------


def header_spec() -> SheetSpec:
    """Return the limits a whole export is read with before its columns are mapped."""
    return SheetSpec(
        columns=(),
        max_rows=MAX_ROWS,
        max_columns=MAX_COLUMNS,
        allow_unknown_columns=True,
        max_cell_chars=500,
        what=str(_("attendee file")),
    )


def read_headers(upload: Any, file_name: str) -> list[str]:
    """Return an upload's header cells (bounded checks first); raise DomainError when it cannot be read."""
    try:
        rows = open_rows(upload, file_name, header_spec())
        header = next(rows, None)
        rows.close()
    except SheetRefusedError as exc:
        raise DomainError(str(exc), code="file") from exc
    finally:
        upload.seek(0)
    headers = [cell_text(cell)[:60] for cell in header or []]
    if not any(headers):
        raise DomainError(_("The file has no header row; the first row must hold the column names."), code="file")
    cleaned = [header for header in headers if header]
    if len({normalize_header(h) for h in cleaned}) != len(cleaned):
        raise DomainError(_("Two columns of the file have the same name; rename one of them."), code="file")
    return cleaned


def suggest_mapping(event: Event, headers: list[str]) -> dict[str, str]:
    """Return {field: header}: the organisation's remembered mapping if the file has its headers, else guesses."""
    present = {normalize_header(header): header for header in headers}
    remembered = ColumnMapping.objects.filter(organization_id=event.organization_id).first()
    if remembered and remembered.mapping:
        mapping = {field: present.get(normalize_header(header), "") for field, header in remembered.mapping.items()}
        if all(mapping.get(field) for field, header in remembered.mapping.items() if header):
            return {field: mapping.get(field, "") for field in FIELD_NAMES}
    suggestion: dict[str, str] = {}
    used: set[str] = set()
    for field in FIELD_NAMES:
        for guess in GUESSES[field]:
            for normalized, header in present.items():
                if header not in used and normalized.lower() == guess:
                    suggestion[field] = header
                    used.add(header)
                    break
            if field in suggestion:
                break
    return {field: suggestion.get(field, "") for field in FIELD_NAMES}


@transaction.atomic
def start_online_import(*, actor: Any, event: Event, upload: Any) -> OnlineImport:
    """Keep an uploaded attendee export and read its header row; the columns are mapped next."""
    require(actor, CHANGE, event)
    if not event.is_online:
        raise DomainError(_("Only online and hybrid events have online attendees."), code="mode")
    name = file_name_of(upload)
    headers = read_headers(upload, name)
    online_import = OnlineImport(
        event=event,
        file_name=name,
        headers=headers,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    online_import.mapping = suggest_mapping(event, headers)
    upload.seek(0)
    online_import.file.save(name, ContentFile(upload.read()), save=False)
    online_import.save()
    audit.record(
        "events.online_import.uploaded",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"import": online_import.pk, "file": name, "headers": headers[:20]},
    )
    return online_import


def _check_mapping(online_import: OnlineImport, mapping: dict[str, str]) -> dict[str, str]:
    cleaned = {field: str(mapping.get(field) or "").strip() for field in FIELD_NAMES}
    headers = set(online_import.headers)
    unknown = [header for header in cleaned.values() if header and header not in headers]
    if unknown:
        raise DomainError(_("The file has no column %(column)s.") % {"column": unknown[0]}, code="mapping")
    chosen = [header for header in cleaned.values() if header]
    if len(chosen) != len(set(chosen)):
        raise DomainError(_("Map each column of the file to one field only."), code="mapping")
    if not cleaned["name"]:
        raise DomainError(_("Choose the column with the names."), code="mapping")
    if not cleaned["duration"] and not (cleaned["joined_at"] and cleaned["left_at"]):
        raise DomainError(_("Choose the duration column, or both the joined-at and left-at columns."), code="mapping")
    return cleaned


def _minutes_between(joined: datetime.datetime, left: datetime.datetime) -> Decimal:
    return (Decimal((left - joined).total_seconds()) / 60).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@transaction.atomic
def apply_online_import(*, actor: Any, online_import: OnlineImport, mapping: dict[str, str]) -> OnlineImport:
    """Read every row with the mapping, match rows to registrations, count the attendances; all or nothing."""
    event = Event.objects.select_for_update().get(pk=online_import.event_id)  # one import of an event at a time
    require(actor, CHANGE, event)
    locked = OnlineImport.objects.select_for_update().get(pk=online_import.pk)
    if locked.status == OnlineImport.Status.APPLIED:
        raise DomainError(_("This file was counted already."), code="applied")
    mapping = _check_mapping(locked, mapping)
    spec = SheetSpec(
        columns=tuple(
            Column(header=header, parse=PARSERS[field], required=True, key=field)
            for field, header in mapping.items()
            if header
        ),
        max_rows=MAX_ROWS,
        max_columns=MAX_COLUMNS,
        allow_unknown_columns=True,
        max_cell_chars=500,
        what=str(_("attendee file")),
    )
    with locked.file.open("rb") as handle:
        result = read_sheet(handle, spec, locked.file_name)
    if result.file_error:
        raise DomainError(result.file_error, code="file")
    problems = list(result.errors)
    rows: list[dict[str, Any]] = []
    for row in result.rows:
        values = row.values
        joined, left, duration = values.get("joined_at"), values.get("left_at"), values.get("duration")
        if joined and left and left < joined:
            problems.append(_row_error(row.number, mapping["left_at"], _("The person left before joining.")))
            continue
        if duration is None:
            if not (joined and left):
                problems.append(
                    _row_error(row.number, mapping["duration"] or mapping["left_at"], _("The duration is missing."))
                )
                continue
            duration = _minutes_between(joined, left)
            if duration > MAX_MINUTES:
                problems.append(
                    _row_error(
                        row.number,
                        mapping["left_at"],
                        _("The person left more than 31 days after joining; check the times."),
                    )
                )
                continue
        rows.append(
            {
                "number": row.number,
                "name": values["name"],
                "mobile": values.get("mobile") or "",
                "joined_at": joined,
                "left_at": left,
                "minutes": duration,
            }
        )
    if problems:
        shown = "；".join(str(problem) for problem in problems[:MAX_ROW_ERRORS_SHOWN])
        more = len(problems) - MAX_ROW_ERRORS_SHOWN
        message = _("The attendee file has %(count)d errors; nothing was counted. %(errors)s") % {
            "count": len(problems),
            "errors": shown,
        }
        if more > 0:
            message += " " + _("(and %(more)d more)") % {"more": more}
        raise DomainError(message, code="rows")
    stats = _store_rows(event, locked, rows)
    OnlineImport.objects.filter(pk=locked.pk).update(
        status=OnlineImport.Status.APPLIED, mapping=mapping, row_count=len(rows), applied_at=timezone.now(), **stats
    )
    ColumnMapping.objects.update_or_create(
        organization_id=event.organization_id,
        defaults={"mapping": mapping, "updated_by": actor if getattr(actor, "is_authenticated", False) else None},
    )
    recompute_online(event)
    audit.record(
        "events.online_import.applied",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"import": locked.pk, "rows": len(rows), **stats},
    )
    locked.refresh_from_db()
    return locked


def _row_error(number: int, column: str, message: str) -> RowError:
    return RowError(number, column, message)


def _store_rows(event: Event, online_import: OnlineImport, rows: list[dict[str, Any]]) -> dict[str, int]:
    registrations = list(
        Registration.objects.filter(event=event)
        .exclude(status=Registration.Status.CANCELLED)
        .only("pk", "name", "mobile")
    )
    by_mobile = {registration.mobile: registration for registration in registrations if registration.mobile}
    by_name: dict[str, list[Registration]] = defaultdict(list)
    for registration in registrations:
        by_name[normalize_name(registration.name)].append(registration)
    stats = {"matched_by_mobile": 0, "matched_by_name": 0, "unmatched": 0}
    attendees: list[OnlineAttendee] = []
    for row in rows:
        found: Registration | None = by_mobile.get(row["mobile"]) if row["mobile"] else None
        how = OnlineAttendee.Match.MOBILE if found else OnlineAttendee.Match.NONE
        if found is None:
            for candidate in _name_candidates(row["name"]):
                same = by_name.get(candidate, [])
                if len(same) == 1:
                    found, how = same[0], OnlineAttendee.Match.NAME
                    break
        if found is not None:
            key = registration_key(found.pk)
        elif row["mobile"]:
            key = f"m:{row['mobile']}"
        else:
            key = f"n:{normalize_name(row['name'])}"
        stats[{"mobile": "matched_by_mobile", "name": "matched_by_name", "none": "unmatched"}[how]] += 1
        attendees.append(
            OnlineAttendee(
                online_import=online_import,
                event=event,
                row_number=row["number"],
                name=row["name"],
                mobile=row["mobile"],
                joined_at=row["joined_at"],
                left_at=row["left_at"],
                minutes=row["minutes"],
                registration=found,
                matched_by=how,
                person_key=key[:80],
            )
        )
    OnlineAttendee.objects.bulk_create(attendees, batch_size=1000)
    return stats


def online_minutes(rows: Iterable[tuple[datetime.datetime | None, datetime.datetime | None, Decimal]]) -> Decimal:
    """Return one person's online minutes: the union of their intervals if every row has both times, else the sum.

    At most `MAX_MINUTES`: intervals years apart, or the same rows many times over, would pass the column.
    """
    rows = list(rows)
    if rows and all(joined and left for joined, left, _minutes in rows):
        intervals = sorted((joined, left) for joined, left, _minutes in rows)  # type: ignore[type-var]
        total = datetime.timedelta()
        start, end = intervals[0]
        for joined, left in intervals[1:]:
            if joined <= end:  # type: ignore[operator]
                end = max(end, left)  # type: ignore[type-var]
            else:
                total += end - start  # type: ignore[operator]
                start, end = joined, left
        total += end - start  # type: ignore[operator]
        followed = (Decimal(total.total_seconds()) / 60).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    else:
        followed = sum((minutes for _joined, _left, minutes in rows), Decimal(0)).quantize(TWO_PLACES)
    return min(followed, Decimal(MAX_MINUTES))  # rows repeated in an export cannot pass the column


def recompute_online(event: Event) -> None:
    """Recount every person's online minutes at an event from its imported rows (on-site marks are kept).

    Call it with the event row locked (imports and check-ins lock it).
    """
    per_person: dict[str, list[tuple[Any, Any, Decimal]]] = defaultdict(list)
    names: dict[str, tuple[str, Any]] = {}
    for key, joined, left, minutes, name, registration_id in OnlineAttendee.objects.filter(event=event).values_list(
        "person_key", "joined_at", "left_at", "minutes", "name", "registration_id"
    ):
        per_person[key].append((joined, left, minutes))
        names.setdefault(key, (name, registration_id))
    Attendance.objects.filter(event=event, onsite=False).delete()
    Attendance.objects.filter(event=event).exclude(online_minutes=0).update(online_minutes=0)
    onsite = {row.person_key: row for row in Attendance.objects.filter(event=event).only("pk", "person_key")}
    changed: list[Attendance] = []
    new_rows: list[Attendance] = []
    for key, rows in per_person.items():
        minutes = online_minutes(rows)
        if key in onsite:
            onsite[key].online_minutes = minutes
            changed.append(onsite[key])
        else:
            name, registration_id = names[key]
            new_rows.append(
                Attendance(
                    event=event, person_key=key, registration_id=registration_id, name=name[:60], online_minutes=minutes
                )
            )
    Attendance.objects.bulk_update(changed, ["online_minutes"], batch_size=500)
    Attendance.objects.bulk_create(new_rows, batch_size=1000)


@transaction.atomic
def delete_online_import(*, actor: Any, online_import: OnlineImport) -> None:
    """Take an imported file back out of the count (a wrong file, a file counted twice)."""
    event = Event.objects.select_for_update().get(pk=online_import.event_id)
    require(actor, CHANGE, event)
    audit.record(
        "events.online_import.deleted",
        actor=actor,
        target=event,
        organization_id=event.organization_id,
        data={"import": online_import.pk, "file": online_import.file_name},
    )
    stored = online_import.file
    online_import.delete()
    recompute_online(event)
    transaction.on_commit(lambda: stored.delete(save=False) if stored else None)


def rebuild_attendance(*, event: Event) -> None:
    """Rebuild an event's attendance from its check-ins and imported rows (a repair; idempotent)."""
    with transaction.atomic():
        Event.objects.select_for_update().get(pk=event.pk)
        Attendance.objects.filter(event=event).update(onsite=False)
        for checkin in CheckIn.objects.filter(event=event).select_related("registration"):
            mark_onsite(checkin.registration)
        recompute_online(event)
