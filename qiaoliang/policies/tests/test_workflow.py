"""The policy loop through the services and the pages: a policy with an item and its rule, an enterprise's
figures, decisions with reasons, pushes, 免申即享 cases, questions answered on time; the permission matrix."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import Notification, Region
from qiaoliang.policies.models import (
    AutoGrantCase,
    Eligibility,
    EnterpriseFact,
    Policy,
    PolicyQuestion,
    Push,
    Rule,
    SupportItem,
)
from qiaoliang.policies.services import autogrant, decisions, library, questions, rulebook
from qiaoliang.policies.services import facts as fact_service

pytestmark = pytest.mark.django_db

RULE = {"all": [
    [{"field": "region", "op": "in", "value": ["11"], "label": "在北京注册"}],
    [{"field": "revenue", "op": "gte", "text": "2000万元"}],
    [{"field": "honour", "op": "has", "value": "hnte.national"}],
]}  # fmt: skip


def make_policy(world: Any, *, publish: bool = True, rule: dict[str, Any] | None = None,
                delivery: str = "apply") -> tuple[Policy, SupportItem]:  # fmt: skip
    policy = library.create_policy(actor=world.staff, organization=world.federation, data={
        "title": "高新技术企业研发补助办法", "issuer": "市科委", "level": "municipal", "department": world.department,
        "full_text": "一、对营业收入2000万元以上的国家高新技术企业给予补助。\n二、申报程序另行通知。",
    })  # fmt: skip
    item = library.save_item(actor=world.staff, policy=policy, data={
        "name": "研发补助", "benefit": "按研发投入10%补助", "max_amount": "100万元", "delivery": delivery})  # fmt: skip
    rulebook.save_rule(actor=world.staff, item=item, expression=rule or RULE)
    if publish:
        policy = library.publish(actor=world.staff, policy=policy)
    return policy, item


def give_facts(world: Any, revenue: str = "0.2亿元") -> None:
    year = datetime.date.today().year - 1
    fact_service.set_fact(actor=world.staff, enterprise=world.e1, field="revenue", value=revenue, year=year)
    fact_service.set_honour(actor=world.staff, enterprise=world.e1, text="国家级高新技术企业")


def test_publishing_computes_pushes_and_explains(world: Any) -> None:
    give_facts(world)  # exactly the threshold, written in 亿元
    _policy, item = make_policy(world)
    # publishing ran the recomputation (tasks run in process in tests)
    assert Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    assert Push.objects.filter(item=item, enterprise=world.e1).count() == 1
    assert Notification.objects.filter(user=world.contact, kind="policies.push").count() == 1
    item.refresh_from_db()
    assert item.eligible_count == 1
    # e2 (no figures, no honour): a failed condition outweighs the missing revenue; nothing stored for it
    assert not Eligibility.objects.filter(item=item, enterprise=world.e2).exists()
    answers = {a.item.pk: a for a in decisions.checkup(world.e1)}
    outcome = answers[item.pk].outcome
    assert outcome.decision == "eligible"
    assert [r.state for group in outcome.groups for r in group] == [2, 2, 2]
    # pushing again tells nobody twice
    decisions.recompute_item(item.pk)
    assert Notification.objects.filter(user=world.contact, kind="policies.push").count() == 1


def test_just_below_the_threshold_is_a_near_miss_with_the_reason(world: Any) -> None:
    give_facts(world, revenue="1999.99万元")
    _policy, item = make_policy(world)
    assert not Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    item.refresh_from_db()
    assert item.near_miss_count == 1 and item.eligible_count == 0
    answer = decisions.answer_for(world.e1, item)
    assert answer is not None and answer.outcome.near_miss is not None
    assert "2000" in answer.outcome.near_miss[0].condition.describe()
    assert not Push.objects.filter(item=item).exists()


def test_a_fact_change_recomputes_the_enterprise(world: Any) -> None:
    _policy, item = make_policy(world)
    assert not Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    give_facts(world, revenue="2500万元")
    assert Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    assert Push.objects.filter(item=item, enterprise=world.e1).exists()


def test_a_fact_change_answers_only_the_rules_that_read_the_field(world: Any) -> None:
    year = datetime.date.today().year - 1
    _policy, by_revenue = make_policy(world)  # region, revenue, honour
    by_tax = library.save_item(
        actor=world.staff, policy=by_revenue.policy, data={"name": "纳税奖励", "benefit": "奖励10万元"}
    )
    tax_rule = {"all": [[{"field": "tax", "op": "gte", "text": "100万元"}]]}
    rulebook.save_rule(actor=world.staff, item=by_tax, expression=tax_rule)
    by_scale = library.save_item(
        actor=world.staff, policy=by_revenue.policy, data={"name": "规上奖励", "benefit": "奖励20万元"}
    )
    scale_rule = {"all": [[{"field": "threshold", "op": "eq", "value": "above_scale_industry"}]]}
    rulebook.save_rule(actor=world.staff, item=by_scale, expression=scale_rule)
    decisions.recompute_policy(by_revenue.policy_id)
    fact_service.set_fact(actor=world.staff, enterprise=world.e1, field="tax", value="150万元", year=year)
    assert Eligibility.objects.filter(item=by_tax, enterprise=world.e1).exists()
    # a revenue change answers the revenue rule and the named threshold that reads revenue, not the tax rule
    result = decisions.recompute_enterprise(world.e1.pk, fields=["revenue"])
    assert result["answered"] == 2
    assert Eligibility.objects.filter(item=by_tax, enterprise=world.e1).exists()  # kept, not re-answered
    result = decisions.recompute_enterprise(world.e1.pk, fields=["rd_expense"])
    assert result["answered"] == 0
    # an honour answers the rule with the honour condition only; a full answer covers all three
    assert decisions.recompute_enterprise(world.e1.pk, fields=["honour"])["answered"] == 1
    assert decisions.recompute_enterprise(world.e1.pk)["answered"] == 3
    # the tax figure removed: the tax item is answered again and no longer stored
    fact_service.delete_fact(actor=world.staff, fact=EnterpriseFact.objects.get(enterprise=world.e1, field="tax"))
    assert not Eligibility.objects.filter(item=by_tax, enterprise=world.e1).exists()


def test_missing_data_is_named_never_a_silent_no(world: Any) -> None:
    _policy, item = make_policy(world)
    fact_service.set_honour(actor=world.staff, enterprise=world.e1, text="国家高新技术企业")
    answer = decisions.answer_for(world.e1, item)
    assert answer is not None and answer.decision == "needs_data"
    assert answer.outcome.missing_fields == [f"revenue:{datetime.date.today().year - 1}"]


def test_enterprise_figures_are_unreviewed_and_bounded(world: Any) -> None:
    fact = fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="3000万元",
                                 year=datetime.date.today().year - 1)  # fmt: skip
    assert fact.status == EnterpriseFact.Status.SUBMITTED and fact.value == Decimal("30000000")
    with pytest.raises(DomainError) as unit:
        fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="30人", year=2024)
    assert unit.value.code == "value"
    with pytest.raises(DomainError) as big:
        fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="1e30元", year=2024)
    assert big.value.code == "value"
    with pytest.raises(DomainError):
        fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="1万元", year=1900)
    with pytest.raises(NotAllowedError):
        fact_service.set_fact(actor=world.contact, enterprise=world.e2, field="revenue", value="1万元", year=2024)
    # an honour without its certificate is refused for the enterprise
    with pytest.raises(DomainError) as honour:
        fact_service.set_honour(actor=world.contact, enterprise=world.e1, text="国家高新技术企业")
    assert honour.value.code == "certificate"
    with pytest.raises(DomainError):
        fact_service.set_honour(actor=world.staff, enterprise=world.e1, text="月球最佳企业")


def test_review_tells_the_enterprise_with_the_reason(world: Any) -> None:
    fact = fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="tax", value="50万元", year=2025)
    with pytest.raises(DomainError):
        fact_service.review(actor=world.staff, obj=fact, approve=False, note="")
    with pytest.raises(NotAllowedError):
        fact_service.review(actor=world.contact, obj=fact, approve=True)
    fact_service.review(actor=world.staff, obj=fact, approve=False, note="与纳税证明不符")
    fact.refresh_from_db()
    assert fact.status == "rejected"
    note = Notification.objects.get(user=world.contact, kind="policies.fact.rejected")
    assert "与纳税证明不符" in note.body


def test_rule_versions_supersede_and_failing_cases_keep_a_draft(world: Any) -> None:
    _policy, item = make_policy(world, publish=False)
    first = Rule.objects.get(item=item, status="active")
    rulebook.add_test_case(actor=world.staff, rule=first, data={
        "name": "threshold", "expected": "eligible",
        "facts": {"region": "110105", "yearly": {"revenue": {str(datetime.date.today().year - 1): "2000万元"}},
                  "honours": ["hnte.national"]}})  # fmt: skip
    stricter = {"all": [*RULE["all"][:1], [{"field": "revenue", "op": "gt", "text": "2000万元"}], RULE["all"][2]]}
    second = rulebook.save_rule(actor=world.staff, item=item, expression=stricter, activate=False)
    assert second.version == 2 and second.test_cases.count() == 1  # carried over
    with pytest.raises(DomainError) as failing:
        rulebook.activate_rule(actor=world.staff, rule=second)
    assert failing.value.code == "test_cases"
    first.refresh_from_db()
    assert first.status == "active"
    looser = {"all": [*RULE["all"][:1], [{"field": "revenue", "op": "gte", "text": "1000万元"}], RULE["all"][2]]}
    third = rulebook.save_rule(actor=world.staff, item=item, expression=looser)
    first.refresh_from_db()
    assert third.status == "active" and first.status == "superseded" and first.superseded_by_id == third.pk
    with pytest.raises(DomainError) as bad:
        rulebook.save_rule(actor=world.staff, item=item, expression={"all": [[{"field": "revenue", "op": "gte",
                                                                                "text": "2000万元/亩"}]]})  # fmt: skip
    assert "1.1" in bad.value.message
    assert Rule.objects.filter(item=item).count() == 3  # nothing half-written


def test_autogrant_three_steps(world: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world, delivery="automatic")
    case = AutoGrantCase.objects.get(item=item, enterprise=world.e1)
    assert case.status == "listed"
    with pytest.raises(NotAllowedError):
        autogrant.respond(actor=world.contact, case=case, accept=True)  # not confirmed by staff yet
    assert autogrant.confirm_list(actor=world.staff, item=item) == 1
    assert Notification.objects.filter(user=world.contact, kind="policies.case.confirmed").exists()
    case = autogrant.respond(actor=world.contact, case=case, accept=True, account_note="工行 尾号1234")
    assert case.status == "accepted"
    with pytest.raises(DomainError):
        autogrant.mark_paid(actor=world.staff, case=case, amount="-5")
    case = autogrant.mark_paid(actor=world.staff, case=case, amount="50000", reference="BANK-1")
    assert case.status == "paid" and case.amount == Decimal("50000")
    assert case.history.count() == 3


def test_questions_deadlines_count_working_days(world: Any) -> None:
    policy, _item = make_policy(world)
    asked = questions.ask(actor=world.contact, policy=policy, question="研发投入包括外包费用吗？", complexity="complex")
    assert asked.deadline > datetime.date.today()
    assert Notification.objects.filter(user=world.liaison, kind="policies.question").exists()
    with pytest.raises(NotAllowedError):
        questions.answer(actor=world.provider, question=asked, text="…")
    questions.answer(actor=world.liaison, question=asked, text="包括，按80%计入。")
    asked.refresh_from_db()
    assert asked.status == "answered" and asked.answered_on_time is True and asked.in_faq
    assert Notification.objects.filter(user=world.contact, kind="policies.answer").exists()
    with pytest.raises(DomainError):
        questions.ask(actor=world.contact, policy=policy, question="短")
    with pytest.raises(NotAllowedError):
        questions.ask(actor=world.liaison, policy=policy, question="部门不能提问吗？")


# --------------------------------------------------------------------------- pages and the permission matrix


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_library_is_public_and_drafts_are_not(world: Any) -> None:
    published, item = make_policy(world)
    draft, _ = make_policy(world, publish=False)
    anonymous = client_for(None)
    page = anonymous.get(reverse("policies:list"))
    assert page.status_code == 200 and published.title.encode() in page.content
    assert anonymous.get(reverse("policies:detail", args=[published.pk])).status_code == 200
    assert anonymous.get(reverse("policies:detail", args=[draft.pk])).status_code == 404
    assert anonymous.get(reverse("policies:item", args=[item.pk])).status_code == 200
    assert anonymous.get(reverse("policies:faq")).status_code == 200
    assert client_for(world.staff).get(reverse("policies:detail", args=[draft.pk])).status_code == 200
    assert client_for(world.contact).get(reverse("policies:detail", args=[draft.pk])).status_code == 404


@pytest.mark.parametrize(("persona", "url_name", "expected"), [
    ("staff", "policies:create", 200), ("secretary", "policies:create", 200), ("contact", "policies:create", 403),
    ("liaison", "policies:create", 403), ("provider", "policies:create", 403), ("convenor", "policies:create", 403),
    ("contact", "policies:checkup", 200), ("staff", "policies:checkup", 403), ("liaison", "policies:checkup", 403),
    ("contact", "policies:facts", 200), ("provider", "policies:facts", 403),
    ("liaison", "policies:questions", 200), ("contact", "policies:questions", 200),
    ("provider", "policies:questions", 403),
    ("staff", "policies:review", 200), ("secretary", "policies:review", 200), ("contact", "policies:review", 403),
    ("staff", "policies:statistics", 200), ("convenor", "policies:statistics", 200),
    ("contact", "policies:statistics", 403), ("contact", "policies:cases", 200), ("staff", "policies:import", 200),
])  # fmt: skip
def test_permission_matrix(world: Any, persona: str, url_name: str, expected: int) -> None:
    make_policy(world)
    assert client_for(getattr(world, persona)).get(reverse(url_name)).status_code == expected


def test_enterprise_pages_show_reasons(world: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world)
    client = client_for(world.contact)
    page = client.get(reverse("policies:checkup")).content.decode()
    assert 'data-testid="checkup-eligible"' in page and "研发补助" in page
    item_page = client.get(reverse("policies:item", args=[item.pk])).content.decode()
    assert 'data-testid="my-answer"' in item_page
    staff_page = client_for(world.staff).get(reverse("policies:item", args=[item.pk])).content.decode()
    assert world.e1.name in staff_page  # the eligible list
    other_staff_item = client_for(world.contact).post(
        reverse("policies:rule_save", args=[item.pk]), {"expression": "{}"}
    )
    assert other_staff_item.status_code == 403


def test_fact_form_errors_are_shown_not_lost(world: Any) -> None:
    client = client_for(world.contact)
    response = client.post(reverse("policies:fact_save"), {"kind": "figure", "field": "revenue", "year": "2025",
                                                           "value": "三千万欧元每亩"}, follow=True)  # fmt: skip
    assert response.status_code == 200
    assert not EnterpriseFact.objects.filter(enterprise=world.e1).exists()
    messages = [str(m) for m in response.context["messages"]]
    assert (messages and "亩" in messages[0]) or "quantity" in messages[0] or "数量" in messages[0]


def test_question_via_page_and_api(world: Any) -> None:
    policy, _item = make_policy(world)
    client = client_for(world.contact)
    client.post(reverse("policies:ask", args=[policy.pk]), {"question": "小微企业能申请吗？", "complexity": "simple"})
    question = PolicyQuestion.objects.get(policy=policy)
    api = client_for(world.liaison)
    listed = api.get("/api/v1/policy-questions/").json()
    assert [row["id"] for row in listed["results"]] == [question.pk]
    answered = api.post(f"/api/v1/policy-questions/{question.pk}/answer/", {"answer": "可以。"},
                        content_type="application/json")  # fmt: skip
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    checkup = client.get("/api/v1/policy-checkup/")
    assert checkup.status_code == 200 and checkup.json()[0]["decision"] in ("eligible", "ineligible", "needs_data")
    assert client_for(world.staff).get("/api/v1/policy-checkup/").status_code == 403


def test_a_policys_region_bounds_every_item(world: Any) -> None:
    """A district's or city's policy is for enterprises registered there: its region is a condition of each item."""
    year = datetime.date.today().year - 1
    for enterprise in (world.e1, world.e3):  # e1 in Beijing, e3 in Zhangjiakou (Hebei)
        fact_service.set_fact(actor=world.staff, enterprise=enterprise, field="revenue", value="5000万元", year=year)
    rule = {"all": [[{"field": "revenue", "op": "gte", "text": "2000万元"}]]}
    policy, item = make_policy(world, publish=False, rule=rule)
    library.update_policy(actor=world.staff, policy=policy, data={"region": Region.objects.get(code="110000")})
    library.publish(actor=world.staff, policy=policy)
    eligible = set(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True))
    assert world.e1.pk in eligible and world.e3.pk not in eligible
    answer = decisions.answer_for(world.e3, item)
    assert answer is not None and answer.decision == "ineligible"
    assert "北京" in answer.outcome.groups[0][0].condition.describe()


def test_the_policy_page_reads_a_fixed_number_of_queries(world: Any, django_assert_max_num_queries: Any) -> None:
    policy, _item = make_policy(world)
    for number in range(2, 12):
        item = library.save_item(actor=world.staff, policy=policy, data={"name": f"事项{number}", "benefit": "补助"})
        rulebook.save_rule(actor=world.staff, item=item, expression=RULE)
    library.update_policy(actor=world.staff, policy=policy, data={"region": Region.objects.get(code="110000")})
    client = client_for(world.staff)
    client.get(reverse("policies:detail", args=[policy.pk]))  # warm the per-process caches
    with django_assert_max_num_queries(30):
        response = client.get(reverse("policies:detail", args=[policy.pk]))
    assert response.status_code == 200 and "事项11" in response.content.decode()


def test_withdrawing_tells_the_enterprises_that_qualified(world: Any) -> None:
    give_facts(world)
    policy, item = make_policy(world)
    with pytest.raises(DomainError):
        library.withdraw(actor=world.staff, policy=policy, reason=" ")
    library.withdraw(actor=world.staff, policy=policy, reason="上级政策调整，暂停执行")
    note = Notification.objects.get(user=world.contact, kind="policies.withdrawn")
    assert "上级政策调整" in note.body
    assert not Eligibility.objects.filter(item=item).exists()


def test_statistics_api_is_scoped_and_checks_its_period(world: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world)
    client = client_for(world.staff)
    figures = client.get("/api/v1/policies/statistics/").json()
    assert figures["published"] == 1 and figures["sent"] == 1 and figures["reached"] == 1
    assert figures["per_item"][0] == {"item": item.pk, "item_name": "研发补助", "policy": item.policy_id,
                                      "eligible": 1, "near_miss": 0, "needs_data": 0}  # fmt: skip
    assert client.get("/api/v1/policies/statistics/?start=2000-01-01&end=2000-12-31").json()["published"] == 0
    refused = client.get("/api/v1/policies/statistics/?start=2026-05-01&end=2026-01-01")
    assert refused.status_code == 400 and "end" in refused.json()
    assert client.get("/api/v1/policies/statistics/?start=yesterday").status_code == 400
    assert client.get("/api/v1/policies/statistics/?start=2999-01-01").status_code == 400
    assert client_for(world.convenor).get("/api/v1/policies/statistics/").status_code == 200
    for user in (world.contact, world.provider, world.outsider):
        assert client_for(user).get("/api/v1/policies/statistics/").status_code == 403


def test_a_batch_of_enterprises_is_answered_without_touching_the_others(world: Any, monkeypatch: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world)
    assert Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    other = Eligibility.objects.create(item=item, enterprise=world.e3, rule=item.rules.get(status=Rule.Status.ACTIVE),
                                       computed_at=timezone.now())  # fmt: skip
    monkeypatch.setattr(decisions, "ONE_BY_ONE", 0)  # the path a large import takes
    EnterpriseFact.objects.filter(enterprise=world.e1, field="revenue").update(value=Decimal("100"))
    assert decisions.recompute_enterprises([world.e1.pk, world.e2.pk], fields=["tax"])["eligible"] == 0  # no rule
    assert Eligibility.objects.filter(item=item, enterprise=world.e1).exists()  # reads tax: nothing answered
    decisions.recompute_enterprises([world.e1.pk, world.e2.pk], fields=["revenue"])
    assert not Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    assert Eligibility.objects.filter(pk=other.pk).exists()  # outside the batch: untouched
    item.refresh_from_db()
    assert item.eligible_count == 1  # recounted from the stored answers


def test_a_condition_may_cite_only_its_own_policys_clauses(world: Any) -> None:
    other, _other_item = make_policy(world, publish=False)
    _policy, item = make_policy(world, publish=False)
    foreign = other.clauses.first()
    assert foreign is not None
    rule = {"all": [[{"field": "revenue", "op": "gte", "text": "2000万元", "clause": foreign.pk}]]}
    with pytest.raises(DomainError, match=r"其他政策|another policy"):
        rulebook.save_rule(actor=world.staff, item=item, expression=rule)
    own = item.policy.clauses.first()
    assert own is not None
    rule["all"][0][0]["clause"] = own.pk
    assert rulebook.save_rule(actor=world.staff, item=item, expression=rule).version == 2
