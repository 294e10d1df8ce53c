"""The permission matrix: role × object × action, through the one scope vocabulary."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from qiaoliang.core.permissions import can, forget, get_for_user
from qiaoliang.orgs.models import Enterprise, Membership, MembershipInvitation, Organization, Person

# (persona, enterprise, action) -> allowed. e1 is in C1 (secretary's chamber, zone Z1), e2 in C2, e3 in A1.
ENTERPRISE_MATRIX = [
    ("staff", "e1", "view", True),
    ("staff", "e2", "change", True),
    ("staff", "e3", "view_personal", True),
    ("secretary", "e1", "view", True),
    ("secretary", "e1", "change", True),
    ("secretary", "e1", "view_personal", True),
    ("secretary", "e2", "view", False),
    ("secretary", "e2", "change", False),
    ("secretary", "e3", "view", False),
    ("convenor", "e1", "view", True),
    ("convenor", "e1", "view_personal", False),
    ("convenor", "e1", "change", False),
    ("convenor", "e2", "view", False),
    ("contact", "e1", "view", True),
    ("contact", "e1", "change", True),
    ("contact", "e2", "view", False),
    ("liaison", "e1", "view", False),
    ("provider", "e1", "view", False),
    ("outsider", "e1", "view", False),
    ("outsider", "e2", "change", False),
]


@pytest.mark.parametrize(("persona", "target", "action", "allowed"), ENTERPRISE_MATRIX)
def test_enterprise_permission_matrix(world, persona, target, action, allowed):
    user = getattr(world, persona)
    enterprise = getattr(world, target)
    assert can(user, action, enterprise) is allowed
    assert Enterprise.objects.for_user(user, action).filter(pk=enterprise.pk).exists() is allowed


ORGANIZATION_MATRIX = [
    ("staff", "chamber2", "change", True),
    ("secretary", "chamber1", "view", True),
    ("secretary", "chamber1", "change", True),
    ("secretary", "district", "view", True),  # an ancestor is visible
    ("secretary", "district", "change", False),
    ("secretary", "chamber2", "view", False),
    ("secretary", "association", "view", False),
    ("secretary", "federation", "view", True),
    ("convenor", "chamber1", "view", True),
    ("convenor", "chamber1", "change", False),
    ("convenor", "chamber2", "view", False),
    ("contact", "chamber1", "view", True),
    ("contact", "chamber2", "view", False),
    ("contact", "chamber1", "change", False),
    ("liaison", "federation", "view", True),
    ("liaison", "chamber1", "view", False),
    ("outsider", "federation", "view", True),
    ("outsider", "chamber1", "view", False),
]


@pytest.mark.parametrize(("persona", "target", "action", "allowed"), ORGANIZATION_MATRIX)
def test_organization_permission_matrix(world, persona, target, action, allowed):
    user = getattr(world, persona)
    organization = getattr(world, target)
    assert can(user, action, organization) is allowed


def test_district_secretary_manages_the_whole_subtree(world):
    from qiaoliang.accounts.models import Role, RoleAssignment

    RoleAssignment.objects.create(user=world.outsider, role=Role.CHAMBER_SECRETARY, organization=world.district)
    forget(world.outsider)
    visible = set(Enterprise.objects.for_user(world.outsider, "change").values_list("name", flat=True))
    assert visible == {world.e1.name, world.e2.name}
    assert set(Organization.objects.for_user(world.outsider, "change").values_list("code", flat=True)) == {
        "D1",
        "C1",
        "C2",
    }


def test_get_for_user_hides_other_chambers_enterprise_as_404(world):
    with pytest.raises(Http404):
        get_for_user(Enterprise.objects.all(), world.secretary, "view", pk=world.e2.pk)


def test_get_for_user_refuses_visible_but_not_allowed_with_403(world):
    with pytest.raises(PermissionDenied):
        get_for_user(Enterprise.objects.all(), world.convenor, "change", pk=world.e1.pk)
    assert get_for_user(Enterprise.objects.all(), world.convenor, "view", pk=world.e1.pk) == world.e1


def test_memberships_and_people_follow_the_enterprise_scope(world):
    assert list(Membership.objects.for_user(world.secretary).values_list("enterprise__name", flat=True)) == [
        world.e1.name
    ]
    assert set(Person.objects.for_user(world.secretary).values_list("name", flat=True)) == {"张建利"}
    assert set(Person.objects.for_user(world.staff).values_list("name", flat=True)) == {"张建利", "王小明"}
    assert Person.objects.for_user(world.outsider).count() == 0


def test_anonymous_user_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert Enterprise.objects.for_user(anonymous).count() == 0
    assert Organization.objects.for_user(anonymous).count() == 0


def test_inactive_user_sees_nothing(world):
    world.staff.is_active = False
    world.staff.save(update_fields=["is_active"])
    forget(world.staff)
    assert Enterprise.objects.for_user(world.staff).count() == 0


def test_zones_are_visible_through_their_organisations(world):
    from qiaoliang.orgs.models import Zone

    assert list(Zone.objects.for_user(world.convenor)) == [world.zone]
    assert list(Zone.objects.for_user(world.secretary)) == [world.zone]  # C1 is in Z1
    assert list(Zone.objects.for_user(world.outsider)) == []
    assert list(Zone.objects.for_user(world.staff)) == [world.zone]


def test_world_builds_and_staff_sees_all_enterprises(world):
    assert Enterprise.objects.for_user(world.staff).count() == 3
    assert list(Enterprise.objects.for_user(world.secretary).values_list("name", flat=True)) == [
        "北京天马辉科技有限公司"
    ]


# An invitation of a recorded enterprise to chamber 1: who may see and change it (send it again, follow it).
INVITATION_MATRIX = [
    ("staff", "view", True),
    ("staff", "change", True),
    ("secretary", "view", True),
    ("secretary", "change", True),
    ("convenor", "view", False),
    ("contact", "view", False),
    ("liaison", "view", False),
    ("provider", "view", False),
    ("outsider", "view", False),
    ("outsider", "change", False),
]


@pytest.mark.parametrize(("persona", "action", "allowed"), INVITATION_MATRIX)
def test_invitation_permission_matrix(world, persona, action, allowed):
    prospect = Enterprise.objects.create(uscc="91110105MA00000X1K", name="北京远航物流有限公司",
                                         registered_by=world.chamber1)  # fmt: skip
    invitation = MembershipInvitation.objects.create(
        enterprise=prospect, organization=world.chamber1, mobile="13722223333", token="a" * 32,
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )  # fmt: skip
    user = getattr(world, persona)
    assert can(user, action, invitation) is allowed
    assert MembershipInvitation.objects.for_user(user, action).filter(pk=invitation.pk).exists() is allowed
