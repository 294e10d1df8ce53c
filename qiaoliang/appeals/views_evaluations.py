"""Periodic evaluation rounds (评议): the list, a new round (staff), the round's page where an enterprise rates each
department, and the results (staff with names, a department's liaisons their own without)."""

from __future__ import annotations

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

from qiaoliang.appeals import evaluations
from qiaoliang.appeals.models import DEFAULT_QUESTION_LABELS, EVALUATION_QUESTIONS, EvaluationAnswer, EvaluationRound
from qiaoliang.appeals.permissions import RESPOND
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.forms import BootstrapForm, DateInput, call_service
from qiaoliang.core.permissions import CHANGE, VIEW, can, get_for_user, has_capability
from qiaoliang.orgs.models import Department, Organization
from qiaoliang.orgs.selectors import get_scope

SCORES = [("", "—"), *[(str(n), str(n)) for n in range(5, 0, -1)]]


class RoundForm(BootstrapForm):
    """A round's wording and dates (and, when it is new, who runs it, the departments and the audience)."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=120)
    period = forms.CharField(label=gettext_lazy("Period"), max_length=40,
                             help_text=gettext_lazy("e.g. 2026年第四季度"))  # fmt: skip
    opens_on = forms.DateField(label=gettext_lazy("Opens on"), widget=DateInput())
    closes_on = forms.DateField(label=gettext_lazy("Closes on"), widget=DateInput(),
                                help_text=gettext_lazy("The last day answers are taken."))  # fmt: skip

    label_speed = forms.CharField(label=gettext_lazy("Question 1"), max_length=40,
                                  initial=DEFAULT_QUESTION_LABELS["speed"])  # fmt: skip
    label_quality = forms.CharField(label=gettext_lazy("Question 2"), max_length=40,
                                    initial=DEFAULT_QUESTION_LABELS["quality"])  # fmt: skip
    label_attitude = forms.CharField(label=gettext_lazy("Question 3"), max_length=40,
                                     initial=DEFAULT_QUESTION_LABELS["attitude"])  # fmt: skip
    label_implementation = forms.CharField(label=gettext_lazy("Question 4"), max_length=40,
                                           initial=DEFAULT_QUESTION_LABELS["implementation"])  # fmt: skip
    label_overall = forms.CharField(label=gettext_lazy("Question 5 (overall satisfaction)"), max_length=40,
                                    initial=DEFAULT_QUESTION_LABELS["overall"])  # fmt: skip

    def __init__(self, *args: Any, user: Any = None, new: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not new:
            return
        managed = Organization.objects.for_user(user, CHANGE).order_by("path")
        self.fields["organization"] = forms.ModelChoiceField(
            label=gettext_lazy("Run by"), queryset=managed, initial=managed.first(),
            widget=forms.Select(attrs={"class": "form-select"}))  # fmt: skip
        self.fields["departments"] = forms.ModelMultipleChoiceField(
            label=gettext_lazy("Departments evaluated"),
            widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input me-1"}),
            queryset=Department.objects.filter(is_active=True).order_by("code"))  # fmt: skip
        self.fields["audience"] = forms.ModelMultipleChoiceField(
            label=gettext_lazy("Audience"), queryset=managed, required=False,
            widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 6}),
            help_text=gettext_lazy("The members of these organisations and of those under them are asked; none "
                                   "chosen: every member of the organisation running the round."))  # fmt: skip

    def labels(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(f"label_{key}", "") for key in EVALUATION_QUESTIONS}


@login_required
def evaluation_list(request: HttpRequest) -> HttpResponse:
    """The rounds the user sees: staff run them, enterprises answer the open ones, departments read their results."""
    user: Any = request.user
    if not has_capability(user, "appeals.view"):
        raise PermissionDenied
    rounds = list(evaluations.rounds_for(user)[:100])
    context = {"rounds": rounds, "waiting": evaluations.waiting_rounds(user),
               "may_create": has_capability(user, "appeals.manage"), "today": timezone.localdate()}  # fmt: skip
    return render(request, "appeals/evaluations.html", context)


@login_required
def evaluation_new(request: HttpRequest) -> HttpResponse:
    """Staff open (or schedule) a round."""
    user: Any = request.user
    if not has_capability(user, "appeals.manage"):
        raise PermissionDenied
    form = RoundForm(request.POST or None, user=user, new=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        round_ = call_service(form, lambda: evaluations.create_round(
            actor=user, organization=data["organization"], title=data["title"], period=data["period"],
            departments=data["departments"], audience=data["audience"], opens_on=data["opens_on"],
            closes_on=data["closes_on"], labels=form.labels(),
        ))  # fmt: skip
        if round_ is not None:
            messages.success(request, _("The evaluation was created; the enterprises asked are told when it opens."))
            return redirect("appeals:evaluation", pk=round_.pk)
    return render(request, "appeals/evaluation_form.html", {"form": form})


@login_required
def evaluation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The round: the enterprise's form per department, staff's progress and settings, links to the results."""
    user: Any = request.user
    round_ = get_for_user(EvaluationRound.objects.select_related("organization"), user, VIEW, pk=pk)
    manage = can(user, CHANGE, round_)
    enterprise = evaluations.answering_enterprise(user, round_) if can(user, RESPOND, round_) else None
    departments = list(round_.departments.order_by("code"))
    mine = {}
    if enterprise is not None:
        mine = {a.department_id: a for a in EvaluationAnswer.objects.filter(round=round_, enterprise=enterprise)}
    questions = round_.questions()
    cards = [{"department": department, "answer": mine.get(department.pk),
              "scores": [(key, label, getattr(mine.get(department.pk), key, None)) for key, label in questions]}
             for department in departments]  # fmt: skip
    liaison = bool(get_scope(user).department_ids & {d.pk for d in departments})
    edit = None
    if manage and round_.state != EvaluationRound.State.CLOSED:
        initial = {"title": round_.title, "period": round_.period, "opens_on": round_.opens_on,
                   "closes_on": round_.closes_on,
                   **{f"label_{key}": label for key, label in questions}}  # fmt: skip
        edit = RoundForm(initial=initial)
    context = {
        "round": round_, "manage": manage, "enterprise": enterprise, "cards": cards, "edit": edit,
        "scores": SCORES, "answers": round_.answers.count() if manage else 0,
        "audience": evaluations.audience_count(round_) if manage else 0,
        "audience_names": list(round_.audience.values_list("name", flat=True)) if manage else [],
        "show_results": manage or (liaison and round_.state == EvaluationRound.State.CLOSED),
    }  # fmt: skip
    return render(request, "appeals/evaluation.html", context)


