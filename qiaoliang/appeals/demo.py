"""Demo appeals: the shipped demo routings (data/demo_appeals.csv) raised by demo enterprises and taken through
every step, so each role has work on its first visit; the routing classifiers trained on them; two evaluation
rounds (评议): last quarter's, closed with its results, and this quarter's, open (the demo enterprise has yet to
answer it)."""

from __future__ import annotations

import csv
import datetime
import random
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.appeals import evaluations, routing, services
from qiaoliang.appeals.models import EVALUATION_QUESTIONS, Appeal, AppealCategory, EvaluationAnswer, EvaluationRound
from qiaoliang.orgs.models import Department, Enterprise, Membership

DEMO_COUNT = 60


@dataclass
class SeedResult:
    created: bool
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def _rows() -> list[dict[str, str]]:
    with routing.DEMO_ROUTINGS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def seed(seed: int = 2026, log: Any = None) -> SeedResult:
    """Create the demo appeals (idempotent: nothing when appeals exist)."""
    if Appeal.objects.exists():
        return SeedResult(False, "appeals exist already")
    staff = User.objects.filter(username="staff").first()
    contact = RoleAssignment.objects.filter(user__username="enterprise", role=Role.ENTERPRISE_CONTACT).first()
    liaison = RoleAssignment.objects.filter(user__username="liaison", role=Role.DEPARTMENT_LIAISON).first()
    if staff is None or contact is None or contact.enterprise is None or liaison is None:
        return SeedResult(False, "run seed_demo first")
    trained = routing.train()
    rng = random.Random(seed)
    rows = _rows()
    rng.shuffle(rows)
    categories = {category.code: category for category in AppealCategory.objects.all()}
    departments = {department.code: department for department in Department.objects.filter(is_active=True)}
    members = list(
        Enterprise.objects.filter(memberships__status=Membership.Status.ACTIVE)
        .exclude(pk=contact.enterprise_id or 0).distinct().order_by("pk")[:200]
    )  # fmt: skip
    own_department = liaison.department
    counts: dict[str, int] = {}
    enterprise_user = User.objects.get(username="enterprise")
    today = timezone.localdate()
    with transaction.atomic():
        for number, row in enumerate(rows[:DEMO_COUNT]):
            mine = number < 4  # the demo enterprise's own appeals
            enterprise = contact.enterprise if mine or not members else members[number % len(members)]
            department = departments.get(row["department"])
            if number in (4, 5, 6, 7) and own_department is not None:  # the demo liaison's department's inbox
                department = own_department
            actor = enterprise_user if mine else None
            source = Appeal.Source.ONLINE if mine or number % 3 else Appeal.Source.VISIT
            appeal = services.submit_appeal(
                actor=actor if source == Appeal.Source.ONLINE else None, enterprise=enterprise,
                title=row["title"][:120], description=row["description"], urgency=row.get("urgency") or "normal",
                source=source,
            )  # fmt: skip
            stage = ["answered", "returned", "closed", "assigned", "assigned", "assigned", "overdue", "extension"][
                number
            ] if number < 8 else rng.choice(["submitted", "submitted", "accepted", "assigned", "answered",
                                              "confirmed", "closed", "closed", "closed"])  # fmt: skip
            if stage == "submitted":
                counts[stage] = counts.get(stage, 0) + 1
                continue
            if stage == "returned":
                services.return_for_information(actor=staff, appeal=appeal, reason="请补充相关合同和付款凭证的扫描件。")
                counts[stage] = counts.get(stage, 0) + 1
                continue
            appeal = services.accept(actor=staff, appeal=appeal)
            if stage == "accepted" or department is None:
                counts["accepted"] = counts.get("accepted", 0) + 1
                continue
            appeal = services.assign(actor=staff, appeal=appeal, department=department,
                                     category=categories.get(row["category"]))  # fmt: skip
            if stage == "overdue":
                Appeal.objects.filter(pk=appeal.pk).update(deadline=today - datetime.timedelta(days=3))
            if stage == "extension":
                liaison_user = User.objects.get(username="liaison")
                services.request_extension(actor=liaison_user, appeal=appeal, days=5,
                                           reason="需会同区政府现场核查，涉及多个部门。")  # fmt: skip
            if stage in ("assigned", "overdue", "extension"):
                counts[stage] = counts.get(stage, 0) + 1
                continue
            appeal = services.answer_appeal(actor=None, appeal=appeal, answer=_answer(row), solved=rng.random() < 0.8)
            if stage == "answered":
                counts[stage] = counts.get(stage, 0) + 1
                continue
            satisfied = rng.random() < 0.85
            appeal = services.confirm(
                actor=None, appeal=appeal, satisfaction="satisfied" if satisfied else "unsatisfied",
                rating=rng.choice([4, 5, 5]) if satisfied else rng.choice([2, 3]),
                feedback="" if satisfied else "答复未解决实际问题，希望进一步协调。",
            )  # fmt: skip
            if stage == "confirmed":
                counts[stage] = counts.get(stage, 0) + 1
                continue
            services.close(actor=staff, appeal=appeal, solved=satisfied)
            counts["closed"] = counts.get("closed", 0) + 1
    services.remind_and_escalate()
    counts["trained_rows"] = max(trained.values(), default=0)
    return SeedResult(True, counts=counts)


