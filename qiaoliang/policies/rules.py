"""Eligibility rules that compute: AND of OR groups of typed conditions, answered in three values.

A rule's expression is JSON::

    {"all": [[cond, cond], [cond]],                      # every group must hold; a group holds if one of its
     "tiers": [{"label": "一档", "amount": "500000",      # conditions holds
                "all": [[cond]]}]}                        # optional: the highest tier met sets the amount

and a condition is ``{"field": "revenue", "op": "gte", "value": "20000000", "text": "2000万元", "window":
{"years": 3, "mode": "each"}, "label": "近三年营业收入均不低于2000万元", "clause": 17}``.

Each condition answers TRUE, FALSE or UNKNOWN (the fact it needs is missing, stale, or never declared); a
group is TRUE if any condition is, else UNKNOWN if any is, else FALSE; the rule is FALSE if any group is,
else UNKNOWN if any is, else TRUE. So an enterprise is *eligible*, *not eligible* (with the failed
conditions) or *needs data* (with the fields to fill in) — never a silent "no". A rule failed by exactly one
group, with every other group holding, is a near miss ("差一项：高新技术企业").

`parse_expression` validates an expression (every field, operator, unit and value) and converts values to
base units exactly; it raises `RuleError` with the position of the bad condition. `evaluate` answers for one
enterprise snapshot with reasons; `BatchEvaluator` answers for many enterprises at once with numpy, exactly
(float comparisons near a threshold are re-checked with Decimals).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.industries import resolver as industry_resolver
from qiaoliang.core.regions import region_prefix, resolver
from qiaoliang.policies import honour_rules
from qiaoliang.policies.facts import FIELDS, FactField, FactValue, Kind, Snapshot, Source, reference_year
from qiaoliang.policies.units import Dimension, UnitError, format_quantity, parse_quantity

MAX_GROUPS = 50
MAX_CONDITIONS = 200
MAX_TIERS = 20
MAX_WINDOW_YEARS = 10
MAX_THRESHOLD_DEPTH = 3


SIGNED_FIELDS = frozenset({"net_profit", "declared_number"})  # the figures that can be below zero
MAX_THRESHOLD = Decimal(10) ** 18  # far above any enterprise figure (the facts' column stores below 10^16)


class RuleError(DomainError):
    """An expression that cannot be read: the message names the condition and what is wrong with it."""


class Tri(IntEnum):
    """Three-valued logic ordered so that AND is min and OR is max."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2


class Op(StrEnum):
    EQ = "eq"  # 是
    NE = "ne"  # 否
    GT = "gt"  # 大于
    GTE = "gte"  # 大于等于
    LT = "lt"  # 小于
    LTE = "lte"  # 小于等于
    HAS = "has"  # 包含 (honours)
    NOT_HAS = "not_has"  # 不包含
    IN = "in"  # 属于
    NOT_IN = "not_in"  # 不属于


OP_WORDS = {
    Op.EQ: "是", Op.NE: "否", Op.GT: "大于", Op.GTE: "大于等于", Op.LT: "小于", Op.LTE: "小于等于",
    Op.HAS: "包含", Op.NOT_HAS: "不包含", Op.IN: "属于", Op.NOT_IN: "不属于",
}  # fmt: skip
CHINESE_OPS = {word: op for op, word in OP_WORDS.items()} | {
    "不低于": Op.GTE, "不少于": Op.GTE, "以上": Op.GTE, "达到": Op.GTE, "超过": Op.GT, "高于": Op.GT,
    "低于": Op.LT, "不超过": Op.LTE, "不高于": Op.LTE, "以下": Op.LTE, "符合": Op.EQ, "具有": Op.HAS, "获得": Op.HAS,
}  # fmt: skip

NUMERIC_OPS = {Op.GT, Op.GTE, Op.LT, Op.LTE, Op.EQ, Op.NE}
SET_OPS = {Op.IN, Op.NOT_IN, Op.EQ, Op.NE}
HONOUR_OPS = {Op.HAS, Op.NOT_HAS, Op.EQ, Op.NE}
FLAG_OPS = {Op.EQ, Op.NE}
WINDOW_MODES = ("each", "any", "sum", "avg")


