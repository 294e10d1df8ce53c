"""Check-in and attendance pages: the phone check-in page (camera or typed code), ticks on the list, and the
online attendee import (upload, map the columns, count)."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiaoliang.core import htmx
from qiaoliang.core.api import MAX_ID
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.forms import call_service
from qiaoliang.core.sheets import SheetRefusedError, cell_text, open_rows
from qiaoliang.events import selectors, services
from qiaoliang.events.forms import CheckInForm, MappingForm, UploadForm
from qiaoliang.events.models import CheckIn, OnlineImport, Registration
from qiaoliang.events.permissions import CHECKIN
from qiaoliang.events.services.attendance import header_spec
from qiaoliang.events.views import managed_event

LIST_SIZE = 100
SAMPLE_ROWS = 3


def _result(request: HttpRequest, event: Any, ticket: str, method: str) -> dict[str, Any]:
    """Check a ticket in and describe the answer (ok, repeat or refused) for the page."""
    try:
        outcome = services.check_in(actor=request.user, event=event, ticket=ticket, method=method)
    except NotAllowedError:
        raise
    except DomainError as exc:
        return {"level": "refused", "message": exc.message, "code": exc.code}
    return {
        "level": "ok" if outcome.created else "repeat",
        "registration": outcome.registration,
        "checkin": outcome.checkin,
    }


@login_required
def checkin(request: HttpRequest, pk: int) -> HttpResponse:
    """The check-in page for a phone: the camera reads the QR code (jsQR, in the browser) or the code is typed."""
    event = managed_event(request, pk, CHECKIN)
    form = CheckInForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        method = CheckIn.Method.SCAN if request.POST.get("method") == "scan" else CheckIn.Method.TYPED
        result = _result(request, event, form.cleaned_data["ticket"], method)
        if htmx.wants_partial(request):  # the result, and the counter swapped out of band
            context = {"result": result, "event": event, "figures": selectors.attendance(event),
                       "counts": services.counts(event)}  # fmt: skip
            return render(request, "events/partials/checkin_result.html", context)
        form = CheckInForm()
    figures = selectors.attendance(event)
    counts = services.counts(event)
    context = {"event": event, "form": form, "result": result, "figures": figures, "counts": counts}
    return render(request, "events/checkin.html", context)


@login_required
def checkin_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick who came from the list of confirmed registrations (during or after the event)."""
    event = managed_event(request, pk, CHECKIN)
    redirect_on_error(request, reverse("events:checkin_list", args=[event.pk]))
    if request.method == "POST":
        ids = [int(value) for value in request.POST.getlist("registration") if value.isdecimal() and len(value) < 19]
        if not ids:
            messages.warning(request, _("Tick the people who came."))
        else:
            created = services.bulk_check_in(actor=request.user, event=event, registration_ids=ids)
            messages.success(request, _("%(count)d people checked in.") % {"count": created})
        return redirect(f"{reverse('events:checkin_list', args=[event.pk])}?{request.GET.urlencode()}")
    q = request.GET.get("q", "").strip()[:40]
    queryset = selectors.registrations(event, status=Registration.Status.CONFIRMED, q=q)
    page = htmx.paginate(request, queryset, LIST_SIZE)
    context = {
        "event": event,
        "page": page,
        "registrations": list(page.object_list),
        "q": q,
        "figures": selectors.attendance(event),
    }
    return render(request, "events/checkin_list.html", context)


# --- online attendance -----------------------------------------------------------------------------------------------


@login_required
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an event's attendance and its online imports; upload an attendee export."""
    event = managed_event(request, pk)
    redirect_on_error(request, reverse("events:attendance", args=[event.pk]))
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        started = call_service(
            form,
            lambda: services.start_online_import(actor=request.user, event=event, upload=form.cleaned_data["file"]),
            fields={"file": "file", "mode": "file"},
        )
        if started is not None:
            return redirect("events:attendance_map", pk=event.pk, import_id=started.pk)
    imports = list(OnlineImport.objects.filter(event=event).select_related("uploaded_by"))
    context = {"event": event, "form": form, "figures": selectors.attendance(event), "imports": imports}
    return render(request, "events/attendance.html", context)


def _import_of(event: Any, import_id: int) -> OnlineImport:
    if import_id > MAX_ID:
        raise Http404
    return get_object_or_404(OnlineImport, pk=import_id, event=event)


def _sample(online_import: OnlineImport) -> list[list[str]]:
    """Return the first rows under the header, to show next to the mapping."""
    try:
        with online_import.file.open("rb") as handle:
            rows = open_rows(handle, online_import.file_name, header_spec())
            sample = [[cell_text(cell)[:40] for cell in row] for row in itertools.islice(rows, 1, 1 + SAMPLE_ROWS)]
            rows.close()
            return sample
    except (SheetRefusedError, OSError):
        return []


@login_required
def attendance_map(request: HttpRequest, pk: int, import_id: int) -> HttpResponse:
    """Map an uploaded export's columns (the organisation's last mapping is offered), then count it."""
    event = managed_event(request, pk)
    online_import = _import_of(event, import_id)
    if online_import.status == OnlineImport.Status.APPLIED:
        return redirect("events:attendance", pk=event.pk)
    form = MappingForm(request.POST or None, headers=online_import.headers, initial=online_import.mapping)
    if request.method == "POST" and form.is_valid():
        applied = call_service(
            form,
            lambda: services.apply_online_import(
                actor=request.user, online_import=online_import, mapping=form.mapping()
            ),
        )
        if applied is not None:
            messages.success(
                request,
                _("Counted %(rows)d rows: %(mobile)d matched by mobile, %(name)d by name, %(none)d not registered.")
                % {
                    "rows": applied.row_count,
                    "mobile": applied.matched_by_mobile,
                    "name": applied.matched_by_name,
                    "none": applied.unmatched,
                },
            )
            return redirect("events:attendance", pk=event.pk)
    context = {
        "event": event,
        "online_import": online_import,
        "form": form,
        "sample": _sample(online_import),
        "headers": online_import.headers,
    }
    return render(request, "events/attendance_map.html", context)


@login_required
@require_POST
def attendance_delete(request: HttpRequest, pk: int, import_id: int) -> HttpResponse:
    """Take an imported file back out of the count."""
    event = managed_event(request, pk)
    online_import = _import_of(event, import_id)
    services.delete_online_import(actor=request.user, online_import=online_import)
    messages.success(request, _("The file was removed and the attendance recounted."))
    return redirect("events:attendance", pk=event.pk)
