"""Stored answers under concurrent recomputation (PostgreSQL, real concurrent transactions).

An item's recomputation deletes a range of its stored answers and COPYs the new ones in; an enterprise's
recomputation (after its figures change) writes single answers. They used to collide: the enterprise's insert
landed between the item's delete and its COPY, which then failed on the unique key, and the item's eligible count
missed a row. Now the writes of one item's answers are serialised by an advisory lock, and the count is recounted
from the stored rows under it.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.db.transaction import get_connection
from django.utils import timezone

from qiaoliang.orgs import services as org_services
from qiaoliang.orgs.models import Enterprise, Membership
from qiaoliang.policies.models import (
    Clause,
    Eligibility,
    EnterpriseFact,
    Policy,
    PolicyStatusChange,
    Push,
    Rule,
    SupportItem,
)
from qiaoliang.policies.services import decisions, library, rulebook

from .test_scope_and_state import RULE, make, revenue

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)
postgresql_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs real concurrent transactions (PostgreSQL)",
)


class Worker(threading.Thread):
    """Run one call on a connection of its own; keep what it returned or raised."""

    def __init__(self, call: Any) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as exc:  # recorded: the test asserts there was none
            self.error = exc
        finally:
            connections.close_all()


def item_recomputation_paused_in(monkeypatch: Any, name: str, item: Any, call: int = 1, *, outer: bool = False
                                 ) -> tuple[Worker, threading.Event]:  # fmt: skip
    """Start an item's recomputation on a thread of its own and hold it at its `call`-th call of
    `decisions.<name>`: before it (`_insert`: the item's answers are deleted, the new ones not yet written;
    `lock_items`, exclusive calls only: one per batch, then one per item as its count is recounted) or
    after it (`snapshots`: the figures are read); with `outer`, inside a transaction of its own caller. Return the
    thread, once held, and the event that lets it go on."""
    paused, release = threading.Event(), threading.Event()
    original = getattr(decisions, name)
    before = name in ("_insert", "lock_items")
    seen = [0]

    def held(*args: Any, **kwargs: Any) -> Any:
        mine = threading.current_thread() is not threading.main_thread() and not kwargs.get("shared", False)
        seen[0] += mine
        hit = mine and seen[0] == call
        if hit and before:
            paused.set()
            assert release.wait(30)
        found = original(*args, **kwargs)
        if hit and not before:
            paused.set()
            assert release.wait(30)
        return found

    monkeypatch.setattr(decisions, name, held)

    def run() -> Any:
        if not outer:
            return decisions.recompute_item(item.pk, push=False)
        with transaction.atomic():  # as the demo seed runs it: the batches are savepoints of the caller's
            return decisions.recompute_item(item.pk, push=False)

    by_item = Worker(run)
    by_item.start()
    assert paused.wait(30)
    return by_item, release


def let_go(worker: Worker, release: threading.Event) -> None:
    """Let a held recomputation go on and wait for it; it must not have failed."""
    release.set()
    worker.join(60)
    assert worker.error is None, worker.error


def assert_nothing_stored(item: SupportItem) -> None:
    assert not Eligibility.objects.filter(item=item).exists()
    assert SupportItem.objects.get(pk=item.pk).eligible_count == 0


@postgresql_only
@transactional
def test_an_enterprises_new_answer_waits_for_the_items_recomputation_in_progress(world: Any, monkeypatch: Any) -> None:
    item = make(world)
    revenue(world, world.e1)  # e1 qualifies; start from "nothing stored yet", as right after the figure is saved
    Eligibility.objects.filter(item=item).delete()
    SupportItem.objects.filter(pk=item.pk).update(eligible_count=0)

    by_item, release = item_recomputation_paused_in(monkeypatch, "_insert", item)
    by_enterprise = Worker(lambda: decisions.recompute_enterprise(world.e1.pk, push=False))
    by_enterprise.start()
    time.sleep(1.0)
    assert by_enterprise.is_alive(), "the enterprise's write did not wait for the item's recomputation"
    release.set()
    by_item.join(60)
    by_enterprise.join(60)
    assert by_item.error is None, by_item.error
    assert by_enterprise.error is None, by_enterprise.error
    assert list(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True)) == [world.e1.pk]
    item.refresh_from_db()
    assert item.eligible_count == 1


@postgresql_only
@transactional
def test_recomputations_running_together_fail_none_and_keep_the_count_true(world: Any) -> None:
    item = make(world)
    revenue(world, world.e1)
    revenue(world, world.e2)
    calls = [lambda: decisions.recompute_item(item.pk, push=False),
             lambda: decisions.recompute_enterprise(world.e1.pk, push=False),
             lambda: decisions.recompute_enterprise(world.e2.pk, push=False)]  # fmt: skip
    year = timezone.localdate().year - 1
    figures = {
        e.pk: EnterpriseFact.objects.filter(enterprise=e, field="revenue", year=year) for e in (world.e1, world.e2)
    }
    for round_ in range(8):  # the two enterprises gain and lose the item in turn: answers are added and removed
        above = {world.e1.pk: round_ % 2 == 0, world.e2.pk: round_ % 3 != 0}
        for pk, figure in figures.items():
            figure.update(value=Decimal("30000000") if above[pk] else Decimal("1000000"))
        workers = [Worker(call) for call in calls * 2]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.error for w in workers if w.error is not None] == []
        stored = set(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True))
        assert stored == {pk for pk, yes in above.items() if yes}
        item.refresh_from_db()
        assert item.eligible_count == len(stored)


@postgresql_only
@transactional
@pytest.mark.parametrize("held_at", ["snapshots", "_insert"])
def test_an_enterprise_whose_figure_changed_waits_for_the_batch_in_progress(world: Any, monkeypatch: Any,
                                                                            held_at: str) -> None:  # fmt: skip
    """The item's recomputation has read a figure since corrected (held after `snapshots`), or has also deleted
    the enterprise's answer (held before `_insert`, not committed): the enterprise's recomputation waits for the
    batch, then answers from the new figure. Found by reviews: it could finish first and be overwritten by the
    batch's older answer, or read the deleted answer as still there, write nothing, and lose it."""
    item = make(world)
    revenue(world, world.e1)
    figure = EnterpriseFact.objects.filter(enterprise=world.e1, field="revenue", year=timezone.localdate().year - 1)
    figure.update(value=Decimal("1000000"))  # 100万元, as the item's recomputation will read it
    by_item, release = item_recomputation_paused_in(monkeypatch, held_at, item)
    figure.update(value=Decimal("30000000"))  # corrected to 3000万元: the enterprise's recomputation runs now
    by_enterprise = Worker(lambda: decisions.recompute_enterprise(world.e1.pk, fields=["revenue"], push=False))
    by_enterprise.start()
    time.sleep(1.0)
    assert by_enterprise.is_alive(), "the enterprise's recomputation did not wait for the batch"
    release.set()
    by_item.join(60)
    by_enterprise.join(60)
    assert by_item.error is None and by_enterprise.error is None, (by_item.error, by_enterprise.error)
    assert Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    item.refresh_from_db()
    assert item.eligible_count == 1