@dataclass(frozen=True)
class Window:
    years: int
    mode: str  # each | any | sum | avg


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: Any  # Decimal (numbers), tuple[str, ...] (sets), str (honour, threshold, declaration key)
    text: str = ""  # the value as written ("2000万元")
    label: str = ""  # the condition as the policy states it
    window: Window | None = None
    clause: int | None = None
    key: str = ""  # what a declared figure is ("设备投资额")

    def describe(self) -> str:
        if self.label:
            return self.label
        spec = FIELDS[self.field]
        name = self.key or str(spec.label)
        if spec.kind == Kind.HONOUR:  # the requirement's name, not its code
            return f"{name}{OP_WORDS[self.op]}{honour_rules.name(str(self.value))}"
        value = "、".join(self.value) if isinstance(self.value, tuple) else self.text or self.value
        return f"{name}{OP_WORDS[self.op]}{value}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "op": str(self.op)}
        data["value"] = (
            format(self.value, "f")
            if isinstance(self.value, Decimal)
            else list(self.value)
            if isinstance(self.value, tuple)
            else self.value
        )
        for key in ("text", "label"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.window:
            data["window"] = {"years": self.window.years, "mode": self.window.mode}
        if self.clause:
            data["clause"] = self.clause
        if self.key:
            data["key"] = self.key
        return data


@dataclass(frozen=True)
class Tier:
    label: str
    amount: Decimal | None
    groups: tuple[tuple[Condition, ...], ...]


@dataclass(frozen=True)
class Expression:
    groups: tuple[tuple[Condition, ...], ...]
    tiers: tuple[Tier, ...] = ()

    def conditions(self) -> list[Condition]:
        found = [c for group in self.groups for c in group]
        for tier in self.tiers:
            found += [c for group in tier.groups for c in group]
        return found

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"all": [[c.to_json() for c in group] for group in self.groups]}
        if self.tiers:
            data["tiers"] = [
                {"label": t.label, "amount": format(t.amount, "f") if t.amount is not None else None,
                 "all": [[c.to_json() for c in group] for group in t.groups]}
                for t in self.tiers
            ]  # fmt: skip
        return data


# --------------------------------------------------------------------------- parsing and validation


