"""System checks of what the platform needs from its environment (run by `manage.py check`, CI's `--deploy`)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Info, Tags, Warning, register
from django.utils import timezone

from qiaoliang.core import workdays


@register(Tags.compatibility)
def check_calendar(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Deadlines in working days need the official holidays: warn when this year is unknown, note the next one."""
    year = timezone.localdate().year
    known = workdays.covered_until()
    if known < year:
        return [
            Warning(
                f"The installed chinesecalendar knows the official holidays only up to {known}; deadlines in "
                f"{year} count Monday to Friday as working days.",
                hint="Upgrade chinesecalendar (pip install -U chinesecalendar) and pin the new version.",
                id="qiaoliang.W001",
            )
        ]
    if known == year:
        return [
            Info(
                f"The official holidays of {year + 1} are not in the installed chinesecalendar yet; deadlines "
                f"reaching into {year + 1} count Monday to Friday until it is upgraded.",
                hint="The State Council publishes them in November or December; upgrade chinesecalendar then.",
                id="qiaoliang.I001",
            )
        ]
    return []
