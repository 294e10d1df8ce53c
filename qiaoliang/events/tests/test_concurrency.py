"""Races the database must settle, in the pretix manner: first the race without the guard, then the guard holding.

Registrations claim seats (one row per seat, `FOR UPDATE SKIP LOCKED`, a unique seat per confirmed registration);
a person's second registration hits a partial unique index; a cancellation hands its seat to the first waiting
registration in the same transaction. The PostgreSQL tests run real concurrent transactions; the SQLite test
shows the embedded default (writes serialised by BEGIN IMMEDIATE) stays correct under threads too.
"""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from qiaoliang.core.exceptions import DomainError
from qiaoliang.events import services
from qiaoliang.events.models import Event, Registration, Seat
from qiaoliang.orgs import services as org_services

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ENGINE = settings.DATABASES["default"]["ENGINE"]
# Decided at collection, so a skipped test does not pay for the database set-up of a transactional test.
postgresql_only = pytest.mark.skipif(
    ENGINE != "django.db.backends.postgresql", reason="needs real concurrent transactions (PostgreSQL)"
)
sqlite_file_only = pytest.mark.skipif(
    ENGINE != "django.db.backends.sqlite3" or not os.environ.get("SQLITE_TEST_NAME"),
    reason="needs a SQLite file shared by threads (SQLITE_TEST_NAME)",
)


def make_event(capacity: int) -> Event:
    federation = org_services.create_organization(actor=None, code="F", name="某市工商联", kind="federation")
    starts = timezone.now() + datetime.timedelta(days=2)
    return services.create_event(
        actor=None,
        organization=federation,
        title="并发报名测试",
        kind="lecture",
        mode="offline",
        audience="public",
        capacity=capacity,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        publish=True,
    )


def in_threads(count: int, workers: int, task: Callable[[int], Any]) -> list[Any]:
    """Run task(0..count-1) on `workers` threads started together; each thread closes its connection."""
    barrier = threading.Barrier(workers)
    lock = threading.Lock()
    queue = list(range(count))
    results: list[Any] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            while True:
                with lock:
                    if not queue:
                        return
                    n = queue.pop(0)
                try:
                    outcome = task(n)
                except Exception as exc:  # recorded: the test asserts there were none
                    outcome = exc
                with lock:
                    results.append(outcome)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(worker) for _ in range(workers)]:
            future.result(timeout=180)
    return results


@postgresql_only
@transactional
def test_without_the_guard_two_requests_both_take_the_last_seat():
    """Check-then-act: both requests see a free seat and both decide to confirm (an oversold event), and two
    unlocked claims pick the same seat; the unique seat of a confirmed registration refuses the second write."""
    event = make_event(capacity=1)
    barrier = threading.Barrier(2)
    decisions: list[str] = []
    writes: list[str] = []

    def naive(n: int) -> None:
        try:
            with transaction.atomic():
                free = Seat.objects.filter(event_id=event.pk, is_taken=False).order_by("id").first()  # no lock
                confirmed = Registration.objects.filter(event_id=event.pk, status="confirmed").count()
                barrier.wait(timeout=10)
                decisions.append("confirmed" if confirmed < event.capacity else "waiting")
                assert free is not None
                Seat.objects.filter(pk=free.pk).update(is_taken=True)
                Registration.objects.create(
                    event_id=event.pk,
                    status="confirmed",
                    seat=free,
                    ticket=f"NAIVE{n:07d}",
                    name=f"人{n}",
                    mobile=f"1391234000{n}",
                    source="api",
                )
                writes.append("written")
        except IntegrityError:
            writes.append("refused by the database")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=naive, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert decisions == ["confirmed", "confirmed"]  # the race: two confirmations for one seat
    assert sorted(writes) == ["refused by the database", "written"]
    assert Registration.objects.filter(event=event, status="confirmed").count() == 1


@postgresql_only
@transactional
def test_200_concurrent_registrations_for_50_seats_give_50_confirmed_and_150_waiting():
    """200 people and, in the same burst, 20 more submissions of person 0's mobile (retries, double taps)."""
    event = make_event(capacity=50)

    def register(n: int) -> services.RegistrationResult:
        mobile = f"139{n:08d}" if n < 200 else f"139{0:08d}"
        return services.register_person(
            actor=None, event=Event.objects.get(pk=event.pk), name=f"参会人{n}", mobile=mobile
        )

    results = in_threads(220, 40, register)
    assert not [r for r in results if isinstance(r, Exception)], results[:3]
    assert sum(r.created for r in results) == 200
    assert len({r.registration.pk for r in results if r.registration.mobile == f"139{0:08d}"}) == 1
    services.fill_free_seats(event=event)  # a claim rolled back by a duplicate is given to the waiting list
    registrations = Registration.objects.filter(event=event)
    assert registrations.filter(status="confirmed").count() == 50
    assert registrations.filter(status="waiting").count() == 150
    assert registrations.exclude(seat=None).values("seat").distinct().count() == 50
    assert Seat.objects.filter(event=event, is_taken=True).count() == 50
    assert registrations.values("mobile").distinct().count() == 200


@postgresql_only
@transactional
def test_concurrent_cancellations_promote_the_first_waiting_in_order():
    event = make_event(capacity=20)
    made = [
        services.register_person(actor=None, event=event, name=f"人{n}", mobile=f"139{n:08d}").registration
        for n in range(50)
    ]
    confirmed = [r for r in made if r.status == "confirmed"]
    waiting = [r for r in made if r.status == "waiting"]
    results = in_threads(
        10,
        10,
        lambda n: services.cancel_registration(
            actor=None, registration=Registration.objects.get(pk=confirmed[n].pk), by_ticket=True
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results[:3]
    assert Registration.objects.filter(event=event, status="confirmed").count() == 20
    promoted = set(
        Registration.objects.filter(pk__in=[r.pk for r in waiting], status="confirmed").values_list("pk", flat=True)
    )
    assert promoted == {r.pk for r in waiting[:10]}
    assert Seat.objects.filter(event=event, is_taken=True).count() == 20


@sqlite_file_only
@transactional
def test_sqlite_stays_correct_under_threads():
    event = make_event(capacity=10)
    results = in_threads(
        40,
        8,
        lambda n: services.register_person(
            actor=None, event=Event.objects.get(pk=event.pk), name=f"人{n}", mobile=f"139{n:08d}"
        ),
    )
    assert not [r for r in results if isinstance(r, (Exception, DomainError))], results[:3]
    assert Registration.objects.filter(event=event, status="confirmed").count() == 10
    assert Registration.objects.filter(event=event, status="waiting").count() == 30
