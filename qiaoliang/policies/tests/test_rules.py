"""The eligibility engine (`qiaoliang.policies.rules`): parsing, three-valued answers, near misses, tiers,
named thresholds, and the numpy batch path agreeing with `evaluate` exactly."""

from __future__ import annotations

import datetime
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from qiaoliang.core.exceptions import DomainError
from qiaoliang.policies.facts import FactValue, HeldHonour, Snapshot, snapshot_from_json
from qiaoliang.policies.rules import (
    CHINESE_OPS,
    MAX_CONDITIONS,
    MAX_GROUPS,
    BatchEvaluator,
    Expression,
    Op,
    RuleError,
    ThresholdBook,
    Tri,
    Window,
    evaluate,
    outcome_json,
    parse_condition,
    parse_expression,
)

D = Decimal
ON = datetime.date(2026, 6, 1)  # the reference year (last complete year) is 2025
REF = 2025
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def threshold_book() -> ThresholdBook:
    data = json.loads((DATA / "thresholds.json").read_text(encoding="utf-8"))
    return ThresholdBook({row["code"]: (row["name"], row["expression"]) for row in data["thresholds"]})


BOOK = threshold_book()


def c(field: str, op: str, text: Any = None, **extra: Any) -> dict[str, Any]:
    """A condition as JSON; `text` is the value as the policy writes it ("2000万元")."""
    data: dict[str, Any] = {"field": field, "op": op, **extra}
    if text is not None:
        data["text"] = text
    return data


def rule(*groups: list[dict[str, Any]], tiers: list[dict[str, Any]] | None = None) -> Expression:
    data: dict[str, Any] = {"all": list(groups)}
    if tiers is not None:
        data["tiers"] = tiers
    return parse_expression(data, thresholds=BOOK)


def snap(**data: Any) -> Snapshot:
    return snapshot_from_json(data)


def revenue(*values: str, start: int = REF) -> dict[str, dict[str, str]]:
    """Yearly revenue: the first value is the reference year's, the next ones the years before."""
    return {"revenue": {str(start - i): v for i, v in enumerate(values) if v is not None}}


def decide(expression: Expression, snapshot: Snapshot, on: datetime.date = ON) -> str:
    outcome = evaluate(expression, snapshot, on, BOOK)
    batch = BatchEvaluator([snapshot], on, BOOK)
    assert int(batch.states(expression)[0]) == int(outcome.state), "batch and evaluate disagree"
    assert bool(batch.near_misses(expression)[0]) == (outcome.near_miss is not None), "near misses disagree"
    return outcome.decision


def explain(expression: Expression, snapshot: Snapshot, on: datetime.date = ON) -> Any:
    return evaluate(expression, snapshot, on, BOOK)


# =========================================================================== operators at their boundaries

# fact relative to the threshold → expected decision per operator
AT, ABOVE, BELOW = "at", "above", "below"
EXPECTED = {
    "gt": {AT: False, ABOVE: True, BELOW: False},
    "gte": {AT: True, ABOVE: True, BELOW: False},
    "lt": {AT: False, ABOVE: False, BELOW: True},
    "lte": {AT: True, ABOVE: False, BELOW: True},
    "eq": {AT: True, ABOVE: False, BELOW: False},
    "ne": {AT: False, ABOVE: True, BELOW: True},
}
WORDS = {"gt": "大于", "gte": "大于等于", "lt": "小于", "lte": "小于等于", "eq": "是", "ne": "否"}

# (the rule's value, facts at / just above (+0.01 元) / just below (−0.01 元) it, in other units)
MONEY_CASES = [
    ("2000万元", {AT: "0.2亿元", ABOVE: "20000000.01元", BELOW: "1999.999999万元"}),
    ("2000万元", {AT: "20000000元", ABOVE: "0.2000000001亿元", BELOW: "19999999.99"}),
    ("0.2亿元", {AT: "2000万元", ABOVE: "2000.000001万元", BELOW: "19999999.99元"}),
    ("两千万元", {AT: "２０００万元", ABOVE: "20,000,000.01元", BELOW: "19,999,999.99元"}),
    ("100万美元", {AT: "710万元", ABOVE: "7100000.01元", BELOW: "709.999999万元"}),
    ("1亿美元", {AT: "7.1亿元", ABOVE: "710000000.01元", BELOW: "70999.999999万元"}),
    ("5千元", {AT: "5000元", ABOVE: "0.500001万元", BELOW: "4999.99元"}),
]


@pytest.mark.parametrize("op", list(EXPECTED))
@pytest.mark.parametrize(("threshold", "facts"), MONEY_CASES)
def test_money_operators_at_just_above_and_just_below(op, threshold, facts):
    for spelled in (op, WORDS[op]):
        expression = rule([c("revenue", spelled, threshold)])
        for where, fact in facts.items():
            decision = decide(expression, snap(yearly=revenue(fact)))
            expected = "eligible" if EXPECTED[op][where] else "ineligible"
            assert decision == expected, (spelled, threshold, where, fact)


@pytest.mark.parametrize("op", list(EXPECTED))
def test_a_value_in_base_units_and_its_text_agree(op):
    by_value = rule([c("revenue", op, value="20000000", text="2000万元")])
    by_text = rule([c("revenue", op, "2000万元")])
    by_number = rule([c("revenue", op, value=20_000_000)])
    assert by_value.groups[0][0].value == by_text.groups[0][0].value == by_number.groups[0][0].value == D(20_000_000)
    for fact, where in (("2000万元", AT), ("20000000.01元", ABOVE), ("19999999.99元", BELOW)):
        expected = "eligible" if EXPECTED[op][where] else "ineligible"
        for expression in (by_value, by_text, by_number):
            assert decide(expression, snap(yearly=revenue(fact))) == expected


def test_the_rule_in_us_dollars_is_converted_at_the_recorded_rate():
    cond = rule([c("export_value", "gte", "100万美元")]).groups[0][0]
    assert cond.value == D(7_100_000)
    assert cond.text == "100万美元"


@pytest.mark.parametrize("op", list(EXPECTED))
@pytest.mark.parametrize(
    ("field", "where", "threshold", "facts"),
    [
        ("employees", "yearly", "50人", {AT: "50", ABOVE: "51", BELOW: "49"}),
        ("employees", "yearly", "0.005万人", {AT: "50人", ABOVE: "50.01", BELOW: "49.99"}),
        ("tax", "yearly", "100万元", {AT: "0.01亿元", ABOVE: "1000000.01元", BELOW: "999999.99元"}),
        ("paid_in_capital", "standing", "1000万元", {AT: "0.1亿元", ABOVE: "10000000.01元", BELOW: "9999999.99元"}),
        ("floor_area", "standing", "1500平方米", {AT: "2.25亩", ABOVE: "1500.01平方米", BELOW: "0.149999万平方米"}),
        ("floor_area", "standing", "0.15公顷", {AT: "1500平方米", ABOVE: "1500.01平方米", BELOW: "1499.99平方米"}),
        ("share_capital", "standing", "1000万股", {AT: "0.1亿股", ABOVE: "10000001股", BELOW: "9999999股"}),
    ],
)
def test_other_dimensions_at_their_boundaries(op, field, where, threshold, facts):
    expression = rule([c(field, op, threshold)])
    for position, fact in facts.items():
        data = {where: ({field: {str(REF): fact}} if where == "yearly" else {field: fact})}
        expected = "eligible" if EXPECTED[op][position] else "ineligible"
        assert decide(expression, snap(**data)) == expected, (field, position, fact)