@postgresql_only
@transactional
def test_the_count_is_right_after_every_batch(world: Any, monkeypatch: Any) -> None:
    """Between two batches of an item's recomputation, the count already holds the first batch's answers: an
    enterprise that loses the item then takes 1 from it (it had taken 1 from 0, which the count's CHECK refused,
    rolling the enterprise's whole recomputation back; found by a review)."""
    revenue(world, world.e1)
    item = make(world, publish=False)
    Policy.objects.filter(pk=item.policy_id).update(status=Policy.Status.PUBLISHED, published_at=timezone.now())
    monkeypatch.setattr(decisions, "BATCH", 1)  # one enterprise a batch
    by_item, release = item_recomputation_paused_in(monkeypatch, "lock_items", item, 2)  # batch 1 (e1) committed
    assert Eligibility.objects.filter(item=item).count() == 1
    assert SupportItem.objects.get(pk=item.pk).eligible_count == 1
    EnterpriseFact.objects.filter(enterprise=world.e1, field="revenue").update(value=Decimal("1000000"))
    decisions.recompute_enterprise(world.e1.pk, fields=["revenue"], push=False)
    assert SupportItem.objects.get(pk=item.pk).eligible_count == 0
    let_go(by_item, release)
    assert_nothing_stored(item)


@postgresql_only
@transactional
def test_a_recomputation_under_a_superseded_rule_stores_nothing(world: Any, monkeypatch: Any) -> None:
    """A recomputation that read the rule before a new version came into force (and the new version's own
    recomputation ran to the end) stores nothing: it had stored the old rule's answers over the new ones."""
    item = make(world)
    revenue(world, world.e1, "3000万元")
    revenue(world, world.e2, "1500万元")
    by_old, release = item_recomputation_paused_in(monkeypatch, "lock_items", item, 1)  # the rule read, no batch yet
    lower = {"all": [[{"field": "revenue", "op": "gte", "text": "1000万元"}]]}
    rule = rulebook.save_rule(actor=world.staff, item=item, expression=lower)
    assert rule.status == Rule.Status.ACTIVE
    decisions.recompute_item(item.pk, push=False)
    release.set()
    by_old.join(60)
    assert by_old.error is None, by_old.error
    stored = dict(Eligibility.objects.filter(item=item).values_list("enterprise_id", "rule_id"))
    assert stored == {world.e1.pk: rule.pk, world.e2.pk: rule.pk}
    assert SupportItem.objects.get(pk=item.pk).eligible_count == 2


