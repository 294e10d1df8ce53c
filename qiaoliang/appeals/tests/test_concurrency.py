"""Two people on one appeal at once (PostgreSQL): the second write from the same version is refused, not lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from qiaoliang.appeals import services
from qiaoliang.appeals.models import Appeal, AppealEvent
from qiaoliang.core.exceptions import DomainError


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_routing_the_same_appeal_at_once(world: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    appeal = services.submit_appeal(
        actor=world.contact, enterprise=world.e1, title="并发测试", description="两人同时处理"
    )
    version = appeal.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(actor: Any, move: str) -> None:
        try:
            seen = Appeal.objects.get(pk=appeal.pk)
            barrier.wait(timeout=5)
            if move == "assign":
                services.assign(actor=actor, appeal=seen, department=world.department, version=version)
            else:
                services.return_for_information(actor=actor, appeal=seen, reason="请补充材料", version=version)
            outcomes.append(move)
        except DomainError as exc:
            outcomes.append(f"refused:{exc.code}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(world.staff, "assign")),
               threading.Thread(target=act, args=(world.secretary, "return"))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert len(outcomes) == 2 and "refused:stale" in outcomes, outcomes
    winner = next(move for move in outcomes if not move.startswith("refused"))
    final = Appeal.objects.get(pk=appeal.pk)
    assert final.status == {"assign": "assigned", "return": "returned"}[winner]
    assert final.version == version + 1
    assert AppealEvent.objects.filter(appeal=appeal).exclude(to_status="submitted").count() == 1