class ThresholdBook:
    """Named thresholds (规模以上工业企业, 限额以上批发业 …) as data: a name, a code and an expression."""

    def __init__(self, entries: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.raw = entries  # code → (name, expression json)
        self._parsed: dict[str, Expression] = {}

    def names(self) -> dict[str, str]:
        return {code: name for code, (name, _expr) in self.raw.items()}

    def expression(self, code: str, depth: int = 0) -> Expression:
        if code not in self._parsed:
            if code not in self.raw:
                raise RuleError(_("Unknown named threshold: %(code)s.") % {"code": code}, code="value")
            self._parsed[code] = parse_expression(self.raw[code][1], thresholds=self, depth=depth + 1)
        return self._parsed[code]


# What a derived field is computed from: a change of these changes it.
DERIVED_FROM: dict[str, tuple[str, ...]] = {"rd_ratio": ("rd_expense", "revenue")}


def fields_read(expression: Expression, thresholds: ThresholdBook | None = None) -> frozenset[str]:
    """The enterprise fields a rule reads (named thresholds expanded, derived fields with their sources): after a
    change of other fields its answer cannot change."""
    found: set[str] = set()
    for cond in expression.conditions():
        if cond.field == "threshold" and thresholds is not None:
            found |= fields_read(thresholds.expression(cond.value), thresholds)
        found.add(cond.field)
        found.update(DERIVED_FROM.get(cond.field, ()))
    return frozenset(found)


def _where(position: str, message: str) -> RuleError:
    return RuleError(_("Condition %(position)s: %(message)s") % {"position": position, "message": message},
                     code="expression")  # fmt: skip


def parse_condition(data: Any, *, position: str = "1", thresholds: ThresholdBook | None = None,
                    depth: int = 0) -> Condition:  # fmt: skip
    """Read one condition; raise RuleError naming the condition for anything that is not right."""
    if not isinstance(data, dict):
        raise _where(position, _("a condition must be an object with field, op and value."))
    code = data.get("field")
    if code not in FIELDS:
        raise _where(position, _("unknown field %(field)s.") % {"field": code})
    spec = FIELDS[code]
    raw_op = data.get("op")
    op_value = CHINESE_OPS.get(raw_op, raw_op) if isinstance(raw_op, str) else str(raw_op)
    try:
        op = Op(op_value)
    except ValueError:
        raise _where(position, _("unknown operator %(op)s.") % {"op": raw_op}) from None
    raw_value = data.get("value")
    text = str(data.get("text") or "")[:200]
    label = str(data.get("label") or "")[:300]
    clause = data.get("clause")
    if clause is not None and not (isinstance(clause, int) and clause > 0):
        raise _where(position, _("the clause must be a clause id."))
    window = None
    if data.get("window"):
        window_data = data["window"]
        if spec.kind != Kind.NUMBER or not spec.yearly:
            raise _where(position, _("a time window applies only to yearly figures."))
        try:
            years = int(window_data.get("years"))
        except (TypeError, ValueError, AttributeError):
            raise _where(position, _("the window's years must be a whole number.")) from None
        mode = window_data.get("mode", "each")
        if not 1 <= years <= MAX_WINDOW_YEARS or mode not in WINDOW_MODES:
            raise _where(position, _("the window must be 1 to %(max)s years, mode each, any, sum or avg.")
                         % {"max": MAX_WINDOW_YEARS})  # fmt: skip
        window = Window(years, mode)
    value: Any
    key = ""
    if spec.kind == Kind.NUMBER and spec.keyed:
        key = str(data.get("key") or "").strip()
        if not key or len(key) > 60:
            raise _where(position, _("a declared figure needs its name (key) of at most 60 characters."))
    if spec.kind == Kind.NUMBER:
        if op not in NUMERIC_OPS:
            raise _where(position, _("%(op)s does not apply to a number.") % {"op": OP_WORDS[op]})
        value = _number(raw_value, text, spec.dimension, position)
        if raw_value not in (None, "") and text and _number(None, text, spec.dimension, position) != value:
            raise _where(position, _("the value %(value)s and the text %(text)s disagree.")
                         % {"value": raw_value, "text": text})  # fmt: skip
        text = text or format_quantity(value, spec.dimension)
    elif spec.kind in (Kind.REGION, Kind.INDUSTRY, Kind.CHOICE):
        if op not in SET_OPS:
            raise _where(position, _("%(op)s does not apply to %(field)s.") % {"op": OP_WORDS[op], "field": spec.label})
        raw_items = raw_value if isinstance(raw_value, list) else [raw_value]
        items: list[str] = [str(item).strip() for item in raw_items if str(item or "").strip()]
        if not items or len(items) > 500:
            raise _where(position, _("give one to 500 values."))
        if spec.kind == Kind.CHOICE:
            allowed = {choice for choice, _label in spec.choices}
            wrong = [item for item in items if item not in allowed]
            if wrong:
                raise _where(position, _("%(value)s is not a choice of %(field)s.")
                             % {"value": wrong[0], "field": spec.label})  # fmt: skip
        elif spec.kind == Kind.REGION:
            if any(not (item.isdigit() and len(item) in (2, 4, 6)) for item in items):
                raise _where(position, _("a region is a GB/T 2260 code."))
        else:
            if any(not (item.isalnum() and len(item) <= 5) for item in items):
                raise _where(position, _("an industry is a GB/T 4754 code."))
        value = tuple(items)
        op = Op.IN if op == Op.EQ else Op.NOT_IN if op == Op.NE else op
    elif spec.kind == Kind.HONOUR:
        if op not in HONOUR_OPS:
            raise _where(position, _("%(op)s does not apply to honours.") % {"op": OP_WORDS[op]})
        value = _honour_code(raw_value, position)
        op = Op.HAS if op == Op.EQ else Op.NOT_HAS if op == Op.NE else op
    elif spec.kind == Kind.THRESHOLD:
        if op not in FLAG_OPS:
            raise _where(position, _("a named threshold is met or not (是 or 否)."))
        if thresholds is None or str(raw_value) not in thresholds.raw:
            raise _where(position, _("unknown named threshold %(value)s.") % {"value": raw_value})
        if depth >= MAX_THRESHOLD_DEPTH:
            raise _where(position, _("named thresholds nest too deeply."))
        thresholds.expression(str(raw_value), depth)
        value = str(raw_value)
    else:  # declaration
        if op not in FLAG_OPS:
            raise _where(position, _("a declaration is true or not (是 or 否)."))
        key = str(raw_value or "").strip()
        if not key or len(key) > 120:
            raise _where(position, _("a declaration needs a statement of at most 120 characters."))
        value = key
        label = label or key
    return Condition(code, op, value, text=text, label=label, window=window, clause=clause, key=key)


def _number(raw: Any, text: str, dimension: Dimension, position: str) -> Decimal:
    try:
        if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool):
            return Decimal(raw)
        if isinstance(raw, float):
            return Decimal(str(raw))
        if isinstance(raw, str) and raw.strip():
            try:
                number = Decimal(raw.strip())
            except InvalidOperation:
                return parse_quantity(raw, dimension)
            if not number.is_finite():
                raise InvalidOperation
            return number
        if text:
            return parse_quantity(text, dimension)
    except UnitError as exc:
        raise _where(position, exc.message) from None
    except InvalidOperation:
        pass
    raise _where(position, _("%(value)s is not a number.") % {"value": raw if raw not in (None, "") else "—"})


def _honour_code(raw: Any, position: str) -> str:
    code = str(raw or "").strip()
    if not honour_rules.known(code):
        raise _where(position, _("%(value)s is not an honour of the vocabulary.") % {"value": code or "—"})
    return code


