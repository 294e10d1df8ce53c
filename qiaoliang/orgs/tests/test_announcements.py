"""What `orgs` announces to the apps above it (`orgs/announcements.py`): every write that changes who is a member
of what, or an enterprise's profile, says so once, after commit, with the enterprises concerned."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from conftest import World, make_uscc
from qiaoliang.core import background
from qiaoliang.orgs import importers as roster
from qiaoliang.orgs import services
from qiaoliang.orgs.announcements import ENTERPRISES_CHANGED, ORGANIZATION_MOVED
from qiaoliang.orgs.models import Enterprise, Membership
from qiaoliang.orgs.tests.test_roster_import import good_rows, roster_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(monkeypatch: Any, django_capture_on_commit_callbacks: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """The announcements made, as (event, arguments), once their transaction commits (listeners not run)."""
    heard: list[tuple[str, tuple[Any, ...]]] = []

    def hear(event: str, *args: Any) -> None:
        background.transaction.on_commit(lambda: heard.append((event, args)))

    monkeypatch.setattr("qiaoliang.orgs.announcements.announce_on_commit", hear)
    return heard


def test_a_roster_import_announces_its_new_members(world: World, announced: Any,
                                                   django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    parsed = roster.parse_roster(roster_file(good_rows()))
    with django_capture_on_commit_callbacks(execute=True):
        roster.import_roster(actor=world.staff, organization=world.chamber1, parsed=parsed)
    joined = sorted(Membership.objects.filter(organization=world.chamber1).exclude(enterprise=world.e1)
                    .values_list("enterprise_id", flat=True))  # fmt: skip
    assert len(joined) == 2
    assert announced == [(ENTERPRISES_CHANGED, (joined, ["membership"]))]


def test_enterprises_recorded_as_members_are_announced_and_others_not(world: World, announced: Any,
                                                                      django_capture_on_commit_callbacks: Any
                                                                      ) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.record_enterprises(actor=world.staff, organization=world.chamber1, records=[
            services.EnterpriseRecord(uscc=make_uscc(61), name="北京新会员有限公司")], as_members=True)  # fmt: skip
        services.record_enterprises(actor=world.staff, organization=world.chamber1, records=[
            services.EnterpriseRecord(uscc=make_uscc(62), name="北京未入会有限公司")])  # fmt: skip
    member = Enterprise.objects.get(uscc=make_uscc(61)).pk
    assert announced == [(ENTERPRISES_CHANGED, ([member], ["membership"]))]


def test_membership_moves_profile_changes_and_tree_moves_are_announced(world: World, announced: Any,
                                                                       django_capture_on_commit_callbacks: Any
                                                                       ) -> None:  # fmt: skip
    membership = Membership.objects.get(enterprise=world.e2)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_membership(actor=world.staff, membership=membership, status=Membership.Status.SUSPENDED)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_membership(actor=world.staff, membership=Membership.objects.get(pk=membership.pk),
                                   level="council")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.change_profile(actor=world.staff, enterprise=world.e2, size="large", website="https://a.example")
    old_path = world.chamber1.path
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.move_organization(actor=world.staff, organization=world.chamber1,
                                           new_parent=world.association)  # fmt: skip
    assert announced == [
        (ENTERPRISES_CHANGED, ([world.e2.pk], ["membership"])),  # suspended; a new level is not announced
        (ENTERPRISES_CHANGED, ([world.e2.pk], ["size", "website"])),
        (ORGANIZATION_MOVED, (world.chamber1.pk, old_path, moved.path)),
    ]


def test_a_write_rolled_back_announces_nothing(world: World, announced: Any,
                                              django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.add_membership(actor=world.staff, enterprise=world.e3, organization=world.chamber1)
        raise RuntimeError("a later step of the same request failed")
    assert announced == []
    assert not Membership.objects.filter(enterprise=world.e3, organization=world.chamber1).exists()
