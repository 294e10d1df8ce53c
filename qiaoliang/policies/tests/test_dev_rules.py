"""Every annotated dev rule (1,094) loads into the engine or is listed with its reason; every loaded rule's test
cases give the decision they state (100 %)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from qiaoliang.policies import dev_rules, library_loader
from qiaoliang.policies.models import Rule, RuleTestCase
from qiaoliang.policies.services import rulebook
from qiaoliang.policies.services.decisions import threshold_book

pytestmark = pytest.mark.django_db

ALLOWED_REASONS = {
    "the logic names entries the annotations do not have",
    "the logic cannot be read",
    "a value per area (万元/亩) does not convert to an enterprise figure",
}


def test_every_dev_rule_loads_or_says_why() -> None:
    loaded = dev_rules.load_all(threshold_book())
    summary = dev_rules.summary(loaded)
    assert summary["rules"] == 1094
    assert summary["loaded"] + summary["refused"] == 1094
    assert summary["loaded"] >= 1060
    assert set(summary["reasons"]) <= ALLOWED_REASONS
    assert all(rule.reason for rule in loaded if rule.expression is None)
    # most conditions are computed from facts, honours, regions, industries and sizes, not declared
    assert summary["conditions_typed"] > summary["conditions_declared"]


def test_logic_is_distributed_into_groups() -> None:
    assert dev_rules.parse_logic("5_1&5_4,5_2&5_4,5_3&5_4") == [["5_1", "5_4"], ["5_2", "5_4"], ["5_3", "5_4"]]
    assert dev_rules.to_cnf([["5_1", "5_4"], ["5_2", "5_4"], ["5_3", "5_4"]]) == [["5_4"], ["5_1", "5_2", "5_3"]]
    assert dev_rules.parse_logic("14_1;14_2'14_3") is None
    assert sorted(dev_rules.to_cnf([["a", "b"], ["c", "d"]]) or []) == [["a", "c"], ["a", "d"], ["b", "c"], ["b", "d"]]


def test_entries_become_typed_conditions() -> None:
    def entry(var: str, relation: str, field: str) -> dict[str, Any]:
        return {"eid": "1_1", "var": var, "relation": relation, "field": field}

    condition, _reason, typed = dev_rules.condition_for(entry("当年销售额", "大于", "5亿元"), "410")
    assert typed and condition == {"field": "revenue", "op": "gt", "text": "5亿元", "label": "当年销售额大于5亿元"}
    condition, _reason, typed = dev_rules.condition_for(entry("荣誉", "是", "省级以上企业技术中心"), "410")
    assert typed and condition is not None and condition["value"] == "etc.provincial+"
    condition, _reason, typed = dev_rules.condition_for(entry("企业类型", "是", "小微企业"), "410")
    assert typed and condition is not None and condition["value"] == ["small", "micro"]
    condition, _reason, typed = dev_rules.condition_for(entry("注册地", "是", "嘉兴市"), "410")
    assert typed and condition is not None and condition["value"] == ["330400"]
    condition, reason, _typed = dev_rules.condition_for(entry("税收", "大于等于", "16万元/亩"), "435")
    assert condition is None and "does not convert" in reason
    condition, _reason, typed = dev_rules.condition_for(entry("标准", "符合", "乙级以上资质标准"), "410")
    assert not typed and condition is not None and condition["field"] == "declaration"


def test_loaded_library_rules_pass_all_their_test_cases(world: Any) -> None:
    report = library_loader.load(organization=world.federation, publish=True)
    assert report.rules >= 1060 and report.test_cases >= report.rules
    results = Counter()
    failures = []
    for rule in Rule.objects.filter(status="active").prefetch_related("test_cases"):
        for result in rulebook.run_test_cases(rule):
            results[result.passed] += 1
            if not result.passed:
                failures.append((rule.note, result.case.name, result.case.expected, result.got, result.error))
    assert results[True] == RuleTestCase.objects.count() and not failures, failures[:5]
    kinds = Counter(RuleTestCase.objects.values_list("expected", flat=True))
    assert kinds["eligible"] > 900 and kinds["ineligible"] > 900 and kinds["needs_data"] > 100