@pytest.mark.parametrize("op", list(EXPECTED))
def test_rd_ratio_is_exact_at_the_boundary(op):
    expression = rule([c("rd_ratio", op, "3%")])
    cases = {
        AT: {"revenue": {"2025": "1亿元"}, "rd_expense": {"2025": "300万元"}},
        ABOVE: {"revenue": {"2025": "1亿元"}, "rd_expense": {"2025": "3000000.01元"}},
        BELOW: {"revenue": {"2025": "1亿元"}, "rd_expense": {"2025": "2999999.99元"}},
    }
    for where, yearly in cases.items():
        expected = "eligible" if EXPECTED[op][where] else "ineligible"
        assert decide(expression, snap(yearly=yearly)) == expected, where


def test_rd_ratio_with_revenue_not_positive_is_unknown():
    expression = rule([c("rd_ratio", "gte", "3%")])
    outcome = explain(expression, snap(yearly={"revenue": {"2025": "0"}, "rd_expense": {"2025": "300万元"}}))
    assert outcome.decision == "needs_data"


@pytest.mark.parametrize(
    ("founded_on", "expected"),
    [
        ("2023-06-01", {"gte": True, "gt": False, "lt": False, "lte": True}),  # exactly 3 years on 2026-06-01
        ("2023-06-02", {"gte": False, "gt": False, "lt": True, "lte": True}),  # one day short
        ("2023-05-01", {"gte": True, "gt": True, "lt": False, "lte": False}),  # 3 years and a month
    ],
)
def test_age_in_years_at_the_boundary(founded_on, expected):
    for op, holds in expected.items():
        expression = rule([c("age_years", op, "3年")])
        assert decide(expression, snap(founded_on=founded_on)) == ("eligible" if holds else "ineligible"), op
    assert decide(rule([c("age_years", "gte", "三年")]), snap(founded_on=founded_on)) == (
        "eligible" if expected["gte"] else "ineligible"
    )


def test_age_in_months():
    # founded 2025-12-01: exactly 6 months old on 2026-06-01
    young = snap(founded_on="2025-12-01")
    assert decide(rule([c("age_years", "gte", "6个月")]), young) == "eligible"
    assert decide(rule([c("age_years", "gt", "6个月")]), young) == "ineligible"
    assert decide(rule([c("age_years", "lt", "6个月")]), snap(founded_on="2025-12-02")) == "eligible"
    assert decide(rule([c("age_years", "gte", "1年")]), young) == "ineligible"


def test_age_of_exactly_five_months_is_not_more_than_five_months():
    five_months = snap(founded_on="2026-01-01")  # exactly 5 months on 2026-06-01
    assert explain(rule([c("age_years", "gt", "5个月")]), five_months).decision == "ineligible"
    assert explain(rule([c("age_years", "lte", "5个月")]), five_months).decision == "eligible"


# =========================================================================== needs data


def test_a_missing_yearly_figure_needs_data_and_names_the_field_and_year():
    expression = rule([c("revenue", "gte", "2000万元")], [c("tax", "gte", "100万元")])
    outcome = explain(expression, snap(yearly={"tax": {"2025": "200万元"}}))
    assert outcome.decision == "needs_data"
    assert outcome.state == Tri.UNKNOWN
    assert outcome.missing_fields == ["revenue:2025"]
    assert outcome.near_miss is None
    assert outcome_json(outcome)["missing"] == ["revenue:2025"]


@pytest.mark.parametrize(
    ("condition", "missing"),
    [
        (c("industry", "in", value=["C"]), "industry"),
        (c("region", "in", value=["33"]), "region"),
        (c("size", "in", value=["small"]), "size"),
        (c("ownership", "eq", value="private"), "ownership"),
        (c("age_years", "gte", "3年"), "founded_on"),
        (c("paid_in_capital", "gte", "100万元"), "paid_in_capital"),
        (c("floor_area", "gte", "100平方米"), "floor_area"),
        (c("employees", "gte", "10人"), "employees:2025"),
        (c("net_profit", "gt", "0"), "net_profit:2025"),
        (c("rd_ratio", "gte", "3%"), "rd_expense:2025|revenue:2025"),  # a share names what to enter
        (c("declaration", "eq", value="近三年无重大违法行为"), "declaration:近三年无重大违法行为"),
        (c("declared_money", "gte", "5000万元", key="设备投资额"), "declared_money:设备投资额"),
        (c("declared_number", "gte", "10", key="新增就业岗位"), "declared_number:新增就业岗位"),
        (c("revenue", "gte", "1亿元", window={"years": 3, "mode": "each"}), "revenue:2025,2024,2023"),
        (c("revenue", "gte", "3亿元", window={"years": 3, "mode": "sum"}), "revenue:2025,2024,2023"),
    ],
)
def test_every_kind_of_missing_fact_is_named(condition, missing):
    outcome = explain(rule([condition]), snap())
    assert outcome.decision == "needs_data"
    assert outcome.missing_fields == missing.split("|")
    assert decide(rule([condition]), snap()) == "needs_data"


def test_false_dominates_unknown():
    # group 1 fails, group 2 cannot be answered: the rule fails, it does not need data
    expression = rule([c("revenue", "gte", "2000万元")], [c("tax", "gte", "100万元")])
    outcome = explain(expression, snap(yearly=revenue("1999.99万元")))
    assert outcome.decision == "ineligible"
    assert outcome.near_miss is None  # the other group does not hold
    assert [r.condition.field for r in outcome.failed()] == ["revenue"]
    assert decide(expression, snap(yearly=revenue("1999.99万元"))) == "ineligible"


def test_an_or_group_with_one_true_and_one_unknown_holds():
    expression = rule([c("revenue", "gte", "2000万元"), c("tax", "gte", "100万元")])
    outcome = explain(expression, snap(yearly=revenue("2000万元")))
    assert outcome.decision == "eligible"
    assert [r.state for r in outcome.groups[0]] == [Tri.TRUE, Tri.UNKNOWN]
    assert decide(expression, snap(yearly=revenue("2000万元"))) == "eligible"


def test_an_or_group_with_one_false_and_one_unknown_needs_data():
    expression = rule([c("revenue", "gte", "2000万元"), c("tax", "gte", "100万元")])
    assert decide(expression, snap(yearly=revenue("1999.99万元"))) == "needs_data"
    assert explain(expression, snap(yearly=revenue("1999.99万元"))).missing_fields == ["tax:2025"]


def test_each_of_the_last_three_years():
    expression = rule([c("revenue", "gte", "2000万元", window={"years": 3, "mode": "each"})])
    assert decide(expression, snap(yearly=revenue("2000万元", "0.2亿元", "20000000元"))) == "eligible"
    assert decide(expression, snap(yearly=revenue("2000万元", "19999999.99元", "3000万元"))) == "ineligible"
    gap = snap(yearly=revenue("2000万元", None, "3000万元"))
    assert decide(expression, gap) == "needs_data"
    assert explain(expression, gap).missing_fields == ["revenue:2024"]
    # a failed year decides even when another is missing
    assert decide(expression, snap(yearly=revenue("2000万元", None, "1000万元"))) == "ineligible"
    # years before the window do not count
    assert decide(expression, snap(yearly=revenue("2000万元", "2000万元", "2000万元", "1元"))) == "eligible"
    # years after the reference year (the current, incomplete year) do not count either
    later = snap(yearly={"revenue": {"2026": "1元", "2025": "2000万元", "2024": "2000万元", "2023": "2000万元"}})
    assert decide(expression, later) == "eligible"


def test_any_of_the_last_three_years():
    expression = rule([c("revenue", "gte", "2000万元", window={"years": 3, "mode": "any"})])
    assert decide(expression, snap(yearly=revenue("1000万元", "1000万元", "2000万元"))) == "eligible"
    assert decide(expression, snap(yearly=revenue("1000万元", None, "2000万元"))) == "eligible"
    outcome = explain(expression, snap(yearly=revenue("1000万元", None, "2000万元")))
    assert outcome.missing_fields == []
    assert decide(expression, snap(yearly=revenue("1000万元", None, "1999.99万元"))) == "needs_data"
    assert explain(expression, snap(yearly=revenue("1000万元", None, "1999.99万元"))).missing_fields == ["revenue:2024"]
    assert decide(expression, snap(yearly=revenue("1000万元", "1000万元", "1999.99万元"))) == "ineligible"
    assert decide(expression, snap(yearly=revenue("1000万元", "1000万元", "1000万元", "1亿元"))) == "ineligible"


