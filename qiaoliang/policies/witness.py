"""Test cases for a rule, built from what its conditions say rather than from the engine's answers.

For an expression it constructs facts that (1) meet one condition of every group → eligible; (2) fail every
condition of one group while meeting the others → not eligible; (3) leave out the facts of a group whose
conditions all need entered data → needs data. Each case states the decision the rule *must* give; the
engine is then run on it (`RuleTestCase`, CI). A case whose facts would contradict each other (two groups
bounding the same figure incompatibly) is skipped.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from qiaoliang.policies import honour_rules
from qiaoliang.policies.facts import FIELDS, Kind, Source, section_of_code
from qiaoliang.policies.honours import honour_vocabulary
from qiaoliang.policies.rules import Condition, Expression, Op, ThresholdBook

STEP = Decimal("0.01")
EMPTY_FACTS: dict[str, Any] = {"yearly": {}, "standing": {}, "honours": [], "declarations": {}, "figures": {}}


class Conflict(Exception):  # noqa: N818 - not an error: a case that cannot be built is skipped
    pass


def _fact_slot(cond: Condition) -> tuple[str, str]:
    spec = FIELDS[cond.field]
    if spec.source == Source.DECLARATIONS and spec.kind == Kind.NUMBER:
        return "figures", f"{cond.field}:{cond.key}"
    if spec.source == Source.STANDING:
        return "standing", cond.field
    return "yearly", cond.field


def _number_value(cond: Condition, want: bool) -> Decimal:
    t: Decimal = cond.value
    if want:
        return {Op.GT: t + STEP, Op.GTE: t, Op.LT: t - STEP, Op.LTE: t, Op.EQ: t, Op.NE: t + STEP}[cond.op]
    return {Op.GT: t, Op.GTE: t - STEP, Op.LT: t, Op.LTE: t + STEP, Op.EQ: t + STEP, Op.NE: t}[cond.op]


class Builder:
    def __init__(self, on_year: int, thresholds: ThresholdBook | None) -> None:
        self.ref = on_year - 1
        self.thresholds = thresholds
        self.facts: dict[str, Any] = copy.deepcopy(EMPTY_FACTS)
        self.numbers: dict[tuple[str, str], list[tuple[Condition, bool]]] = {}

    def set(self, cond: Condition, want: bool) -> None:
        spec = FIELDS[cond.field]
        if spec.kind == Kind.NUMBER:
            if cond.field == "age_years":
                raise Conflict  # ages depend on the day the case runs; covered by the unit tests instead
            slot = _fact_slot(cond)
            self.numbers.setdefault(slot, []).append((cond, want))
            value = _number_value(cond, want)
            for other, other_want in self.numbers[slot]:
                if _holds(value, other) != other_want:
                    raise Conflict
            self._store(cond, value)
        elif spec.kind in (Kind.REGION, Kind.INDUSTRY, Kind.CHOICE):
            inside = (cond.op == Op.IN) == want
            code: str = cond.value[0] if inside else _outside(cond)
            key = cond.field
            if key in self.facts and self.facts[key] != code:
                raise Conflict
            self.facts[key] = code
            if cond.field == "industry":
                self.facts["industry_section"] = code if code.isalpha() else section_of_code(code)
        elif spec.kind == Kind.HONOUR:
            holds = (cond.op == Op.HAS) == want
            requirement = str(cond.value)
            honours = self.facts["honours"]
            absent = self.facts.setdefault("_absent", [])
            if holds:
                if any(honour_rules.satisfied_by(code, requirement) for code in honours):
                    return
                holder = _holder_for(requirement)
                if holder is None or any(honour_rules.satisfied_by(holder, other) for other in absent):
                    raise Conflict
                honours.append(holder)
            else:
                if any(honour_rules.satisfied_by(code, requirement) for code in honours):
                    raise Conflict
                absent.append(requirement)
        elif spec.kind == Kind.DECLARATION:
            declared = (cond.op == Op.EQ) == want
            existing = self.facts["declarations"].get(cond.value)
            if existing is not None and existing != declared:
                raise Conflict
            self.facts["declarations"][cond.value] = declared
        else:
            raise Conflict  # named thresholds: exercised by their own tests

    def _store(self, cond: Condition, value: Decimal) -> None:
        section, key = _fact_slot(cond)
        text = format(value, "f")
        if section == "yearly":
            years = cond.window.years if cond.window else 1
            self.facts["yearly"].setdefault(key, {})
            for year in range(self.ref, self.ref - years, -1):
                self.facts["yearly"][key][str(year)] = text
        else:
            self.facts[section][key] = text

    def clear(self, cond: Condition) -> None:
        section, key = _fact_slot(cond)
        if FIELDS[cond.field].kind == Kind.DECLARATION:
            self.facts["declarations"].pop(cond.value, None)
        elif FIELDS[cond.field].kind == Kind.NUMBER:
            self.facts[section].pop(key, None)

    def result(self) -> dict[str, Any]:
        return {k: v for k, v in self.facts.items() if not k.startswith("_")}


def _holder_for(requirement: str) -> str | None:
    """A held code that meets a requirement: the requirement's own code, else the first of the vocabulary."""
    base, _sep, grade = requirement.partition(":")
    grade = grade.rstrip("+")
    own = base.rstrip("+")
    candidates = [own, *(h.code for h in honour_vocabulary())]
    for code in candidates:
        held = f"{code}:{grade}" if grade else code
        if honour_rules.satisfied_by(held, requirement):
            return held
    return None


