"""Races the database must settle: two secretaries adding the same member at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from conftest import make_uscc
from qiaoliang.core.exceptions import DomainError
from qiaoliang.orgs import services
from qiaoliang.orgs.models import Enterprise, Membership, Organization


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_add_membership_creates_one_and_refuses_the_other_cleanly():
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    federation = services.create_organization(actor=None, code="F", name="某市工商联", kind="federation")
    enterprise = services.create_enterprise(actor=None, uscc=make_uscc(5), name="并发科技有限公司")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def add() -> None:
        try:
            org = Organization.objects.get(pk=federation.pk)
            ent = Enterprise.objects.get(pk=enterprise.pk)
            barrier.wait(timeout=5)
            services.add_membership(actor=None, enterprise=ent, organization=org)
            outcomes.append("created")
        except DomainError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes) == ["created", "refused"]
    assert Membership.objects.filter(enterprise=enterprise, organization=federation).count() == 1