def test_sum_of_the_last_three_years():
    expression = rule([c("revenue", "gte", "6000万元", window={"years": 3, "mode": "sum"})])
    assert decide(expression, snap(yearly=revenue("1000万元", "0.2亿元", "30000000元"))) == "eligible"
    assert decide(expression, snap(yearly=revenue("1000万元", "0.2亿元", "29999999.99元"))) == "ineligible"
    assert decide(expression, snap(yearly=revenue("6000万元", "0", "0"))) == "eligible"
    missing = snap(yearly=revenue("1亿元", "1亿元", None))
    assert decide(expression, missing) == "needs_data"  # a sum with a year missing is not known
    assert explain(expression, missing).missing_fields == ["revenue:2023"]
    above = rule([c("revenue", "gt", "6000万元", window={"years": 3, "mode": "sum"})])
    assert decide(above, snap(yearly=revenue("1000万元", "0.2亿元", "30000000元"))) == "ineligible"


def test_average_of_the_last_three_years():
    expression = rule([c("revenue", "gte", "2000万元", window={"years": 3, "mode": "avg"})])
    assert decide(expression, snap(yearly=revenue("1999万元", "2000万元", "2001万元"))) == "eligible"
    assert decide(expression, snap(yearly=revenue("1000万元", "2000万元", "2999.999999万元"))) == "ineligible"
    assert decide(expression, snap(yearly=revenue("1000万元", "1000万元", "4000.000001万元"))) == "eligible"
    assert decide(expression, snap(yearly=revenue("1亿元", None, "1亿元"))) == "needs_data"
    strictly = rule([c("revenue", "gt", "2000万元", window={"years": 3, "mode": "avg"})])
    assert decide(strictly, snap(yearly=revenue("1999万元", "2000万元", "2001万元"))) == "ineligible"
    equal = rule([c("revenue", "eq", "2000万元", window={"years": 3, "mode": "avg"})])
    assert decide(equal, snap(yearly=revenue("1999万元", "2000万元", "2001万元"))) == "eligible"


def test_stale_facts_need_data():
    expression = rule([c("revenue", "gte", "2000万元")])
    stale = snap(yearly={"revenue": {"2024": "5000万元", "2023": "5000万元"}})
    outcome = explain(expression, stale)
    assert outcome.decision == "needs_data"
    assert outcome.missing_fields == ["revenue:2025"]
    assert decide(expression, stale) == "needs_data"
    # the same facts were current a year earlier
    assert decide(expression, stale, datetime.date(2025, 12, 31)) == "eligible"
    # on 1 January the year just ended becomes the reference year
    assert decide(expression, snap(yearly={"revenue": {"2025": "5000万元"}}), datetime.date(2026, 1, 1)) == "eligible"
    assert decide(expression, snap(yearly={"revenue": {"2025": "5000万元"}}), datetime.date(2025, 12, 31)) == (
        "needs_data"
    )


def test_employees_fall_back_to_the_profile_headcount():
    expression = rule([c("employees", "gte", "50人")])
    assert decide(expression, snap(standing={"employees": "50"})) == "eligible"
    assert decide(expression, snap(standing={"employees": "49"})) == "ineligible"
    # the reference year's figure wins over the profile's
    assert decide(expression, snap(yearly={"employees": {"2025": "49"}}, standing={"employees": "60"})) == (
        "ineligible"
    )


def test_batch_agrees_on_employees_over_a_window_with_a_profile_headcount():
    expression = rule([c("employees", "gte", "50人", window={"years": 3, "mode": "each"})])
    snapshot = snap(yearly={"employees": {"2024": "60", "2023": "60"}}, standing={"employees": "60"})
    assert evaluate(expression, snapshot, ON).state == Tri.UNKNOWN
    assert int(BatchEvaluator([snapshot], ON).states(expression)[0]) == Tri.UNKNOWN


def test_unreviewed_facts_make_an_eligible_answer_provisional():
    expression = rule([c("revenue", "gte", "2000万元")])
    snapshot = Snapshot(1, yearly={"revenue": {REF: FactValue(D(20_000_000), reviewed=False, year=REF)}})
    outcome = explain(expression, snapshot)
    assert outcome.decision == "eligible"
    assert outcome.provisional is True
    assert outcome.groups[0][0].notes == ["unreviewed"]
    assert explain(expression, snap(yearly=revenue("2000万元"))).provisional is False


# =========================================================================== near misses


def test_one_failed_group_with_the_others_holding_is_a_near_miss():
    expression = rule(
        [c("industry", "in", value=["C"])],
        [c("revenue", "gte", "2000万元", label="营业收入不低于2000万元")],
        [c("size", "in", value=["small", "micro"])],
    )
    snapshot = snap(industry="3610", industry_section="C", size="small", yearly=revenue("19999999.99元"))
    outcome = explain(expression, snapshot)
    assert outcome.decision == "ineligible"
    assert outcome.near_miss is not None
    assert [r.condition.field for r in outcome.near_miss] == ["revenue"]
    assert outcome_json(outcome)["near_miss"] == ["营业收入不低于2000万元"]
    assert decide(expression, snapshot) == "ineligible"
    assert bool(BatchEvaluator([snapshot], ON, BOOK).near_misses(expression)[0]) is True


def test_two_failed_groups_are_not_a_near_miss():
    expression = rule([c("industry", "in", value=["C"])], [c("revenue", "gte", "2000万元")],
                      [c("size", "in", value=["small"])])  # fmt: skip
    snapshot = snap(industry="3610", industry_section="C", size="medium", yearly=revenue("1000万元"))
    outcome = explain(expression, snapshot)
    assert outcome.decision == "ineligible"
    assert outcome.near_miss is None
    assert outcome_json(outcome)["near_miss"] == []
    assert bool(BatchEvaluator([snapshot], ON, BOOK).near_misses(expression)[0]) is False


def test_a_failed_group_with_another_unknown_is_not_a_near_miss():
    expression = rule([c("industry", "in", value=["C"])], [c("revenue", "gte", "2000万元")],
                      [c("size", "in", value=["small"])])  # fmt: skip
    snapshot = snap(industry="3610", industry_section="C", yearly=revenue("1000万元"))  # size unknown
    outcome = explain(expression, snapshot)
    assert outcome.decision == "ineligible"
    assert outcome.near_miss is None
    assert decide(expression, snapshot) == "ineligible"


def test_a_near_miss_group_lists_all_its_conditions():
    expression = rule([c("revenue", "gte", "2000万元"), c("tax", "gte", "100万元")], [c("size", "in", value=["small"])])
    snapshot = snap(size="small", yearly={"revenue": {"2025": "1000万元"}, "tax": {"2025": "99万元"}})
    outcome = explain(expression, snapshot)
    assert [r.condition.field for r in outcome.near_miss] == ["revenue", "tax"]
    assert [r.state for r in outcome.near_miss] == [Tri.FALSE, Tri.FALSE]


def test_eligible_and_needs_data_are_never_near_misses():
    expression = rule([c("revenue", "gte", "2000万元")], [c("tax", "gte", "100万元")])
    assert (
        explain(expression, snap(yearly={"revenue": {"2025": "2000万元"}, "tax": {"2025": "1亿元"}})).near_miss is None
    )
    assert explain(expression, snap(yearly=revenue("2000万元"))).near_miss is None


# =========================================================================== parsing errors name the condition

OK = c("revenue", "gte", "2000万元")