def _answer(row: dict[str, str]) -> str:
    return (f"经与相关处室研究，针对“{row['title'][:30]}”的问题，已于本周与企业电话沟通，明确了办理路径和所需材料，"
            "并安排专人跟进。如仍有困难，请通过平台继续反映。")  # fmt: skip


ROUND_COMMENTS = ["办事效率高，主动上门服务。", "答复及时，但政策落实还需加强。", "希望简化审批材料，减少跑腿。",
                  "沟通顺畅，问题得到解决。", "部分诉求答复流于形式，希望跟踪落实。", ""]  # fmt: skip


def _quarter(day: datetime.date) -> str:
    return f"{day.year}年第{'一二三四'[(day.month - 1) // 3]}季度"


def seed_rounds(seed: int = 2026) -> SeedResult:
    """Create two evaluation rounds (idempotent: nothing when rounds exist): last quarter's, closed, answered by
    the members and its results announced; this quarter's, open, answered by some members but not the demo
    enterprise."""
    if EvaluationRound.objects.exists():
        return SeedResult(False, "evaluation rounds exist already")
    staff = RoleAssignment.objects.filter(user__username="staff", role=Role.FEDERATION_STAFF).first()
    contact = RoleAssignment.objects.filter(user__username="enterprise", role=Role.ENTERPRISE_CONTACT).first()
    liaison = RoleAssignment.objects.filter(user__username="liaison", role=Role.DEPARTMENT_LIAISON).first()
    if staff is None or staff.organization is None or contact is None or liaison is None or liaison.department is None:
        return SeedResult(False, "run seed_demo first")
    rng = random.Random(seed)
    today = timezone.localdate()
    others = list(Department.objects.filter(is_active=True).exclude(pk=liaison.department.pk).order_by("code")[:4])
    departments = [liaison.department, *others]
    members = list(
        Enterprise.objects.filter(memberships__status=Membership.Status.ACTIVE).distinct().order_by("pk")[:300]
    )  # fmt: skip
    last_quarter = today.replace(day=1) - datetime.timedelta(days=92)
    with transaction.atomic():
        closed = EvaluationRound.objects.create(
            organization=staff.organization, title=f"{_quarter(last_quarter)}部门评议", period=_quarter(last_quarter),
            question_labels={}, opens_on=today - datetime.timedelta(days=60),
            closes_on=today - datetime.timedelta(days=31), announced_at=timezone.now(), created_by=staff.user,
        )  # fmt: skip
        closed.departments.set(departments)
        closed.audience.set([staff.organization])
        answers = []
        for enterprise in members:  # the answers of last quarter (the round is closed now: written as they were)
            for department in departments:
                if rng.random() < 0.35:
                    continue
                base = rng.choice([3, 4, 4, 5, 5])
                scores = {key: max(1, min(5, base + rng.choice([-1, 0, 0, 1]))) for key in EVALUATION_QUESTIONS}
                answers.append(EvaluationAnswer(round=closed, department=department, enterprise=enterprise,
                                                comment=rng.choice(ROUND_COMMENTS), **scores))  # fmt: skip
        EvaluationAnswer.objects.bulk_create(answers)
        staff_user = User.objects.get(pk=staff.user_id)
        current = evaluations.create_round(
            actor=staff_user, organization=staff.organization, title=f"{_quarter(today)}部门评议",
            period=_quarter(today), departments=departments, opens_on=today - datetime.timedelta(days=5),
            closes_on=today + datetime.timedelta(days=20),
        )  # fmt: skip
        answered = 0
        for enterprise in members[1:20]:
            if enterprise.pk == contact.enterprise_id:
                continue
            scores = {key: rng.choice([3, 4, 5, 5]) for key in EVALUATION_QUESTIONS}
            evaluations.answer_round(actor=None, round_=current, department=liaison.department, enterprise=enterprise,
                                     scores=scores, comment=rng.choice(ROUND_COMMENTS))  # fmt: skip
            answered += 1
    evaluations.close_round(closed.pk)
    evaluations.announce_round(current.pk)
    return SeedResult(True, counts={"closed_round_answers": len(answers), "open_round_answers": answered})
