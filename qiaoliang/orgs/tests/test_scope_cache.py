"""Scopes are cached across requests, and every change to what they are built from makes them stale at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.orgs import services
from qiaoliang.orgs.models import Membership
from qiaoliang.orgs.scope import get_scope, invalidate_scopes

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as the next request loads it (nothing cached on the object)."""
    return User.objects.get(pk=user.pk)


def test_the_second_request_takes_the_scope_from_the_cache(world: Any, django_assert_num_queries: Any) -> None:
    get_scope(fresh(world.secretary))
    user = fresh(world.secretary)
    with django_assert_num_queries(0):
        scope = get_scope(user)
    assert world.chamber1.pk in scope.manage_member_org_ids


def test_a_removed_role_is_gone_from_the_next_request(world: Any) -> None:
    assert get_scope(fresh(world.staff)).is_staff
    RoleAssignment.objects.filter(user=world.staff).delete()
    scope = get_scope(fresh(world.staff))
    assert not scope.is_staff and not scope.view_org_ids
    client = Client()
    client.force_login(world.staff)
    assert world.e2.name not in client.get("/orgs/members/").content.decode()


def test_a_new_role_counts_from_the_next_request(world: Any) -> None:
    assert not get_scope(fresh(world.outsider)).has_role
    RoleAssignment.objects.create(user=world.outsider, role=Role.CHAMBER_SECRETARY, organization=world.chamber2)
    assert world.chamber2.pk in get_scope(fresh(world.outsider)).manage_member_org_ids


def test_moving_an_organisation_moves_the_scopes_that_reach_it(world: Any) -> None:
    district_secretary = User.objects.create_user(username="d1sec", password="x")
    RoleAssignment.objects.create(user=district_secretary, role=Role.CHAMBER_SECRETARY, organization=world.district)
    assert world.chamber2.pk in get_scope(fresh(district_secretary)).manage_member_org_ids
    services.move_organization(actor=world.staff, organization=world.chamber2, new_parent=world.federation)
    assert world.chamber2.pk not in get_scope(fresh(district_secretary)).manage_member_org_ids


def test_a_zone_given_another_organisation_widens_its_convenors_scope(world: Any) -> None:
    assert world.chamber2.pk not in get_scope(fresh(world.convenor)).member_org_ids
    world.zone.organizations.add(world.chamber2)
    assert world.chamber2.pk in get_scope(fresh(world.convenor)).member_org_ids


def test_a_contacts_scope_follows_its_enterprises_memberships(world: Any) -> None:
    assert world.association.pk not in get_scope(fresh(world.contact)).own_organization_ids
    Membership.objects.create(enterprise=world.e1, organization=world.association, status=Membership.Status.ACTIVE)
    assert world.association.pk in get_scope(fresh(world.contact)).own_organization_ids


def test_members_recorded_in_bulk_count_at_once(world: Any) -> None:
    contact = User.objects.create_user(username="e3contact", password="x")
    RoleAssignment.objects.create(user=contact, role=Role.ENTERPRISE_CONTACT, enterprise=world.e3)
    assert world.chamber1.pk not in get_scope(fresh(contact)).own_organization_ids
    Membership.objects.bulk_create([Membership(enterprise=world.e3, organization=world.chamber1, status="active")])
    stale = get_scope(fresh(contact))  # a bulk insert sends no signal: the writer must say so
    assert world.chamber1.pk not in stale.own_organization_ids
    invalidate_scopes()
    assert world.chamber1.pk in get_scope(fresh(contact)).own_organization_ids


def test_without_the_setting_nothing_is_cached(world: Any, settings: Any) -> None:
    settings.SCOPE_CACHE_SECONDS = 0
    get_scope(fresh(world.secretary))
    RoleAssignment.objects.filter(user=world.secretary).update(organization=world.chamber2)  # no signal
    assert world.chamber2.pk in get_scope(fresh(world.secretary)).manage_member_org_ids
