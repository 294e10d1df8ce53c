"""Pages of the policy library: the list (public), a policy's page with its items, clauses, interpretation
events and FAQ, staff's editing and import, questions and answers, the FAQ and the statistics."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiaoliang.core import drafts
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.files import serve_private_file
from qiaoliang.core.forms import call_service
from qiaoliang.core.permissions import CHANGE, VIEW, can, get_for_user, has_capability
from qiaoliang.core.uploads import TYPES
from qiaoliang.events import selectors as event_selectors
from qiaoliang.orgs.selectors import get_scope
from qiaoliang.policies import selectors
from qiaoliang.policies.forms import AnswerForm, ImportForm, PolicyForm, QuestionForm, form_errors
from qiaoliang.policies.models import CLAUSE_TYPES, Policy, PolicyAttachment, PolicyQuestion
from qiaoliang.policies.permissions import ANSWER
from qiaoliang.policies.services import decisions, library, questions

PAGE_SIZE = 20


def may_see_statistics(user: Any) -> bool:
    """Staff who manage policies, and zone convenors (for their zones' enterprises)."""
    return bool(user.is_authenticated and (has_capability(user, "policies.manage") or get_scope(user).zone_ids))


def policy_list(request: HttpRequest) -> HttpResponse:
    """The library: published policies for everyone (no sign-in needed), drafts too for their organisation's staff."""
    user: Any = request.user
    filters = selectors.LibraryFilters.from_mapping(request.GET)
    page = Paginator(selectors.library(user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "policies/list.html", {
        "page": page, "filters": filters, "levels": Policy.Level.choices, "types": CLAUSE_TYPES[:-1],
        "may_manage": has_capability(user, "policies.manage"),
        "may_checkup": has_capability(user, "policies.checkup"),
        "may_statistics": may_see_statistics(user),
    })  # fmt: skip


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    policy = get_object_or_404(selectors.visible_policies(user).select_related("organization", "department", "region"),
                               pk=pk)  # fmt: skip
    may_change = can(user, CHANGE, policy)
    scope = get_scope(user)
    form = QuestionForm(initial=drafts.take(request, f"policies.ask.{policy.pk}"))
    return render(request, "policies/detail.html", {
        "policy": policy,
        "items": _with_rule_text(selectors.policy_items(policy)),
        "clauses": selectors.policy_clauses(policy),
        "events": event_selectors.visible_among(user, policy.events.values("pk")),
        "linked_ids": set(policy.events.values_list("pk", flat=True)) if may_change else set(),
        "attachments": list(policy.attachments.all()),
        "event_choices": event_selectors.linkable_events(user) if may_change else [],
        "faq": selectors.faq(user, policy=policy)[:50],
        "own_questions": selectors.own_questions(user, policy)[:20] if scope.own_enterprise_ids else [],
        "may_change": may_change,
        "may_ask": bool(scope.own_enterprise_ids) and policy.status == Policy.Status.PUBLISHED,
        "question_form": form,
        "transitions": library.POLICY_TRANSITIONS.targets(policy) if may_change else [],
        "clause_types": CLAUSE_TYPES,
    })  # fmt: skip


def _with_rule_text(items: list[Any]) -> list[Any]:
    """Each item's rule in force as one readable line: groups joined by 且, alternatives by 或."""
    for item in items:
        rules = getattr(item, "active_rules", [])
        item.rule_text = ""
        if rules:
            expression = decisions.parse_rule(rules[0])
            item.rule_text = _("; and ").join(
                _(" or ").join(c.describe() for c in group) for group in expression.groups
            )
    return items


@login_required
def create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not has_capability(user, "policies.manage"):
        raise PermissionDenied
    form = PolicyForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        policy = call_service(form, lambda: library.create_policy(
            actor=user, organization=form.cleaned_data["organization"], data=form.data_for_service()))  # fmt: skip
        if policy is not None:
            messages.success(request, _("The draft is saved. Add its support items and their rules, then publish."))
            return redirect("policies:detail", policy.pk)
    return render(request, "policies/form.html", {"form": form, "title": _("New policy")})


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    policy = get_for_user(Policy.objects.all(), user, CHANGE, pk=pk)
    initial = {name: getattr(policy, name) for name in library.POLICY_FIELDS}
    form = PolicyForm(request.POST or None, user=user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = call_service(
            form,
            lambda: library.update_policy(
                actor=user, policy=policy, data=form.data_for_service(), resplit=form.cleaned_data.get("resplit", False)
            ),
        )
        if done is not None:
            messages.success(request, _("The policy is saved."))
            return redirect("policies:detail", policy.pk)
    return render(request, "policies/form.html", {"form": form, "title": _("Edit policy"), "policy": policy})


@login_required
def import_document(request: HttpRequest) -> HttpResponse:
    """A draft from pasted text, HTML or a .docx: metadata guessed, clauses split and typed; staff check it."""
    user: Any = request.user
    if not has_capability(user, "policies.manage"):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        policy = call_service(form, lambda: library.import_policy(
            actor=user, organization=data["organization"], text=data.get("text") or "", html=data.get("html") or "",
            docx=data.get("docx")))  # fmt: skip
        if policy is not None:
            messages.success(request, _("Imported as a draft with %(count)s clauses. Check the title, issuer, dates "
                                        "and clause types.") % {"count": policy.clauses.count()})  # fmt: skip
            return redirect("policies:detail", policy.pk)
    return render(request, "policies/import.html", {"form": form})


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: Any = request.user
    policy = get_for_user(Policy.objects.all(), user, CHANGE, pk=pk)
    redirect_on_error(request, policy_url(policy))
    if action == "publish":
        library.publish(actor=user, policy=policy)
        messages.success(request, _("Published. Members who qualify are being computed and told."))
    elif action == "withdraw":
        library.withdraw(actor=user, policy=policy, reason=request.POST.get("reason", ""))
        messages.success(request, _("Withdrawn."))
    elif action == "clause":
        clause = policy.clauses.filter(pk=_int(request.POST.get("clause"))).first()
        if clause is None:
            raise PermissionDenied
        library.set_clause_type(actor=user, clause=clause, clause_type=request.POST.get("clause_type", ""))
        messages.success(request, _("Clause type saved."))
        return redirect(policy_url(policy) + f"#clause-{clause.pk}")
    elif action == "events":
        wanted = {_int(value) for value in request.POST.getlist("events")[:200]}
        offered = {event.pk for event in event_selectors.linkable_events(user)}
        kept = set(policy.events.values_list("pk", flat=True)) - offered  # links the editor was not offered stay
        library.link_events(actor=user, policy=policy, event_ids=sorted(kept | (wanted & offered)))
        messages.success(request, _("Interpretation events saved."))
        return redirect(policy_url(policy) + "#events")
    elif action == "attach":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file to attach."))
        else:
            library.add_attachment(actor=user, policy=policy, upload=upload)
            messages.success(request, _("Attachment added."))
        return redirect(policy_url(policy) + "#attachments")
    elif action == "detach":
        attachment = policy.attachments.filter(pk=_int(request.POST.get("attachment"))).first()
        if attachment is None:
            raise PermissionDenied
        library.remove_attachment(actor=user, attachment=attachment)
        messages.success(request, _("Attachment removed."))
        return redirect(policy_url(policy) + "#attachments")
    else:
        raise PermissionDenied
    return redirect("policies:detail", policy.pk)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def policy_url(policy: Policy) -> str:
    return reverse("policies:detail", args=[policy.pk])


@login_required
@require_POST
def ask(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    policy = get_for_user(Policy.objects.all(), user, VIEW, pk=pk)
    redirect_on_error(request, policy_url(policy) + "#questions")
    form = QuestionForm(request.POST)
    draft, fields = f"policies.ask.{policy.pk}", ("question", "complexity")
    if form.is_valid():
        with drafts.kept_if_refused(request, draft, fields):
            row = questions.ask(actor=user, policy=policy, question=form.cleaned_data["question"],
                                complexity=form.cleaned_data["complexity"])  # fmt: skip
        messages.success(request, _("Your question is sent. It will be answered by %(deadline)s.")
                         % {"deadline": row.deadline.isoformat()})  # fmt: skip
    else:
        drafts.keep(request, draft, request.POST, fields)
        messages.error(request, form_errors(form))
    return redirect(policy_url(policy) + "#questions")


@login_required
def question_inbox(request: HttpRequest) -> HttpResponse:
    """Questions to answer (the department's liaisons, staff) and the enterprise's own questions."""
    user: Any = request.user
    may_answer = has_capability(user, "policies.answer")
    if not may_answer and not get_scope(user).own_enterprise_ids:
        raise PermissionDenied
    status = request.GET.get("status", "open")
    rows = selectors.question_inbox(user, status=status) if may_answer else selectors.own_questions(user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    if may_answer:  # each open question's form, filled again with a refused answer's text
        for row in page.object_list:
            row.answer_form = AnswerForm(initial=drafts.take(request, f"policies.answer.{row.pk}"))  # type: ignore[attr-defined]
    return render(request, "policies/questions.html", {
        "page": page, "status": status, "may_answer": may_answer, "today": timezone.localdate(),
    })  # fmt: skip


@login_required
@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    question = get_for_user(PolicyQuestion.objects.select_related("policy"), user, ANSWER, pk=pk)
    redirect_on_error(request, "/policies/questions/")
    form = AnswerForm(request.POST)
    draft, fields = f"policies.answer.{question.pk}", ("answer", "in_faq")
    if form.is_valid():
        with drafts.kept_if_refused(request, draft, fields):
            questions.answer(actor=user, question=question, text=form.cleaned_data["answer"],
                             in_faq=form.cleaned_data["in_faq"])  # fmt: skip
        messages.success(request, _("Answered; the enterprise is told."))
    else:
        drafts.keep(request, draft, request.POST, fields)
        messages.error(request, form_errors(form))
    return redirect("policies:questions")


def faq(request: HttpRequest) -> HttpResponse:
    """Answered questions, searchable (Chinese, Traditional folded), for everyone."""
    q = request.GET.get("q", "").strip()[:60]
    page = Paginator(selectors.faq(request.user, q=q), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "policies/faq.html", {"page": page, "q": q})


@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not may_see_statistics(user):
        raise PermissionDenied
    today = timezone.localdate()
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", "")) if request.GET.get("start") else (
            today.replace(month=1, day=1))  # fmt: skip
        end = datetime.date.fromisoformat(request.GET.get("end", "")) if request.GET.get("end") else today
    except ValueError:
        messages.error(request, _("Dates are written YYYY-MM-DD."))
        start, end = today.replace(month=1, day=1), today
    if end < start:
        start, end = end, start
    return render(request, "policies/statistics.html", {"stats": selectors.statistics(user, start, end),
                                                       "start": start, "end": end})  # fmt: skip


def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A policy's attachment, for whoever may read the policy (published policies are public)."""
    row = get_object_or_404(PolicyAttachment.objects.filter(policy__in=selectors.visible_policies(request.user)), pk=pk)
    extension = row.name.rsplit(".", 1)[-1].lower() if "." in row.name else ""
    known = TYPES.get(f".{extension}")
    content_type = known.content_type if known else "application/octet-stream"
    return serve_private_file(row.file, name=row.name, content_type=content_type)
