"""Pages of support items and their rules (staff), and of decisions: an item's eligible list, 政策体检."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.forms import call_service
from qiaoliang.core.permissions import CHANGE, VIEW, can, get_for_user, has_capability
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import get_scope
from qiaoliang.policies import builder, selectors
from qiaoliang.policies.forms import ItemForm, RuleForm, TestCaseForm, form_errors
from qiaoliang.policies.models import AutoGrantCase, Clause, Policy, Rule, SupportItem
from qiaoliang.policies.services import autogrant, decisions, library, rulebook

PAGE_SIZE = 30
CHECKUP_ROWS = 20  # per section of 政策体检; ?all=1 shows every item


@login_required
def item_new(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    policy = get_for_user(Policy.objects.all(), user, CHANGE, pk=pk)
    form = ItemForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        item = call_service(form, lambda: library.save_item(actor=user, policy=policy, data=form.cleaned_data))
        if item is not None:
            messages.success(request, _("Item saved. Now write who qualifies: its rule."))
            return redirect("policies:item", item.pk)
    return render(request, "policies/item_form.html", {"form": form, "policy": policy})


@login_required
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    item = get_for_user(SupportItem.objects.select_related("policy"), user, CHANGE, pk=pk)
    initial = {name: getattr(item, name) for name in library.ITEM_FIELDS}
    form = ItemForm(request.POST or None, policy=item.policy, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = call_service(form, lambda: library.save_item(actor=user, policy=item.policy, item=item,
                                                            data=form.cleaned_data))  # fmt: skip
        if done is not None:
            messages.success(request, _("Item saved."))
            return redirect("policies:item", item.pk)
    return render(request, "policies/item_form.html", {"form": form, "policy": item.policy, "item": item})


def item(request: HttpRequest, pk: int) -> HttpResponse:
    """An item: what it gives, who qualifies (the rule in words, each condition citing its clause), and for
    staff the rule's versions and test cases, the eligible enterprises, near misses and 免申即享 cases."""
    user: Any = request.user
    row = get_object_or_404(selectors.visible_items(user).select_related("policy", "contact_department", "clause"),
                            pk=pk)  # fmt: skip
    may_change = can(user, CHANGE, row.policy)
    active = row.rules.filter(status=Rule.Status.ACTIVE).select_related("clause").first()
    context: dict[str, Any] = {"item": row, "policy": row.policy, "rule": active, "may_change": may_change}
    if active is not None:
        context["groups"] = _groups_for_display(active)
    if may_change:
        context.update({
            "versions": row.rules.order_by("-version"),
            "results": rulebook.run_test_cases(active) if active else [],
            "eligible_page": Paginator(selectors.eligible_list(user, row), PAGE_SIZE).get_page(request.GET.get("page")),
            "rule_form": RuleForm(initial={"expression": json.dumps(active.expression if active else {"all": []},
                                                                    ensure_ascii=False, indent=1)}),
            "case_form": TestCaseForm(),
            **_builder_context(active, request.session.pop(f"policies-builder-{row.pk}", None)),
            "clauses": row.policy.clauses.filter(is_heading=False).order_by("position")[:300],
        })  # fmt: skip
        page_rows = list(context["eligible_page"].object_list)
        live = decisions.outcomes_for(row, [r.enterprise_id for r in page_rows])
        context["eligible_rows"] = [(r, live.get(r.enterprise_id)) for r in page_rows]
        if row.delivery == SupportItem.Delivery.AUTOMATIC:
            wanted = request.GET.get("case_status", "")
            status = wanted if wanted in AutoGrantCase.Status.values else ""
            cases = selectors.item_cases(user, row, status=status)
            context["cases_page"] = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("cases_page"))
            context["cases"] = context["cases_page"].object_list
            context["case_status"] = status
            context["case_statuses"] = AutoGrantCase.Status.choices
            context["case_figures"] = selectors.case_figures(row)
    scope = get_scope(user)
    if scope.own_enterprise_ids:
        enterprise = Enterprise.objects.get(pk=min(scope.own_enterprise_ids))
        context["answer"] = decisions.answer_for(enterprise, row)
    return render(request, "policies/item.html", context)


