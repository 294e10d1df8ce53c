"""Eligibility rules as versions: save, test, activate (superseding the one in force); conditions proposed from
a clause's text and what staff did with the proposals (kept as training data)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import CHANGE, require
from qiaoliang.policies import dev_rules, extraction
from qiaoliang.policies.facts import snapshot_from_json
from qiaoliang.policies.models import Clause, ConditionCorrection, Policy, Rule, RuleTestCase, SupportItem
from qiaoliang.policies.rules import RuleError, evaluate, parse_expression
from qiaoliang.policies.services.decisions import threshold_book
from qiaoliang.policies.units import UnitError

DECISIONS = ("eligible", "ineligible", "needs_data")
MAX_TEST_CASES = 100


@dataclass
class CaseResult:
    case: RuleTestCase
    got: str
    passed: bool
    error: str = ""


def run_case(expression: Any, facts: dict[str, Any], expected: str, on: datetime.date | None = None) -> tuple[str, str]:
    """(decision, error) of one test case's facts against an expression."""
    on = on or timezone.localdate()
    try:
        snapshot = snapshot_from_json(facts)
    except (UnitError, ValueError, TypeError, KeyError) as exc:
        return "", str(getattr(exc, "message", exc))
    return evaluate(expression, snapshot, on, threshold_book()).decision, ""


def run_test_cases(rule: Rule, *, on: datetime.date | None = None) -> list[CaseResult]:
    book = threshold_book()
    expression = parse_expression(rule.expression, thresholds=book)
    results = []
    for case in rule.test_cases.all():
        got, error = run_case(expression, case.facts, case.expected, on)
        results.append(CaseResult(case, got, got == case.expected and not error, error))
    return results


def _checked_expression(data: Any) -> dict[str, Any]:
    try:
        return parse_expression(data, thresholds=threshold_book()).to_json()
    except RuleError as exc:
        raise DomainError(exc.message, code="expression") from exc