@login_required
@require_POST
def evaluation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """An enterprise's scores of one department (sent again: the same answer is changed)."""
    user: Any = request.user
    round_ = get_for_user(EvaluationRound.objects.all(), user, RESPOND, pk=pk)
    url = reverse("appeals:evaluation", args=[round_.pk])
    redirect_on_error(request, url)
    department_id = request.POST.get("department", "")
    department = Department.objects.filter(pk=int(department_id) if department_id.isdecimal() else 0).first()
    if department is None:
        raise DomainError(_("Choose a department of the round."), code="department")
    enterprise = evaluations.answering_enterprise(user, round_)
    if enterprise is None:
        raise DomainError(
            _("Your enterprise is not among the enterprises asked in this evaluation."), code="enterprise"
        )
    evaluations.answer_round(
        actor=user, round_=round_, department=department, enterprise=enterprise,
        scores={key: request.POST.get(key) for key in EVALUATION_QUESTIONS}, comment=request.POST.get("comment", ""),
    )  # fmt: skip
    messages.success(request, _("Thank you: your rating of %(department)s was saved; you may change it until "
                                "%(date)s.") % {"department": department.name, "date": round_.closes_on})  # fmt: skip
    return redirect(f"{url}#department-{department.pk}")


@login_required
@require_POST
def evaluation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff change the round's wording and dates."""
    user: Any = request.user
    round_ = get_for_user(EvaluationRound.objects.all(), user, CHANGE, pk=pk)
    url = reverse("appeals:evaluation", args=[round_.pk])
    redirect_on_error(request, url)
    form = RoundForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        raise DomainError(str(first), code="form")
    data = form.cleaned_data
    evaluations.update_round(actor=user, round_=round_, title=data["title"], period=data["period"],
                             opens_on=data["opens_on"], closes_on=data["closes_on"], labels=form.labels())  # fmt: skip
    messages.success(request, _("The evaluation was changed."))
    return redirect(url)


@login_required
def evaluation_results(request: HttpRequest, pk: int) -> HttpResponse:
    """The results: averages per question, answers and response rate per department, comments."""
    user: Any = request.user
    round_ = get_for_user(EvaluationRound.objects.select_related("organization"), user, VIEW, pk=pk)
    return render(request, "appeals/evaluation_results.html", evaluations.results(user, round_))
