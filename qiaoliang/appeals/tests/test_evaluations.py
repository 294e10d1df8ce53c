"""Periodic evaluation rounds (评议): staff open a round, the audience is told and sees it on its home page, each
enterprise answers once per department (a second submission changes the same answer, until the round closes),
bad answers are refused with a reason, the results are anonymous to the departments, the daily run announces and
closes rounds once, and every role sees only its rounds."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from qiaoliang.accounts.models import Role
from qiaoliang.appeals import evaluations
from qiaoliang.appeals.models import EvaluationAnswer, EvaluationRound
from qiaoliang.appeals.permissions import RESPOND
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import AuditLog, Notification
from qiaoliang.core.permissions import CHANGE, VIEW
from qiaoliang.orgs import services as org_services
from qiaoliang.orgs.models import Department

pytestmark = pytest.mark.django_db
TZ = datetime.timezone(datetime.timedelta(hours=8))
TODAY = datetime.date(2026, 12, 1)
SCORES = {"speed": 5, "quality": 4, "attitude": 5, "implementation": 3, "overall": 4}


def at(day: datetime.date) -> Any:
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(10), TZ), tick=False)


@pytest.fixture(autouse=True)
def _today() -> Any:
    with at(TODAY), translation.override("en"):
        yield


@pytest.fixture
def second_department() -> Department:
    return org_services.create_department(actor=None, code="DEP2", name="北京市市场监督管理局")


@pytest.fixture
def contact2(world: Any) -> Any:
    from conftest import make_user

    return make_user("contact2", Role.ENTERPRISE_CONTACT, enterprise=world.e2)


def new_round(world: Any, departments: list[Department] | None = None, *, actor: Any = None, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "organization": world.federation, "title": "2026年第四季度部门评议", "period": "2026年第四季度",
        "departments": [world.department] if departments is None else departments, "opens_on": TODAY,
        "closes_on": TODAY + datetime.timedelta(days=14),
    }  # fmt: skip
    values.update(changes)
    return evaluations.create_round(actor=actor or world.staff, **values)


def answer(world: Any, round_: Any, *, actor: Any = None, enterprise: Any = None, department: Any = None,
           comment: str = "", **scores: Any) -> EvaluationAnswer:  # fmt: skip
    return evaluations.answer_round(
        actor=actor or world.contact, round_=round_, department=department or world.department,
        enterprise=enterprise or world.e1, scores={**SCORES, **scores}, comment=comment,
    )  # fmt: skip


def test_staff_open_a_round_and_the_audience_is_told_and_sees_it_at_home(
    client: Any, world: Any, second_department: Department, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(world.staff)
    assert client.get(reverse("appeals:evaluation_new")).status_code == 200
    data = {
        "organization": world.federation.pk, "title": "2026年第四季度部门评议", "period": "2026年第四季度",
        "departments": [world.department.pk, second_department.pk], "opens_on": "2026-12-01",
        "closes_on": "2026-12-20", "label_speed": "响应速度", "label_quality": "办理质量", "label_attitude": "服务态度",
        "label_implementation": "惠企政策落实", "label_overall": "总体满意度",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("appeals:evaluation_new"), data)
    round_ = EvaluationRound.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("appeals:evaluation", args=[round_.pk])
    assert list(round_.audience.all()) == [world.federation]  # default: every member of the organisation's tree
    assert round_.questions()[3] == ("implementation", "惠企政策落实")
    assert Notification.objects.filter(user=world.contact, kind="appeals.evaluation_open").count() == 1
    assert EvaluationRound.objects.get().announced_at is not None
    assert AuditLog.objects.filter(action="appeals.evaluation.created").exists()
    # The enterprise's contact sees it among the to-dos of the home page, in the appeals list and in the navigation.
    client.force_login(world.contact)
    home = client.get("/").content.decode()
    assert 'data-testid="panel-evaluations"' in home and "2026年第四季度部门评议" in home
    page = client.get(reverse("appeals:list")).content.decode()
    assert 'data-testid="evaluations"' in page
    listing = client.get(reverse("appeals:evaluations")).content.decode()
    assert 'data-testid="evaluations-waiting"' in listing and "还剩2个部门" in listing
    detail = client.get(reverse("appeals:evaluation", args=[round_.pk])).content.decode()
    assert detail.count('data-testid="rate-department"') == 2 and "惠企政策落实" in detail


def test_an_enterprise_answers_once_per_department_and_may_change_it_until_the_close(client: Any, world: Any) -> None:
    round_ = new_round(world)
    client.force_login(world.contact)
    url = reverse("appeals:evaluation_answer", args=[round_.pk])
    form = {"department": world.department.pk, **SCORES, "comment": "办事效率高"}
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # sent twice (a double click, a retry): still one answer
    assert client.post(url, {**form, "overall": 2, "comment": "后续跟进不够"}).status_code == 302
    stored = EvaluationAnswer.objects.get()
    assert (stored.enterprise, stored.overall, stored.speed, stored.comment) == (world.e1, 2, 5, "后续跟进不够")
    assert stored.answered_by == world.contact
    with pytest.raises(IntegrityError), transaction.atomic():  # the database keeps the rule too
        EvaluationAnswer.objects.create(round=round_, department=world.department, enterprise=world.e1, **SCORES)
    # Once every department is rated the round leaves the to-dos.
    assert evaluations.waiting_rounds(world.contact) == []
    with at(round_.closes_on + datetime.timedelta(days=1)):
        client.force_login(world.contact)
        response = client.post(url, {**form, "overall": 5}, HTTP_REFERER=reverse("appeals:evaluation",
                                                                                 args=[round_.pk]))  # fmt: skip
        assert response.status_code == 302
    assert EvaluationAnswer.objects.get().overall == 2


def test_bad_answers_are_refused_with_a_reason(client: Any, world: Any, second_department: Department) -> None:
    round_ = new_round(world)
    for scores, code in (({"speed": 6}, "speed"), ({"quality": 0}, "quality"), ({"overall": "很好"}, "overall"),
                         ({"attitude": None}, "attitude")):  # fmt: skip
        with pytest.raises(DomainError) as refused:
            answer(world, round_, **scores)
        assert refused.value.code == code and "from 1 to 5" in str(refused.value)
    with pytest.raises(DomainError, match="is not evaluated in this round") as refused:
        answer(world, round_, department=second_department)
    assert refused.value.code == "department"
    with pytest.raises(DomainError, match="At most 500 characters"):
        answer(world, round_, comment="长" * 501)
    with at(round_.closes_on + datetime.timedelta(days=1)), pytest.raises(DomainError, match="closed on 2026-12-15"):
        answer(world, round_)
    later = new_round(world, opens_on=TODAY + datetime.timedelta(days=3))
    with pytest.raises(DomainError, match="opens on 2026-12-04"):
        answer(world, later)
    with pytest.raises(NotAllowedError):  # another enterprise than the contact's own
        answer(world, round_, enterprise=world.e2)
    assert not EvaluationAnswer.objects.exists()
    # Through the page: the reason comes back as a message, nothing is written.
    client.force_login(world.contact)
    client.cookies["django_language"] = "en"
    page = reverse("appeals:evaluation", args=[round_.pk])
    response = client.post(reverse("appeals:evaluation_answer", args=[round_.pk]),
                           {"department": world.department.pk, **SCORES, "speed": 9}, follow=True)  # fmt: skip
    assert response.redirect_chain[-1][0] == page
    assert "Rate 响应速度 from 1 to 5." in response.content.decode()
    assert not EvaluationAnswer.objects.exists()


def test_an_enterprise_outside_the_audience_cannot_answer(client: Any, world: Any, contact2: Any) -> None:
    round_ = new_round(world, organization=world.district, audience=[world.chamber1])  # C1's members only
    assert evaluations.in_audience(round_, world.e1) and not evaluations.in_audience(round_, world.e2)
    with pytest.raises(DomainError, match="is not among the enterprises asked") as refused:
        answer(world, round_, actor=contact2, enterprise=world.e2)
    assert refused.value.code == "enterprise"
    client.force_login(contact2)
    assert client.get(reverse("appeals:evaluation", args=[round_.pk])).status_code == 404
    response = client.post(reverse("appeals:evaluation_answer", args=[round_.pk]),
                           {"department": world.department.pk, **SCORES})  # fmt: skip
    assert response.status_code == 404 and not EvaluationAnswer.objects.exists()
    assert evaluations.waiting_rounds(contact2) == []


def test_bad_rounds_are_refused_with_a_reason(world: Any, second_department: Department) -> None:
    for changes, message in (
        ({"departments": []}, "Choose the departments"),
        ({"closes_on": TODAY - datetime.timedelta(days=1)}, "cannot close before it opens"),
        ({"opens_on": TODAY - datetime.timedelta(days=20), "closes_on": TODAY - datetime.timedelta(days=1)},
         "closing date has passed"),
        ({"title": " "}, "This field is required."),
        ({"labels": {"speed": "长" * 41}}, "At most 40 characters"),
    ):  # fmt: skip
        with pytest.raises(DomainError, match=message):
            new_round(world, **changes)
    with pytest.raises(NotAllowedError):  # a chamber secretary runs rounds for its own chamber only
        new_round(world, actor=world.secretary)
    with pytest.raises(DomainError, match="Choose the audience among the organisations of"):
        new_round(world, actor=world.secretary, organization=world.chamber1, audience=[world.chamber2])
    assert not EvaluationRound.objects.exists()
    assert new_round(world, actor=world.secretary, organization=world.chamber1).organization == world.chamber1


def test_results_are_named_for_staff_and_anonymous_for_the_department(
    client: Any, world: Any, contact2: Any, second_department: Department
) -> None:
    from conftest import make_user

    round_ = new_round(world, [world.department, second_department])
    answer(world, round_, comment="响应及时，协调有力")
    answer(world, round_, actor=contact2, enterprise=world.e2, overall=2, speed=3, comment="答复流于形式")
    answer(world, round_, department=second_department, overall=5)
    # Staff, while it is open: every department, the averages, answers, response rate among 3 members, names.
    result = evaluations.results(world.staff, round_)
    first = result["rows"][0]
    assert (result["audience"], result["respondents"], result["response_rate"]) == (3, 2, 66.7)
    assert first["department"] == world.department and first["responses"] == 2 and first["response_rate"] == 66.7
    assert first["averages"][0] == ("响应速度", 4.0) and first["overall"] == 3.0
    assert [c["enterprise"] for c in first["comments"]] == [world.e2.name, world.e1.name]
    client.force_login(world.staff)
    page = client.get(reverse("appeals:evaluation_results", args=[round_.pk])).content.decode()
    assert world.e1.name in page and "答复流于形式" in page
    # The department's liaison: nothing while it is open; after the close its own department only, no names.
    liaison2 = make_user("liaison2", Role.DEPARTMENT_LIAISON, department=second_department)
    client.force_login(world.liaison)
    assert client.get(reverse("appeals:evaluation_results", args=[round_.pk])).status_code == 403
    with at(round_.closes_on + datetime.timedelta(days=1)):
        client.force_login(world.liaison)
        response = client.get(reverse("appeals:evaluation_results", args=[round_.pk]))
        page = response.content.decode()
        assert response.status_code == 200 and "答复流于形式" in page and "响应及时，协调有力" in page
        assert world.e1.name not in page and world.e2.name not in page and second_department.name not in page
        own = evaluations.results(liaison2, round_)
        assert [row["department"] for row in own["rows"]] == [second_department]
        assert all(c["enterprise"] is None for row in own["rows"] for c in row["comments"])
        client.force_login(world.contact)  # an enterprise of the audience does not read the results
        assert client.get(reverse("appeals:evaluation_results", args=[round_.pk])).status_code == 403
        client.force_login(world.outsider)
        assert client.get(reverse("appeals:evaluation_results", args=[round_.pk])).status_code == 404
    visible = EvaluationAnswer.objects.for_user(world.liaison, VIEW)
    assert not visible.exists()  # still open today: the department reads no answer


def test_the_daily_run_announces_and_closes_each_round_once(world: Any) -> None:
    round_ = new_round(
        world, opens_on=TODAY + datetime.timedelta(days=1), closes_on=TODAY + datetime.timedelta(days=10)
    )
    assert evaluations.run_due() == {"rounds_announced": 0, "rounds_closed": 0}
    with at(TODAY + datetime.timedelta(days=1)):
        call_command("appeal_deadlines", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert evaluations.run_due() == {"rounds_announced": 0, "rounds_closed": 0}
    assert Notification.objects.filter(kind="appeals.evaluation_open", user=world.contact).count() == 1
    with at(TODAY + datetime.timedelta(days=2)):
        answer(world, round_)
    with at(TODAY + datetime.timedelta(days=11)):
        assert round_.state == EvaluationRound.State.CLOSED  # by the date, before any job ran
        assert evaluations.run_due() == {"rounds_announced": 0, "rounds_closed": 1}
        assert evaluations.run_due() == {"rounds_announced": 0, "rounds_closed": 0}
    stored = EvaluationRound.objects.get(pk=round_.pk)
    assert stored.audience_size == 3 and stored.results_sent_at is not None
    closed = Notification.objects.filter(kind="appeals.evaluation_closed")
    assert set(closed.values_list("user__username", flat=True)) >= {"liaison"}


def test_each_role_sees_only_its_rounds(client: Any, world: Any, contact2: Any) -> None:
    round_ = new_round(world, actor=world.secretary, organization=world.chamber1)  # C1's members
    expected = {
        world.staff: (True, True), world.secretary: (True, True), world.convenor: (True, False),
        world.contact: (True, False), world.liaison: (True, False), contact2: (False, False),
        world.provider: (False, False), world.outsider: (False, False),
    }  # fmt: skip
    for user, (sees, manages) in expected.items():
        assert EvaluationRound.objects.for_user(user, VIEW).filter(pk=round_.pk).exists() is sees, user
        assert EvaluationRound.objects.for_user(user, CHANGE).filter(pk=round_.pk).exists() is manages, user
    assert list(EvaluationRound.objects.for_user(world.contact, RESPOND)) == [round_]
    assert not EvaluationRound.objects.for_user(world.liaison, RESPOND).exists()
    client.force_login(contact2)
    assert client.get(reverse("appeals:evaluation", args=[round_.pk])).status_code == 404
    client.force_login(world.liaison)
    assert client.get(reverse("appeals:evaluation", args=[round_.pk])).status_code == 200
    response = client.post(reverse("appeals:evaluation_edit", args=[round_.pk]), {"title": "x"})
    assert response.status_code == 403  # seen, not managed


def test_staff_change_the_wording_and_dates_until_the_round_closes(client: Any, world: Any) -> None:
    round_ = new_round(world)
    client.force_login(world.staff)
    data = {"title": "2026年四季度营商环境评议", "period": "2026年第四季度", "opens_on": "2026-12-01",
            "closes_on": "2026-12-31", "label_speed": "响应速度", "label_quality": "办理质量",
            "label_attitude": "服务态度", "label_implementation": "政策落实", "label_overall": "总体评价"}  # fmt: skip
    assert client.post(reverse("appeals:evaluation_edit", args=[round_.pk]), data).status_code == 302
    stored = EvaluationRound.objects.get(pk=round_.pk)
    assert (stored.title, stored.closes_on, stored.questions()[4][1]) == (
        "2026年四季度营商环境评议", datetime.date(2026, 12, 31), "总体评价")  # fmt: skip
    answer(world, round_)
    with translation.override("zh-hans"), pytest.raises(DomainError, match="开始日期不能再改"):
        evaluations.update_round(actor=world.staff, round_=stored, title="t", period="p", opens_on=TODAY
                                 + datetime.timedelta(days=1), closes_on=stored.closes_on)  # fmt: skip
    with (
        at(datetime.date(2027, 1, 1)),
        translation.override("zh-hans"),
        pytest.raises(DomainError, match="本轮评议已结束"),
    ):
        evaluations.update_round(actor=world.staff, round_=stored, title="t", period="p", opens_on=stored.opens_on,
                                 closes_on=datetime.date(2027, 1, 31))  # fmt: skip


def test_the_league_table_links_the_results_of_rounds_closed_in_the_period(client: Any, world: Any) -> None:
    round_ = new_round(world, opens_on=datetime.date(2026, 10, 1), closes_on=datetime.date(2026, 12, 5))
    with at(datetime.date(2026, 12, 10)):
        client.force_login(world.staff)
        page = client.get(reverse("appeals:statistics")).content.decode()
    assert reverse("appeals:evaluation_results", args=[round_.pk]) in page


def test_the_rounds_list_reads_a_fixed_number_of_queries(client: Any, world: Any) -> None:
    client.force_login(world.staff)
    new_round(world)
    client.get(reverse("appeals:evaluations"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("appeals:evaluations")).status_code == 200
    for number in range(5):
        new_round(world, title=f"评议{number}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("appeals:evaluations")).content.decode()
    assert page.count("评议") >= 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_results_show_each_departments_newest_comments_up_to_the_limit(
    world: Any, contact2: Any, second_department: Department, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluations, "COMMENTS_SHOWN", 1)
    round_ = new_round(world, [world.department, second_department])
    answer(world, round_, comment="较早的意见")
    answer(world, round_, actor=contact2, enterprise=world.e2, comment="最新的意见")
    answer(world, round_, department=second_department, comment="另一个部门的意见")
    rows = {row["department"]: row["comments"] for row in evaluations.results(world.staff, round_)["rows"]}
    assert [c["text"] for c in rows[world.department]] == ["最新的意见"]
    assert [c["text"] for c in rows[second_department]] == ["另一个部门的意见"]
