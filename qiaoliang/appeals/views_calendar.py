"""The official calendar (法定节假日和调休): the days federation staff entered ahead of `chinesecalendar`, by year, a
form for one day and the CSV import. Every deadline in working days reads them (`core.workdays`)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiaoliang.appeals import official_days
from qiaoliang.core import workdays
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.forms import BootstrapForm, DateInput, call_service
from qiaoliang.core.models import OfficialDay
from qiaoliang.core.permissions import has_capability


class OfficialDayForm(BootstrapForm):
    day = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=[
        ("holiday", gettext_lazy("Holiday (休)")), ("workday", gettext_lazy("Adjusted working day (班)")),
    ])  # fmt: skip
    name = forms.CharField(label=gettext_lazy("Name"), max_length=40, required=False,
                           help_text=gettext_lazy("The holiday, e.g. 春节 or 国庆节."))  # fmt: skip


def _year(value: str | None, default: int) -> int:
    return int(value) if value and value.isdecimal() and official_days.FIRST_YEAR <= int(value) <= 2100 else default


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """The entered days of a year, the form to enter one, and the CSV import."""
    user: Any = request.user
    if not has_capability(user, official_days.CAPABILITY):
        raise PermissionDenied
    entered = sorted(workdays.entered_years())
    known = workdays.covered_until()
    year = _year(request.GET.get("year"), max([*entered, timezone.localdate().year + 1]))
    form = OfficialDayForm(request.POST or None) if not request.FILES else OfficialDayForm()
    result = None
    if request.method == "POST" and request.FILES.get("file"):
        upload: Any = request.FILES["file"]
        result = official_days.import_official_days(actor=user, upload=upload, file_name=upload.name or "")
        if not result.file_error and not result.errors:
            messages.success(request, _("%(count)d days were entered.") % {"count": result.written})
            first = min(day for day, _working, _name in result.days)
            return redirect(f"{reverse('appeals:calendar')}?year={first.year}")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = call_service(form, lambda: official_days.save_official_day(
            actor=user, day=data["day"], is_working_day=data["kind"] == "workday", name=data["name"],
        ))  # fmt: skip
        if entry is not None:
            messages.success(request, _("%(day)s was entered.") % {"day": entry.day.isoformat()})
            return redirect(f"{reverse('appeals:calendar')}?year={entry.day.year}")
    days = OfficialDay.objects.filter(day__gte=datetime.date(year, 1, 1), day__lte=datetime.date(year, 12, 31))
    context = {
        "year": year, "years": sorted({*entered, year}), "days": list(days), "form": form, "known": known,
        "covered": year <= known, "result": result, "errors": result.errors[:200] if result else [],
        "max_rows": official_days.MAX_ROWS, "max_kb": official_days.MAX_BYTES // 1024,
    }  # fmt: skip
    return render(request, "appeals/calendar.html", context)


@login_required
@require_POST
def calendar_delete(request: HttpRequest) -> HttpResponse:
    """Remove an entered day (the package, or Monday to Friday, decides it again)."""
    user: Any = request.user
    if not has_capability(user, official_days.CAPABILITY):
        raise PermissionDenied
    url = reverse("appeals:calendar")
    redirect_on_error(request, url)
    try:
        day = datetime.date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        day = None
    if day is None:
        messages.error(request, _("Give the date as YYYY-MM-DD."))
        return redirect(url)
    official_days.delete_official_day(actor=user, day=day)
    messages.success(request, _("%(day)s was removed.") % {"day": day.isoformat()})
    return redirect(f"{url}?year={day.year}")
