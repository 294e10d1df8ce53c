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
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from qiaoliang.policies.models import Eligibility, SupportItem
from qiaoliang.policies.services import decisions

from .test_scope_and_state import make, revenue

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


@postgresql_only
@transactional
def test_an_enterprises_new_answer_waits_for_the_items_recomputation_in_progress(world: Any, monkeypatch: Any) -> None:
    item = make(world)
    revenue(world, world.e1)  # e1 qualifies; start from "nothing stored yet", as right after the figure is saved
    Eligibility.objects.filter(item=item).delete()
    SupportItem.objects.filter(pk=item.pk).update(eligible_count=0)

    paused, release = threading.Event(), threading.Event()
    insert = decisions._insert

    def slow_insert(*args: Any, **kwargs: Any) -> None:  # the item's delete is done, its insert not yet
        paused.set()
        assert release.wait(30)
        insert(*args, **kwargs)

    monkeypatch.setattr(decisions, "_insert", slow_insert)
    by_item = Worker(lambda: decisions.recompute_item(item.pk, push=False))
    by_item.start()
    assert paused.wait(30)
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
    for _ in range(8):
        workers = [Worker(call) for call in calls * 2]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.error for w in workers if w.error is not None] == []
    stored = set(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True))
    assert stored == {world.e1.pk, world.e2.pk}
    item.refresh_from_db()
    assert item.eligible_count == 2
