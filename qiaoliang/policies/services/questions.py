"""Questions on a policy (政策问答): asked by an enterprise, answered by the issuing department or staff within
1 working day (simple) or 3 (complex), counted with official holidays and 调休; answers become the FAQ."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.notifications import notify
from qiaoliang.core.permissions import VIEW, require
from qiaoliang.core.text import clean_text, compact_text
from qiaoliang.core.workdays import add_working_days
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import contacts_of, get_scope, liaisons_of, managers_of
from qiaoliang.policies.models import Policy, PolicyQuestion
from qiaoliang.policies.permissions import ANSWER

WORKING_DAYS: dict[str, int] = {PolicyQuestion.Complexity.SIMPLE: 1, PolicyQuestion.Complexity.COMPLEX: 3}
MAX_OPEN_PER_ENTERPRISE = 20


def answerers(policy: Policy) -> list[Any]:
    """The issuing department's liaisons, else the policy's organisation managers."""
    if policy.department_id:
        people = liaisons_of([policy.department_id])
        if people:
            return people
    return managers_of(policy.organization)


@transaction.atomic
def ask(*, actor: Any, policy: Policy, question: str, complexity: str = "simple") -> PolicyQuestion:
    require(actor, VIEW, policy)
    scope = get_scope(actor)
    if not scope.own_enterprise_ids:
        raise NotAllowedError(_("Questions are asked by member enterprises' contacts."))
    if policy.status != Policy.Status.PUBLISHED:
        raise DomainError(_("Questions can be asked on published policies only."), code="policy")
    text = clean_text(question)
    if len(text) < 5:
        raise DomainError(_("Write the question in at least 5 characters."), code="question")
    if len(text) > 2000:
        raise DomainError(_("A question has at most 2,000 characters."), code="question")
    if complexity not in WORKING_DAYS:
        raise DomainError(_("Unknown complexity."), code="complexity")
    enterprise_id = min(scope.own_enterprise_ids)
    # One enterprise's questions are written one at a time (its row locked): the limit below holds under
    # concurrent requests, and a form sent twice (a double click, a resent request) asks once.
    Enterprise.objects.select_for_update(no_key=True).filter(pk=enterprise_id).first()
    same = PolicyQuestion.objects.filter(policy=policy, enterprise_id=enterprise_id, question=text,
                                         status=PolicyQuestion.Status.OPEN).first()  # fmt: skip
    if same is not None:
        return same
    if PolicyQuestion.objects.filter(enterprise_id=enterprise_id, status=PolicyQuestion.Status.OPEN).count() >= (
        MAX_OPEN_PER_ENTERPRISE
    ):
        raise DomainError(_("Your enterprise has %(max)s questions waiting; wait for their answers first.")
                          % {"max": MAX_OPEN_PER_ENTERPRISE}, code="question")  # fmt: skip
    today = timezone.localdate()
    row = PolicyQuestion.objects.create(
        policy=policy, enterprise_id=enterprise_id, asked_by=actor, question=text, complexity=complexity,
        deadline=add_working_days(today, WORKING_DAYS[complexity]), search_text=compact_text(text)[:2000],
    )  # fmt: skip
    audit.record("policies.question.asked", actor=actor, target=row, organization_id=policy.organization_id)
    notify(users=answerers(policy), kind="policies.question", title=gettext_lazy("A question on %(policy)s"),
           body=gettext_lazy("Answer by %(deadline)s: %(question)s"),
           params={"policy": policy.title, "deadline": row.deadline.isoformat(), "question": text[:200]},
           url=reverse("policies:questions"), target=row, organization_id=policy.organization_id,
           actor=actor)  # fmt: skip
    return row


@transaction.atomic
def answer(*, actor: Any, question: PolicyQuestion, text: str, in_faq: bool = True) -> PolicyQuestion:
    row = PolicyQuestion.objects.select_for_update().select_related("policy").get(pk=question.pk)
    if not PolicyQuestion.objects.for_user(actor, ANSWER).filter(pk=row.pk).exists():
        raise NotAllowedError(_("You may not answer questions on this policy."))
    body = clean_text(text)
    if len(body) < 2:
        raise DomainError(_("Write the answer."), code="answer")
    if len(body) > 5000:
        raise DomainError(_("An answer has at most 5,000 characters."), code="answer")
    if row.status != PolicyQuestion.Status.OPEN:  # a second answer (a stale page, two answerers at once) is refused
        raise DomainError(_("This question was answered on %(day)s; reload the page to read the answer.")
                          % {"day": timezone.localdate(row.answered_at).isoformat() if row.answered_at else "—"},
                          code="answer")  # fmt: skip
    now = timezone.now()
    row.answer, row.answered_by, row.in_faq = body, actor, in_faq
    row.status = PolicyQuestion.Status.ANSWERED
    row.answered_at = now
    row.answered_on_time = timezone.localdate(now) <= row.deadline
    row.search_text = compact_text(f"{row.question} {body}")[:4000]
    row.save()
    audit.record("policies.question.answered", actor=actor, target=row, organization_id=row.policy.organization_id,
                 data={"on_time": row.answered_on_time})  # fmt: skip
    if row.enterprise_id:
        notify(users=contacts_of([row.enterprise_id]), kind="policies.answer",
               title=gettext_lazy("Your question on %(policy)s was answered"), body=body[:500].replace("%", "%%"),
               params={"policy": row.policy.title},
               url=reverse("policies:detail", args=[row.policy_id]) + "#questions", target=row,
               organization_id=row.policy.organization_id, actor=actor)  # fmt: skip
    return row


def remind_overdue() -> int:
    """Tell the answerers of every question due today or overdue (the daily run); returns how many were told."""
    today = timezone.localdate()
    count = 0
    due = PolicyQuestion.objects.filter(status=PolicyQuestion.Status.OPEN, deadline__lte=today).select_related(
        "policy", "policy__organization"
    )
    for row in due.iterator(chunk_size=500):
        notify(users=answerers(row.policy), kind="policies.question.due",
               title=gettext_lazy("A question on %(policy)s is due"),
               body=gettext_lazy("It was due on %(deadline)s."),
               params={"policy": row.policy.title, "deadline": row.deadline.isoformat()},
               url=reverse("policies:questions"), target=row, organization_id=row.policy.organization_id)  # fmt: skip
        count += 1
    return count
