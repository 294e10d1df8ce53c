"""A rule's test cases answer as the engine answers enterprises: with the policy's region, on the case's own
reference day, naming the missing fields when the case says which; bad facts are refused, not a server error."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import Region
from qiaoliang.policies.models import Rule, RuleTestCase
from qiaoliang.policies.services import library, rulebook

pytestmark = pytest.mark.django_db

RULE = {"all": [[{"field": "revenue", "op": "gte", "text": "2000万元"}]]}


def make_item(world: Any, *, region: Region | None = None) -> Rule:
    data: dict[str, Any] = {"title": "营业收入补助办法", "level": "municipal",
                            "full_text": "一、对营业收入2000万元以上的企业给予补助。"}  # fmt: skip
    if region is not None:
        data["region"] = region
    policy = library.create_policy(actor=world.staff, organization=world.federation, data=data)
    item = library.save_item(actor=world.staff, policy=policy, data={"name": "补助", "benefit": "补助"})
    rulebook.save_rule(actor=world.staff, item=item, expression=RULE)
    return Rule.objects.get(item=item, status="active")


def revenue(year: int, value: str = "3000万元") -> dict[str, Any]:
    return {"yearly": {"revenue": {str(year): value}}}


def test_a_regional_policys_cases_need_the_region_as_enterprises_do(world: Any) -> None:
    beijing = Region.objects.get(code="110000")
    rule = make_item(world, region=beijing)
    last_year = timezone.localdate().year - 1
    rulebook.add_test_case(actor=world.staff, rule=rule, data={"name": "no region", "facts": revenue(last_year),
                                                               "expected": "eligible"})  # fmt: skip
    rulebook.add_test_case(
        actor=world.staff,
        rule=rule,
        data={"name": "in Beijing", "facts": {**revenue(last_year), "region": "110105"}, "expected": "eligible"},
    )
    rulebook.add_test_case(
        actor=world.staff,
        rule=rule,
        data={"name": "elsewhere", "facts": {**revenue(last_year), "region": "330102"}, "expected": "ineligible"},
    )
    got = {result.case.name: (result.got, result.passed) for result in rulebook.run_test_cases(rule)}
    assert got == {"no region": ("needs_data", False), "in Beijing": ("eligible", True),
                   "elsewhere": ("ineligible", True)}  # fmt: skip
    # the failed case says what it lacks, on the item page as in the check-up
    failed = next(r for r in rulebook.run_test_cases(rule) if r.case.name == "no region")
    assert failed.error in ("Data missing: registered in", "缺少数据：注册地")
    client = Client()
    client.force_login(world.staff)
    page = client.get(f"/policies/items/{rule.item_id}/").content.decode()
    assert f"（{failed.error}）" in page


def test_a_case_keeps_its_reference_day_across_new_year(world: Any) -> None:
    rule = make_item(world)
    rulebook.add_test_case(
        actor=world.staff,
        rule=rule,
        data={"name": "2024 figures", "facts": revenue(2024), "expected": "eligible", "as_of": "2025-06-01"},
    )
    case = RuleTestCase.objects.get(rule=rule)
    assert case.as_of == datetime.date(2025, 6, 1)
    assert all(result.passed for result in rulebook.run_test_cases(rule))
    # run on another day on purpose, the same facts lack the year before it
    [late] = rulebook.run_test_cases(rule, on=datetime.date(2026, 1, 2))
    assert late.got == "needs_data" and not late.passed
    # a new version carries the case with its day, so it still passes after the year has turned
    second = rulebook.save_rule(actor=world.staff, item=rule.item, expression=RULE)
    assert second.status == "active" and second.test_cases.get().as_of == datetime.date(2025, 6, 1)
    # a case written today gets today
    rulebook.add_test_case(
        actor=world.staff, rule=second, data={"name": "today", "facts": {}, "expected": "needs_data"}
    )
    assert second.test_cases.get(name="today").as_of == timezone.localdate()
    with pytest.raises(DomainError) as bad_day:
        rulebook.add_test_case(actor=world.staff, rule=second, data={"name": "x", "facts": {}, "expected": "needs_data",
                                                                     "as_of": "2025-13-01"})  # fmt: skip
    assert bad_day.value.code == "as_of"


def test_expected_missing_fields_are_checked(world: Any) -> None:
    rule = make_item(world)
    rulebook.add_test_case(
        actor=world.staff,
        rule=rule,
        data={
            "name": "right",
            "facts": {},
            "expected": "needs_data",
            "expected_missing": [f"revenue:{timezone.localdate().year - 1}"],
        },
    )
    rulebook.add_test_case(
        actor=world.staff,
        rule=rule,
        data={"name": "wrong", "facts": {}, "expected": "needs_data", "expected_missing": ["employees"]},
    )
    results = {result.case.name: result for result in rulebook.run_test_cases(rule)}
    assert results["right"].passed
    assert not results["wrong"].passed and "revenue" in results["wrong"].error
    with pytest.raises(DomainError) as bad:
        rulebook.add_test_case(actor=world.staff, rule=rule, data={"name": "x", "facts": {}, "expected": "needs_data",
                                                                   "expected_missing": "revenue"})  # fmt: skip
    assert bad.value.code == "expected_missing"


def test_malformed_facts_are_refused_not_a_server_error(world: Any) -> None:
    rule = make_item(world)
    client = Client(raise_request_exception=False)
    client.force_login(world.staff)
    response = client.post(
        f"/policies/items/{rule.item_id}/cases/",
        {"name": "x", "expected": "eligible", "facts": '{"yearly": {"revenue": "3000万元"}}'},
        follow=True,
    )
    assert response.status_code == 200
    assert RuleTestCase.objects.filter(rule=rule).count() == 0
    with pytest.raises(DomainError) as bad:
        rulebook.add_test_case(actor=world.staff, rule=rule, data={"name": "x", "expected": "eligible",
                                                                   "facts": {"standing": ["1亿元"]}})  # fmt: skip
    assert bad.value.code == "facts"


def test_running_cases_reads_a_fixed_number_of_queries(world: Any) -> None:
    rule = make_item(world)
    counts = []
    for wanted in (1, 21):
        while rule.test_cases.count() < wanted:
            rulebook.add_test_case(
                actor=world.staff, rule=rule, data={"name": "x", "facts": {}, "expected": "needs_data"}
            )
        with CaptureQueriesContext(connection) as queries:
            assert len(rulebook.run_test_cases(rule)) == wanted
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
