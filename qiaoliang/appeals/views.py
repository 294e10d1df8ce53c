"""Pages of appeals: each role's inbox, intake, the appeal's page with the actions its reader may take, the
statistics and the department league table. Views are thin: the services decide and refuse."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiaoliang.appeals import evaluations, importers, routing, selectors, services
from qiaoliang.appeals.forms import AppealForm, FilterForm, RecordForm
from qiaoliang.appeals.models import Appeal, AppealAttachment, AppealCategory, ExtensionRequest, Visit
from qiaoliang.appeals.permissions import ANSWER, RESPOND
from qiaoliang.core import workdays
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.files import serve_private_file
from qiaoliang.core.forms import call_service
from qiaoliang.core.htmx import CappedPaginator
from qiaoliang.core.permissions import CHANGE, VIEW, get_for_user, has_capability
from qiaoliang.orgs.models import Department, Enterprise
from qiaoliang.orgs.selectors import get_scope

PAGE_SIZE = 30
S = Appeal.Status


def _allowed(user: Any, action: str, appeal: Appeal) -> bool:
    return Appeal.objects.for_user(user, action).filter(pk=appeal.pk).exists()


@login_required
def appeal_list(request: HttpRequest) -> HttpResponse:
    """Every role's inbox: what waits for the user first ("todo"), then everything they see."""
    user: Any = request.user
    if not has_capability(user, "appeals.view"):
        raise PermissionDenied
    data = request.GET.copy()
    if not any(key in data for key in ("mine", "status", "q", "overdue", "department", "category")):
        data["mine"] = "todo"  # the first visit: what waits for the user; the "All" tab sends status=
    filters = selectors.AppealFilters.from_mapping(data)
    # A search over a million appeals is not counted to the end: "1,000+" and pages up to the cap.
    page = CappedPaginator(selectors.appeal_list(user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "form": FilterForm(data),
        "today": timezone.localdate(),
        "may_manage": has_capability(user, "appeals.manage"),
        "may_submit": has_capability(user, "appeals.submit"),
        "may_visit": has_capability(user, "appeals.visit"),
        "may_calendar": has_capability(user, "appeals.calendar"),
        "evaluations_waiting": len(evaluations.waiting_rounds(user)),
        "is_department": has_capability(user, "appeals.answer"),
        "extensions": list(selectors.pending_extensions(user).select_related("appeal")[:10])
        if has_capability(user, "appeals.manage") else [],
    }  # fmt: skip
    return render(request, "appeals/list.html", context)


@login_required
def submit(request: HttpRequest) -> HttpResponse:
    """The enterprise's contact writes an appeal."""
    user: Any = request.user
    if not has_capability(user, "appeals.submit"):
        raise PermissionDenied
    enterprise = Enterprise.objects.get(pk=sorted(get_scope(user).own_enterprise_ids)[0])
    organizations = services.organizations_for(user, enterprise)
    form = AppealForm(request.POST or None, request.FILES or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = next((org for org in organizations if str(org.pk) == data.get("organization")), None)
        appeal = call_service(form, lambda: services.submit_appeal(
            actor=user, enterprise=enterprise, title=data["title"], description=data["description"],
            category=data["category"], urgency=data["urgency"], shareable=data["shareable"],
            organization=chosen, attachments=data["attachments"],
        ), fields={"attachments": "attachments", "file_name": "attachments",
                   "organization": "organization"})  # fmt: skip
        if appeal is not None:
            messages.success(request, _("Your appeal %(number)s was sent; you are told of every step.")
                             % {"number": appeal.number})  # fmt: skip
            return redirect("appeals:detail", pk=appeal.pk)
    return render(request, "appeals/form.html", {"form": form, "enterprise": enterprise, "record": False})


@login_required
def record(request: HttpRequest) -> HttpResponse:
    """Staff record an appeal raised at a visit, a symposium, an event or on the hotline."""
    user: Any = request.user
    if not has_capability(user, "appeals.manage"):
        raise PermissionDenied
    enterprises = Enterprise.objects.for_user(user, VIEW)
    visit_id = _int(request.GET.get("visit") or request.POST.get("visit"))
    visit = Visit.objects.for_user(user, VIEW).select_related("enterprise").filter(pk=visit_id or 0).first()
    initial = {"enterprise_uscc": visit.enterprise.uscc, "source": Appeal.Source.VISIT} if visit else {}
    form = RecordForm(request.POST or None, request.FILES or None, enterprises=enterprises, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        appeal = call_service(form, lambda: services.submit_appeal(
            actor=user, enterprise=data["enterprise_uscc"], title=data["title"], description=data["description"],
            category=data["category"], urgency=data["urgency"], shareable=data["shareable"], source=data["source"],
            attachments=data["attachments"], visit=visit,
        ), fields={"attachments": "attachments", "file_name": "attachments",
                   "organization": "enterprise_uscc"})  # fmt: skip
        if appeal is not None:
            messages.success(request, _("Appeal %(number)s was recorded; the enterprise is told.")
                             % {"number": appeal.number})  # fmt: skip
            return redirect("appeals:detail", pk=appeal.pk)
    return render(request, "appeals/form.html", {"form": form, "record": True, "visit": visit})


@login_required
def import_sheet(request: HttpRequest) -> HttpResponse:
    """Staff import appeals from an xlsx sheet: every row checked, all written or none."""
    user: Any = request.user
    if not has_capability(user, "appeals.manage"):
        raise PermissionDenied
    result = None
    if request.method == "POST" and request.FILES.get("file"):
        upload: Any = request.FILES["file"]
        result = importers.parse(upload, upload.name or "", user)
        if not result.file_error and not result.errors:
            importers.import_appeals(actor=user, parsed=result)
            messages.success(request, _("%(count)d appeals were imported; they wait for acceptance.")
                             % {"count": result.created})  # fmt: skip
            return redirect(reverse("appeals:list") + "?status=submitted")
    context = {"result": result, "headers": importers.HEADERS, "max_rows": importers.MAX_ROWS,
               "errors": result.errors[:200] if result else []}  # fmt: skip
    return render(request, "appeals/import.html", context)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The appeal: what was asked, the answer, the timeline, and the forms its reader may use."""
    user: Any = request.user
    appeal = get_for_user(Appeal.objects.select_related(*selectors.LIST_RELATED, "merged_into",
                                                        "suggested_category", "suggested_department"),
                          user, VIEW, pk=pk)  # fmt: skip
    manage = _allowed(user, CHANGE, appeal)
    answer = _allowed(user, ANSWER, appeal)
    respond = _allowed(user, RESPOND, appeal)
    suggestion = None
    if manage and appeal.status in (S.SUBMITTED, S.ACCEPTED, S.ASSIGNED):
        suggestion = routing.describe(routing.Suggestion(
            category=appeal.suggested_category, department=appeal.suggested_department,
        ))  # fmt: skip
    pending = appeal.extensions.filter(status=ExtensionRequest.Status.PENDING).first()
    today = timezone.localdate()
    days_left = workdays.working_days_between(today, appeal.deadline) if appeal.deadline else None
    context = {
        "appeal": appeal,
        "manage": manage,
        "answer": (answer and appeal.status == S.ASSIGNED) or (manage and appeal.status == S.ACCEPTED),
        "respond": respond,
        "department_view": answer and not manage,
        "timeline": selectors.timeline(appeal, internal=manage or (answer and not respond)),
        "attachments": list(appeal.attachments.all()),
        "targets": services.APPEAL_TRANSITIONS.targets(appeal),
        "departments": Department.objects.filter(is_active=True).order_by("code") if manage else [],
        "categories": AppealCategory.objects.filter(is_active=True) if manage else [],
        "suggestion": suggestion,
        "default_days": services.WORKING_DAYS.get(appeal.urgency, 10),
        "pending_extension": pending,
        "today": timezone.localdate(),
        "days_left": days_left,
        "days_late": -days_left if days_left is not None and days_left < 0 else 0,
        "merged": list(appeal.merged.select_related("enterprise")) if manage else [],
    }
    return render(request, "appeals/detail.html", context)


@login_required
def similar(request: HttpRequest) -> HttpResponse:
    """Possible duplicates of the appeal being typed (htmx, while the title is written)."""
    user: Any = request.user
    if not has_capability(user, "appeals.view"):
        raise PermissionDenied
    found = selectors.similar_appeals(user, request.GET.get("title", ""), request.GET.get("description", ""))
    return render(request, "appeals/partials/similar.html", {"similar": found})


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdecimal() else None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdecimal() and len(value) < 10 else None


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step on an appeal; the service checks who may take it and whether the appeal is still as shown."""
    user: Any = request.user
    appeal = get_for_user(Appeal.objects.select_related("organization", "department"), user, VIEW, pk=pk)
    url = reverse("appeals:detail", args=[appeal.pk])
    redirect_on_error(request, url)
    post = request.POST
    version = _version(request)
    note = post.get("note", "")
    done = ""
    if action == "accept":
        services.accept(actor=user, appeal=appeal, version=version, note=note)
        done = _("The appeal was accepted; the enterprise is told.")
    elif action == "return":
        services.return_for_information(actor=user, appeal=appeal, reason=note, version=version)
        done = _("The appeal went back to the enterprise with your question.")
    elif action == "assign":
        department = Department.objects.filter(pk=_int(post.get("department")) or 0, is_active=True).first()
        category = AppealCategory.objects.filter(pk=_int(post.get("category")) or 0, is_active=True).first()
        appeal = services.assign(actor=user, appeal=appeal, department=department, category=category,
                                 working_days=_int(post.get("working_days")), note=note, version=version)  # fmt: skip
        done = _("Routed to %(department)s, to be answered by %(deadline)s.") % {
            "department": appeal.department,
            "deadline": appeal.deadline,
        }
    elif action == "recall":
        services.recall(actor=user, appeal=appeal, reason=note, version=version)
        done = _("The appeal was taken back from the department.")
    elif action == "merge":
        number = post.get("into", "").strip().upper()[:20]
        into = Appeal.objects.for_user(user, CHANGE).filter(number=number).first()
        if into is None:
            raise DomainError(_("No appeal you handle has the number %(number)s.") % {"number": number}, code="into")
        services.merge(actor=user, appeal=appeal, into=into, version=version)
        done = _("Merged into %(number)s.") % {"number": into.number}
    elif action == "answer":
        services.answer_appeal(actor=user, appeal=appeal, answer=post.get("answer", ""),
                               solved=post.get("solved") == "1", version=version)  # fmt: skip
        done = _("The answer was sent; the enterprise is asked to confirm it.")
    elif action == "extension":
        services.request_extension(actor=user, appeal=appeal, days=_int(post.get("days")) or 0, reason=note)
        done = _("Your request for more time was sent to the organisation.")
    elif action in ("approve_extension", "refuse_extension"):
        extension = get_for_user(ExtensionRequest.objects.all(), user, CHANGE, pk=_int(post.get("extension")) or 0)
        services.decide_extension(actor=user, extension=extension, approve=action == "approve_extension", note=note)
        done = _("The department is told of your decision.")
    elif action == "inform":
        services.add_information(actor=user, appeal=appeal, text=note, version=version)
        done = _("Your information was added; the appeal is back with the organisation.")
    elif action == "withdraw":
        services.withdraw(actor=user, appeal=appeal, reason=note, version=version)
        done = _("The appeal was withdrawn.")
    elif action == "confirm":
        services.confirm(actor=user, appeal=appeal, satisfaction=post.get("satisfaction", ""),
                         rating=_int(post.get("rating")), feedback=note, version=version)  # fmt: skip
        done = _("Thank you: your rating was sent.")
    elif action == "close":
        solved = {"1": True, "0": False}.get(post.get("solved", ""))
        services.close(actor=user, appeal=appeal, note=note, solved=solved, version=version)
        done = _("The appeal is closed; the enterprise is told.")
    else:
        raise PermissionDenied
    messages.success(request, done)
    return redirect(url)


@login_required
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    """Download an attachment of an appeal the user sees."""
    appeal = get_for_user(Appeal.objects.all(), request.user, VIEW, pk=pk)
    stored = AppealAttachment.objects.filter(appeal=appeal, pk=attachment_pk).first()
    if stored is None:
        raise PermissionDenied
    return serve_private_file(stored.file, name=stored.name, content_type=stored.content_type)


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Appeals received, accepted, answered on time, satisfaction and solved, by department and category, and the
    departments' league table (评议), for a period."""
    user: Any = request.user
    if not has_capability(user, "appeals.view"):
        raise PermissionDenied
    today = timezone.localdate()
    start = _date(request.GET.get("start")) or today.replace(month=1, day=1)
    end = _date(request.GET.get("end")) or today
    if end < start:
        start, end = end, start
    stats = selectors.statistics(user, start, end)
    league = selectors.league(user, start, end, rows=stats["by_department"])
    rounds = list(evaluations.closed_rounds_between(user, start, end)[:20])
    context = {"stats": stats, "league": league, "start": start, "end": end, "rounds": rounds}
    return render(request, "appeals/statistics.html", context)