@pytest.mark.parametrize(
    ("data", "position", "message"),
    [
        ({"all": [[OK, c("turnover", "gte", "1元")]]}, "1.2", "unknown field turnover"),
        ({"all": [[OK], [c("revenue", "approximately", "1元")]]}, "2.1", "unknown operator approximately"),
        ({"all": [[OK], [OK, OK, c("revenue", None, "1元")]]}, "2.3", "unknown operator"),
        ({"all": [[c("revenue", "has", "1元")]]}, "1.1", "does not apply to a number"),
        ({"all": [[OK, c("revenue", "in", value=["1"])]]}, "1.2", "does not apply to a number"),
        ({"all": [[OK], [c("region", "gt", value="33")]]}, "2.1", "does not apply"),
        ({"all": [[c("industry", "gte", value="C")]]}, "1.1", "does not apply"),
        ({"all": [[c("size", "lt", value="small")]]}, "1.1", "does not apply"),
        ({"all": [[OK], [c("threshold", "gte", value="above_scale_industry")]]}, "2.1", "met or not"),
        ({"all": [[c("declaration", "gt", value="守法")]]}, "1.1", "true or not"),
        ({"all": [[c("honour", "gte", value="hnte.national")]]}, "1.1", "does not apply to honours"),
        ({"all": [[OK], [c("region", "in", value=["33010"])]]}, "2.1", "GB/T 2260"),
        ({"all": [[c("region", "in", value=["330100", "浙江"])]]}, "1.1", "GB/T 2260"),
        ({"all": [[c("region", "in", value=[])]]}, "1.1", "one to 500 values"),
        ({"all": [[c("industry", "in", value=["C-36"])]]}, "1.1", "GB/T 4754"),
        ({"all": [[c("size", "in", value=["huge"])]]}, "1.1", "huge is not a choice"),
        ({"all": [[OK], [OK, c("threshold", "eq", value="规模以上")]]}, "2.2", "unknown named threshold"),
        ({"all": [[c("honour", "has", value="hnte.galactic")]]}, "1.1", "not an honour of the vocabulary"),
        ({"all": [[OK, c("paid_in_capital", "gte", "1元", window={"years": 3})]]}, "1.2", "time window"),
        ({"all": [[c("age_years", "gte", "3年", window={"years": 3})]]}, "1.1", "time window"),
        ({"all": [[c("region", "in", value=["33"], window={"years": 3})]]}, "1.1", "time window"),
        ({"all": [[c("declared_money", "gte", "1元", key="投资", window={"years": 2})]]}, "1.1", "time window"),
        ({"all": [[c("revenue", "gte", "1元", window={"years": 0})]]}, "1.1", "1 to 10 years"),
        ({"all": [[c("revenue", "gte", "1元", window={"years": 11})]]}, "1.1", "1 to 10 years"),
        ({"all": [[c("revenue", "gte", "1元", window={"years": 3, "mode": "median"})]]}, "1.1", "mode each"),
        ({"all": [[c("revenue", "gte", "1元", window={"years": "three"})]]}, "1.1", "whole number"),
        ({"all": [[OK], [OK], [OK, c("revenue", "gte", "5人")]]}, "3.2", "人 does not convert to 元"),
        ({"all": [[c("employees", "gte", "2000万元")]]}, "1.1", "does not convert to 人"),
        ({"all": [[c("revenue", "gte", "2000万元/亩")]]}, "1.1", "Unknown unit"),
        ({"all": [[c("revenue", "gte", value="lots")]]}, "1.1", "lots is not a quantity"),
        ({"all": [[c("revenue", "gte")]]}, "1.1", "is not a number"),
        ({"all": [[c("revenue", "gte", value="NaN")]]}, "1.1", "is not a number"),
        ({"all": [[c("revenue", "gte", value="Infinity")]]}, "1.1", "is not a number"),
        ({"all": [[c("revenue", "gte", value=True)]]}, "1.1", "is not a number"),
        ({"all": [[c("declared_money", "gte", "1元")]]}, "1.1", "needs its name (key)"),
        ({"all": [[c("declared_money", "gte", "1元", key="x" * 61)]]}, "1.1", "needs its name (key)"),
        ({"all": [[c("declaration", "eq", value="")]]}, "1.1", "needs a statement"),
        ({"all": [[c("declaration", "eq", value="x" * 121)]]}, "1.1", "needs a statement"),
        ({"all": [[c("revenue", "gte", "1元", clause="17")]]}, "1.1", "clause"),
        ({"all": [[c("revenue", "gte", "1元", clause=0)]]}, "1.1", "clause"),
        ({"all": [[OK, "revenue >= 2000万元"]]}, "1.2", "must be an object"),
        ({"all": [[OK]], "tiers": [{"label": "一档", "all": [[OK, c("revenue", "gte", "1人")]]}]}, "T1.1.2", "人"),
        ({"all": [[OK]], "tiers": [{"all": [[OK]]}, {"all": [[OK], [c("x", "gte", "1")]]}]}, "T2.2.1", "unknown field"),
        ({"all": [[OK]], "tiers": [{"label": "一档", "amount": "many", "all": [[OK]]}]}, "T1", "not a quantity"),
    ],
)  # fmt: skip
def test_parse_errors_name_the_condition(data, position, message):
    with pytest.raises(RuleError) as excinfo:
        parse_expression(data, thresholds=BOOK)
    text = str(excinfo.value)
    assert text.startswith(f"Condition {position}: "), text
    assert message in text, text
    assert excinfo.value.code == "expression"
    assert isinstance(excinfo.value, DomainError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"all": [[OK], []]}, "Group 2 is empty"),
        ({"all": [[OK]], "tiers": [{"all": [[OK], [OK], []]}]}, "Group T1.3 is empty"),
        ({"all": [[OK]] * (MAX_GROUPS + 1)}, f"at most {MAX_GROUPS} groups"),
        ({"all": [[OK] * (MAX_CONDITIONS + 1)]}, f"at most {MAX_CONDITIONS} conditions"),
        ({"all": [[OK]], "tiers": [{"all": [[OK] * MAX_CONDITIONS]}]}, f"at most {MAX_CONDITIONS} conditions"),
        ({"all": []}, "at least one condition"),
        ({"any": [[OK]]}, "'all' is a list"),
        ("revenue >= 2000万元", "'all' is a list"),
        ({"all": [[OK]], "tiers": [{"all": [[OK]]}] * 21}, "at most 20"),
        ({"all": [[OK]], "tiers": ["一档"]}, "Tier 1 must be an object"),
    ],
)
def test_structural_errors(data, message):
    with pytest.raises(RuleError) as excinfo:
        parse_expression(data, thresholds=BOOK)
    assert message in str(excinfo.value)


def test_limits_are_inclusive():
    assert len(parse_expression({"all": [[OK]] * MAX_GROUPS}).groups) == MAX_GROUPS
    assert len(parse_expression({"all": [[OK] * MAX_CONDITIONS]}).conditions()) == MAX_CONDITIONS


def test_a_threshold_without_a_book_is_refused():
    with pytest.raises(RuleError, match=r"Condition 1\.1: unknown named threshold above_scale_industry"):
        parse_expression({"all": [[c("threshold", "eq", value="above_scale_industry")]]})


def test_a_bare_list_is_an_expression_and_a_bare_condition_a_group():
    expression = parse_expression([OK, [OK, c("tax", "gte", "1元")]])
    assert [len(g) for g in expression.groups] == [1, 2]


def test_a_rule_written_and_above():
    assert rule([c("revenue", "gte", "2000万元及以上")]).groups[0][0].value == D(20_000_000)


# =========================================================================== Chinese operator words