@transaction.atomic
def save_rule(*, actor: Any, item: SupportItem, expression: Any, clause: Clause | None = None,
              effective_from: datetime.date | None = None, expires_on: datetime.date | None = None,
              note: str = "", activate: bool = True,
              test_cases: list[dict[str, Any]] | None = None) -> Rule:  # fmt: skip
    """A new version of the item's rule. Test cases of the version in force are carried over, plus any given;
    the version is activated (the previous one superseded) only if every case passes."""
    require(actor, CHANGE, item.policy)
    stored = _checked_expression(expression)
    if clause is not None and clause.policy_id != item.policy_id:
        raise DomainError(_("The clause belongs to another policy."), code="clause")
    if effective_from and expires_on and expires_on < effective_from:
        raise DomainError(_("The rule cannot expire before it takes effect."), code="expires_on")
    locked = SupportItem.objects.select_for_update().get(pk=item.pk)
    version = (Rule.objects.filter(item=locked).aggregate(v=Max("version"))["v"] or 0) + 1
    previous = Rule.objects.filter(item=locked, status=Rule.Status.ACTIVE).first()
    rule = Rule.objects.create(
        item=locked, version=version, expression=stored, clause=clause, effective_from=effective_from,
        expires_on=expires_on, note=note[:500], created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    carried = [{"name": c.name, "facts": c.facts, "expected": c.expected, "expected_missing": c.expected_missing}
               for c in previous.test_cases.all()] if previous else []  # fmt: skip
    for case in [*carried, *(test_cases or [])]:
        _add_case(rule, case)
    audit.record("policies.rule.saved", actor=actor, target=rule, organization_id=item.policy.organization_id,
                 data={"version": version})  # fmt: skip
    if activate:
        activate_rule(actor=actor, rule=rule)
    return rule


def _add_case(rule: Rule, data: dict[str, Any]) -> RuleTestCase:
    if rule.test_cases.count() >= MAX_TEST_CASES:
        raise DomainError(_("A rule has at most %(max)s test cases.") % {"max": MAX_TEST_CASES}, code="test_cases")
    expected = str(data.get("expected") or "")
    if expected not in DECISIONS:
        raise DomainError(_("The expected decision is eligible, ineligible or needs_data."), code="expected")
    facts = data.get("facts")
    if not isinstance(facts, dict):
        raise DomainError(_("A test case's facts must be an object."), code="facts")
    try:
        snapshot_from_json(facts)
    except (UnitError, ValueError, TypeError, KeyError) as exc:
        message = _("The test case's facts cannot be read: %(error)s") % {"error": getattr(exc, "message", exc)}
        raise DomainError(message, code="facts") from exc
    name = str(data.get("name") or _("Case"))[:120]
    return RuleTestCase.objects.create(rule=rule, name=name, facts=facts, expected=expected,
                                       expected_missing=data.get("expected_missing") or [])  # fmt: skip


@transaction.atomic
def add_test_case(*, actor: Any, rule: Rule, data: dict[str, Any]) -> RuleTestCase:
    require(actor, CHANGE, rule.item.policy)
    return _add_case(rule, data)


@transaction.atomic
def activate_rule(*, actor: Any, rule: Rule) -> Rule:
    """Put a version in force if all its test cases pass; the previous version is superseded."""
    require(actor, CHANGE, rule.item.policy)
    failures = [r for r in run_test_cases(rule) if not r.passed]
    if failures:
        first = failures[0]
        raise DomainError(
            _("%(count)s test case(s) fail, e.g. “%(name)s”: expected %(expected)s, got %(got)s.")
            % {"count": len(failures), "name": first.case.name, "expected": first.case.expected,
               "got": first.got or first.error},
            code="test_cases",
        )  # fmt: skip
    previous = list(Rule.objects.select_for_update().filter(item_id=rule.item_id, status=Rule.Status.ACTIVE)
                    .exclude(pk=rule.pk))  # fmt: skip
    for old in previous:
        old.status = Rule.Status.SUPERSEDED
        old.superseded_by = rule
        old.save(update_fields=["status", "superseded_by"])
    rule.status = Rule.Status.ACTIVE
    rule.save(update_fields=["status"])
    audit.record("policies.rule.activated", actor=actor, target=rule, organization_id=rule.item.policy.organization_id,
                 data={"superseded": [r.pk for r in previous]})  # fmt: skip
    if rule.item.policy.status == Policy.Status.PUBLISHED:
        enqueue_on_commit("policies.recompute_item", rule.item_id)
    return rule


# --------------------------------------------------------------------------- proposals from the text


@dataclass
class Proposal:
    entry_type: str
    var: str
    relation: str
    field: str
    condition: dict[str, Any] | None  # the engine condition it becomes, when it can
    problem: str = ""


def propose_conditions(clause: Clause) -> list[Proposal]:
    """Conditions the extractor reads in a clause, each turned into an engine condition where it can be."""
    proposals = []
    for found in extraction.default_extractor().extract(clause.text):
        entry = {"eid": "", "var": found.var, "relation": found.relation, "field": found.field}
        condition, problem, _typed = dev_rules.condition_for(entry, str(clause.policy_id))
        if condition is not None:
            condition["clause"] = clause.pk
        proposals.append(Proposal(found.entry_type, found.var, found.relation, found.field, condition, problem))
    return proposals


@transaction.atomic
def record_correction(*, actor: Any, clause: Clause, action: str, proposed: dict[str, Any] | None = None,
                      final: dict[str, str] | None = None) -> ConditionCorrection:  # fmt: skip
    """Keep what staff did with a proposal (accepted, corrected, rejected, added): training data for the extractor."""
    require(actor, CHANGE, clause.policy)
    if action not in ConditionCorrection.Action.values:
        raise DomainError(_("Unknown action."), code="action")
    final = final or {}
    return ConditionCorrection.objects.create(
        clause=clause, sentence=clause.text[:5000], action=action, proposed=proposed or {},
        entry_type=str(final.get("entry_type", ""))[:20], var=str(final.get("var", ""))[:40],
        relation=str(final.get("relation", ""))[:10], field=str(final.get("field", ""))[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