def check_sensible(expression: Expression) -> None:
    """Refuse what a rule being written cannot mean: a negative threshold on a figure that is never below zero
    (员工人数 ≥ -10人), a threshold beyond any figure. Checked when a rule is saved, not when a stored one is read:
    a rule written before the check still answers."""
    for cond in expression.conditions():
        spec = FIELDS.get(cond.field)
        if spec is None or spec.kind != Kind.NUMBER or not isinstance(cond.value, Decimal):
            continue
        if cond.value < 0 and cond.field not in SIGNED_FIELDS:
            raise RuleError(_("%(condition)s: %(field)s cannot be negative.")
                            % {"condition": cond.describe(), "field": spec.label}, code="expression")  # fmt: skip
        if abs(cond.value) >= MAX_THRESHOLD:
            message = _("%(condition)s: %(value)s is too large a threshold.")
            raise RuleError(message % {"condition": cond.describe(), "value": cond.text or cond.value},
                            code="expression")  # fmt: skip


def parse_expression(data: Any, *, thresholds: ThresholdBook | None = None, depth: int = 0) -> Expression:
    """Read and check a whole expression; RuleError names the first bad condition."""
    if isinstance(data, list):
        data = {"all": data}
    if not isinstance(data, dict) or not isinstance(data.get("all"), list):
        raise RuleError(_("A rule is an object whose 'all' is a list of groups of conditions."), code="expression")
    groups = _groups(data["all"], "", thresholds, depth)
    if not groups:
        raise RuleError(_("A rule needs at least one condition."), code="expression")
    tiers: list[Tier] = []
    raw_tiers = data.get("tiers") or []
    if not isinstance(raw_tiers, list) or len(raw_tiers) > MAX_TIERS:
        raise RuleError(_("Tiers must be a list of at most %(max)s.") % {"max": MAX_TIERS}, code="expression")
    for t_index, tier in enumerate(raw_tiers, 1):
        if not isinstance(tier, dict):
            raise RuleError(_("Tier %(n)s must be an object.") % {"n": t_index}, code="expression")
        amount = None
        if tier.get("amount") not in (None, ""):
            amount = _number(tier["amount"], "", Dimension.MONEY, f"T{t_index}")
        tier_groups = tuple(_groups(tier.get("all") or [], f"T{t_index}.", thresholds, depth))
        if not tier_groups:
            raise RuleError(_("Tier %(n)s needs at least one condition.") % {"n": t_index}, code="expression")
        tiers.append(Tier(str(tier.get("label") or "")[:60], amount, tier_groups))
    expression = Expression(tuple(groups), tuple(tiers))
    if len(expression.conditions()) > MAX_CONDITIONS:
        raise RuleError(_("A rule has at most %(max)s conditions.") % {"max": MAX_CONDITIONS}, code="expression")
    return expression


def _groups(raw: Any, prefix: str, thresholds: ThresholdBook | None, depth: int) -> list[tuple[Condition, ...]]:
    if not isinstance(raw, list) or len(raw) > MAX_GROUPS:
        raise RuleError(_("A rule has at most %(max)s groups.") % {"max": MAX_GROUPS}, code="expression")
    groups = []
    for g_index, group in enumerate(raw, 1):
        items = group if isinstance(group, list) else [group]
        if not items:
            raise RuleError(_("Group %(n)s is empty.") % {"n": f"{prefix}{g_index}"}, code="expression")
        groups.append(tuple(
            parse_condition(item, position=f"{prefix}{g_index}.{c_index}", thresholds=thresholds, depth=depth)
            for c_index, item in enumerate(items, 1)
        ))  # fmt: skip
    return groups


# --------------------------------------------------------------------------- one enterprise, with reasons


@dataclass
class ConditionResult:
    condition: Condition
    state: Tri
    actual: str = ""  # what the enterprise's data says ("1,800万元 (2025)")
    missing: str = ""  # the field to fill in when UNKNOWN
    notes: list[str] = field(default_factory=list)  # "unreviewed", "stale"

    @property
    def actual_label(self) -> str:
        """``actual`` as people read it: a region's or industry's name, a size's label (for pages; reads the
        region and industry tables once per process)."""
        spec = FIELDS.get(self.condition.field)
        if not self.actual or spec is None or spec.kind not in (Kind.REGION, Kind.INDUSTRY, Kind.CHOICE):
            return self.actual
        return _shown(spec, self.actual)


@dataclass
class Outcome:
    state: Tri
    groups: list[list[ConditionResult]]
    tier: Tier | None = None
    near_miss: list[ConditionResult] | None = None  # the one failing group when every other group holds
    provisional: bool = False  # eligible on facts not yet reviewed

    @property
    def decision(self) -> str:
        return {Tri.TRUE: "eligible", Tri.FALSE: "ineligible", Tri.UNKNOWN: "needs_data"}[self.state]

    @property
    def missing_fields(self) -> list[str]:
        """What to fill in for an answer: the unknown facts of the groups that are not yet met."""
        seen: list[str] = []
        for group in self.groups:
            if max(r.state for r in group) == Tri.TRUE:
                continue
            for result in group:
                if result.state == Tri.UNKNOWN and result.missing:
                    for part in result.missing.split("|"):
                        if part not in seen:
                            seen.append(part)
        return seen

    def failed(self) -> list[ConditionResult]:
        return [r for group in self.groups if max(x.state for x in group) == Tri.FALSE for r in group]


