"""免申即享: the data lists the eligible enterprises (数据比对), staff confirm the list, each enterprise confirms
its intent (意愿确认), and the case is tracked to payment (拨付到账) — three steps instead of six."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.notifications import notify
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.permissions import CHANGE, require
from qiaoliang.core.text import clean_text
from qiaoliang.core.transitions import Transitions
from qiaoliang.orgs.selectors import contacts_of, managers_of
from qiaoliang.policies.models import AutoGrantCase, AutoGrantCaseStatusChange, Eligibility, SupportItem
from qiaoliang.policies.permissions import RESPOND

C = AutoGrantCase.Status
CASE_TRANSITIONS = Transitions(
    model=AutoGrantCase,
    table={
        C.LISTED: {C.CONFIRMED, C.EXCLUDED},
        C.CONFIRMED: {C.ACCEPTED, C.DECLINED, C.EXCLUDED},
        C.ACCEPTED: {C.PAID},
        C.DECLINED: {C.ACCEPTED},
        C.EXCLUDED: {C.LISTED},
        C.PAID: set(),
    },
    audit_prefix="policies.case",
    history_model=AutoGrantCaseStatusChange,
    history_fk="case",
)


@transaction.atomic
def confirm_list(*, actor: Any, item: SupportItem, case_ids: list[int] | None = None) -> int:
    """Staff confirm listed cases (all, or the given ones); each enterprise is asked to confirm its intent.

    A long list (more than `CONFIRM_IN_REQUEST` cases) is confirmed in the background, in chunks; the number of
    cases being confirmed is returned either way.
    """
    require(actor, CHANGE, item.policy)
    if item.delivery != SupportItem.Delivery.AUTOMATIC:
        raise DomainError(_("This item is granted on application, not without it."), code="item")
    qs = AutoGrantCase.objects.filter(item=item, status=C.LISTED)
    if case_ids is not None:
        qs = qs.filter(pk__in=case_ids)
    elif getattr(actor, "pk", None) is not None and (count := qs.count()) > CONFIRM_IN_REQUEST:
        enqueue_on_commit("policies.confirm_cases", item.pk, actor.pk)
        return count
    return _confirm(actor, item, qs)


CONFIRM_IN_REQUEST = 200


def _confirm(actor: Any, item: SupportItem, cases: Any) -> int:
    count = 0
    for case in cases.select_related("enterprise"):
        CASE_TRANSITIONS.move(case, C.CONFIRMED, actor=actor)
        notify(users=contacts_of([case.enterprise_id]), kind="policies.case.confirmed",
               title=gettext_lazy("You qualify for %(item)s without applying"),
               body=gettext_lazy("Confirm that you want it, and it will be paid without further steps."),
               params={"item": item.name}, url=reverse("policies:cases"), target=case,
               organization_id=case.organization_id, actor=actor)  # fmt: skip
        count += 1
    return count


def confirm_listed_cases(item_id: int, actor_id: int, chunk: int = 500) -> int:
    """The background part of `confirm_list`: every listed case of the item, a chunk per transaction."""
    actor = get_user_model().objects.get(pk=actor_id)
    item = SupportItem.objects.select_related("policy").get(pk=item_id)
    require(actor, CHANGE, item.policy)
    total = 0
    while True:
        ids = list(AutoGrantCase.objects.filter(item=item, status=C.LISTED).order_by("pk")
                   .values_list("pk", flat=True)[:chunk])  # fmt: skip
        if not ids:
            return total
        with transaction.atomic():
            total += _confirm(actor, item, AutoGrantCase.objects.filter(pk__in=ids, status=C.LISTED))


@transaction.atomic
def exclude(*, actor: Any, case: AutoGrantCase, reason: str) -> AutoGrantCase:
    require(actor, CHANGE, case)
    if not reason.strip():
        raise DomainError(_("Say why the enterprise is excluded."), code="reason")
    moved = CASE_TRANSITIONS.move(case, C.EXCLUDED, actor=actor, note=clean_text(reason)[:500])
    if moved.history.filter(to_status=C.CONFIRMED).exists():  # it was asked for its intent: it is told why not
        notify(users=contacts_of([moved.enterprise_id]), kind="policies.case.excluded",
               title=gettext_lazy("%(item)s: your enterprise was taken off the list"),
               body=gettext_lazy("Reason: %(reason)s. Ask the secretariat if you think this is wrong."),
               params={"item": moved.item.name, "reason": clean_text(reason)[:300]},
               url=reverse("policies:cases"), target=moved, organization_id=moved.organization_id,
               actor=actor)  # fmt: skip
    return moved


@transaction.atomic
def restore(*, actor: Any, case: AutoGrantCase) -> AutoGrantCase:
    """Undo an exclusion: the case is listed again (for staff to confirm), if the enterprise still qualifies."""
    require(actor, CHANGE, case)

    def still_qualifies(locked: AutoGrantCase) -> None:
        if locked.item.delivery != SupportItem.Delivery.AUTOMATIC:
            raise DomainError(_("This item is granted on application, not without it."), code="item")
        if not Eligibility.objects.filter(item_id=locked.item_id, enterprise_id=locked.enterprise_id).exists():
            raise DomainError(_("By its current data the enterprise no longer qualifies for this item, so it cannot "
                                "be put back on the list."), code="case")  # fmt: skip

    moved = CASE_TRANSITIONS.move(case, C.LISTED, actor=actor, note=_("Put back on the list"), check=still_qualifies)
    if moved.history.filter(to_status=C.CONFIRMED).exists():  # it was told it was taken off: it is told again
        notify(users=contacts_of([moved.enterprise_id]), kind="policies.case.restored",
               title=gettext_lazy("%(item)s: your enterprise is back on the list"),
               body=gettext_lazy("The secretariat will ask you again to confirm that you want it."),
               params={"item": moved.item.name}, url=reverse("policies:cases"), target=moved,
               organization_id=moved.organization_id, actor=actor)  # fmt: skip
    return moved


@transaction.atomic
def respond(*, actor: Any, case: AutoGrantCase, accept: bool, account_note: str = "") -> AutoGrantCase:
    """The enterprise confirms its intent (and where to pay) or declines."""
    if not AutoGrantCase.objects.for_user(actor, RESPOND).filter(pk=case.pk).exists():
        raise NotAllowedError(_("You may not answer for this enterprise."))
    target = C.ACCEPTED if accept else C.DECLINED
    changes = {"bank_account_note": clean_text(account_note, multiline=False)[:120]} if accept else {}
    moved = CASE_TRANSITIONS.move(case, target, actor=actor, changes=changes)
    notify(users=managers_of(moved.organization), kind=f"policies.case.{target}",
           title=gettext_lazy("%(enterprise)s answered for %(item)s"), body=moved.get_status_display(),
           params={"enterprise": moved.enterprise.name, "item": moved.item.name},
           url=reverse("policies:item", args=[moved.item_id]), target=moved,
           organization_id=moved.organization_id, actor=actor)  # fmt: skip
    return moved


@transaction.atomic
def mark_paid(*, actor: Any, case: AutoGrantCase, amount: Any, reference: str = "") -> AutoGrantCase:
    require(actor, CHANGE, case)
    value = check_fits(AutoGrantCase, "amount", amount, code="amount")
    if value is None or value <= 0:
        raise DomainError(_("Enter the amount paid."), code="amount")
    moved = CASE_TRANSITIONS.move(case, C.PAID, actor=actor, changes={
        "amount": value, "paid_at": timezone.now(), "payment_reference": clean_text(reference, multiline=False)[:60],
    })  # fmt: skip
    notify(users=contacts_of([moved.enterprise_id]), kind="policies.case.paid",
           title=gettext_lazy("%(item)s has been paid"), params={"item": moved.item.name},
           url=reverse("policies:cases"), target=moved, organization_id=moved.organization_id,
           actor=actor)  # fmt: skip
    return moved
