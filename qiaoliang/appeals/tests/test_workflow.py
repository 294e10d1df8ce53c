"""The appeal workflow end to end through the services and the pages: intake, routing with a deadline in working
days, the department's answer, the enterprise's rating, closing; every refused move; stale writes; scoping."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from qiaoliang.appeals import selectors, services
from qiaoliang.appeals.models import Appeal, AppealCategory, AppealEvent, ExtensionRequest
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import Notification
from qiaoliang.core.permissions import VIEW

S = Appeal.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def submitted(world: Any, **changes: Any) -> Appeal:
    values = {"title": "银行抽贷，流动资金断裂", "description": "我公司在朝阳区，今年一季度银行突然抽贷300万元……"}
    values.update(changes)
    return services.submit_appeal(actor=world.contact, enterprise=world.e1, **values)


def routed(world: Any) -> Appeal:
    appeal = submitted(world)
    return services.assign(actor=world.secretary, appeal=appeal, department=world.department, working_days=10)


def test_the_full_loop_tells_everyone_concerned(world: Any) -> None:
    appeal = submitted(world)
    assert appeal.organization == world.chamber1 and appeal.number.startswith("SQ")
    assert Notification.objects.filter(user=world.secretary, kind="appeals.submitted").exists()
    appeal = services.accept(actor=world.secretary, appeal=appeal)
    appeal = services.assign(actor=world.secretary, appeal=appeal, department=world.department,
                             category=AppealCategory.objects.get(code="financing"))  # fmt: skip
    assert appeal.status == S.ASSIGNED and appeal.deadline is not None and appeal.working_days == 10
    assert Notification.objects.filter(user=world.liaison, kind="appeals.assigned").exists()
    appeal = services.answer_appeal(actor=world.liaison, appeal=appeal, answer="已协调银行续贷，下周放款。")
    assert appeal.answered_on_time is True
    assert Notification.objects.filter(user=world.contact, kind="appeals.answered").exists()
    appeal = services.confirm(actor=world.contact, appeal=appeal, satisfaction="satisfied", rating=5)
    assert Notification.objects.filter(user=world.liaison, kind="appeals.confirmed").exists()
    appeal = services.close(actor=world.secretary, appeal=appeal, solved=True)
    assert appeal.status == S.CLOSED and appeal.solved is True
    kinds = list(appeal.events.values_list("to_status", flat=True))
    assert kinds == ["submitted", "accepted", "assigned", "answered", "confirmed", "closed"]
    stats = selectors.statistics(world.staff)["total"]
    assert (stats["received"], stats["answered"], stats["on_time"], stats["satisfied"], stats["solved"]) == (
        1, 1, 1, 1, 1,
    )  # fmt: skip


# The workflow table: every move a user can ask for, from every status; the allowed ones pass, the rest are refused.
ALLOWED = {
    S.SUBMITTED: {S.ACCEPTED, S.RETURNED, S.ASSIGNED, S.WITHDRAWN, S.MERGED},
    S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
    S.ACCEPTED: {S.ASSIGNED, S.ANSWERED, S.MERGED, S.WITHDRAWN},
    S.ASSIGNED: {S.ASSIGNED, S.ANSWERED, S.ACCEPTED},
    S.ANSWERED: {S.CONFIRMED, S.CLOSED, S.ASSIGNED},
    S.CONFIRMED: {S.CLOSED, S.ASSIGNED},
    S.CLOSED: set(),
    S.WITHDRAWN: set(),
    S.MERGED: set(),
}


def test_the_transition_table_is_the_documented_one() -> None:
    assert {key: set(value) for key, value in services.APPEAL_TRANSITIONS.table.items()} == ALLOWED


def _reach(world: Any, status: str) -> Appeal:
    appeal = submitted(world)
    if status == S.SUBMITTED:
        return appeal
    if status == S.RETURNED:
        return services.return_for_information(actor=world.secretary, appeal=appeal, reason="请补充贷款合同")
    if status == S.WITHDRAWN:
        return services.withdraw(actor=world.contact, appeal=appeal)
    if status == S.MERGED:
        other = submitted(world, title="另一个诉求")
        return services.merge(actor=world.secretary, appeal=appeal, into=other)
    appeal = services.accept(actor=world.secretary, appeal=appeal)
    if status == S.ACCEPTED:
        return appeal
    appeal = services.assign(actor=world.secretary, appeal=appeal, department=world.department)
    if status == S.ASSIGNED:
        return appeal
    appeal = services.answer_appeal(actor=world.liaison, appeal=appeal, answer="答复")
    if status == S.ANSWERED:
        return appeal
    appeal = services.confirm(actor=world.contact, appeal=appeal, satisfaction="satisfied", rating=4)
    if status == S.CONFIRMED:
        return appeal
    return services.close(actor=world.secretary, appeal=appeal)


MOVES = {
    S.ACCEPTED: lambda w, a: services.accept(actor=w.secretary, appeal=a),
    S.RETURNED: lambda w, a: services.return_for_information(actor=w.secretary, appeal=a, reason="缺材料"),
    S.SUBMITTED: lambda w, a: services.add_information(actor=w.contact, appeal=a, text="补充说明"),
    S.ASSIGNED: lambda w, a: services.assign(actor=w.secretary, appeal=a, department=w.department, note="改派"),
    S.ANSWERED: lambda w, a: services.answer_appeal(actor=w.secretary, appeal=a, answer="答复"),
    S.CONFIRMED: lambda w, a: services.confirm(actor=w.contact, appeal=a, satisfaction="satisfied", rating=3),
    S.CLOSED: lambda w, a: services.close(actor=w.secretary, appeal=a),
    S.WITHDRAWN: lambda w, a: services.withdraw(actor=w.contact, appeal=a),
}


@pytest.mark.parametrize("start", list(ALLOWED), ids=str)
def test_every_move_from_every_status_is_allowed_or_refused_with_a_reason(world: Any, start: str) -> None:
    for target, move in MOVES.items():
        appeal = _reach(world, start)
        if target == S.ANSWERED and start == S.ASSIGNED:
            move = MOVES[S.ANSWERED]
        if target in ALLOWED[start]:
            assert move(world, appeal).status == target, (start, target)
        else:
            with pytest.raises((DomainError, NotAllowedError)):
                move(world, appeal)
            assert Appeal.objects.get(pk=appeal.pk).status == start


def test_a_stale_write_is_refused_and_nothing_is_lost(world: Any) -> None:
    appeal = submitted(world)
    seen = appeal.version
    services.accept(actor=world.staff, appeal=appeal, version=seen)  # the first editor
    with pytest.raises(DomainError, match="Someone else changed this appeal"):
        services.return_for_information(actor=world.secretary, appeal=appeal, reason="补材料", version=seen)
    assert Appeal.objects.get(pk=appeal.pk).status == S.ACCEPTED


def test_deadlines_count_working_days_across_national_day_and_spring_festival(world: Any) -> None:
    # 2026 National Day: 1–7 October off, Sunday 20 September and Saturday 10 October worked (调休); Friday 25
    # September (Mid-Autumn) off.
    assert services.deadline_for(5, datetime.date(2026, 9, 30)) == datetime.date(2026, 10, 13)
    assert services.deadline_for(1, datetime.date(2026, 9, 19)) == datetime.date(2026, 9, 20)
    assert services.deadline_for(1, datetime.date(2026, 9, 24)) == datetime.date(2026, 9, 28)
    # 2026 Spring Festival: 15–23 February off, Saturdays 14 and 28 February worked.
    assert services.deadline_for(1, datetime.date(2026, 2, 13)) == datetime.date(2026, 2, 14)
    assert services.deadline_for(3, datetime.date(2026, 2, 14)) == datetime.date(2026, 2, 26)
    with time_machine.travel(datetime.datetime(2026, 9, 30, 9, 0)):
        appeal = routed(world)
    assert appeal.deadline == datetime.date(2026, 10, 20)  # 10 working days: 8, 9, 10 (Saturday), 12 … 20 October


def test_reminders_before_and_escalation_after_the_deadline_happen_once(world: Any) -> None:
    with time_machine.travel(datetime.datetime(2026, 11, 2, 9, 0)):
        appeal = services.assign(actor=world.secretary, appeal=submitted(world), department=world.department,
                                 working_days=3)  # fmt: skip
    assert appeal.deadline == datetime.date(2026, 11, 5)
    assert services.remind_and_escalate(datetime.date(2026, 11, 3)) == {"reminded": 1, "escalated": 0}
    assert services.remind_and_escalate(datetime.date(2026, 11, 3)) == {"reminded": 0, "escalated": 0}
    assert services.remind_and_escalate(datetime.date(2026, 11, 6)) == {"reminded": 0, "escalated": 1}
    assert services.remind_and_escalate(datetime.date(2026, 11, 9)) == {"reminded": 0, "escalated": 0}
    assert appeal.events.filter(kind=AppealEvent.Kind.ESCALATED).count() == 1
    assert Notification.objects.filter(user=world.secretary, kind="appeals.escalated").exists()
    assert Notification.objects.filter(user=world.liaison, kind="appeals.reminder").exists()


def test_an_extension_moves_the_deadline_by_working_days_once_approved(world: Any) -> None:
    with time_machine.travel(datetime.datetime(2026, 11, 2, 9, 0)):
        appeal = services.assign(actor=world.secretary, appeal=submitted(world), department=world.department,
                                 working_days=3)  # fmt: skip
    extension = services.request_extension(actor=world.liaison, appeal=appeal, days=5, reason="需要现场核查")
    with pytest.raises(DomainError, match="already waiting"):
        services.request_extension(actor=world.liaison, appeal=appeal, days=2, reason="再等等")
    with pytest.raises(NotAllowedError):
        services.decide_extension(actor=world.liaison, extension=extension, approve=True)
    services.decide_extension(actor=world.secretary, extension=extension, approve=True)
    assert Appeal.objects.get(pk=appeal.pk).deadline == datetime.date(2026, 11, 12)
    assert ExtensionRequest.objects.get(pk=extension.pk).status == "approved"
    assert Notification.objects.filter(user=world.liaison, kind="appeals.extension_approved").exists()


def test_bad_input_gets_a_clear_error_and_writes_nothing(world: Any) -> None:
    count = Appeal.objects.count()
    with pytest.raises(DomainError, match="required"):
        submitted(world, title="  ")
    with pytest.raises(DomainError, match="At most 5000"):
        submitted(world, description="长" * 5001)
    with pytest.raises(DomainError, match="cannot be uploaded"):
        submitted(world, attachments=[SimpleUploadedFile("x.exe", b"MZ" + b"0" * 100)])
    with pytest.raises(NotAllowedError):
        services.submit_appeal(actor=world.contact, enterprise=world.e2, title="别人的", description="别人的企业")
    appeal = submitted(world)
    with pytest.raises(DomainError, match="active liaison department"):
        services.assign(actor=world.secretary, appeal=appeal, department=None)
    with pytest.raises(DomainError, match="Between 1 and 60"):
        services.assign(actor=world.secretary, appeal=appeal, department=world.department, working_days=0)
    with pytest.raises(DomainError, match="Say whether"):
        services.confirm(actor=world.contact, appeal=appeal, satisfaction="maybe")
    assert Appeal.objects.count() == count + 1


def test_each_role_sees_what_it_should(world: Any) -> None:
    appeal = routed(world)
    other = services.submit_appeal(actor=None, enterprise=world.e2, title="温州商会会员的诉求", description="……")
    roles = ("staff", "secretary", "convenor", "contact", "liaison", "provider", "outsider")
    visible = {role: set(Appeal.objects.for_user(getattr(world, role), VIEW).values_list("pk", flat=True))
               for role in roles}  # fmt: skip
    assert visible["staff"] == {appeal.pk, other.pk}
    assert visible["secretary"] == {appeal.pk}  # 朝阳区餐饮商会 only
    assert visible["convenor"] == {appeal.pk}  # the zone holds 朝阳区餐饮商会
    assert visible["contact"] == {appeal.pk}
    assert visible["liaison"] == {appeal.pk}  # routed to the department
    assert visible["provider"] == visible["outsider"] == set()
    with pytest.raises(NotAllowedError):
        services.answer_appeal(actor=world.convenor, appeal=appeal, answer="我来答")
    with pytest.raises(NotAllowedError):
        services.accept(actor=world.liaison, appeal=other)


def test_the_pages_of_each_role(client: Any, world: Any) -> None:
    client.cookies["django_language"] = "en"
    appeal = routed(world)
    for user, expected in ((world.contact, 200), (world.liaison, 200), (world.secretary, 200), (world.staff, 200),
                           (world.convenor, 200), (world.provider, 404), (world.outsider, 404)):  # fmt: skip
        client.force_login(user)
        assert client.get(reverse("appeals:detail", args=[appeal.pk])).status_code == expected, user
    client.force_login(world.liaison)
    page = client.get(reverse("appeals:list"))
    assert page.status_code == 200 and appeal.number in page.content.decode()
    response = client.post(reverse("appeals:act", args=[appeal.pk, "answer"]),
                           {"answer": "已办理", "solved": "1", "version": appeal.version})  # fmt: skip
    assert response.status_code == 302 and Appeal.objects.get(pk=appeal.pk).status == S.ANSWERED
    # The same form posted again from the stale page is refused with the reason, not applied twice.
    response = client.post(reverse("appeals:act", args=[appeal.pk, "answer"]),
                           {"answer": "再答一次", "version": appeal.version}, follow=True)  # fmt: skip
    assert "Someone else changed this appeal" in response.content.decode()
    client.force_login(world.contact)
    response = client.post(reverse("appeals:act", args=[appeal.pk, "confirm"]),
                           {"satisfaction": "unsatisfied", "rating": "2", "note": "",
                            "version": Appeal.objects.get(pk=appeal.pk).version}, follow=True)  # fmt: skip
    assert "This field is required." in response.content.decode()
    for name in ("appeals:list", "appeals:statistics", "appeals:submit"):
        assert client.get(reverse(name)).status_code == 200, name
    client.force_login(world.staff)
    for name in ("appeals:list", "appeals:statistics", "appeals:record"):
        assert client.get(reverse(name)).status_code == 200, name
    client.force_login(world.provider)
    assert client.get(reverse("appeals:list")).status_code == 403


def test_the_api_follows_the_same_rules(client: Any, world: Any) -> None:
    client.cookies["django_language"] = "en"
    client.force_login(world.contact)
    body = {"title": "社保补贴迟迟未到账", "description": "去年申报的稳岗补贴至今未到账。"}
    created = client.post("/api/v1/appeals/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    pk, version = created.json()["id"], created.json()["version"]
    client.force_login(world.liaison)
    assert client.get(f"/api/v1/appeals/{pk}/").status_code == 404  # not routed to the department yet
    client.force_login(world.secretary)
    routed_answer = client.post(f"/api/v1/appeals/{pk}/assign/",
                                {"department": world.department.pk, "version": version, "working_days": 5},
                                content_type="application/json")  # fmt: skip
    assert routed_answer.status_code == 200 and routed_answer.json()["status"] == "assigned"
    stale = client.post(f"/api/v1/appeals/{pk}/assign/", {"department": world.department.pk, "version": version},
                        content_type="application/json")  # fmt: skip
    assert stale.status_code == 400 and stale.json()["code"] == "stale"
    client.force_login(world.liaison)
    listed = client.get("/api/v1/appeals/?status=assigned").json()
    assert [row["id"] for row in listed["results"]] == [pk]
    answered = client.post(f"/api/v1/appeals/{pk}/answer/", {"answer": "已拨付。", "version": version + 1},
                           content_type="application/json")  # fmt: skip
    assert answered.status_code == 200 and answered.json()["answered_on_time"] is True
    client.force_login(world.provider)
    assert client.get(f"/api/v1/appeals/{pk}/").status_code == 404
    assert client.get("/api/v1/appeals/").json()["results"] == []


def test_similar_open_appeals_are_suggested_while_typing(client: Any, world: Any) -> None:
    first = submitted(world, title="银行抽贷导致流动资金断裂", description="今年一季度银行突然抽贷300万元。")
    submitted(world, title="招聘高级工程师落户难", description="人才引进指标不足。")
    found = selectors.similar_appeals(world.secretary, "银行抽贷，流动资金紧张", "银行突然抽贷")
    assert [appeal.pk for appeal, _score in found] == [first.pk]
    assert selectors.similar_appeals(world.provider, "银行抽贷，流动资金紧张") == []
    client.force_login(world.contact)
    page = client.get(reverse("appeals:similar"), {"title": "银行抽贷，流动资金紧张"})
    assert page.status_code == 200 and first.number in page.content.decode()