@postgresql_only
@transactional
def test_a_batch_and_a_new_split_of_the_policy_lock_the_items_in_one_order(world: Any, monkeypatch: Any) -> None:
    """A batch locks its items' rows (their counts move); a new split of the policy's text sets the items' clause
    to none. Both lock the rows in id order first (found by a review: the batch locked them item by item in the
    policy's order, the split in the clauses' order, and PostgreSQL chose one of them as a deadlock victim)."""
    revenue(world, world.e1)

    # queued work runs after its transaction commits, as in production (the policies tests run it where queued)
    def after_commit(func: Any, using: Any = None, robust: bool = False) -> None:
        get_connection(using).on_commit(func, robust)

    monkeypatch.setattr("qiaoliang.core.background.transaction.on_commit", after_commit)
    text = "一、对营业收入2000万元以上的企业给予补助。\n二、申报程序另行通知。"
    policy = library.create_policy(actor=world.staff, organization=world.federation,
                                   data={"title": "办法", "level": "municipal", "full_text": text})  # fmt: skip
    low, high = list(Clause.objects.filter(policy=policy).order_by("pk"))[:2]
    first = library.save_item(actor=world.staff, policy=policy, data={"name": "A", "benefit": "x", "clause": high})
    second = library.save_item(actor=world.staff, policy=policy, data={"name": "B", "benefit": "x", "clause": low})
    for item in (first, second):
        rulebook.save_rule(actor=world.staff, item=item, expression=RULE)
    Policy.objects.filter(pk=policy.pk).update(status=Policy.Status.PUBLISHED, published_at=timezone.now())
    SupportItem.objects.filter(pk=first.pk).update(benefit="y")  # A's row now after B's on disk
    paused, release = threading.Event(), threading.Event()
    shift = decisions._shift_counts

    def held(deltas: dict[int, int]) -> None:
        shift(deltas)
        if threading.current_thread() is not threading.main_thread() and any(deltas.values()):
            paused.set()
            assert release.wait(30)

    monkeypatch.setattr(decisions, "_shift_counts", held)
    by_policy = Worker(lambda: decisions.recompute_policy(policy.pk, push=False))
    by_policy.start()
    assert paused.wait(30)
    again = Policy.objects.get(pk=policy.pk)
    by_staff = Worker(lambda: library.update_policy(actor=world.staff, policy=again, data={}, resplit=True))
    by_staff.start()
    time.sleep(1.0)
    release.set()
    by_policy.join(60)
    by_staff.join(60)
    assert by_policy.error is None and by_staff.error is None, (by_policy.error, by_staff.error)