def _compare(actual: Decimal, op: Op, target: Decimal) -> bool:
    return {
        Op.GT: actual > target, Op.GTE: actual >= target, Op.LT: actual < target, Op.LTE: actual <= target,
        Op.EQ: actual == target, Op.NE: actual != target,
    }[op]  # fmt: skip


def _yearly_values(snapshot: Snapshot, code: str, on: datetime.date, years: int) -> list[tuple[int, FactValue | None]]:
    ref = reference_year(on)
    return [(year, _yearly(snapshot, code, year)) for year in range(ref, ref - years, -1)]


def _yearly(snapshot: Snapshot, code: str, year: int) -> FactValue | None:
    code = code.removesuffix(":fallback")
    if code == "rd_ratio":
        rd = snapshot.yearly.get("rd_expense", {}).get(year)
        revenue = snapshot.yearly.get("revenue", {}).get(year)
        if rd is None or revenue is None or revenue.value <= 0:
            return None
        return FactValue(rd.value * 100 / revenue.value, rd.reviewed and revenue.reviewed, year)
    if code == "employees":
        value = snapshot.yearly.get("employees", {}).get(year)
        return value
    return snapshot.yearly.get(code, {}).get(year)


def _number_state(cond: Condition, snapshot: Snapshot, on: datetime.date) -> ConditionResult:
    spec = FIELDS[cond.field]
    target: Decimal = cond.value
    if cond.field == "age_years":
        if snapshot.founded_on is None:
            return ConditionResult(cond, Tri.UNKNOWN, missing="founded_on")
        age = _age_years(snapshot.founded_on, on)
        return ConditionResult(cond, Tri.TRUE if _compare(age, cond.op, target) else Tri.FALSE,
                               actual=format_quantity(age.quantize(Decimal("0.01")), Dimension.YEARS))  # fmt: skip
    if spec.source in (Source.STANDING, Source.DECLARATIONS):
        value = (snapshot.standing.get(cond.field) if spec.source == Source.STANDING
                 else snapshot.figures.get(f"{cond.field}:{cond.key}"))  # fmt: skip
        if value is None:
            return ConditionResult(cond, Tri.UNKNOWN, missing=f"{cond.field}:{cond.key}" if cond.key else cond.field)
        notes = [] if value.reviewed else ["unreviewed"]
        return ConditionResult(cond, Tri.TRUE if _compare(value.value, cond.op, target) else Tri.FALSE,
                               actual=format_quantity(value.value, spec.dimension), notes=notes)  # fmt: skip
    window = cond.window or Window(1, "each")
    values = _yearly_values(snapshot, cond.field, on, window.years)
    if cond.field == "employees" and window.years == 1 and values[0][1] is None and "employees" in snapshot.standing:
        values = [(values[0][0], snapshot.standing["employees"])]
    known = [(year, v) for year, v in values if v is not None]
    missing_years = [year for year, v in values if v is None]
    notes = ["unreviewed"] if any(not v.reviewed for _y, v in known) else []
    actual = "；".join(f"{format_quantity(v.value.quantize(Decimal('0.01')), spec.dimension)} ({year})"
                      for year, v in known)  # fmt: skip
    missing = f"{cond.field}:{','.join(str(y) for y in missing_years)}" if missing_years else ""
    if cond.field == "rd_ratio" and missing_years:  # a share is computed: name the figures to enter
        parts = [f"{code}:{year}" for year in missing_years for code in ("rd_expense", "revenue")
                 if snapshot.yearly.get(code, {}).get(year) is None]  # fmt: skip
        missing = "|".join(parts) or missing
    if window.mode in ("sum", "avg"):
        if missing_years:
            return ConditionResult(cond, Tri.UNKNOWN, actual=actual, missing=missing, notes=notes)
        total = sum((v.value for _y, v in known), Decimal(0))
        aggregate = total if window.mode == "sum" else total / len(known)
        return ConditionResult(cond, Tri.TRUE if _compare(aggregate, cond.op, target) else Tri.FALSE,
                               actual=actual, notes=notes)  # fmt: skip
    states = [Tri.TRUE if _compare(v.value, cond.op, target) else Tri.FALSE for _y, v in known]
    states += [Tri.UNKNOWN] * len(missing_years)
    state = min(states) if window.mode == "each" else max(states)
    return ConditionResult(cond, Tri(state), actual=actual, missing=missing if state == Tri.UNKNOWN else "",
                           notes=notes)  # fmt: skip


def _age_years(founded: datetime.date, on: datetime.date) -> Decimal:
    months = (on.year - founded.year) * 12 + (on.month - founded.month) - (1 if on.day < founded.day else 0)
    return Decimal(months) / Decimal(12)