@pytest.mark.parametrize(
    ("word", "field", "value", "op"),
    [
        ("大于", "revenue", "1元", Op.GT), ("超过", "revenue", "1元", Op.GT), ("高于", "revenue", "1元", Op.GT),
        ("大于等于", "revenue", "1元", Op.GTE), ("不低于", "revenue", "1元", Op.GTE),
        ("不少于", "employees", "1人", Op.GTE), ("以上", "revenue", "1元", Op.GTE), ("达到", "revenue", "1元", Op.GTE),
        ("小于", "revenue", "1元", Op.LT), ("低于", "revenue", "1元", Op.LT),
        ("小于等于", "revenue", "1元", Op.LTE), ("不超过", "revenue", "1元", Op.LTE),
        ("不高于", "revenue", "1元", Op.LTE), ("以下", "revenue", "1元", Op.LTE),
        ("是", "revenue", "1元", Op.EQ), ("否", "revenue", "1元", Op.NE),
        ("属于", "industry", ["C"], Op.IN), ("不属于", "industry", ["C"], Op.NOT_IN),
        ("是", "industry", ["C"], Op.IN), ("否", "size", ["small"], Op.NOT_IN),
        ("符合", "threshold", "above_scale_industry", Op.EQ), ("否", "threshold", "above_scale_industry", Op.NE),
        ("是", "declaration", "具有独立法人资格", Op.EQ), ("否", "declaration", "具有独立法人资格", Op.NE),
    ],
)  # fmt: skip
def test_chinese_operator_words(word, field, value, op):
    data = {"field": field, "op": word}
    if field in ("revenue", "employees"):
        data["text"] = value
    else:
        data["value"] = value
    cond = parse_condition(data, thresholds=BOOK)
    assert cond.op == op
    assert CHINESE_OPS[word] in (op, Op.EQ, Op.NE)


def test_every_operator_word_is_accepted():
    for word in CHINESE_OPS:
        op = CHINESE_OPS[word]
        if op in (Op.HAS, Op.NOT_HAS, Op.IN, Op.NOT_IN):
            continue
        assert parse_condition({"field": "revenue", "op": word, "text": "2000万元"}).op == op


def test_chinese_operators_decide_like_their_codes():
    for word, where, expected in [
        ("不低于", AT, "eligible"),
        ("超过", AT, "ineligible"),
        ("超过", ABOVE, "eligible"),
        ("不超过", AT, "eligible"),
        ("低于", AT, "ineligible"),
        ("低于", BELOW, "eligible"),
    ]:
        fact = {AT: "0.2亿元", ABOVE: "20000000.01元", BELOW: "19999999.99元"}[where]
        assert decide(rule([c("revenue", word, "2000万元")]), snap(yearly=revenue(fact))) == expected, word


def test_a_condition_describes_itself():
    assert parse_condition(c("revenue", "gte", "2000万元")).describe() == "operating revenue大于等于2000万元"
    assert parse_condition(c("revenue", "gte", value="20000000")).text == "2000万元"
    assert parse_condition(c("revenue", "gte", "2000万元", label="营收")).describe() == "营收"
    assert (
        parse_condition(c("declared_money", "gte", "5000万元", key="设备投资额")).describe()
        == "设备投资额大于等于5000万元"
    )
    cond = parse_condition(c("revenue", "gte", "2000万元", window={"years": 3, "mode": "sum"}, clause=17))
    assert cond.window == Window(3, "sum")
    assert cond.to_json() == {"field": "revenue", "op": "gte", "value": "20000000", "text": "2000万元",
                              "window": {"years": 3, "mode": "sum"}, "clause": 17}  # fmt: skip


def test_an_expression_round_trips_through_json():
    expression = rule(
        [c("revenue", "gte", "2000万元", window={"years": 3, "mode": "avg"}), c("tax", "gt", "100万美元")],
        [c("industry", "in", value=["C", "51"])],
        [c("threshold", "eq", value="above_scale_industry")],
        [c("declared_money", "gte", "1亿元", key="设备投资额")],
        tiers=[{"label": "一档", "amount": "500000", "all": [[c("revenue", "gte", "1亿元")]]}],
    )
    assert parse_expression(expression.to_json(), thresholds=BOOK) == expression


# =========================================================================== named thresholds

ABOVE_SCALE = [c("threshold", "eq", value="above_scale_industry")]
ABOVE_QUOTA = [c("threshold", "eq", value="above_quota_trade")]


@pytest.mark.parametrize(
    ("industry", "section", "fact", "expected"),
    [
        ("3610", "C", "0.2亿元", "eligible"),
        ("3610", "C", "20000000元", "eligible"),
        ("3610", "C", "19999999.99元", "ineligible"),
        ("0610", "B", "2000万元", "eligible"),
        ("4411", "D", "2000万元", "eligible"),
        ("5121", "F", "5亿元", "ineligible"),
        ("6110", "H", "5亿元", "ineligible"),
        ("3610", "C", None, "needs_data"),
        ("", "", "5亿元", "needs_data"),
        ("5121", "F", None, "ineligible"),  # not industrial: false dominates the missing revenue
    ],
)
def test_above_scale_industry_at_the_boundary(industry, section, fact, expected):
    expression = rule(ABOVE_SCALE)
    snapshot = snap(industry=industry, industry_section=section, yearly=revenue(fact))
    assert decide(expression, snapshot) == expected
    negated = rule([c("threshold", "ne", value="above_scale_industry")])
    flipped = {"eligible": "ineligible", "ineligible": "eligible", "needs_data": "needs_data"}[expected]
    assert decide(negated, snapshot) == flipped


def test_above_scale_names_what_is_missing():
    outcome = explain(rule(ABOVE_SCALE), snap(industry="3610", industry_section="C"))
    assert outcome.missing_fields == ["revenue:2025"]
    outcome = explain(rule(ABOVE_SCALE), snap(yearly=revenue("1亿元")))
    assert outcome.missing_fields == ["industry"]


def test_above_scale_names_every_missing_fact():
    outcome = explain(rule(ABOVE_SCALE), snap())
    assert outcome.missing_fields == ["industry", "revenue:2025"]


@pytest.mark.parametrize(
    ("industry", "section", "fact", "expected"),
    [
        ("5121", "F", "2000万元", "eligible"),  # 批发 2000万
        ("5121", "F", "19999999.99元", "ineligible"),
        ("5211", "F", "500万元", "eligible"),  # 零售 500万
        ("5211", "F", "0.05亿元", "eligible"),
        ("5211", "F", "4999999.99元", "ineligible"),
        ("6110", "H", "200万元", "eligible"),  # 住宿 200万
        ("6210", "H", "2000000元", "eligible"),  # 餐饮 200万
        ("6210", "H", "1999999.99元", "ineligible"),
        ("3610", "C", "1亿元", "ineligible"),  # industry is not trade
        ("5211", "F", None, "needs_data"),
        ("", "", "1亿元", "needs_data"),
        ("", "", "100万元", "ineligible"),  # below every quota whatever the industry
    ],
)
def test_above_quota_nested_thresholds(industry, section, fact, expected):
    snapshot = snap(industry=industry, industry_section=section, yearly=revenue(fact))
    assert decide(rule(ABOVE_QUOTA), snapshot) == expected


def test_the_deepest_shipped_threshold_parses_and_answers():
    expression = rule([c("threshold", "eq", value="above_scale_or_quota")])
    assert decide(expression, snap(industry="6210", industry_section="H", yearly=revenue("200万元"))) == "eligible"
    assert decide(expression, snap(industry="3610", industry_section="C", yearly=revenue("2000万元"))) == "eligible"
    assert decide(expression, snap(industry="6510", industry_section="I", yearly=revenue("2000万元"))) == "eligible"
    assert decide(expression, snap(industry="6510", industry_section="I", yearly=revenue("1999.99万元"))) == (
        "ineligible"
    )
    assert decide(expression, snap(industry="7211", industry_section="L", yearly=revenue("1000万元"))) == "eligible"
    assert decide(expression, snap(industry="8010", industry_section="O", yearly=revenue("499.99万元"))) == (
        "ineligible"
    )


