"""Eligibility rules as versions: save, test, activate (superseding the one in force); conditions proposed from
a clause's text and what staff did with the proposals (kept as training data)."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import CHANGE, require
from qiaoliang.policies import dev_rules, extraction
from qiaoliang.policies.facts import FIELDS, snapshot_from_json
from qiaoliang.policies.models import Clause, ConditionCorrection, Policy, Rule, RuleTestCase, SupportItem
from qiaoliang.policies.rules import RuleError, ThresholdBook, check_sensible, evaluate, parse_expression
from qiaoliang.policies.services.decisions import parse_rule, threshold_book
from qiaoliang.policies.units import UnitError

DECISIONS = ("eligible", "ineligible", "needs_data")
MAX_TEST_CASES = 100


DECISION_LABELS = {"eligible": gettext_lazy("Eligible"), "ineligible": gettext_lazy("Not eligible"),
                   "needs_data": gettext_lazy("Needs data")}  # fmt: skip


@dataclass
class CaseResult:
    case: RuleTestCase
    got: str
    passed: bool
    error: str = ""

    @property
    def expected_label(self) -> str:
        return str(DECISION_LABELS.get(self.case.expected, self.case.expected))

    @property
    def got_label(self) -> str:
        return str(DECISION_LABELS.get(self.got, self.got or self.error))


def run_case(
    expression: Any,
    facts: dict[str, Any],
    expected: str,
    on: datetime.date | None = None,
    book: ThresholdBook | None = None,
    expected_missing: list[str] | None = None,
) -> tuple[str, str]:
    """(decision, error) of one test case's facts against an expression, on a day (today by default).

    When the case names the fields it expects to be missing, a needs-data answer must name the same ones.
    """
    on = on or timezone.localdate()
    try:
        snapshot = snapshot_from_json(facts)
    except (UnitError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return "", str(getattr(exc, "message", exc))
    outcome = evaluate(expression, snapshot, on, book if book is not None else threshold_book())
    if outcome.decision == "needs_data":
        missing = "、".join(str(FIELDS[code].label) if code in FIELDS else code for code in outcome.missing_fields)
        if expected_missing and set(outcome.missing_fields) != set(expected_missing):
            return outcome.decision, _("Needs other data than expected: %(missing)s") % {"missing": missing}
        if expected != "needs_data":  # say which: a regional policy's case without a region, a year not given
            return outcome.decision, _("Data missing: %(missing)s") % {"missing": missing}
    return outcome.decision, ""


def run_test_cases(rule: Rule, *, on: datetime.date | None = None) -> list[CaseResult]:
    """Run a rule's test cases as the engine answers enterprises: with the policy's jurisdiction, each on its
    reference day (the day it was written, so that 上年度 stays the year its facts give)."""
    book = threshold_book()
    expression = parse_rule(rule, book)
    results = []
    for case in rule.test_cases.all():
        got, error = run_case(expression, case.facts, case.expected, on or case.as_of, book, case.expected_missing)
        results.append(CaseResult(case, got, got == case.expected and not error, error))
    return results


def _checked_expression(data: Any) -> dict[str, Any]:
    try:
        parsed = parse_expression(data, thresholds=threshold_book())
        check_sensible(parsed)
        return parsed.to_json()
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
    cited = {c.clause for c in parse_expression(stored, thresholds=threshold_book()).conditions() if c.clause}
    if cited:
        owners = dict(Clause.objects.filter(pk__in=cited).values_list("pk", "policy_id"))
        if any(owner != item.policy_id for owner in owners.values()):
            raise DomainError(_("A condition cites a clause of another policy."), code="clause")
        if len(owners) != len(cited):  # clauses gone since (the text was split again): the citation goes too
            stored = _without_clauses(stored, cited - set(owners))
    if effective_from and expires_on and expires_on < effective_from:
        raise DomainError(_("The rule cannot expire before it takes effect."), code="expires_on")
    locked = SupportItem.objects.select_for_update().get(pk=item.pk)
    version = (Rule.objects.filter(item=locked).aggregate(v=Max("version"))["v"] or 0) + 1
    previous = Rule.objects.filter(item=locked, status=Rule.Status.ACTIVE).first()
    rule = Rule.objects.create(
        item=locked, version=version, expression=stored, clause=clause, effective_from=effective_from,
        expires_on=expires_on, note=note[:500], created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    carried = [{"name": c.name, "facts": c.facts, "expected": c.expected, "expected_missing": c.expected_missing,
                "as_of": c.as_of} for c in previous.test_cases.all()] if previous else []  # fmt: skip
    for case in [*carried, *(test_cases or [])]:
        _add_case(rule, case)
    audit.record("policies.rule.saved", actor=actor, target=rule, organization_id=item.policy.organization_id,
                 data={"version": version})  # fmt: skip
    if activate:
        activate_rule(actor=actor, rule=rule)
    return rule


def _without_clauses(value: Any, gone: set[int]) -> Any:
    """A stored expression without the citations of clauses that no longer exist."""
    if isinstance(value, dict):
        return {k: _without_clauses(v, gone) for k, v in value.items() if not (k == "clause" and v in gone)}
    if isinstance(value, list):
        return [_without_clauses(v, gone) for v in value]
    return value


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
    except (UnitError, ValueError, TypeError, KeyError, AttributeError) as exc:
        message = _("The test case's facts cannot be read: %(error)s") % {"error": getattr(exc, "message", exc)}
        raise DomainError(message, code="facts") from exc
    missing = data.get("expected_missing") or []
    if (
        not isinstance(missing, list)
        or len(missing) > 50
        or not all(isinstance(m, str) and len(m) <= 80 for m in missing)
    ):
        raise DomainError(_("The expected missing fields must be a list of field codes."), code="expected_missing")
    as_of = data.get("as_of") or timezone.localdate()
    if isinstance(as_of, str):
        try:
            as_of = datetime.date.fromisoformat(as_of)
        except ValueError as exc:
            raise DomainError(_("The reference day must be a date such as 2026-06-30."), code="as_of") from exc
    if not isinstance(as_of, datetime.date):
        raise DomainError(_("The reference day must be a date such as 2026-06-30."), code="as_of")
    name = str(data.get("name") or _("Case"))[:120]
    return RuleTestCase.objects.create(rule=rule, name=name, facts=facts, expected=expected,
                                       expected_missing=missing, as_of=as_of)  # fmt: skip


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
            % {"count": len(failures), "name": first.case.name, "expected": first.expected_label,
               "got": first.got_label},
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
    Policy.objects.filter(pk=rule.item.policy_id).update(updated_at=timezone.now())  # the library changed
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
    original: dict[str, str] | None = None  # what the reading proposed, when the shown values were edited

    @property
    def field_label(self) -> str:
        """What the condition is on, as the rule editor names it (营业收入, 荣誉/资质), not the code."""
        code = str((self.condition or {}).get("field", ""))
        spec = FIELDS.get(code)
        return str(spec.label) if spec is not None else code


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
                      final: dict[str, str] | None = None, batch: uuid.UUID | None = None
                      ) -> ConditionCorrection:  # fmt: skip
    """Keep what staff did with a proposal (accepted, corrected, rejected, added): training data for the extractor."""
    require(actor, CHANGE, clause.policy)
    if action not in ConditionCorrection.Action.values:
        raise DomainError(_("Unknown action."), code="action")
    final = final or {}
    return ConditionCorrection.objects.create(
        clause=clause, sentence=clause.text[:5000], action=action, proposed=proposed or {},
        entry_type=str(final.get("entry_type", ""))[:20], var=str(final.get("var", ""))[:40],
        relation=str(final.get("relation", ""))[:10], field=str(final.get("field", ""))[:200], batch=batch,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip


ENTRY_TYPES = ("经营要求", "业务领域", "企业类型", "注册地", "研发要求", "法人资格", "产权要求", "其他类别")
RELATIONS = ("是", "否", "符合", "大于", "大于等于", "小于", "小于等于", "包含", "不包含", "属于")
MAX_REVIEW_ROWS = 50


@dataclass
class ReviewedRow:
    """One row of the proposals form: a proposal (or a condition staff add), kept or rejected, as finally written."""

    proposed: dict[str, str] | None
    entry_type: str
    var: str
    relation: str
    field: str
    keep: bool


@transaction.atomic
def review_proposals(*, actor: Any, clause: Clause, rows: list[ReviewedRow]) -> list[Proposal]:
    """Record what staff did with each proposal of a clause (accepted, corrected, rejected, added: the extractor's
    training data) and return the kept conditions as the engine reads them. Every row is checked first; a bad
    row refuses the whole form, so nothing is half-recorded."""
    require(actor, CHANGE, clause.policy)
    if len(rows) > MAX_REVIEW_ROWS:
        raise DomainError(_("At most %(max)d conditions at a time.") % {"max": MAX_REVIEW_ROWS}, code="rows")
    cleaned: list[tuple[str, ReviewedRow]] = []
    for number, row in enumerate(rows, start=1):
        final = ReviewedRow(row.proposed, row.entry_type.strip(), row.var.strip()[:40], row.relation.strip(),
                            " ".join(row.field.split()), row.keep)  # fmt: skip
        if row.proposed is None and not final.field:
            continue  # an empty "add" row
        if final.keep:
            where = {"row": number}
            if not final.field:
                raise DomainError(_("Condition %(row)d: write the value (the field as the policy states it).")
                                  % where, code="field")  # fmt: skip
            if len(final.field) > 200:
                raise DomainError(_("Condition %(row)d: the value is longer than 200 characters.") % where,
                                  code="field")  # fmt: skip
            if final.entry_type not in ENTRY_TYPES:
                raise DomainError(_("Condition %(row)d: choose the type from the list.") % where, code="entry_type")
            if final.relation not in RELATIONS:
                raise DomainError(_("Condition %(row)d: choose the relation from the list.") % where, code="relation")
        if row.proposed is None:
            action = ConditionCorrection.Action.ADDED
        elif not final.keep:
            action = ConditionCorrection.Action.REJECTED
        elif all(str(row.proposed.get(k, "")) == getattr(final, k) for k in ("entry_type", "var", "relation", "field")):
            action = ConditionCorrection.Action.ACCEPTED
        else:
            action = ConditionCorrection.Action.CORRECTED
        cleaned.append((action, final))
    if not cleaned:
        raise DomainError(_("Nothing to record: the reading proposed no condition here and none was added."),
                          code="rows")  # fmt: skip
    kept: list[Proposal] = []
    batch = uuid.uuid4()
    for action_taken, final in cleaned:
        values = {"entry_type": final.entry_type, "var": final.var, "relation": final.relation, "field": final.field}
        record_correction(actor=actor, clause=clause, action=action_taken, proposed=final.proposed,
                          final=values if final.keep else {}, batch=batch)  # fmt: skip
        if final.keep:
            condition, problem, _typed = dev_rules.condition_for({"eid": "", **values}, str(clause.policy_id))
            if condition is not None:
                condition["clause"] = clause.pk
            kept.append(Proposal(final.entry_type, final.var, final.relation, final.field, condition, problem))
    audit.record("policies.proposals.reviewed", actor=actor, target=clause.policy,
                 organization_id=clause.policy.organization_id,
                 data={"clause": clause.pk, "rows": len(cleaned), "kept": len(kept)})  # fmt: skip
    return kept


def corrections_as_entries(rows: Any) -> list[dict[str, str]]:
    """Kept corrections in the shape of the annotations (sid, sentence, entry_type, var, relation, field): more
    training data for `train_policy_extractor --extra-entries`. Only the latest review of each clause counts (a
    clause reviewed twice would otherwise teach both answers). A correction whose clause is gone (the policy's
    text was split again) still teaches its sentence, keyed by the sentence's text."""
    rows = list(rows)

    def key(row: Any) -> str:
        return f"c{row.clause_id}" if row.clause_id else "h" + hashlib.sha256(row.sentence.encode()).hexdigest()[:12]

    latest: dict[str, Any] = {}
    for row in rows:
        if row.batch is not None and (key(row) not in latest or row.created_at > latest[key(row)][0]):
            latest[key(row)] = (row.created_at, row.batch)
    entries = []
    for row in rows:
        if key(row) in latest and row.batch != latest[key(row)][1]:
            continue
        if row.action == ConditionCorrection.Action.REJECTED or not row.field:
            continue
        sid = f"q{row.clause.policy_id}_{row.clause_id}" if row.clause_id else f"q{key(row)}"
        entries.append({
            "sid": sid, "sentence": row.sentence, "entry_type": row.entry_type,
            "var": row.var, "relation": row.relation, "field": row.field,
        })  # fmt: skip
    return entries
