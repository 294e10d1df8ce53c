"""Staff review the conditions read from a clause: kept, corrected, rejected and added conditions are recorded
as training data and the kept ones are given as the rule editor reads them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from qiaoliang.policies.models import ConditionCorrection
from qiaoliang.policies.tests.test_workflow import make_policy

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def proposal(field: str, var: str = "荣誉", relation: str = "是", entry_type: str = "经营要求") -> str:
    return json.dumps({"entry_type": entry_type, "var": var, "relation": relation, "field": field}, ensure_ascii=False)


def test_review_is_recorded_and_the_kept_conditions_are_given(world: Any, tmp_path: Path) -> None:
    policy, _item = make_policy(world, publish=False)
    clause = policy.clauses.order_by("position").first()
    assert clause is not None
    url = reverse("policies:propose", args=[clause.pk])
    page = client_for(world.staff).get(url)
    assert page.status_code == 200
    assert 'data-testid="proposals-form"' in page.content.decode()
    form = {
        "rows": "5",
        # kept as proposed
        "r0-proposed": proposal("国家高新技术企业"), "r0-keep": "1", "r0-entry_type": "经营要求", "r0-var": "荣誉",
        "r0-relation": "是", "r0-field": "国家高新技术企业",
        # corrected: the amount was read without its unit
        "r1-proposed": proposal("2000", var="营业收入", relation="大于"), "r1-keep": "1", "r1-entry_type": "经营要求",
        "r1-var": "营业收入", "r1-relation": "大于等于", "r1-field": "2000万元",
        # rejected
        "r2-proposed": proposal("补助"), "r2-entry_type": "经营要求", "r2-var": "荣誉", "r2-relation": "是",
        "r2-field": "补助",
        # added by staff; the last row left empty
        "r3-keep": "1", "r3-entry_type": "注册地", "r3-var": "注册地", "r3-relation": "是", "r3-field": "北京市",
        "r4-keep": "1", "r4-entry_type": "经营要求", "r4-var": "", "r4-relation": "是", "r4-field": "",
    }  # fmt: skip
    client = client_for(world.staff)
    response = client.post(url, form)
    assert response.status_code == 302  # post, redirect, get: a reload does not record the review twice
    response = client.get(response["Location"])
    assert response.status_code == 200 and 'data-testid="kept"' in response.content.decode()
    actions = sorted(ConditionCorrection.objects.values_list("action", "field"))
    assert actions == [
        ("accepted", "国家高新技术企业"),
        ("added", "北京市"),
        ("corrected", "2000万元"),
        ("rejected", ""),
    ]
    corrected = ConditionCorrection.objects.get(action="corrected")
    assert corrected.proposed["field"] == "2000" and corrected.relation == "大于等于"
    kept = json.loads(response.context["json"])["all"]
    fields = sorted(group[0]["field"] for group in kept)
    assert fields == ["honour", "region", "revenue"]
    revenue = next(group[0] for group in kept if group[0]["field"] == "revenue")
    assert revenue["op"] == "gte" and revenue["clause"] == clause.pk
    # the reviews are training rows for the extractor
    out = tmp_path / "corrections.csv"
    call_command("export_condition_corrections", "--out", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 3
    assert {r["sid"] for r in rows} == {f"q{policy.pk}_{clause.pk}"}
    assert rows[0]["sentence"] == clause.text
    # a second review of the clause replaces the first in the training rows
    client.post(url, {"rows": "1", "r0-keep": "1", "r0-entry_type": "经营要求", "r0-var": "荣誉", "r0-relation": "是",
                      "r0-field": "省级企业技术中心"})  # fmt: skip
    call_command("export_condition_corrections", "--out", str(out))
    assert [r["field"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["省级企业技术中心"]


def test_a_bad_row_refuses_the_whole_review(world: Any) -> None:
    policy, _item = make_policy(world, publish=False)
    clause = policy.clauses.first()
    assert clause is not None
    url = reverse("policies:propose", args=[clause.pk])
    form = {
        "rows": "2",
        "r0-proposed": proposal("国家高新技术企业"), "r0-keep": "1", "r0-entry_type": "经营要求", "r0-var": "荣誉",
        "r0-relation": "是", "r0-field": "国家高新技术企业",
        "r1-proposed": proposal("2000万元"), "r1-keep": "1", "r1-entry_type": "经营要求", "r1-var": "营业收入",
        "r1-relation": "约等于", "r1-field": "2000万元",
    }  # fmt: skip
    response = client_for(world.staff).post(url, form)
    assert response.status_code == 200
    assert "条件 2" in response.content.decode() or "Condition 2" in response.content.decode()
    assert 'value="约等于"' not in response.content.decode()  # the select offers the known relations only
    assert "2000万元" in response.content.decode()  # the rows come back as the user left them
    assert not ConditionCorrection.objects.exists()
    # a forged proposal is read as text, never trusted; too many rows are refused
    form = {"rows": "1", "r0-proposed": "{not json", "r0-keep": "1", "r0-entry_type": "企业类型", "r0-var": "",
            "r0-relation": "是", "r0-field": "小微企业"}  # fmt: skip
    client_for(world.staff).post(url, form)
    assert ConditionCorrection.objects.get().action == "added"
    many: dict[str, str] = {"rows": "60"}
    for i in range(60):
        many.update(
            {f"r{i}-keep": "1", f"r{i}-entry_type": "企业类型", f"r{i}-relation": "是", f"r{i}-field": f"类型{i}"}
        )
    response = client_for(world.staff).post(url, many)
    assert "50" in str(next(iter(response.context["messages"])))
    assert ConditionCorrection.objects.count() == 1


def test_only_the_policys_editors_review(world: Any) -> None:
    policy, _item = make_policy(world, publish=False)
    clause = policy.clauses.first()
    assert clause is not None
    url = reverse("policies:propose", args=[clause.pk])
    for user in (world.contact, world.liaison, world.provider, world.convenor, world.outsider):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).post(url, {"rows": "0"}).status_code == 403
    assert not ConditionCorrection.objects.exists()
