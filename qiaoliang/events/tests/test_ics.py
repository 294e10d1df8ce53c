"""The iCalendar writer: escaped text, lines folded at 75 octets without splitting a character, UTC times."""

from __future__ import annotations

import datetime

from qiaoliang.events import ics


def test_text_is_escaped_and_long_lines_are_folded_by_octets() -> None:
    start = datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.UTC)
    text = ics.calendar(
        [
            ics.Entry(
                uid="event-1@qiaoliang",
                starts_at=start,
                ends_at=start + datetime.timedelta(hours=2),
                summary="讲堂；第13期, 线上\n线下",
                description="长" * 60,
            )
        ],
        name="活动",
    )
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:讲堂；第13期\\, 线上\\n线下" in text
    assert "DTSTART:20260301T060000Z" in text
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "DESCRIPTION:" + "长" * 60 in unfolded