BLANK_BUILDER_ROWS = 3


def _builder_context(active: Rule | None, typed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The builder's rows: those typed in a refused save, else the rule in force as written; then blank rows
    (None when the rule has tiers)."""
    if typed:
        rows: list[builder.Row] | None = [builder.Row(**values) for values in typed]
    else:
        rows = builder.rows_of(active.expression if active else None, decisions.threshold_book())
    if rows is None:
        return {"builder_rows": None}
    if not typed:
        next_group = max((r.group for r in rows), default=0) + 1
        rows += [builder.Row(group=next_group + i) for i in range(BLANK_BUILDER_ROWS)]
    return {"builder_rows": rows, "builder_fields": builder.field_choices(),
            "builder_relations": builder.relation_choices(), "builder_modes": WINDOW_MODE_CHOICES,
            "builder_years": builder.YEARS}  # fmt: skip


WINDOW_MODE_CHOICES = [("each", gettext_lazy("each year")), ("any", gettext_lazy("any year")),
                       ("sum", gettext_lazy("in total")), ("avg", gettext_lazy("on average"))]  # fmt: skip


def _groups_for_display(rule: Rule) -> list[list[dict[str, Any]]]:
    expression = decisions.parse_rule(rule)
    clause_ids = {c.clause for c in expression.conditions() if c.clause}
    clauses = {c.pk: c for c in Clause.objects.filter(pk__in=clause_ids)}
    return [
        [{"text": c.describe(), "clause": clauses.get(c.clause or 0)} for c in group] for group in expression.groups
    ]


@login_required
@require_POST
def rule_save(request: HttpRequest, pk: int) -> HttpResponse:
    """A new rule version from the JSON editor."""
    user: Any = request.user
    row = get_for_user(SupportItem.objects.select_related("policy"), user, CHANGE, pk=pk)
    redirect_on_error(request, reverse("policies:item", args=[row.pk]) + "#rule")
    form = RuleForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect(reverse("policies:item", args=[row.pk]) + "#rule")
    data = form.cleaned_data
    return _save_version(request, row, data["expression"], data["effective_from"], data["expires_on"], data["note"])


@login_required
@require_POST
def rule_build(request: HttpRequest, pk: int) -> HttpResponse:
    """A new rule version from the builder's rows (group, field, relation, value as written, years)."""
    user: Any = request.user
    row = get_for_user(SupportItem.objects.select_related("policy"), user, CHANGE, pk=pk)
    redirect_on_error(request, reverse("policies:item", args=[row.pk]) + "#builder")
    dates = RuleForm({"expression": "{}", **request.POST.dict()})
    dates.is_valid()
    if any(name in dates.errors for name in ("effective_from", "expires_on", "note")):
        messages.error(request, form_errors(dates))
        return redirect(reverse("policies:item", args=[row.pk]) + "#builder")
    rows = _builder_rows(request)
    try:
        expression = builder.expression_of(rows, decisions.threshold_book())
    except DomainError:
        # the page shows the rows as typed again, next to the message naming the line
        request.session[f"policies-builder-{row.pk}"] = [dataclasses.asdict(r) for r in rows[: builder.MAX_ROWS + 5]]
        raise
    data = dates.cleaned_data
    return _save_version(request, row, expression, data.get("effective_from"), data.get("expires_on"),
                         data.get("note", ""), anchor="#builder")  # fmt: skip


def _builder_rows(request: HttpRequest) -> list[builder.Row]:
    post = request.POST
    count = min(int(post["rows"]) if post.get("rows", "").isdecimal() else 0, builder.MAX_ROWS + 1)
    rows = []
    for index in range(count):
        prefix = f"r{index}-"
        group, years, clause = (post.get(prefix + name, "") for name in ("group", "years", "clause"))
        rows.append(
            builder.Row(
                group=int(group) if group.isdecimal() and len(group) < 4 else 0,
                field=post.get(prefix + "field", "")[:30],
                op=post.get(prefix + "op", "")[:10],
                value=post.get(prefix + "value", "")[:300],
                key=post.get(prefix + "key", "")[:60],
                years=int(years) if years.isdecimal() and len(years) < 3 else None,
                mode=post.get(prefix + "mode", "each")[:5],
                clause=int(clause) if clause.isdecimal() and len(clause) < 12 else None,
                code=post.get(prefix + "code", "")[:60],
                label=post.get(prefix + "label", "")[:300],
                was=post.get(prefix + "was", "")[:600],
            )
        )
    return rows


def _save_version(request: HttpRequest, row: SupportItem, expression: Any, effective_from: Any, expires_on: Any,
                  note: str, anchor: str = "#rule") -> HttpResponse:  # fmt: skip
    """Save a rule version and put it in force when its test cases pass; else keep it as a draft and say why."""
    user: Any = request.user
    rule = rulebook.save_rule(actor=user, item=row, expression=expression, activate=False,
                              effective_from=effective_from, expires_on=expires_on, note=note)  # fmt: skip
    try:
        rulebook.activate_rule(actor=user, rule=rule)
        messages.success(
            request, _("Version %(version)s is in force; its test cases pass.") % {"version": rule.version}
        )
    except DomainError as exc:  # a failing test case: the version is kept as a draft, the message says which
        messages.warning(request, _("Version %(version)s is saved as a draft: %(reason)s")
                         % {"version": rule.version, "reason": exc.message})  # fmt: skip
    return redirect(reverse("policies:item", args=[row.pk]) + anchor)


@login_required
@require_POST
def case_add(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    row = get_for_user(SupportItem.objects.select_related("policy"), user, CHANGE, pk=pk)
    active = row.rules.filter(status=Rule.Status.ACTIVE).first()
    redirect_on_error(request, reverse("policies:item", args=[row.pk]) + "#tests")
    if active is None:
        messages.error(request, _("Write the rule first."))
        return redirect("policies:item", row.pk)
    form = TestCaseForm(request.POST)
    if form.is_valid():
        rulebook.add_test_case(actor=user, rule=active, data=form.cleaned_data)
        messages.success(request, _("Test case added."))
    else:
        messages.error(request, form_errors(form))
    return redirect(reverse("policies:item", args=[row.pk]) + "#tests")


@login_required
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    """Conditions read from a clause's text: staff keep, correct, reject or add conditions; what they did is kept
    as training data, and the kept conditions are given as the rule editor reads them."""
    user: Any = request.user
    clause = Clause.objects.select_related("policy").filter(pk=pk).first()
    if clause is None or not can(user, CHANGE, clause.policy):
        raise PermissionDenied
    session_key = f"policies-kept-{clause.pk}"
    kept = None
    if request.method == "POST":
        rows = _reviewed_rows(request)
        try:
            reviewed = rulebook.review_proposals(actor=user, clause=clause, rows=rows)
        except DomainError as exc:
            messages.error(request, exc.message)
            proposals = [  # the rows as the user left them, each still citing what the reading proposed
                rulebook.Proposal(r.entry_type, r.var, r.relation, r.field, None, original=r.proposed)
                for r in rows if r.proposed
            ]  # fmt: skip
        else:  # post, redirect, get: a reload does not record the review twice
            request.session[session_key] = [dataclasses.asdict(p) for p in reviewed]
            messages.success(request, _("Your review was kept; the reading of conditions learns from it."))
            return redirect(reverse("policies:propose", args=[clause.pk]) + "?kept=1")
    elif request.GET.get("kept") and session_key in request.session:
        kept = [rulebook.Proposal(**data) for data in request.session.pop(session_key)]
        proposals = kept
    else:
        proposals = rulebook.propose_conditions(clause)
    shown = kept if kept is not None else proposals
    items = list(clause.policy.items.order_by("position", "pk").values("pk", "name"))
    return render(request, "policies/partials/proposals.html", {
        "clause": clause, "proposals": proposals, "reviewed": kept is not None, "items": items,
        "entry_types": rulebook.ENTRY_TYPES, "relations": rulebook.RELATIONS, "blank_rows": range(2),
        "json": json.dumps({"all": [[p.condition] for p in shown if p.condition]}, ensure_ascii=False, indent=1),
        "kept_json": json.dumps([p.condition for p in shown if p.condition], ensure_ascii=False),
    })  # fmt: skip


MAX_KEPT_JSON = 20_000  # characters of kept conditions posted to the rule editor


@login_required
@require_POST
def propose_to_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """The kept conditions of a clause go into an item's rule editor as new groups (each must hold), after the
    rule in force; staff check them and save, and the rule's test cases decide whether the version goes in force."""
    user: Any = request.user
    clause = Clause.objects.select_related("policy").filter(pk=pk).first()
    if clause is None or not can(user, CHANGE, clause.policy):
        raise PermissionDenied
    row = get_object_or_404(SupportItem, pk=item_pk, policy_id=clause.policy_id)
    back = reverse("policies:propose", args=[clause.pk])
    raw = request.POST.get("conditions", "")
    try:
        conditions = json.loads(raw) if 0 < len(raw) <= MAX_KEPT_JSON else None
    except (ValueError, RecursionError):  # deep nesting ([[[[…]]]]) exhausts the parser's stack
        conditions = None
    book = decisions.threshold_book()
    added = None
    if isinstance(conditions, list) and conditions and all(isinstance(c, dict) for c in conditions):
        try:  # posted text: anything the builder cannot show is refused below
            added = builder.rows_of({"all": [[c] for c in conditions]}, book)
        except (AttributeError, TypeError, ValueError):
            added = None
    if not added:
        messages.error(request, _("No condition to add: read the clause again and keep its conditions."))
        return redirect(back)
    active = row.rules.filter(status=Rule.Status.ACTIVE).first()
    rows = builder.rows_of(active.expression if active else None, book)
    if rows is None:
        messages.error(request, _("The rule of %(item)s has tiers; add the conditions in its JSON editor.")
                       % {"item": row.name})  # fmt: skip
        return redirect(reverse("policies:item", args=[row.pk]) + "#rule")
    offset = max((r.group for r in rows), default=0)
    if len(rows) + len(added) > builder.MAX_ROWS or offset + len(added) > builder.MAX_GROUP:
        messages.error(request, _("The rule of %(item)s would have more than %(groups)d groups or %(rows)d "
                                  "conditions; add fewer, or edit it as JSON.")
                       % {"item": row.name, "groups": builder.MAX_GROUP, "rows": builder.MAX_ROWS})  # fmt: skip
        return redirect(back)
    for condition in added:
        condition.group += offset
    request.session[f"policies-builder-{row.pk}"] = [dataclasses.asdict(r) for r in rows + added]
    messages.info(request, ngettext(
        "%(count)d condition was added to the rule editor of %(item)s, as a group of its own. Check it and save: "
        "nothing changes until you do.",
        "%(count)d conditions were added to the rule editor of %(item)s, each as a group of its own. Check them "
        "and save: nothing changes until you do.", len(added)) % {"count": len(added), "item": row.name})  # fmt: skip
    return redirect(reverse("policies:item", args=[row.pk]) + "#builder")


def _reviewed_rows(request: HttpRequest) -> list[rulebook.ReviewedRow]:
    """The proposals form's rows: `rows` numbered rows of proposal (JSON, as shown), type, variable, relation, value."""
    post = request.POST
    count = min(int(post["rows"]) if post.get("rows", "").isdecimal() else 0, rulebook.MAX_REVIEW_ROWS + 1)
    rows = []
    for index in range(count):
        prefix = f"r{index}-"
        proposed: dict[str, str] | None = None
        raw = post.get(prefix + "proposed", "")
        if raw and len(raw) <= 2000:
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
            if isinstance(data, dict):
                proposed = {k: str(data.get(k, ""))[:200] for k in ("entry_type", "var", "relation", "field")}
        rows.append(
            rulebook.ReviewedRow(
                proposed=proposed,
                entry_type=post.get(prefix + "entry_type", "")[:20],
                var=post.get(prefix + "var", "")[:40],
                relation=post.get(prefix + "relation", "")[:10],
                field=post.get(prefix + "field", "")[:300],
                keep=post.get(prefix + "keep") == "1",
            )
        )
    return rows


@login_required
@require_POST
def recompute(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    row = get_for_user(SupportItem.objects.select_related("policy"), user, CHANGE, pk=pk)
    # every member is answered again: background work (a request must not run over a million enterprises)
    enqueue_on_commit("policies.recompute_item", row.pk)
    messages.success(request, _("The item is being computed again for every member; the eligible list, the "
                                "figures and the pushes update when it is done."))  # fmt: skip
    return redirect("policies:item", row.pk)


@login_required
@require_POST
def case_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """免申即享 steps: staff confirm the list, exclude (and undo it), mark paid; the enterprise accepts or declines."""
    user: Any = request.user
    if action == "confirm_all":
        row = get_for_user(SupportItem.objects.select_related("policy"), user, CHANGE, pk=pk)
        count = autogrant.confirm_list(actor=user, item=row)
        messages.success(request, _("%(count)s enterprises are asked to confirm.") % {"count": count})
        return redirect("policies:item", row.pk)
    case = get_for_user(AutoGrantCase.objects.select_related("item", "enterprise", "organization"), user, VIEW, pk=pk)
    back = reverse("policies:cases") if case.enterprise_id in get_scope(user).own_enterprise_ids else reverse(
        "policies:item", args=[case.item_id])  # fmt: skip
    redirect_on_error(request, back)
    if action == "accept":
        autogrant.respond(actor=user, case=case, accept=True, account_note=request.POST.get("account", ""))
        messages.success(request, _("Thank you: the grant will be paid without further steps."))
    elif action == "decline":
        autogrant.respond(actor=user, case=case, accept=False)
        messages.success(request, _("Declined."))
    elif action == "exclude":
        autogrant.exclude(actor=user, case=case, reason=request.POST.get("reason", ""))
        messages.success(request, _("Excluded."))
    elif action == "restore":
        autogrant.restore(actor=user, case=case)
        messages.success(request, _("Back on the list; confirm it to ask the enterprise."))
    elif action == "paid":
        autogrant.mark_paid(actor=user, case=case, amount=request.POST.get("amount"),
                            reference=request.POST.get("reference", ""))  # fmt: skip
        messages.success(request, _("Marked as paid; the enterprise is told."))
    else:
        raise PermissionDenied
    return redirect(back)


@login_required
def checkup(request: HttpRequest) -> HttpResponse:
    """政策体检: every item in force, for the enterprise: eligible and why, what data is missing, near misses."""
    user: Any = request.user
    if not has_capability(user, "policies.checkup"):
        raise PermissionDenied
    enterprise = Enterprise.objects.get(pk=min(get_scope(user).own_enterprise_ids))
    decisions.mark_pushes_opened([enterprise.pk])
    answers = decisions.checkup(enterprise)
    groups = {
        "eligible": [a for a in answers if a.decision == "eligible"],
        "needs_data": [a for a in answers if a.decision == "needs_data"],
        "near": [a for a in answers if a.decision == "ineligible" and a.outcome.near_miss],
        "ineligible": [a for a in answers if a.decision == "ineligible" and not a.outcome.near_miss],
    }
    limit = None if request.GET.get("all") else CHECKUP_ROWS
    shown = {key: rows[:limit] for key, rows in groups.items()}
    return render(request, "policies/checkup.html", {
        "enterprise": enterprise, "groups": groups, "shown": shown, "total": len(answers),
        "cut": limit is not None and any(len(rows) > CHECKUP_ROWS for rows in groups.values()),
    })  # fmt: skip


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not get_scope(user).own_enterprise_ids:
        raise PermissionDenied
    page = Paginator(selectors.own_cases(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "policies/cases.html", {"page": page})
