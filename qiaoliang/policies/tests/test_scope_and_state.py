"""Who sees what, and state that stays true: statistics of one's own members, a check-up of the items for one's
organisations, figures of current members only, reviews of what was seen, exclusions told, counts that follow
figure changes, corrections that outlive a re-split, 免申即享 lists paged, long texts refused with a message."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import Notification
from qiaoliang.orgs import services as org_services
from qiaoliang.orgs.models import Membership
from qiaoliang.policies import selectors
from qiaoliang.policies.library_loader import clause_title
from qiaoliang.policies.models import (
    AutoGrantCase,
    ConditionCorrection,
    EnterpriseFact,
    Policy,
    Push,
    Rule,
    SupportItem,
)
from qiaoliang.policies.rules import RuleError, check_sensible, parse_expression
from qiaoliang.policies.services import autogrant, decisions, library, rulebook
from qiaoliang.policies.services import facts as fact_service

pytestmark = pytest.mark.django_db

RULE = {"all": [[{"field": "revenue", "op": "gte", "text": "2000万元"}]]}


def client_for(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def make(world: Any, *, organization: Any = None, delivery: str = "apply", publish: bool = True) -> SupportItem:
    policy = library.create_policy(actor=world.staff, organization=organization or world.federation, data={
        "title": "营业收入补助办法", "level": "municipal",
        "full_text": "一、对营业收入2000万元以上的企业给予补助。\n二、申报程序另行通知。"})  # fmt: skip
    item = library.save_item(actor=world.staff, policy=policy, data={"name": "补助", "benefit": "补助",
                                                                     "delivery": delivery})  # fmt: skip
    rulebook.save_rule(actor=world.staff, item=item, expression=RULE)
    if publish:
        library.publish(actor=world.staff, policy=policy)
    return item


def revenue(world: Any, enterprise: Any, value: str = "3000万元") -> None:
    fact_service.set_fact(actor=world.staff, enterprise=enterprise, field="revenue", value=value,
                          year=timezone.localdate().year - 1)  # fmt: skip


def test_statistics_count_the_pushes_to_ones_own_members(world: Any) -> None:
    revenue(world, world.e1)
    revenue(world, world.e2)
    make(world)  # the federation's policy reaches e1 (chamber C1) and e2 (chamber C2)
    assert Push.objects.count() == 2
    today = timezone.localdate()
    start = today.replace(month=1, day=1)
    assert selectors.statistics(world.staff, start, today)["reached"] == 2
    for user in (world.secretary, world.convenor):  # C1's secretary, the convenor of the zone holding C1
        figures = selectors.statistics(user, start, today)
        assert (figures["sent"], figures["reached"]) == (1, 1), user
    other = library.create_policy(actor=world.staff, organization=world.chamber2, data={"title": "温州商会办法"})
    library.publish(actor=world.staff, policy=other)
    assert selectors.statistics(world.secretary, start, today)["in_library"] == 1  # not C2's policy
    assert selectors.statistics(world.staff, start, today)["in_library"] == 2


def test_the_check_up_answers_only_the_items_for_ones_organisations(world: Any) -> None:
    revenue(world, world.e1)
    federation_item = make(world)
    chamber2_item = make(world, organization=world.chamber2)
    answered = {answer.item.pk for answer in decisions.checkup(world.e1)}
    assert federation_item.pk in answered and chamber2_item.pk not in answered
    assert decisions.answer_for(world.e1, chamber2_item) is None
    assert decisions.answer_for(world.e1, federation_item) is not None


def test_a_former_members_figures_are_not_managed_by_the_chamber(world: Any) -> None:
    membership = Membership.objects.get(enterprise=world.e1, organization=world.chamber1)
    org_services.transition_membership(actor=world.staff, membership=membership, to_status="withdrawn", note="退会")
    with pytest.raises(NotAllowedError):
        fact_service.set_fact(actor=world.secretary, enterprise=world.e1, field="revenue", value="9亿元",
                              year=timezone.localdate().year - 1)  # fmt: skip
    assert client_for(world.secretary).get(reverse("policies:facts"), {"enterprise": world.e1.pk}).status_code == 403


def test_a_review_confirms_what_the_reviewer_saw_once(world: Any) -> None:
    year = timezone.localdate().year - 1
    fact = fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="3000万元", year=year)
    seen = fact.updated_at.timestamp()
    fact_service.set_fact(actor=world.contact, enterprise=world.e1, field="revenue", value="9000万元", year=year)
    with pytest.raises(DomainError) as changed:
        fact_service.review(actor=world.staff, obj=fact, approve=True, seen=seen)
    assert changed.value.code == "changed"
    fact.refresh_from_db()
    assert fact.status == EnterpriseFact.Status.SUBMITTED
    page = client_for(world.staff).get(reverse("policies:review"))
    assert f'value="{fact.updated_at.timestamp():.6f}"' in page.content.decode()
    response = client_for(world.staff).post(
        reverse("policies:review_act", args=["fact", fact.pk]),
        {"decision": "approve", "seen": f"{fact.updated_at.timestamp():.6f}"},
    )
    assert response.status_code == 302
    fact.refresh_from_db()
    assert fact.status == EnterpriseFact.Status.REVIEWED
    with pytest.raises(DomainError) as twice:
        fact_service.review(actor=world.staff, obj=fact, approve=False, note="再看看")
    assert twice.value.code == "status"


def test_an_excluded_enterprise_that_was_asked_is_told_why(world: Any) -> None:
    revenue(world, world.e1)
    item = make(world, delivery="automatic")
    autogrant.confirm_list(actor=world.staff, item=item)
    case = AutoGrantCase.objects.get(item=item, enterprise=world.e1)
    assert case.status == AutoGrantCase.Status.CONFIRMED
    autogrant.exclude(actor=world.staff, case=case, reason="已享受同类补助")
    told = Notification.objects.filter(user=world.contact, kind="policies.case.excluded")
    assert told.count() == 1 and "已享受同类补助" in told.get().body


def test_the_cases_of_an_item_are_paged_and_filtered(world: Any) -> None:
    revenue(world, world.e1)
    revenue(world, world.e2)
    item = make(world, delivery="automatic")
    case = AutoGrantCase.objects.get(item=item, enterprise=world.e1)
    autogrant.exclude(actor=world.staff, case=case, reason="重复")
    client = client_for(world.staff)
    page = client.get(reverse("policies:item", args=[item.pk]), {"case_status": "excluded"})
    assert page.status_code == 200 and [c.pk for c in page.context["cases"]] == [case.pk]
    assert len(client.get(reverse("policies:item", args=[item.pk])).context["cases"]) == 2
    assert client.get(reverse("policies:item", args=[item.pk]), {"case_status": "nonsense", "cases_page": "x"}
                      ).status_code == 200  # fmt: skip
    enterprise_pages = client_for(world.contact)
    for name in ("policies:list", "policies:checkup"):
        assert reverse("policies:cases") in enterprise_pages.get(reverse(name)).content.decode(), name


def test_recomputing_from_the_page_is_background_work(world: Any, monkeypatch: Any) -> None:
    item = make(world)
    queued: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        "qiaoliang.policies.views_items.enqueue_on_commit", lambda name, *args: queued.append((name, args))
    )
    response = client_for(world.staff).post(reverse("policies:recompute", args=[item.pk]))
    assert response.status_code == 302 and queued == [("policies.recompute_item", (item.pk,))]


def test_an_items_eligible_count_follows_a_figure_change(world: Any) -> None:
    item = make(world)
    item.refresh_from_db()
    assert item.eligible_count == 0
    revenue(world, world.e1)
    item.refresh_from_db()
    assert item.eligible_count == 1
    revenue(world, world.e1, "100万元")
    item.refresh_from_db()
    assert item.eligible_count == 0


def test_corrections_outlive_a_new_split_and_the_rule_can_be_saved_again(world: Any) -> None:
    item = make(world, publish=False)
    clause = item.policy.clauses.filter(is_heading=False).first()
    rulebook.record_correction(actor=world.staff, clause=clause, action="added", final={
        "entry_type": "经营要求", "var": "营业收入", "relation": "大于等于", "field": "2000万元"})  # fmt: skip
    cited = {"all": [[{"field": "revenue", "op": "gte", "text": "2000万元", "clause": clause.pk}]]}
    rulebook.save_rule(actor=world.staff, item=item, expression=cited)
    library.update_policy(actor=world.staff, policy=item.policy, data={"summary": "改错字"}, resplit=True)
    kept = ConditionCorrection.objects.get()
    assert kept.clause_id is None and kept.sentence == clause.text
    entries = rulebook.corrections_as_entries(ConditionCorrection.objects.all())
    assert [e["field"] for e in entries] == ["2000万元"] and entries[0]["sid"].startswith("qh")
    active = Rule.objects.get(item=item, status="active")
    again = rulebook.save_rule(actor=world.staff, item=item, expression=active.expression)
    assert again.status == "active" and "clause" not in again.expression["all"][0][0]


def test_rules_refuse_negative_and_absurd_thresholds_when_written(world: Any) -> None:
    item = make(world)
    for field, text in (("employees", "-10人"), ("revenue", "1e30亿元")):
        with pytest.raises(DomainError) as bad:
            rulebook.save_rule(actor=world.staff, item=item, expression={"all": [[
                {"field": field, "op": "gte", "text": text}]]})  # fmt: skip
        assert bad.value.code == "expression", text
        with pytest.raises(RuleError):
            check_sensible(parse_expression({"all": [[{"field": field, "op": "gte", "text": text}]]}))
    check_sensible(parse_expression({"all": [[{"field": "net_profit", "op": "gte", "text": "-100万元"}]]}))
    # a rule stored before the check still answers: the check-up of every enterprise must not fail on it
    Rule.objects.filter(item=item, status="active").update(expression={"all": [[
        {"field": "employees", "op": "gte", "value": "-10", "text": "-10人"}]]})  # fmt: skip
    assert client_for(world.contact).get(reverse("policies:checkup")).status_code == 200


def test_a_policy_text_longer_than_its_column_is_refused_with_a_message(world: Any) -> None:
    with pytest.raises(DomainError) as long_text:
        library.create_policy(actor=world.staff, organization=world.federation,
                              data={"title": "长文", "full_text": "一、支持企业发展。" * 30_000})  # fmt: skip
    assert long_text.value.code == "full_text" and "200,000" in long_text.value.message
    assert not Policy.objects.filter(title="长文").exists()


def test_a_proposals_form_with_nothing_in_it_records_nothing_and_says_so(world: Any) -> None:
    item = make(world, publish=False)
    clause = item.policy.clauses.filter(is_heading=False).first()
    with pytest.raises(DomainError) as empty:
        rulebook.review_proposals(actor=world.staff, clause=clause, rows=[
            rulebook.ReviewedRow(None, "经营要求", "", "是", "  ", True)])  # fmt: skip
    assert empty.value.code == "rows" and not ConditionCorrection.objects.exists()


def test_an_unnamed_dev_item_is_named_from_its_clause() -> None:
    assert clause_title("5．对新认定为国家级、省级高新技术研究开发中心的，分别给予奖励") == (
        "对新认定为国家级、省级高新技术研究开发中心的"
    )
    assert clause_title("（三）" + "很长" * 40).endswith("…")
    assert len(clause_title("（三）" + "很长" * 40)) == 40


def test_the_convenor_is_shown_the_statistics(world: Any) -> None:
    page = client_for(world.convenor).get(reverse("policies:list")).content.decode()
    assert reverse("policies:statistics") in page
    assert client_for(world.convenor).get(reverse("policies:statistics")).status_code == 200
    enterprise_page = client_for(world.contact).get(reverse("policies:list")).content.decode()
    assert reverse("policies:statistics") not in enterprise_page


def test_a_push_counts_as_opened_when_the_enterprise_opens_its_check_up(world: Any) -> None:
    revenue(world, world.e1)
    make(world)
    push = Push.objects.get(enterprise=world.e1)
    assert push.opened_at is None and push.run is not None
    today = timezone.localdate()
    assert selectors.statistics(world.staff, today, today)["opened"] == 0
    assert client_for(world.contact).get(reverse("policies:checkup")).status_code == 200
    push.refresh_from_db()
    assert push.opened_at is not None
    assert selectors.statistics(world.staff, today, today)["opened"] == 1


def test_a_push_inserted_by_another_run_is_not_told_again(world: Any, monkeypatch: Any) -> None:
    revenue(world, world.e1)
    item = make(world, publish=False)
    library.publish(actor=world.staff, policy=item.policy)
    Push.objects.all().delete()
    Notification.objects.filter(kind="policies.push").delete()
    # another worker stores the push between this call's check and its insert
    real_filter = Push.objects.filter
    calls = {"n": 0}

    def filter_then_race(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            Push.objects.create(item=item, enterprise=world.e1, organization=world.federation)
            return real_filter(pk__in=[])
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Push.objects, "filter", filter_then_race)
    assert decisions.push_item(item, [world.e1.pk]) == 0
    assert not Notification.objects.filter(kind="policies.push").exists()


def test_a_long_list_is_confirmed_in_the_background(world: Any, monkeypatch: Any) -> None:
    revenue(world, world.e1)
    revenue(world, world.e2)
    item = make(world, delivery="automatic")
    monkeypatch.setattr(autogrant, "CONFIRM_IN_REQUEST", 1)
    queued: list[tuple[str, tuple[Any, ...]]] = []
    real = autogrant.enqueue_on_commit
    monkeypatch.setattr(
        autogrant, "enqueue_on_commit", lambda name, *args: (queued.append((name, args)), real(name, *args))
    )
    assert autogrant.confirm_list(actor=world.staff, item=item) == 2
    assert queued == [("policies.confirm_cases", (item.pk, world.staff.pk))]
    assert set(AutoGrantCase.objects.filter(item=item).values_list("status", flat=True)) == {"confirmed"}
    assert Notification.objects.filter(kind="policies.case.confirmed", user=world.contact).count() == 1