def test_threshold_in_a_rule_with_other_groups_and_a_near_miss():
    expression = rule(ABOVE_SCALE, [c("size", "in", value=["small", "medium"])])
    snapshot = snap(industry="3610", industry_section="C", size="small", yearly=revenue("19999999.99元"))
    outcome = explain(expression, snapshot)
    assert outcome.decision == "ineligible"
    assert [r.condition.field for r in outcome.near_miss] == ["threshold"]
    assert decide(expression, snapshot) == "ineligible"


def test_threshold_book():
    assert BOOK.names()["above_scale_industry"] == "规模以上工业企业"
    assert BOOK.names()["above_quota_trade"] == "限额以上贸易企业"
    assert BOOK.expression("above_quota_retail").groups[1][0].value == D(5_000_000)
    with pytest.raises(RuleError, match="Unknown named threshold: nope"):
        BOOK.expression("nope")


def test_thresholds_that_nest_too_deeply_or_in_a_cycle_are_refused():
    def ref(code: str) -> dict[str, Any]:
        return {"all": [[{"field": "threshold", "op": "eq", "value": code}]]}

    leaf = {"all": [[{"field": "revenue", "op": "gte", "text": "1元"}]]}
    chain = ThresholdBook({"a": ("A", ref("b")), "b": ("B", ref("c")), "c": ("C", ref("d")), "d": ("D", leaf)})
    with pytest.raises(RuleError, match="nest too deeply"):
        parse_expression(ref("a"), thresholds=chain)
    ok = ThresholdBook({"b": ("B", ref("c")), "c": ("C", ref("d")), "d": ("D", leaf)})
    assert parse_expression(ref("b"), thresholds=ok).groups[0][0].value == "b"
    cycle = ThresholdBook({"a": ("A", ref("a"))})
    with pytest.raises(RuleError, match="nest too deeply"):
        parse_expression(ref("a"), thresholds=cycle)


# =========================================================================== tiers

TIERS = [
    {"label": "三档", "amount": "100000", "all": [[c("revenue", "gte", "1000万元")]]},
    {"label": "一档", "amount": "50万元", "all": [[c("revenue", "gte", "1亿元")], [c("tax", "gte", "500万元")]]},
    {"label": "二档", "amount": "200000", "all": [[c("revenue", "gte", "5000万元")]]},
]


@pytest.mark.parametrize(
    ("yearly", "decision", "tier", "amount"),
    [
        ({"revenue": {"2025": "1亿元"}, "tax": {"2025": "500万元"}}, "eligible", "一档", "500000"),
        ({"revenue": {"2025": "1亿元"}, "tax": {"2025": "499.99万元"}}, "eligible", "二档", "200000"),
        ({"revenue": {"2025": "1亿元"}}, "eligible", "二档", "200000"),  # unknown tax: the top tier is not met
        ({"revenue": {"2025": "99999999.99元"}, "tax": {"2025": "1亿元"}}, "eligible", "二档", "200000"),
        ({"revenue": {"2025": "5000万元"}}, "eligible", "二档", "200000"),
        ({"revenue": {"2025": "4999.99万元"}}, "eligible", "三档", "100000"),
        ({"revenue": {"2025": "1000万元"}}, "eligible", "三档", "100000"),
        ({"revenue": {"2025": "999.99万元"}}, "ineligible", "", ""),
        ({}, "needs_data", "", ""),
    ],
)
def test_the_highest_tier_met_sets_the_amount(yearly, decision, tier, amount):
    expression = rule([c("revenue", "gte", "1000万元")], tiers=TIERS)
    assert [t.amount for t in expression.tiers] == [D(100_000), D(500_000), D(200_000)]
    outcome = explain(expression, snap(yearly=yearly))
    assert outcome.decision == decision
    assert (outcome.tier.label if outcome.tier else "") == tier
    data = outcome_json(outcome)
    assert (data["tier"], data["amount"]) == (tier, amount)
    # the order the tiers are listed in does not matter
    reordered = rule([c("revenue", "gte", "1000万元")], tiers=list(reversed(TIERS)))
    assert outcome_json(explain(reordered, snap(yearly=yearly)))["amount"] == amount


# =========================================================================== declarations and declared figures


def test_declarations():
    lawful = rule([c("declaration", "eq", value="近三年无重大违法行为")])
    assert decide(lawful, snap(declarations={"近三年无重大违法行为": True})) == "eligible"
    assert decide(lawful, snap(declarations={"近三年无重大违法行为": False})) == "ineligible"
    assert decide(lawful, snap(declarations={"具有独立法人资格": True})) == "needs_data"
    outcome = explain(lawful, snap())
    assert outcome.missing_fields == ["declaration:近三年无重大违法行为"]
    assert lawful.groups[0][0].describe() == "近三年无重大违法行为"
    negated = rule([c("declaration", "否", value="列入失信名单")])
    assert decide(negated, snap(declarations={"列入失信名单": False})) == "eligible"
    assert decide(negated, snap(declarations={"列入失信名单": True})) == "ineligible"
    assert decide(negated, snap()) == "needs_data"


def test_an_unreviewed_declaration_is_provisional():
    lawful = rule([c("declaration", "eq", value="守法")])
    snapshot = Snapshot(1, declarations={"守法": FactValue(D(1), reviewed=False)})
    outcome = explain(lawful, snapshot)
    assert outcome.decision == "eligible"
    assert outcome.provisional is True


@pytest.mark.parametrize(
    ("figure", "expected"),
    [("0.5亿元", "eligible"), ("50000000元", "eligible"), ("49999999.99元", "ineligible"),
     ("1000万美元", "eligible"), ("704.2253万美元", "ineligible"), (None, "needs_data")],
)  # fmt: skip
def test_declared_money(figure, expected):
    expression = rule([c("declared_money", "gte", "5000万元", key="设备投资额")])
    figures = {"declared_money:研发投入": "10亿元"}  # another figure does not count
    if figure is not None:
        figures["declared_money:设备投资额"] = figure
    snapshot = snap(figures=figures)
    assert decide(expression, snapshot) == expected
    if figure is None:
        assert explain(expression, snapshot).missing_fields == ["declared_money:设备投资额"]


def test_declared_number():
    expression = rule([c("declared_number", "gte", "30", key="新增就业岗位")])
    assert decide(expression, snap(figures={"declared_number:新增就业岗位": "30"})) == "eligible"
    assert decide(expression, snap(figures={"declared_number:新增就业岗位": "29.99"})) == "ineligible"


def test_declared_figures_and_declarations_combined_with_yearly_facts():
    expression = rule(
        [c("declared_money", "gte", "2000万元", key="项目总投资")],
        [c("declaration", "eq", value="项目已备案")],
        [c("revenue", "gte", "1亿元", window={"years": 2, "mode": "each"})],
    )
    full = snap(figures={"declared_money:项目总投资": "0.2亿元"}, declarations={"项目已备案": True},
                yearly=revenue("1亿元", "1亿元"))  # fmt: skip
    assert decide(expression, full) == "eligible"
    short = snap(figures={"declared_money:项目总投资": "1999.99万元"}, declarations={"项目已备案": True},
                 yearly=revenue("1亿元", "1亿元"))  # fmt: skip
    outcome = explain(expression, short)
    assert outcome.decision == "ineligible"
    assert [r.condition.key for r in outcome.near_miss] == ["项目总投资"]


# =========================================================================== snapshots from JSON


def test_snapshot_from_json_reads_quantities_in_their_units():
    snapshot = snap(yearly={"revenue": {"2025": "0.2亿元"}, "employees": {"2025": "1.2万人"}},
                    standing={"paid_in_capital": "100万美元", "floor_area": "15亩"},
                    figures={"declared_money:设备投资额": "5000万"})  # fmt: skip
    assert snapshot.yearly["revenue"][2025] == FactValue(D(20_000_000), True, 2025)
    assert snapshot.yearly["employees"][2025].value == D(12_000)
    assert snapshot.standing["paid_in_capital"].value == D(7_100_000)
    assert snapshot.standing["floor_area"].value == D(10_000)
    assert snapshot.figures["declared_money:设备投资额"].value == D(50_000_000)