@lru_cache(maxsize=8192)
def _moved_into(prefix: str) -> frozenset[str]:
    """Former divisions now part of a division (the Region table changes only with a data migration)."""
    return frozenset(resolver().moved_into(prefix))


def region_within(code: str, wanted: Iterable[str]) -> bool:
    for item in wanted:
        prefix = region_prefix(item) if len(item) == 6 else item
        if code.startswith(prefix) or code in _moved_into(prefix):
            return True
    return False


def industry_within(code: str, section: str, wanted: Iterable[str]) -> bool:
    for item in wanted:
        if item.isalpha():
            if section == item.upper():
                return True
        elif code.startswith(item):
            return True
    return False


def _set_state(cond: Condition, snapshot: Snapshot) -> ConditionResult:
    spec = FIELDS[cond.field]
    actual_code = {"region": snapshot.region, "industry": snapshot.industry, "size": snapshot.size,
                   "ownership": snapshot.ownership}[cond.field]  # fmt: skip
    if not actual_code:
        return ConditionResult(cond, Tri.UNKNOWN, missing=cond.field)
    if spec.kind == Kind.REGION:
        inside = region_within(actual_code, cond.value)
    elif spec.kind == Kind.INDUSTRY:
        inside = industry_within(actual_code, snapshot.industry_section, cond.value)
    else:
        inside = actual_code in cond.value
    holds = inside if cond.op == Op.IN else not inside
    return ConditionResult(cond, Tri.TRUE if holds else Tri.FALSE, actual=actual_code)


def _shown(spec: FactField, code: str) -> str:
    """An enterprise's region, industry, size or ownership as people read it (北京市怀柔区, not 110116)."""
    if spec.kind == Kind.REGION:
        place = resolver().by_code.get(code)
        return place.full_name or place.name if place is not None else code
    if spec.kind == Kind.INDUSTRY:
        found = industry_resolver().by_code.get(code)
        return f"{found.name}（{code}）" if found is not None else code
    return str(dict(spec.choices).get(code, code))


def _honour_state(cond: Condition, snapshot: Snapshot, on: datetime.date) -> ConditionResult:
    held = [h for h in snapshot.honours if h.valid_until is None or h.valid_until >= on]
    matching = [h for h in held if honour_rules.satisfied_by(h.code, cond.value)]
    notes = ["unreviewed"] if matching and not any(h.reviewed for h in matching) else []
    if not snapshot.honours and cond.op == Op.HAS:
        # An enterprise that has recorded no honour at all may simply not have entered them yet.
        return ConditionResult(cond, Tri.FALSE, actual="", missing="", notes=["no_honours_recorded"])
    has = bool(matching)
    holds = has if cond.op == Op.HAS else not has
    return ConditionResult(cond, Tri.TRUE if holds else Tri.FALSE,
                           actual="、".join(honour_rules.name(h.code) for h in matching), notes=notes)  # fmt: skip


def _declaration_state(cond: Condition, snapshot: Snapshot) -> ConditionResult:
    value = snapshot.declarations.get(cond.value)
    if value is None:
        return ConditionResult(cond, Tri.UNKNOWN, missing=f"declaration:{cond.value}")
    declared = value.value != 0
    holds = declared if cond.op == Op.EQ else not declared
    return ConditionResult(cond, Tri.TRUE if holds else Tri.FALSE, notes=[] if value.reviewed else ["unreviewed"])


def evaluate_condition(cond: Condition, snapshot: Snapshot, on: datetime.date,
                       thresholds: ThresholdBook | None = None) -> ConditionResult:  # fmt: skip
    kind = FIELDS[cond.field].kind
    if kind == Kind.NUMBER:
        return _number_state(cond, snapshot, on)
    if kind in (Kind.REGION, Kind.INDUSTRY, Kind.CHOICE):
        return _set_state(cond, snapshot)
    if kind == Kind.HONOUR:
        return _honour_state(cond, snapshot, on)
    if kind == Kind.DECLARATION:
        return _declaration_state(cond, snapshot)
    assert thresholds is not None
    inner = evaluate(thresholds.expression(cond.value), snapshot, on, thresholds)
    state = inner.state if cond.op == Op.EQ else Tri(2 - inner.state)
    missing = "|".join(inner.missing_fields) if state == Tri.UNKNOWN else ""
    actual = "；".join(r.actual for group in inner.groups for r in group if r.actual)
    return ConditionResult(cond, state, actual=actual, missing=missing)


