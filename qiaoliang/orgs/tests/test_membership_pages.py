"""Membership status and profile changes from the enterprise pages: the chamber's secretary suspends or ends a
membership with a reason and the enterprise is told; an enterprise's own contact edits its profile and the key
fields wait for the secretariat's review."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from conftest import World
from qiaoliang.core.models import Notification
from qiaoliang.orgs.models import Enterprise, EnterpriseChangeRequest, Membership, MembershipStatusChange

pytestmark = pytest.mark.django_db


def e1_membership(world: World) -> Membership:
    return Membership.objects.get(enterprise=world.e1, organization=world.chamber1)


def test_the_secretary_sees_the_moves_and_suspends_with_a_reason(client: Any, world: World) -> None:
    membership = e1_membership(world)
    client.force_login(world.secretary)
    page = client.get(reverse("orgs:enterprise", args=[world.e1.pk])).content.decode()
    assert reverse("orgs:membership_status", args=[membership.pk]) in page
    response = client.post(
        reverse("orgs:membership_status", args=[membership.pk]), {"to": "suspended", "note": "会费逾期一年"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == "suspended"
    change = MembershipStatusChange.objects.get(membership=membership)
    assert (change.to_status, change.note) == ("suspended", "会费逾期一年")
    # The enterprise's contact account is told, with the reason.
    told = Notification.objects.get(user=world.contact, kind="orgs.membership.suspended")
    assert "会费逾期一年" in told.body


def test_a_move_the_table_forbids_is_refused_and_changes_nothing(client: Any, world: World) -> None:
    membership = e1_membership(world)
    client.force_login(world.secretary)
    url = reverse("orgs:membership_status", args=[membership.pk])
    response = client.post(url, {"to": "no-such-status"}, follow=True)
    membership.refresh_from_db()
    assert membership.status == "active"
    assert not MembershipStatusChange.objects.exists()
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])


@pytest.mark.parametrize("persona", ["contact", "outsider", "provider"])
def test_people_who_do_not_manage_the_membership_cannot_change_it(client: Any, world: World, persona: str) -> None:
    membership = e1_membership(world)
    client.force_login(getattr(world, persona))
    response = client.post(reverse("orgs:membership_status", args=[membership.pk]), {"to": "withdrawn"})
    # The enterprise's own contact sees the membership (403); the others do not know it exists (404).
    assert response.status_code == (403 if persona == "contact" else 404)
    membership.refresh_from_db()
    assert membership.status == "active"


def test_get_is_not_allowed(client: Any, world: World) -> None:
    client.force_login(world.secretary)
    response = client.get(reverse("orgs:membership_status", args=[e1_membership(world).pk]))
    assert response.status_code == 405


def test_the_contacts_key_field_edits_wait_for_review(client: Any, world: World) -> None:
    client.force_login(world.contact)
    url = reverse("orgs:enterprise_edit", args=[world.e1.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["key_fields_reviewed"] is True
    form = page.context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update({"name": "北京天马辉智能科技有限公司", "main_business": "智能硬件"})
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    enterprise = Enterprise.objects.get(pk=world.e1.pk)
    assert enterprise.name == "北京天马辉科技有限公司"  # the name waits for review
    assert enterprise.main_business == "智能硬件"  # the rest is saved at once
    assert EnterpriseChangeRequest.objects.filter(enterprise=enterprise).count() == 1
    assert any(m.level_tag == "info" for m in response.context["messages"])


def test_the_secretarys_edits_are_saved_at_once(client: Any, world: World) -> None:
    client.force_login(world.secretary)
    url = reverse("orgs:enterprise_edit", args=[world.e1.pk])
    page = client.get(url)
    assert page.context["key_fields_reviewed"] is False
    data = {name: ("" if value is None else value) for name, value in page.context["form"].initial.items()}
    data["name"] = "北京天马辉智能科技有限公司"
    client.post(url, data)
    assert Enterprise.objects.get(pk=world.e1.pk).name == "北京天马辉智能科技有限公司"
    assert not EnterpriseChangeRequest.objects.exists()