def test_snapshot_from_json_knows_the_section_of_a_numeric_industry_code():
    assert snap(industry="3610").industry_section == "C"


# =========================================================================== regions (the Region table)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("wanted", "region", "expected"),
    [
        (["330106"], "330106", "eligible"),
        (["330100"], "330106", "eligible"),  # a city's code selects its districts
        (["3301"], "330106", "eligible"),
        (["330000"], "330106", "eligible"),
        (["33"], "330106", "eligible"),
        (["330200"], "330106", "ineligible"),
        (["330105"], "330103", "eligible"),  # 下城区 (330103, until 2020) is now part of 拱墅区 (330105)
        (["330105"], "330106", "ineligible"),
        (["110000", "330100"], "330106", "eligible"),
        (["330100"], "", "needs_data"),
    ],
)
def test_region_within(wanted, region, expected):
    expression = rule([c("region", "in", value=wanted)])
    assert decide(expression, snap(region=region)) == expected
    outside = rule([c("region", "not_in", value=wanted)])
    flipped = {"eligible": "ineligible", "ineligible": "eligible", "needs_data": "needs_data"}[expected]
    assert decide(outside, snap(region=region)) == flipped


# =========================================================================== honours


def _honours_ready() -> None:
    """The vocabulary must hold the codes these tests use: a missing one is a failure, not a skip."""
    from qiaoliang.policies import honours

    assert honours.honour_by_code("hnte.national") is not None


def test_honours():
    _honours_ready()
    national = rule([c("honour", "has", value="hnte.national")])
    assert decide(national, snap(honours=["hnte.national"])) == "eligible"
    assert decide(national, snap(honours=["hnte.provincial"])) == "ineligible"
    assert decide(national, snap(honours=["tsme.national"])) == "ineligible"
    provincial_up = rule([c("honour", "具有", value="hnte.provincial+")])
    assert decide(provincial_up, snap(honours=["hnte.national"])) == "eligible"
    assert decide(provincial_up, snap(honours=["hnte.provincial"])) == "eligible"
    assert decide(provincial_up, snap(honours=["hnte.municipal"])) == "ineligible"
    any_level = rule([c("honour", "获得", value="hnte.any")])
    assert decide(any_level, snap(honours=["hnte.municipal"])) == "eligible"
    assert decide(any_level, snap(honours=["tsme.national"])) == "ineligible"
    without = rule([c("honour", "not_has", value="hnte.national")])
    assert decide(without, snap(honours=["hnte.national"])) == "ineligible"
    assert decide(without, snap(honours=["hnte.provincial"])) == "eligible"
    assert decide(without, snap()) == "eligible"
    assert rule([c("honour", "是", value="hnte.national")]).groups[0][0].op == Op.HAS
    assert rule([c("honour", "否", value="hnte.national")]).groups[0][0].op == Op.NOT_HAS


def test_honours_imply_others_transitively():
    _honours_ready()
    srdi = rule([c("honour", "has", value="srdi.provincial")])
    assert decide(srdi, snap(honours=["key_little_giant.national"])) == "eligible"
    assert decide(srdi, snap(honours=["little_giant.national"])) == "eligible"


def test_an_expired_honour_does_not_count():
    _honours_ready()
    national = rule([c("honour", "has", value="hnte.national")])
    expired = Snapshot(1, honours=[HeldHonour("hnte.national", True, datetime.date(2026, 5, 31))])
    valid = Snapshot(1, honours=[HeldHonour("hnte.national", True, datetime.date(2026, 6, 1))])
    assert decide(national, expired) == "ineligible"
    assert decide(national, valid) == "eligible"
    unreviewed = Snapshot(1, honours=[HeldHonour("hnte.national", False)])
    assert explain(national, unreviewed).provisional is True


def test_no_honours_recorded_is_a_noted_failure():
    _honours_ready()
    outcome = explain(rule([c("honour", "has", value="hnte.national")]), snap())
    assert outcome.decision == "ineligible"
    assert outcome.groups[0][0].notes == ["no_honours_recorded"]


# =========================================================================== batch agrees with evaluate

THRESHOLDS = {
    "revenue": D(20_000_000),
    "tax": D(1_000_000),
    "rd_expense": D(3_000_000),
    "employees": D(50),
    "paid_in_capital": D(10_000_000),
    "export_value": D(7_100_000),
}
YEARS = [2022, 2023, 2024, 2025, 2026]
INDUSTRIES = [("3610", "C"), ("0610", "B"), ("4411", "D"), ("5121", "F"), ("5211", "F"), ("6110", "H"),
              ("6210", "H"), ("6510", "I"), ("7211", "L"), ("8010", "O"), ("", "")]  # fmt: skip
REGIONS = ["330106", "330103", "330105", "330212", "110105", ""]
STATEMENTS = ["守法", "独立法人"]


def _straddle(rng: random.Random, center: Decimal) -> Decimal | None:
    choice = rng.random()
    if choice < 0.15:
        return None
    if choice < 0.75:
        return center + rng.choice([D("-0.01"), D(0), D(0), D("0.01"), D("-0.005"), D("0.0000001")])
    if choice < 0.85:
        return center * rng.choice([D("0.25"), D("0.5"), D(3), D("1.5")]) / D(3)  # exact avg / sum boundaries
    return D(rng.randrange(0, 10**9)) / D(100)


def random_snapshot(rng: random.Random, n: int) -> Snapshot:
    industry, section = rng.choice(INDUSTRIES)
    snapshot = Snapshot(
        n,
        region=rng.choice(REGIONS),
        industry=industry,
        industry_section=section,
        size=rng.choice(["", "small", "medium", "micro", "large"]),
        ownership=rng.choice(["", "private", "state"]),
        founded_on=rng.choice([None, datetime.date(2023, 6, 1), datetime.date(2023, 6, 2), datetime.date(2020, 1, 31),
                               datetime.date(2025, 12, 1), datetime.date(2025, 12, 2)]),
    )  # fmt: skip
    for code, center in THRESHOLDS.items():
        if code == "paid_in_capital":
            value = _straddle(rng, center)
            if value is not None:
                snapshot.standing[code] = FactValue(value, rng.random() < 0.8)
            continue
        for year in YEARS:
            value = _straddle(rng, center)
            if value is not None:
                snapshot.yearly.setdefault(code, {})[year] = FactValue(value, rng.random() < 0.8, year)
    # rd_expense around 3% of revenue
    revenue_2025 = snapshot.yearly.get("revenue", {}).get(REF)
    if revenue_2025 is not None and rng.random() < 0.5:
        snapshot.yearly.setdefault("rd_expense", {})[REF] = FactValue(
            revenue_2025.value * D(3) / D(100) + rng.choice([D("-0.01"), D(0), D("0.01")]), True, REF
        )
    if rng.random() < 0.5:
        snapshot.standing["employees"] = FactValue(D(rng.choice([49, 50, 51])), True)
    for statement in STATEMENTS:
        if rng.random() < 0.7:
            snapshot.declarations[statement] = FactValue(D(rng.choice([0, 1])), True)
    if rng.random() < 0.7:
        snapshot.figures["declared_money:设备投资额"] = FactValue(
            D(50_000_000) + rng.choice([D("-0.01"), D(0), D("0.01")]), True
        )
    if rng.random() < 0.6:
        snapshot.honours = [
            HeldHonour(code, True, rng.choice([None, datetime.date(2026, 5, 31), datetime.date(2027, 1, 1)]))
            for code in rng.sample(["hnte.national", "hnte.provincial", "tsme.national", "little_giant.national"],
                                   rng.randint(1, 2))
        ]  # fmt: skip
    return snapshot