def evaluate(expression: Expression, snapshot: Snapshot, on: datetime.date,
             thresholds: ThresholdBook | None = None) -> Outcome:  # fmt: skip
    """Answer one rule for one enterprise with the result of every condition."""
    groups = [[evaluate_condition(c, snapshot, on, thresholds) for c in group] for group in expression.groups]
    group_states = [max(r.state for r in group) for group in groups]
    state = Tri(min(group_states))
    outcome = Outcome(state, groups)
    if state == Tri.FALSE:
        failing = [i for i, s in enumerate(group_states) if s == Tri.FALSE]
        if len(failing) == 1 and all(s == Tri.TRUE for i, s in enumerate(group_states) if i != failing[0]):
            outcome.near_miss = groups[failing[0]]
    if state == Tri.TRUE:
        outcome.provisional = any("unreviewed" in r.notes for group in groups for r in group if r.state == Tri.TRUE)
        for tier in expression.tiers:
            tier_groups = [[evaluate_condition(c, snapshot, on, thresholds) for c in g] for g in tier.groups]
            met = all(max(r.state for r in g) == Tri.TRUE for g in tier_groups)
            if met and (outcome.tier is None or (tier.amount or 0) > (outcome.tier.amount or 0)):
                outcome.tier = tier
    return outcome


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """The stored form of an outcome: decision, missing fields, and each condition's state and reason."""
    return {
        "decision": outcome.decision,
        "provisional": outcome.provisional,
        "missing": outcome.missing_fields,
        "tier": outcome.tier.label if outcome.tier else "",
        "amount": format(outcome.tier.amount, "f") if outcome.tier and outcome.tier.amount is not None else "",
        "near_miss": [r.condition.describe() for r in outcome.near_miss] if outcome.near_miss else [],
        "groups": [
            [{"label": r.condition.describe(), "state": int(r.state), "actual": r.actual, "missing": r.missing,
              "notes": r.notes, "clause": r.condition.clause} for r in group]
            for group in outcome.groups
        ],
    }  # fmt: skip


# --------------------------------------------------------------------------- many enterprises at once