def _holds(value: Decimal, cond: Condition) -> bool:
    t = cond.value
    return {Op.GT: value > t, Op.GTE: value >= t, Op.LT: value < t, Op.LTE: value <= t, Op.EQ: value == t,
            Op.NE: value != t}[cond.op]  # fmt: skip


def _outside(cond: Condition) -> str:
    if cond.field == "region":
        for candidate in ("110101", "440305", "510104", "650102"):
            if not any(candidate.startswith(c[:2]) for c in cond.value):
                return candidate
        raise Conflict
    if cond.field == "industry":
        for candidate in ("A0111", "Z9999"):
            if not any(candidate.startswith(c) or c == candidate[0] for c in cond.value):
                return candidate if candidate != "Z9999" else "S9999"
        raise Conflict
    spec = FIELDS[cond.field]
    for choice, _label in spec.choices:
        if choice not in cond.value:
            return choice
    raise Conflict


def cases_for(expression: Expression, *, on_year: int, thresholds: ThresholdBook | None = None) -> list[dict[str, Any]]:
    """Test cases (name, facts, expected, expected_missing) the rule must answer."""
    cases: list[dict[str, Any]] = []
    groups = expression.groups

    def build(choices: list[tuple[Condition, bool]]) -> dict[str, Any] | None:
        builder = Builder(on_year, thresholds)
        try:
            for cond, want in choices:
                builder.set(cond, want)
        except Conflict:
            return None
        return builder.result()

    def first_buildable(group: tuple[Condition, ...], others: list[tuple[Condition, bool]]) -> list | None:
        for cond in group:
            if build([*others, (cond, True)]) is not None:
                return [*others, (cond, True)]
        return None

    chosen: list[tuple[Condition, bool]] = []
    for group in groups:
        extended = first_buildable(group, chosen)
        if extended is None:
            return cases
        chosen = extended
    facts = build(chosen)
    if facts is None:
        return cases
    cases.append({"name": "每组各满足一个条件", "facts": facts, "expected": "eligible",
                  "expected_missing": []})  # fmt: skip
    for index, group in enumerate(groups):
        others = [pair for pair in chosen if pair[0] not in group]
        fail = build([*others, *[(cond, False) for cond in group]])
        if fail is not None:
            cases.append({"name": f"第{index + 1}组不满足", "facts": fail, "expected": "ineligible",
                          "expected_missing": []})  # fmt: skip
        if all(FIELDS[c.field].kind in (Kind.NUMBER, Kind.DECLARATION) and c.field != "age_years" for c in group):
            builder = Builder(on_year, thresholds)
            try:
                for cond, want in others:
                    builder.set(cond, want)
            except Conflict:
                continue
            if any(_fact_slot(c) in {_fact_slot(o) for o, _w in others} for c in group):
                continue
            if any(FIELDS[c.field].kind == Kind.DECLARATION and c.value in builder.facts["declarations"]
                   for c in group):  # fmt: skip
                continue
            cases.append({"name": f"第{index + 1}组缺少数据", "facts": builder.result(),
                          "expected": "needs_data", "expected_missing": []})  # fmt: skip
    return cases