def agreement_expressions(with_regions: bool, with_honours: bool) -> list[Expression]:
    raw: list[list[list[dict[str, Any]]]] = []
    for op in ("gt", "gte", "lt", "lte", "eq", "ne"):
        raw.append([[c("revenue", op, "2000万元")]])
        raw.append([[c("paid_in_capital", op, "0.1亿元")], [c("tax", op, "100万元")]])
    for mode in ("each", "any", "sum", "avg"):
        for years in (1, 2, 3):
            target = {"each": "2000万元", "any": "2000万元", "sum": f"{2000 * years}万元", "avg": "2000万元"}[mode]
            raw.append([[c("revenue", "gte", target, window={"years": years, "mode": mode})]])
            raw.append([[c("tax", "gt", "100万元", window={"years": years, "mode": mode}),
                         c("revenue", "lte", target, window={"years": years, "mode": mode})]])  # fmt: skip
    raw += [
        [[c("rd_ratio", "gte", "3%")], [c("revenue", "gte", "2000万元")]],
        [[c("rd_ratio", "lt", "3%"), c("rd_expense", "gte", "300万元", window={"years": 2, "mode": "any"})]],
        [[c("employees", "gte", "50人")], [c("size", "in", value=["small", "medium"])]],
        [[c("employees", "lt", "50人"), c("tax", "gte", "100万元")], [c("ownership", "ne", value="state")]],
        [[c("age_years", "gte", "3年")], [c("revenue", "gte", "2000万元")]],
        [[c("age_years", "lt", "6个月")]],
        [[c("industry", "in", value=["C", "51"])], [c("revenue", "gte", "2000万元")], [c("tax", "gte", "100万元")]],
        [[c("industry", "not_in", value=["H"])], [c("export_value", "gte", "100万美元")]],
        [[c("threshold", "eq", value="above_scale_industry")]],
        [[c("threshold", "eq", value="above_quota_trade")], [c("tax", "gte", "100万元")]],
        [[c("threshold", "ne", value="above_scale_industry"), c("revenue", "lt", "2000万元")]],
        [[c("declaration", "eq", value="守法")], [c("declaration", "ne", value="独立法人")],
         [c("declared_money", "gte", "5000万元", key="设备投资额")]],
        [[c("declared_money", "eq", "0.5亿元", key="设备投资额"), c("revenue", "gt", "2000万元")],
         [c("tax", "gte", "100万元", window={"years": 3, "mode": "avg"})]],
    ]  # fmt: skip
    if with_regions:
        raw += [
            [[c("region", "in", value=["330100"])], [c("revenue", "gte", "2000万元")]],
            [[c("region", "in", value=["330105"]), c("region", "in", value=["110000"])]],
            [[c("region", "not_in", value=["3302"])], [c("threshold", "eq", value="above_scale_industry")]],
        ]
    if with_honours:
        raw += [
            [[c("honour", "has", value="hnte.provincial+")], [c("revenue", "gte", "2000万元")]],
            [[c("honour", "not_has", value="hnte.national"), c("honour", "has", value="srdi.provincial")]],
        ]
    return [rule(*groups) for groups in raw]


def _assert_agreement(snapshots: list[Snapshot], expressions: list[Expression], on: datetime.date) -> dict[int, int]:
    batch = BatchEvaluator(snapshots, on, BOOK)
    seen = {Tri.TRUE: 0, Tri.FALSE: 0, Tri.UNKNOWN: 0}
    near = 0
    for index, expression in enumerate(expressions):
        outcomes = [evaluate(expression, s, on, BOOK) for s in snapshots]
        expected = [int(o.state) for o in outcomes]
        got = [int(x) for x in batch.states(expression)]
        wrong = [(i, expected[i], got[i]) for i in range(len(snapshots)) if expected[i] != got[i]]
        assert not wrong, (index, expression.to_json(), wrong[:5])
        expected_near = [o.near_miss is not None for o in outcomes]
        got_near = [bool(x) for x in batch.near_misses(expression)]
        assert expected_near == got_near, (index, expression.to_json())
        for state in expected:
            seen[Tri(state)] += 1
        near += sum(expected_near)
    # the snapshots straddle the thresholds: every answer occurs, near misses too
    assert min(seen.values()) > 100, seen
    assert near > 20
    return seen


def test_batch_agrees_with_evaluate_on_random_snapshots():
    _honours_ready()
    rng = random.Random(20260601)
    snapshots = [random_snapshot(rng, n) for n in range(400)]
    for snapshot in snapshots:
        snapshot.region = ""  # regions need the database: see the test below
    _assert_agreement(snapshots, agreement_expressions(False, True), ON)
    _assert_agreement(snapshots, agreement_expressions(False, True), datetime.date(2027, 1, 1))


@pytest.mark.django_db
def test_batch_agrees_with_evaluate_on_regions():
    rng = random.Random(7)
    snapshots = [random_snapshot(rng, n) for n in range(300)]
    expressions = [e for e in agreement_expressions(True, False) if any(
        c.field == "region" for c in e.conditions())]  # fmt: skip
    batch = BatchEvaluator(snapshots, ON, BOOK)
    for expression in expressions:
        assert [int(x) for x in batch.states(expression)] == [int(evaluate(expression, s, ON, BOOK).state)
                                                              for s in snapshots]  # fmt: skip


def test_batch_caches_and_answers_many_snapshots_at_once():
    snapshots = [snap(yearly=revenue(v)) for v in ("2000万元", "19999999.99元", None, "20000000.01元")]
    batch = BatchEvaluator(snapshots, ON, BOOK)
    expression = rule([c("revenue", "gte", "2000万元")])
    assert [int(x) for x in batch.states(expression)] == [Tri.TRUE, Tri.FALSE, Tri.UNKNOWN, Tri.TRUE]
    assert [bool(x) for x in batch.near_misses(expression)] == [False, True, False, False]
    assert [int(x) for x in batch.states(expression)] == [Tri.TRUE, Tri.FALSE, Tri.UNKNOWN, Tri.TRUE]
    assert BatchEvaluator([], ON).states(expression).tolist() == []


def test_batch_rechecks_values_a_float_cannot_tell_apart():
    # 20000000.000000001 is 2e7 as a float; the Decimal path says it is above
    snapshots = [Snapshot(i, yearly={"revenue": {REF: FactValue(v, True, REF)}})
                 for i, v in enumerate([D("20000000.000000001"), D("19999999.999999999"), D(20_000_000)])]  # fmt: skip
    for op, expected in (("gt", [2, 0, 0]), ("gte", [2, 0, 2]), ("eq", [0, 0, 2]), ("ne", [2, 2, 0]),
                         ("lt", [0, 2, 0]), ("lte", [0, 2, 2])):  # fmt: skip
        expression = rule([c("revenue", op, "2000万元")])
        assert [int(x) for x in BatchEvaluator(snapshots, ON).states(expression)] == expected, op
        assert [int(evaluate(expression, s, ON).state) for s in snapshots] == expected, op


def test_batch_agrees_on_a_section_without_an_industry_code():
    expression = rule([c("industry", "in", value=["C"])])
    snapshot = Snapshot(1, industry="", industry_section="C")
    assert int(BatchEvaluator([snapshot], ON).states(expression)[0]) == int(evaluate(expression, snapshot, ON).state)


def test_batch_sums_of_cancelling_values_are_exact():
    values = [D("123456789.01"), D("-123456789.02"), D("0.01")]
    snapshot = Snapshot(1, yearly={"net_profit": {REF - i: FactValue(v, True, REF - i) for i, v in enumerate(values)}})
    for mode in ("sum", "avg"):
        for op in ("gt", "gte", "lte", "eq"):
            expression = rule([c("net_profit", op, value="0", window={"years": 3, "mode": mode})])
            exact = evaluate(expression, snapshot, ON).state
            assert exact == (Tri.FALSE if op == "gt" else Tri.TRUE)
            assert int(BatchEvaluator([snapshot], ON).states(expression)[0]) == exact, (mode, op)
