"""The rule builder: conditions written as staff write them become the engine's JSON, errors name the line,
and a stored rule comes back as the same rows."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from qiaoliang.core.exceptions import DomainError
from qiaoliang.policies import builder
from qiaoliang.policies.models import Rule
from qiaoliang.policies.rules import parse_expression
from qiaoliang.policies.services import decisions
from qiaoliang.policies.services import facts as fact_service
from qiaoliang.policies.tests.test_workflow import make_policy

pytestmark = pytest.mark.django_db
Row = builder.Row


def test_rows_become_the_engines_json_and_come_back() -> None:
    book = decisions.threshold_book()
    rows = [
        Row(1, "region", "in", "北京市、杭州市西湖区"),
        Row(2, "revenue", "gte", "2000万元", years=3, mode="each"),
        Row(2, "threshold", "eq", "规模以上工业企业"),  # an alternative in the same group
        Row(3, "honour", "has", "省级及以上企业技术中心"),
        Row(4, "industry", "in", "制造业、6513"),
        Row(5, "size", "in", "小型、微型"),
        Row(6, "declaration", "eq", "近三年无重大违法行为"),
        Row(7, "declared_money", "gte", "500万元", key="设备投资额"),
        Row(8, "paid_in_capital", "gte", "100万美元"),
        Row(1, "", "", ""),  # an empty row is skipped
    ]
    data = builder.expression_of(rows, book)
    groups = data["all"]
    assert len(groups) == 8 and len(groups[1]) == 2
    assert groups[0][0]["value"] == ["11", "330106"]
    assert groups[1][0] == {"field": "revenue", "op": "gte", "text": "2000万元", "window": {"years": 3, "mode": "each"},
                            "label": "近3年每年营业收入大于等于2000万元"}  # fmt: skip
    assert groups[0][0]["label"] == "注册地属于北京市、杭州市西湖区"  # as staff wrote it
    assert groups[2][0]["label"] == "省级及以上企业技术中心"
    assert groups[1][1]["value"] == "above_scale_industry"
    assert groups[2][0]["value"] == "etc.provincial+"
    assert groups[3][0]["value"] == ["C", "6513"]
    assert groups[4][0]["value"] == ["small", "micro"]
    assert groups[6][0]["key"] == "设备投资额"
    parse_expression(data, thresholds=book)  # the engine reads it
    back = builder.rows_of(data, book)
    assert back is not None

    def without_labels(expression: dict[str, Any]) -> list[list[dict[str, Any]]]:
        return [[{k: v for k, v in c.items() if k != "label"} for c in group] for group in expression["all"]]

    again = builder.expression_of(back, book)
    assert without_labels(again) == without_labels(data)
    assert again["all"][0][0]["label"] == "注册地属于北京市、杭州市西湖区"  # unchanged rows keep their label
    assert back[0].value == "北京市、浙江省杭州市西湖区"  # regions are shown by full name
    assert back[4].value == "制造业、6513 应用软件开发"  # industries by name, and read back as the same codes
    coded = {"all": [[{"field": "industry", "op": "in", "value": ["662", "A", "C"]}]]}
    shown = builder.rows_of(coded, book)
    assert shown is not None and shown[0].value == "662 货币银行服务、A、制造业"  # 农、林、牧、渔业 would split
    assert builder.expression_of([Row(1, "industry", "in", shown[0].value)], book)["all"][0][0]["value"] == [
        "662", "A", "C"]  # fmt: skip
    assert builder.rows_of({"all": [], "tiers": [{"label": "一档", "all": []}]}, book) is None


@pytest.mark.parametrize(("row", "words"), [
    (Row(1, "region", "in", "火星市"), "Line 1"),
    (Row(1, "revenue", "gte", ""), "Line 1"),
    (Row(1, "revenue", "has", "2000万元"), "Line 1"),
    (Row(1, "honour", "has", "优秀青年"), "Line 1"),
    (Row(1, "size", "in", "巨型"), "Line 1"),
    (Row(1, "threshold", "eq", "规模很大"), "Line 1"),
    (Row(0, "revenue", "gte", "1万元"), "Line 1"),
    (Row(1, "nothing", "gte", "1万元"), "Line 1"),
])  # fmt: skip
def test_each_bad_row_is_named(row: Row, words: str) -> None:
    with pytest.raises(DomainError) as caught:
        builder.expression_of([row], decisions.threshold_book())
    assert "1" in caught.value.message
    with pytest.raises(DomainError):
        builder.expression_of([], decisions.threshold_book())


def test_the_builder_saves_a_version_in_force_through_the_page(world: Any) -> None:
    year = datetime.date.today().year - 1
    fact_service.set_fact(actor=world.staff, enterprise=world.e1, field="revenue", value="3000万元", year=year)
    _policy, item = make_policy(world)
    client = Client()
    client.force_login(world.staff)
    page = client.get(reverse("policies:item", args=[item.pk]))
    assert 'data-testid="builder-form"' in page.content.decode()
    # the rule in force is shown as rows: its revenue condition is there as written
    assert "2000万元" in page.content.decode()
    form = {"rows": "3", "r0-group": "1", "r0-field": "region", "r0-op": "in", "r0-value": "北京市",
            "r1-group": "2", "r1-field": "revenue", "r1-op": "gte", "r1-value": "0.25亿元", "r1-years": "",
            "r1-mode": "each", "r2-group": "2", "r2-field": "", "r2-op": "", "r2-value": ""}  # fmt: skip
    response = client.post(reverse("policies:rule_build", args=[item.pk]), form, follow=True)
    assert response.status_code == 200
    rule = Rule.objects.filter(item=item, status=Rule.Status.ACTIVE).get()
    assert rule.version == 2
    assert rule.expression["all"][1][0]["text"] == "0.25亿元"
    answers = {a.item.pk: a for a in decisions.checkup(world.e1)}
    assert answers[item.pk].decision == "eligible"
    # a bad row: nothing saved, the line named
    form["r1-value"] = "很多"
    response = client.post(reverse("policies:rule_build", args=[item.pk]), form, follow=True)
    assert Rule.objects.filter(item=item).count() == 2
    page = response.content.decode()
    assert "第 2 行" in page or "Line 2" in page
    assert 'value="很多"' in page  # the rows come back as typed
    # only the policy's editors build rules
    for user in (world.contact, world.liaison, world.provider):
        other = Client()
        other.force_login(user)
        assert other.post(reverse("policies:rule_build", args=[item.pk]), form).status_code == 403


def test_what_the_builder_shows_it_saves_unchanged() -> None:
    book = decisions.threshold_book()
    stored = {"all": [
        [{"field": "revenue", "op": "gte", "text": "2000万元", "window": {"years": 8, "mode": "avg"},
          "label": "近八年平均营业收入不低于2000万元"}],
        [{"field": "threshold", "op": "eq", "value": code} for code, name in book.names().items() if "（" in name],
        [{"field": "industry", "op": "in", "value": ["A"]}],
        [{"field": "ownership", "op": "in", "value": ["hk_mo_tw", "foreign"]}],
    ]}  # fmt: skip
    assert stored["all"][1], "the thresholds with full-width brackets are part of the test"
    for language in ("zh-hans", "en"):
        with translation.override(language):
            rows = builder.rows_of(stored, book)
            assert rows is not None
            again = builder.expression_of(rows, book)
        assert again["all"][0][0]["window"] == {"years": 8, "mode": "avg"}
        assert again["all"][0][0]["label"] == "近八年平均营业收入不低于2000万元"  # unchanged: the policy's words
        assert [c["value"] for c in again["all"][1]] == [c["value"] for c in stored["all"][1]]
        assert again["all"][3][0]["value"] == ["hk_mo_tw", "foreign"]
    # a class name holding 、 is one industry; a changed row gets a new label, in Chinese whatever the language
    assert builder.expression_of([Row(1, "industry", "in", "农、林、牧、渔业")], book)["all"][0][0]["value"] == ["A"]
    rows = builder.rows_of(stored, book)
    assert rows is not None
    rows[0].value = "3000万元"
    with translation.override("en"):
        assert builder.expression_of(rows, book)["all"][0][0]["label"] == "近8年平均营业收入大于等于3000万元"