@postgresql_only
@transactional
def test_a_member_that_leaves_during_a_run_is_not_stored_by_it(world: Any, monkeypatch: Any) -> None:
    """The enterprises an item reaches are read again by each batch under the lock: a member that left after the
    run began, and whose own recomputation found nothing to remove yet, is not stored by the run (found by a
    review: the run read who it reaches once, at its start)."""
    revenue(world, world.e1)
    item = make(world)
    Eligibility.objects.filter(item=item).delete()  # as before the first run
    SupportItem.objects.filter(pk=item.pk).update(eligible_count=0)
    by_item, release = item_recomputation_paused_in(monkeypatch, "lock_items", item, 1)  # reach read, no batch yet
    membership = Membership.objects.get(enterprise=world.e1, organization=world.chamber1)
    org_services.transition_membership(actor=world.staff, membership=membership,
                                       to_status=Membership.Status.WITHDRAWN, note="退会")  # fmt: skip
    let_go(by_item, release)
    assert_nothing_stored(item)


@postgresql_only
@transactional
def test_two_runs_of_one_withdrawal_tell_each_enterprise_once(world: Any, monkeypatch: Any) -> None:
    revenue(world, world.e1)
    revenue(world, world.e2)
    item = make(world)
    assert Push.objects.filter(item=item).count() == 2
    told: list[int] = []
    contacts = library.contacts_of

    def slow_contacts(enterprise_ids: list[int]) -> Any:
        told.extend(enterprise_ids)
        time.sleep(0.3)  # the two runs overlap
        return contacts(enterprise_ids)

    monkeypatch.setattr(library, "TELL_CHUNK", 1)
    monkeypatch.setattr(library, "contacts_of", slow_contacts)
    monkeypatch.setattr("qiaoliang.core.background.transaction.on_commit", lambda *a, **k: None)  # no task here
    policy = library.withdraw(actor=world.staff, policy=Policy.objects.get(pk=item.policy_id), reason="调整")
    change = PolicyStatusChange.objects.get(policy=policy, to_status=Policy.Status.WITHDRAWN)
    runs = [Worker(lambda: library.tell_withdrawn(policy.pk, "调整", world.staff.pk, change.pk)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
        assert run.error is None, run.error
    assert sorted(told) == sorted([world.e1.pk, world.e2.pk])
    assert sum(run.result for run in runs) == 2
    change.refresh_from_db()
    assert change.told_at is not None


@postgresql_only
@transactional
def test_an_organisation_moved_above_the_policys_during_a_run_loses_no_answer(world: Any, monkeypatch: Any) -> None:
    """Each batch finds the policy's organisation by its id: a move of an organisation above it during the run
    (its path changes) loses none of its members' answers (found by a review: the run kept the path of its start,
    which then reached nobody, and deleted the answers of every later batch)."""
    revenue(world, world.e1)
    revenue(world, world.e2)
    Membership.objects.create(enterprise=world.e2, organization=world.chamber1, status=Membership.Status.ACTIVE)
    item = make(world, organization=world.chamber1)
    assert set(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True)) == {
        world.e1.pk, world.e2.pk}  # fmt: skip
    monkeypatch.setattr(decisions, "BATCH", 1)  # one enterprise a batch
    by_item, release = item_recomputation_paused_in(monkeypatch, "lock_items", item, 2)  # batch 1 committed
    org_services.move_organization(actor=world.staff, organization=world.district, new_parent=world.association)
    let_go(by_item, release)
    stored = set(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True))
    assert stored == {world.e1.pk, world.e2.pk}
    assert SupportItem.objects.get(pk=item.pk).eligible_count == 2


@postgresql_only
@transactional
@pytest.mark.parametrize("outer", [False, True], ids=["own transaction", "inside the caller's"])
def test_an_enterprise_deleted_while_its_batch_is_answered_does_not_stop_the_run(world: Any, monkeypatch: Any,
                                                                                outer: bool) -> None:  # fmt: skip
    """The batch read the enterprise, which is deleted before the batch commits: the batch's commit fails on the
    foreign key, and the batch is read and answered again without it (found by a review: the whole run
    stopped, and with it every later batch and item)."""
    revenue(world, world.e1)
    revenue(world, world.e2)
    item = make(world)
    by_item, release = item_recomputation_paused_in(monkeypatch, "snapshots", item, outer=outer)
    Eligibility.objects.filter(enterprise=world.e2).delete()
    Enterprise.objects.filter(pk=world.e2.pk).delete()
    let_go(by_item, release)
    assert list(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True)) == [world.e1.pk]
    assert SupportItem.objects.get(pk=item.pk).eligible_count == 1