class BatchEvaluator:
    """Evaluate rules for many enterprises with numpy arrays, exactly.

    The arrays are built once from the snapshots; a rule then costs a few vector operations per condition.
    Numeric comparisons run in float64; the few values within a relative 1e-9 of a threshold are re-checked
    with the Decimal path, so the batch answers exactly what `evaluate` answers.
    """

    def __init__(self, snapshots: Sequence[Snapshot], on: datetime.date, thresholds: ThresholdBook | None = None):
        self.snapshots = snapshots
        self.on = on
        self.thresholds = thresholds
        self.n = len(snapshots)
        self._numbers: dict[tuple[str, int | None], Any] = {}
        self._codes: dict[tuple[str, str], Any] = {}
        self._cache: dict[Any, Any] = {}

    def _column(self, code: str, year: int | None, figure: str = "") -> Any:
        key = (f"{code}:{figure}", year)
        if key not in self._numbers:
            column = np.full(self.n, np.nan)
            for i, snap in enumerate(self.snapshots):
                if figure:
                    fact = snap.figures.get(f"{code}:{figure}")
                    value = fact.value if fact else None
                elif code == "age_years":
                    value = _age_years(snap.founded_on, self.on) if snap.founded_on else None
                elif year is None:
                    fact = snap.standing.get(code)
                    value = fact.value if fact else None
                else:
                    fact = _yearly(snap, code, year)
                    if fact is None and code == "employees:fallback" and year == reference_year(self.on):
                        fact = snap.standing.get("employees")
                    value = fact.value if fact else None
                if value is not None:
                    column[i] = float(value)
            self._numbers[key] = column
        return self._numbers[key]

    def _compare(self, column: Any, op: Op, target: Decimal, magnitude: Any = None) -> Any:
        t = float(target)
        with np.errstate(invalid="ignore"):
            result = {
                Op.GT: column > t, Op.GTE: column >= t, Op.LT: column < t, Op.LTE: column <= t,
                Op.EQ: column == t, Op.NE: column != t,
            }[op]  # fmt: skip
            scale = np.maximum(np.abs(column), max(abs(t), 1.0))
            if magnitude is not None:
                scale = np.maximum(scale, magnitude)
            close = np.abs(column - t) <= 1e-9 * scale
        return result, close

    def _tri_of_number(self, cond: Condition) -> Any:
        spec = FIELDS[cond.field]
        if spec.source == Source.DECLARATIONS:
            columns = [self._column(cond.field, None, cond.key)]
        elif cond.field == "age_years" or spec.source == Source.STANDING:
            columns = [self._column(cond.field, None)]
        else:
            window = cond.window or Window(1, "each")
            ref = reference_year(self.on)
            # the profile's headcount stands in for the reference year's only when one year is asked (as evaluate does)
            code = "employees:fallback" if cond.field == "employees" and window.years == 1 else cond.field
            columns = [self._column(code, year) for year in range(ref, ref - window.years, -1)]
        window = cond.window or Window(1, "each")
        magnitude = None
        if window.mode in ("sum", "avg") and len(columns) > 1:
            stacked = np.vstack(columns)
            aggregate = stacked.sum(axis=0) if window.mode == "sum" else stacked.mean(axis=0)
            magnitude = np.abs(stacked).sum(axis=0)  # float error scales with the summands, not with their sum
            columns = [aggregate]
            mode = "each"
        else:
            mode = window.mode
        states = []
        recheck = np.zeros(self.n, dtype=bool)
        for column in columns:
            passed, close = self._compare(column, cond.op, cond.value, magnitude)
            state = np.where(np.isnan(column), Tri.UNKNOWN, np.where(passed, Tri.TRUE, Tri.FALSE)).astype(np.int8)
            recheck |= close
            states.append(state)
        stacked_states = np.vstack(states)
        result = stacked_states.min(axis=0) if mode == "each" else stacked_states.max(axis=0)
        for i in np.nonzero(recheck)[0]:
            result[i] = evaluate_condition(cond, self.snapshots[int(i)], self.on, self.thresholds).state
        return result

    def _tri_generic(self, cond: Condition) -> Any:
        kind = FIELDS[cond.field].kind
        if kind == Kind.CHOICE or kind == Kind.REGION or kind == Kind.INDUSTRY:
            key = ("codes", cond.field)
            if key not in self._codes:
                values = [
                    (s.region if cond.field == "region" else s.industry + "|" + s.industry_section
                     if cond.field == "industry" else getattr(s, cond.field))
                    for s in self.snapshots
                ]  # fmt: skip
                distinct = sorted(set(values))
                index = {v: i for i, v in enumerate(distinct)}
                self._codes[key] = (distinct, np.array([index[v] for v in values], dtype=np.int32))
            distinct, positions = self._codes[key]
            table = np.empty(len(distinct), dtype=np.int8)
            for i, value in enumerate(distinct):
                if not value or (cond.field == "industry" and value.startswith("|")):
                    table[i] = Tri.UNKNOWN  # no code: as `evaluate` answers, whatever the section says
                    continue
                if cond.field == "region":
                    inside = region_within(value, cond.value)
                elif cond.field == "industry":
                    code, _sep, section = value.partition("|")
                    inside = industry_within(code, section, cond.value)
                else:
                    inside = value in cond.value
                table[i] = Tri.TRUE if (inside if cond.op == Op.IN else not inside) else Tri.FALSE
            return table[positions]
        if kind == Kind.HONOUR:
            held = self._held_honours()
            held_codes: set[str] = set().union(*held) if held else set()
            satisfying = {code for code in held_codes if honour_rules.satisfied_by(code, cond.value)}
            wanted = cond.op == Op.HAS
            return np.fromiter(
                ((Tri.TRUE if bool(codes & satisfying) == wanted else Tri.FALSE) for codes in held),
                dtype=np.int8, count=self.n,
            )  # fmt: skip
        if kind == Kind.DECLARATION:
            yes = cond.op == Op.EQ
            states = np.full(self.n, Tri.UNKNOWN, dtype=np.int8)
            for i, snap in enumerate(self.snapshots):
                value = snap.declarations.get(cond.value)
                if value is not None:
                    states[i] = Tri.TRUE if (value.value != 0) == yes else Tri.FALSE
            return states
        # named thresholds: their expression over the same arrays
        assert self.thresholds is not None
        inner = self.states(self.thresholds.expression(cond.value))
        return inner if cond.op == Op.EQ else (2 - inner).astype(np.int8)

    def _held_honours(self) -> list[frozenset[str]]:
        if "honours" not in self._cache:
            self._cache["honours"] = [
                frozenset(h.code for h in snap.honours if h.valid_until is None or h.valid_until >= self.on)
                for snap in self.snapshots
            ]
        held: list[frozenset[str]] = self._cache["honours"]
        return held

    def condition(self, cond: Condition) -> Any:
        key = ("cond", repr(cond.to_json()))
        if key not in self._cache:
            kind = FIELDS[cond.field].kind
            self._cache[key] = self._tri_of_number(cond) if kind == Kind.NUMBER else self._tri_generic(cond)
        return self._cache[key]

    def group_states(self, expression: Expression) -> Any:
        """A (groups × enterprises) int8 array: each group's Tri state (the OR of its conditions)."""
        rows = np.empty((len(expression.groups), self.n), dtype=np.int8)
        for g, group in enumerate(expression.groups):
            rows[g] = Tri.FALSE
            for cond in group:
                np.maximum(rows[g], self.condition(cond), out=rows[g])
        return rows

    def states(self, expression: Expression) -> Any:
        """Return an int8 array of Tri states, one per snapshot, for the rule's main groups."""
        return self.group_states(expression).min(axis=0)

    def near_misses(self, expression: Expression) -> Any:
        """Boolean array: FALSE with exactly one failing group and every other group TRUE."""
        groups = self.group_states(expression)
        return ((groups == Tri.FALSE).sum(axis=0) == 1) & ((groups != Tri.TRUE).sum(axis=0) == 1)
