"""Common problems (共性问题): the topics of recent appeals, reports curated from them, their Word export and the
outcome of each suggestion."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiaoliang.appeals import reports
from qiaoliang.appeals.models import ProblemReport, ReportProblem, Suggestion
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.permissions import CHANGE, VIEW, get_for_user, has_capability

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DEFAULT_DAYS = 90


def _period(request: HttpRequest) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()

    def read(name: str, default: datetime.date) -> datetime.date:
        try:
            return datetime.date.fromisoformat(request.GET.get(name) or request.POST.get(name) or "")
        except ValueError:
            return default

    start, end = read("start", today - datetime.timedelta(days=DEFAULT_DAYS)), read("end", today)
    return (end, start) if end < start else (start, end)


@login_required
def common_problems(request: HttpRequest) -> HttpResponse:
    """The topics of the appeals the user manages in a period; chosen topics start a report."""
    user: Any = request.user
    if not has_capability(user, "appeals.manage"):
        raise PermissionDenied
    start, end = _period(request)
    cached = reports.cached_topics(user, start, end)
    if request.method == "POST" and cached is None:  # the background run has not finished: cluster now
        cached = reports.topics(user, start, end)
    found, clustered = cached if cached is not None else ([], 0)
    if request.method == "POST":
        redirect_on_error(request, request.get_full_path())
        chosen = [topic for topic in found if request.POST.get(f"topic-{topic.number}")]
        report = reports.create_report(actor=user, title=request.POST.get("title", ""), start=start, end=end,
                                       chosen=chosen)  # fmt: skip
        messages.success(request, _("The report was started: write the problems and the suggestions."))
        return redirect("appeals:report", pk=report.pk)
    context = {"topics": found, "clustered": clustered, "start": start, "end": end, "computing": cached is None,
               "reports": ProblemReport.objects.for_user(user, VIEW)[:20],
               "default_title": _("Report on the common problems of member enterprises (%(start)s to %(end)s)")
               % {"start": start, "end": end}}  # fmt: skip
    return render(request, "appeals/common_problems.html", context)


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    found = get_for_user(ProblemReport.objects.select_related("organization"), user, VIEW, pk=pk)
    editable = ProblemReport.objects.for_user(user, CHANGE).filter(pk=found.pk).exists()
    problems = found.problems.prefetch_related("suggestions", "appeals")
    context = {"report": found, "problems": problems, "editable": editable, "outcomes": Suggestion.Status.choices}
    return render(request, "appeals/report.html", context)


@login_required
@require_POST
def report_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: Any = request.user
    found = get_for_user(ProblemReport.objects.all(), user, CHANGE, pk=pk)
    url = reverse("appeals:report", args=[found.pk])
    redirect_on_error(request, url)
    if action == "problem":
        problem = ReportProblem.objects.filter(report=found, pk=request.POST.get("problem") or 0).first()
        if problem is None:
            raise PermissionDenied
        reports.update_problem(actor=user, problem=problem, title=request.POST.get("title", ""),
                               description=request.POST.get("description", ""))  # fmt: skip
        messages.success(request, _("Saved."))
    elif action == "suggest":
        problem = ReportProblem.objects.filter(report=found, pk=request.POST.get("problem") or 0).first()
        if problem is None:
            raise PermissionDenied
        reports.add_suggestion(actor=user, problem=problem, text=request.POST.get("text", ""))
        messages.success(request, _("The suggestion was added."))
    elif action == "outcome":
        suggestion = Suggestion.objects.filter(problem__report=found, pk=request.POST.get("suggestion") or 0).first()
        if suggestion is None:
            raise PermissionDenied
        reports.record_outcome(actor=user, suggestion=suggestion, status=request.POST.get("status", ""),
                               note=request.POST.get("note", ""))  # fmt: skip
        messages.success(request, _("The outcome was recorded."))
    else:
        raise PermissionDenied
    return redirect(url)


@login_required
def report_docx(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_for_user(ProblemReport.objects.select_related("organization"), request.user, VIEW, pk=pk)
    response = HttpResponse(reports.export_docx(found), content_type=DOCX)
    response["Content-Disposition"] = f"attachment; filename=report-{found.pk}.docx"
    return response
