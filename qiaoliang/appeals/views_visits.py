"""Visits (走访调研): the list with counts per organisation, planning, recording findings, raising appeals."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiaoliang.appeals import visits
from qiaoliang.appeals.models import Visit
from qiaoliang.core.codes import normalize_uscc
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.forms import BootstrapForm, DateInput, call_service
from qiaoliang.core.permissions import CHANGE, VIEW, get_for_user, has_capability
from qiaoliang.orgs.models import Enterprise

PAGE_SIZE = 30


class VisitForm(BootstrapForm):
    enterprise_uscc = forms.CharField(label=gettext_lazy("Enterprise's unified social credit code"), max_length=30)
    visit_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    visitors = forms.CharField(label=gettext_lazy("Visitors"), max_length=200)
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=200, required=False)

    def __init__(self, *args: Any, enterprises: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enterprises = enterprises

    def clean_enterprise_uscc(self) -> Enterprise:
        try:
            uscc = normalize_uscc(self.cleaned_data.get("enterprise_uscc"))
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="uscc") from exc
        enterprise = self.enterprises.filter(uscc=uscc).first()
        if enterprise is None:
            raise ValidationError(gettext_lazy("No enterprise you see has this code."), code="uscc")
        return enterprise  # type: ignore[no-any-return]


def _date(value: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return default


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not has_capability(user, "appeals.visit"):
        raise PermissionDenied
    today = timezone.localdate()
    start = _date(request.GET.get("start"), today.replace(month=1, day=1))
    end = _date(request.GET.get("end"), today)
    queryset = Visit.objects.for_user(user, VIEW).select_related("enterprise", "organization")
    page = Paginator(queryset.order_by("-visit_on", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    form = VisitForm(request.POST or None, enterprises=Enterprise.objects.for_user(user, VIEW))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        visit = call_service(form, lambda: visits.plan_visit(
            actor=user, enterprise=data["enterprise_uscc"], visit_on=data["visit_on"], visitors=data["visitors"],
            purpose=data["purpose"],
        ), fields={"enterprise": "enterprise_uscc"})  # fmt: skip
        if visit is not None:
            messages.success(request, _("The visit was planned."))
            return redirect("appeals:visit", pk=visit.pk)
    context = {"page": page, "form": form, "counts": visits.visit_counts(user, start, end), "start": start,
               "end": end}  # fmt: skip
    return render(request, "appeals/visits.html", context)


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    visit = get_for_user(Visit.objects.select_related("enterprise", "organization"), user, VIEW, pk=pk)
    editable = Visit.objects.for_user(user, CHANGE).filter(pk=visit.pk).exists()
    context = {"visit": visit, "editable": editable, "appeals": visit.appeals.all(),
               "may_record_appeal": has_capability(user, "appeals.manage")}  # fmt: skip
    return render(request, "appeals/visit.html", context)


@login_required
@require_POST
def visit_record(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    visit = get_for_user(Visit.objects.all(), user, CHANGE, pk=pk)
    url = reverse("appeals:visit", args=[visit.pk])
    redirect_on_error(request, url)
    done = request.POST.get("action") != "cancel"
    visits.record_visit(actor=user, visit=visit, findings=request.POST.get("findings", ""), done=done)
    messages.success(request, _("The visit was recorded.") if done else _("The visit was cancelled."))
    return redirect(url)
