"""Follow-ups of the policies review: a withdrawal told in the background and in chunks, a question sent twice
asked once, an exclusion undone, evidence for a figure, kept conditions carried into the rule editor."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import Notification
from qiaoliang.policies.models import (
    AutoGrantCase,
    Eligibility,
    EnterpriseFact,
    Policy,
    PolicyQuestion,
    Push,
    SupportItem,
)
from qiaoliang.policies.services import autogrant, decisions, library, questions, rulebook
from qiaoliang.policies.services import facts as fact_service
from qiaoliang.policies.services.rulebook import Proposal
from qiaoliang.policies.tests.test_workflow import give_facts, make_policy

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def client_for(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_a_withdrawal_is_told_in_chunks_and_not_for_a_policy_published_again(world: Any, monkeypatch: Any) -> None:
    give_facts(world)
    policy, item = make_policy(world)
    Push.objects.create(item=item, enterprise=world.e2, organization=world.federation)  # a second enterprise told
    calls: list[int] = []
    notify = library.notify
    monkeypatch.setattr(library, "TELL_CHUNK", 1)
    monkeypatch.setattr(library, "notify", lambda **kw: calls.append(1) or notify(**kw))
    library.withdraw(actor=world.staff, policy=policy, reason="上级政策调整")
    assert len(calls) == 2  # one write per chunk of one enterprise
    assert Notification.objects.filter(user=world.contact, kind="policies.withdrawn").count() == 1
    first = policy.history.get(to_status=Policy.Status.WITHDRAWN).pk
    library.publish(actor=world.staff, policy=Policy.objects.get(pk=policy.pk))  # published again: not told
    assert library.tell_withdrawn(policy.pk, "上级政策调整", world.staff.pk, first) == 0
    library.withdraw(actor=world.staff, policy=Policy.objects.get(pk=policy.pk), reason="再次调整")
    assert library.tell_withdrawn(policy.pk, "上级政策调整", world.staff.pk, first) == 0  # a later one was told
    assert Notification.objects.filter(user=world.contact, kind="policies.withdrawn").count() == 2


def test_a_question_sent_twice_is_asked_once(world: Any) -> None:
    policy, _item = make_policy(world)
    client = client_for(world.contact)
    url = reverse("policies:ask", args=[policy.pk])
    for _ in range(2):
        response = client.post(url, {"question": "研发投入包括人员工资吗？", "complexity": "simple"})
        assert response.status_code == 302
    assert PolicyQuestion.objects.filter(policy=policy).count() == 1
    assert Notification.objects.filter(kind="policies.question").count() == len(questions.answerers(policy))
    questions.ask(actor=world.contact, policy=policy, question="另一个问题：申报截止时间？")
    assert PolicyQuestion.objects.filter(policy=policy).count() == 2


def test_an_exclusion_is_undone_from_the_item_page_and_the_enterprise_is_told(world: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world, delivery="automatic")
    case = AutoGrantCase.objects.get(item=item, enterprise=world.e1)
    autogrant.confirm_list(actor=world.staff, item=item)
    staff = client_for(world.staff)
    staff.post(reverse("policies:case_act", args=[case.pk, "exclude"]), {"reason": "材料不全"})
    case.refresh_from_db()
    assert case.status == AutoGrantCase.Status.EXCLUDED
    page = staff.get(reverse("policies:item", args=[item.pk]) + "?case_status=excluded").content.decode()
    assert reverse("policies:case_act", args=[case.pk, "restore"]) in page
    response = staff.post(reverse("policies:case_act", args=[case.pk, "restore"]), follow=True)
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == AutoGrantCase.Status.LISTED
    assert Notification.objects.filter(user=world.contact, kind="policies.case.restored").count() == 1
    assert case.history.order_by("-pk").first().note  # the step is in the case's history
    # an enterprise cannot undo it, and a case whose enterprise no longer qualifies stays off the list
    autogrant.exclude(actor=world.staff, case=case, reason="复核")
    refused = client_for(world.contact).post(reverse("policies:case_act", args=[case.pk, "restore"]))
    assert refused.status_code in (403, 404)  # an excluded case is not the enterprise's to see
    case.refresh_from_db()
    assert case.status == AutoGrantCase.Status.EXCLUDED
    fact_service.set_fact(actor=world.staff, enterprise=world.e1, field="revenue", value="100万元",
                          year=EnterpriseFact.objects.get(enterprise=world.e1, field="revenue").year)  # fmt: skip
    with pytest.raises(DomainError, match=r"no longer qualifies|不符合"):
        autogrant.restore(actor=world.staff, case=case)
    SupportItem.objects.filter(pk=item.pk).update(delivery=SupportItem.Delivery.APPLY)  # switched to 申报
    case.refresh_from_db()
    with pytest.raises(DomainError):
        autogrant.restore(actor=world.staff, case=case)


def test_a_figure_carries_its_evidence_and_a_new_figure_drops_the_old_one(world: Any) -> None:
    client = client_for(world.contact)
    year = str(__import__("datetime").date.today().year - 1)
    response = client.post(reverse("policies:fact_save"), {
        "kind": "figure", "field": "revenue", "year": year, "value": "3200万元",
        "evidence": SimpleUploadedFile("审计报告.pdf", PDF, content_type="application/pdf")}, follow=True)  # fmt: skip
    assert response.status_code == 200
    fact = EnterpriseFact.objects.get(enterprise=world.e1, field="revenue")
    assert fact.evidence
    link = reverse("policies:evidence", args=["fact", fact.pk])
    assert link in response.content.decode()
    served = client.get(link)
    assert served.status_code == 200 and b"".join(served.streaming_content).startswith(b"%PDF")
    assert link in client_for(world.staff).get(reverse("policies:review")).content.decode()
    old = fact.evidence.name
    storage = fact.evidence.storage
    # a changed figure without new evidence: the old report no longer shows it, so it goes
    client.post(reverse("policies:fact_save"), {"kind": "figure", "field": "revenue", "year": year,
                                                "value": "3500万元"})  # fmt: skip
    fact.refresh_from_db()
    assert not fact.evidence and not storage.exists(old)
    assert client.get(link).status_code == 404
    # the same when an import changes the figure
    client.post(reverse("policies:fact_save"), {
        "kind": "figure", "field": "revenue", "year": year, "value": "3500万元",
        "evidence": SimpleUploadedFile("审计报告.pdf", PDF, content_type="application/pdf")})  # fmt: skip
    fact.refresh_from_db()
    old = fact.evidence.name
    sheet = f"统一社会信用代码,年度,营业收入（万元）\n{world.e1.uscc},{year},5000\n".encode()
    client_for(world.staff).post(reverse("policies:import_facts"),
                                 {"file": SimpleUploadedFile("figures.csv", sheet)})  # fmt: skip
    fact.refresh_from_db()
    assert fact.entered_text.startswith("5000") and not fact.evidence and not storage.exists(old)
    # a file that is not a PDF or an image is refused with a message, and the figure stays as it was
    response = client.post(reverse("policies:fact_save"), {
        "kind": "figure", "field": "revenue", "year": year, "value": "4000万元",
        "evidence": SimpleUploadedFile("报告.exe", b"MZ\x90\x00", content_type="application/octet-stream")},
        follow=True)  # fmt: skip
    fact.refresh_from_db()
    assert fact.entered_text.startswith("5000")  # as the import left it
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_kept_conditions_go_into_the_rule_editor_as_groups(world: Any) -> None:
    policy, item = make_policy(world, publish=False)
    clause = policy.clauses.order_by("position").first()
    assert clause is not None
    staff = client_for(world.staff)
    kept = [{"field": "employees", "op": "gte", "value": "50", "text": "50人"}]
    url = reverse("policies:propose_to_item", args=[clause.pk, item.pk])
    response = staff.post(url, {"conditions": json.dumps(kept, ensure_ascii=False)})
    assert response.status_code == 302 and response["Location"].endswith("#builder")
    page = staff.get(response["Location"]).content.decode()
    assert 'value="50人"' in page  # the new row, after the rule in force
    assert page.count('data-testid="builder-row"') == 4  # region, revenue, honour, and the new condition
    too_many = [{"field": "employees", "op": "gte", "value": str(n), "text": f"{n}人"} for n in range(1, 19)]
    for bad in ("", "{not json", json.dumps([{"field": "nonsense"}]), json.dumps([{"field": "revenue", "window": 7}]),
                json.dumps(["x"]), "[" + "{}," * 10_000 + "{}]", "[" * 5000 + "]" * 5000,
                json.dumps(too_many)):  # 3 groups + 18 would pass the builder's 20 groups  # fmt: skip
        response = staff.post(url, {"conditions": bad}, follow=True)
        assert response.status_code == 200
        assert any(m.level_tag == "error" for m in response.context["messages"])
    _other_policy, other_item = make_policy(world, publish=False)
    assert staff.post(reverse("policies:propose_to_item", args=[clause.pk, other_item.pk]),
                      {"conditions": json.dumps(kept)}).status_code == 404  # fmt: skip
    assert client_for(world.contact).post(url, {"conditions": json.dumps(kept)}).status_code == 403


def test_a_proposal_names_what_it_is_on() -> None:
    proposal = Proposal("经营要求", "营业收入", "大于", "2000万元", {"field": "revenue"})
    assert proposal.field_label in ("营业收入", "operating revenue")
    assert Proposal("经营要求", "x", "是", "y", None).field_label == ""


def test_a_draft_put_in_force_is_what_an_enterprise_is_answered_with(world: Any) -> None:
    """A worker's list of rules in force, filled between a draft's save and its activation, was kept after it
    (found by a review): the enterprise's next answer was stored under the superseded rule."""
    give_facts(world, "3000万元")
    _policy, item = make_policy(world)
    decisions.recompute_enterprise(world.e1.pk, push=False)
    higher = {"all": [[{"field": "revenue", "op": "gte", "text": "5000万元"}]]}
    draft = rulebook.save_rule(actor=world.staff, item=item, expression=higher, activate=False)
    decisions.recompute_enterprise(world.e1.pk, push=False)  # the list is filled again here
    rulebook.activate_rule(actor=world.staff, rule=draft)
    fact_service.set_fact(actor=world.staff, enterprise=world.e1, field="revenue", value="3500万元",
                          year=EnterpriseFact.objects.get(enterprise=world.e1, field="revenue").year)  # fmt: skip
    assert not Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    item.refresh_from_db()
    assert item.eligible_count == 0
