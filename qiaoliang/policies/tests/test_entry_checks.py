"""What people type is checked where they type it: a figure of 40 digits, money without its unit, half a person,
digits that are not ASCII, a question answered twice; what the check-up shows is readable (place names and sizes,
not codes); a dev policy applies in its own region."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import Notification
from qiaoliang.orgs.models import Enterprise
from qiaoliang.policies import dev_rules
from qiaoliang.policies.models import EnterpriseFact, PolicyQuestion, SupportItem
from qiaoliang.policies.rules import Condition, ConditionResult, Op, Tri
from qiaoliang.policies.services import facts as fact_service
from qiaoliang.policies.services import library, questions, rulebook

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def published_policy(world: Any) -> Any:
    policy = library.create_policy(actor=world.staff, organization=world.federation, data={
        "title": "关于支持企业研发的若干措施", "level": "municipal", "department": world.department,
        "full_text": "一、对营业收入2000万元以上的企业给予补助。"})  # fmt: skip
    item = library.save_item(actor=world.staff, policy=policy, data={"name": "研发补助", "benefit": "补助"})
    rulebook.save_rule(actor=world.staff, item=item,
                       expression={"all": [[{"field": "revenue", "op": "gte", "text": "2000万元"}]]})  # fmt: skip
    return library.publish(actor=world.staff, policy=policy)


def test_a_figure_too_long_for_its_column_is_a_message_not_a_server_error(world: Any) -> None:
    year = str(datetime.date.today().year - 1)
    client = client_for(world.contact)
    for value in ("9" * 40, "1" + "0" * 30 + "万元", "1e40万元"):
        response = client.post(reverse("policies:fact_save"), {"kind": "figure", "field": "revenue", "year": year,
                                                               "value": value}, follow=True)  # fmt: skip
        assert response.status_code == 200, value
        assert [str(m) for m in response.context["messages"]], value
    assert not EnterpriseFact.objects.filter(enterprise=world.e1).exists()


def test_money_needs_its_unit_and_counts_are_whole(world: Any) -> None:
    year = datetime.date.today().year - 1
    fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="3200万元", year=year)
    for bare in ("3500", " 3,500 ", "3500.5"):
        with pytest.raises(DomainError) as no_unit:
            fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value=bare, year=year)
        assert no_unit.value.code == "value" and "2000万元" in no_unit.value.message
    assert EnterpriseFact.objects.get(enterprise=world.e1, field="revenue").entered_text == "3200万元"  # kept
    assert fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="3500元",
                                 year=year).value == 3500  # fmt: skip
    with pytest.raises(DomainError) as half:
        fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="employees", value="12.5人", year=year)
    assert half.value.code == "value"
    assert fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="employees", value="12",
                                 year=year).value == 12  # a bare count is persons  # fmt: skip


def test_digits_that_are_not_ascii_are_not_a_server_error(world: Any) -> None:
    policy = published_policy(world)
    item = SupportItem.objects.get(policy=policy)
    assert client_for(world.secretary).get(reverse("policies:facts"), {"enterprise": "²"}).status_code in (200, 403)
    staff = client_for(world.staff)
    for data in ({"rows": "²"}, {"rows": "1", "r0-group": "²"}, {"rows": "1", "r0-years": "³"}):
        response = staff.post(f"/policies/items/{item.pk}/rule/build/", data)
        assert response.status_code in (200, 302), data
    assert client_for(world.staff).get("/appeals/", {"department": "²"}).status_code == 200


def test_a_question_is_answered_once(world: Any) -> None:
    policy = published_policy(world)
    asked = questions.ask(actor=world.contact, policy=policy, question="研发投入包括委托研发吗？")
    questions.answer(actor=world.liaison, question=asked, text="包括，按80%计入。")
    with pytest.raises(DomainError) as again:
        questions.answer(actor=world.staff, question=asked, text="重复答复")
    assert again.value.code == "answer"
    asked.refresh_from_db()
    assert asked.answer == "包括，按80%计入。" and asked.answered_by == world.liaison
    page = client_for(world.staff).post(
        reverse("policies:answer", args=[asked.pk]), {"answer": "再答一次"}, follow=True
    )
    assert page.status_code == 200 and PolicyQuestion.objects.get(pk=asked.pk).answer == "包括，按80%计入。"
    api = client_for(world.liaison).post(f"/api/v1/policy-questions/{asked.pk}/answer/", {"answer": "又一次"},
                                         content_type="application/json")  # fmt: skip
    assert api.status_code == 400


def test_the_check_up_shows_names_not_codes(world: Any) -> None:
    region = ConditionResult(Condition("region", Op.IN, ("110000",)), Tri.TRUE, actual="110105")
    assert region.actual_label == "北京市朝阳区"
    size = ConditionResult(Condition("size", Op.IN, ("small",)), Tri.FALSE, actual="micro")
    assert size.actual_label not in ("", "micro")
    revenue = ConditionResult(Condition("revenue", Op.GTE, 1), Tri.TRUE, actual="3,000万元 (2025)")
    assert revenue.actual_label == "3,000万元 (2025)"
    Enterprise.objects.filter(pk=world.e1.pk).update(region_id="110105")
    policy = library.create_policy(actor=world.staff, organization=world.federation, data={
        "title": "北京注册企业补助", "level": "municipal", "full_text": "一、在北京注册的企业。"})  # fmt: skip
    item = library.save_item(actor=world.staff, policy=policy, data={"name": "注册补助", "benefit": "补助"})
    rulebook.save_rule(actor=world.staff, item=item, expression={"all": [
        [{"field": "region", "op": "in", "value": ["110000"]}]]})  # fmt: skip
    library.publish(actor=world.staff, policy=policy)
    page = client_for(world.contact).get(reverse("policies:checkup"))
    text = page.content.decode()
    assert page.status_code == 200 and "北京市朝阳区" in text and "110105）" not in text
    title = text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "href" not in title


def test_every_dev_policy_has_its_region() -> None:
    assert dev_rules.policy_jurisdiction("477") == "331083"  # 中共玉环市委　玉环市人民政府 → 玉环市
    assert dev_rules.policy_jurisdiction("526") == "331000"  # 中共台州市委台州市人民政府 → 台州市
    assert dev_rules.policy_jurisdiction("470") == dev_rules.PROVINCE  # the text names no place


def test_what_a_refused_form_held_is_filled_in_again(world: Any) -> None:
    policy = published_policy(world)
    enterprise = client_for(world.contact)
    long_question = "请问研发投入包括哪些费用？" * 200  # over 2,000 characters: the form refuses it
    response = enterprise.post(
        reverse("policies:ask", args=[policy.pk]), {"question": long_question, "complexity": "complex"}, follow=True
    )
    assert response.status_code == 200 and not PolicyQuestion.objects.exists()
    assert response.context["form"].initial["question"] == long_question
    assert "form" in response.context and long_question[:50] in response.content.decode()
    again = enterprise.get(reverse("policies:detail", args=[policy.pk]))  # read once
    assert not again.context["form"].initial
    # refused by the service (too short after cleaning): kept as well
    enterprise.post(reverse("policies:ask", args=[policy.pk]), {"question": "  请问 ", "complexity": "simple"})
    assert enterprise.get(reverse("policies:detail", args=[policy.pk])).context["form"].initial["question"]
    # a figure the service refuses keeps what was typed, on that enterprise's page only
    year = str(datetime.date.today().year - 1)
    response = enterprise.post(reverse("policies:fact_save"), {"kind": "figure", "field": "revenue", "year": year,
                                                               "value": "3500"}, follow=True)  # fmt: skip
    assert response.context["fact_form"].initial["value"] == "3500"
    # an answer refused by its form is kept for that question
    asked = questions.ask(actor=world.contact, policy=policy, question="研发投入包括委托研发吗？")
    liaison = client_for(world.liaison)
    liaison.post(reverse("policies:answer", args=[asked.pk]), {"answer": "答" * 5001})
    page = liaison.get(reverse("policies:questions"))
    forms = {q.pk: q.answer_form for q in page.context["page"].object_list}
    assert forms[asked.pk].initial["answer"] == "答" * 5001


def test_a_wrong_figure_can_be_removed(world: Any) -> None:
    year = datetime.date.today().year - 1
    own = fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="3000万元", year=year)
    confirmed = fact_service.set_fact(actor=world.staff, enterprise=world.e1, field="tax", value="100万元", year=year)
    other = fact_service.set_fact(actor=world.staff, enterprise=world.e2, field="tax", value="100万元", year=year)
    enterprise = client_for(world.contact)
    page = enterprise.get(reverse("policies:facts")).content.decode()
    assert reverse("policies:fact_delete", args=[own.pk]) in page
    assert reverse("policies:fact_delete", args=[confirmed.pk]) not in page  # staff confirmed it
    assert enterprise.get(reverse("policies:fact_delete", args=[own.pk])).status_code == 405
    response = enterprise.post(reverse("policies:fact_delete", args=[own.pk]), follow=True)
    assert response.status_code == 200 and not EnterpriseFact.objects.filter(pk=own.pk).exists()
    refused = enterprise.post(reverse("policies:fact_delete", args=[confirmed.pk]), follow=True)
    assert EnterpriseFact.objects.filter(pk=confirmed.pk).exists()
    assert any("确认" in str(m) or "confirmed" in str(m) for m in refused.context["messages"])
    assert enterprise.post(reverse("policies:fact_delete", args=[other.pk])).status_code == 403
    assert EnterpriseFact.objects.filter(pk=other.pk).exists()
    assert enterprise.post(reverse("policies:fact_delete", args=[999_999])).status_code == 404
    assert not Notification.objects.filter(kind="policies.fact.deleted").exists()  # its own removal: no message
    staff = client_for(world.staff)
    assert staff.post(reverse("policies:fact_delete", args=[confirmed.pk])).status_code == 302
    assert not EnterpriseFact.objects.filter(pk=confirmed.pk).exists()
    told = Notification.objects.filter(kind="policies.fact.deleted", user=world.contact)
    assert told.count() == 1 and "纳税额" in told.get().title
