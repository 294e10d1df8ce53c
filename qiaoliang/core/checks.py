"""System checks of what the platform needs from its environment (run by `manage.py check`, CI's `--deploy`)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Info, Tags, Warning, register
from django.db import DatabaseError, transaction
from django.utils import timezone

from qiaoliang.core import workdays


def _entered_years() -> set[int]:
    """The years staff entered official days for; none when the database cannot be read (not migrated yet, or no
    database at hand, as when static files are built)."""
    try:
        with transaction.atomic():
            return workdays.entered_years()
    except DatabaseError:
        return set()


@register(Tags.compatibility)
def check_calendar(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Deadlines in working days need the official holidays: warn when this year is unknown, note the next one. A
    year is known when the installed chinesecalendar has it or staff entered its official days."""
    year = timezone.localdate().year
    known = workdays.covered_until()
    entered = _entered_years()
    if known < year and year not in entered:
        return [
            Warning(
                f"The official holidays of {year} are neither in the installed chinesecalendar (it knows them up to "
                f"{known}) nor entered on the official calendar page; deadlines in {year} count Monday to Friday as "
                "working days.",
                hint="Upgrade chinesecalendar (pip install -U chinesecalendar) and pin the new version, or enter the "
                "State Council's notice on the official calendar page (/appeals/calendar/).",
                id="qiaoliang.W001",
            )
        ]
    if known <= year and year + 1 not in entered:
        return [
            Info(
                f"The official holidays of {year + 1} are neither in the installed chinesecalendar nor entered on the "
                f"official calendar page yet; deadlines reaching into {year + 1} count Monday to Friday until then.",
                hint="The State Council publishes them in November or December; upgrade chinesecalendar then, or "
                "enter the notice's days on the official calendar page (/appeals/calendar/) before the package has "
                "them.",
                id="qiaoliang.I001",
            )
        ]
    return []
