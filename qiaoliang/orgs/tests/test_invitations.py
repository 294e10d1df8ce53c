"""Inviting a recorded non-member enterprise to join: a text message with a link to the application form, filled
in from the enterprise's record; the application answers the invitation once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from conftest import World, make_uscc, make_user
from qiaoliang.core import channels
from qiaoliang.core.models import AuditLog
from qiaoliang.orgs.models import Enterprise, MembershipApplication, MembershipInvitation, Person
from qiaoliang.orgs.tests.test_applications import licence

pytestmark = pytest.mark.django_db
USCC = make_uscc(777)


@pytest.fixture(autouse=True)
def _sms(settings: Any, tmp_path: Any) -> Any:
    settings.SMS_BACKEND = "locmem"
    settings.MEDIA_ROOT = tmp_path
    channels.outbox.clear()
    yield
    channels.outbox.clear()


@pytest.fixture
def applicant(db: Any) -> Any:
    return make_user("invitee", mobile="13722223333")


@pytest.fixture
def prospect(world: World) -> Enterprise:
    """An enterprise chamber 1 recorded from a resource sheet: no member anywhere."""
    enterprise = Enterprise.objects.create(uscc=USCC, name="北京远航物流有限公司", registered_by=world.chamber1,
                                           address="朝阳区远航路8号", main_business="城市配送")  # fmt: skip
    Person.objects.create(enterprise=enterprise, name="赵经理", mobile="13722223333", is_primary_contact=True)
    return enterprise


@pytest.fixture(autouse=True)
def _sent_after_commit(monkeypatch: Any) -> None:
    """The text goes after the transaction commits; in a test's transaction, send it at once."""
    monkeypatch.setattr("qiaoliang.orgs.services.applications.transaction.on_commit", lambda callback: callback())


def invite(client: Any, enterprise: Enterprise, organization: Any, mobile: str = "13722223333") -> Any:
    url = reverse("orgs:enterprise_invite", args=[enterprise.pk])
    return client.post(url, {"organization": organization.pk, "mobile": mobile, "note": "欢迎加入"})


def test_the_secretary_invites_a_non_member_and_the_link_fills_in_the_application(
    client: Any, world: World, prospect: Enterprise, applicant: Any
) -> None:
    client.force_login(world.secretary)
    page = client.get(reverse("orgs:enterprise", args=[prospect.pk]))
    assert 'data-testid="invitations"' in page.content.decode() and "13722223333" in page.content.decode()
    response = invite(client, prospect, world.chamber1)
    assert response.status_code == 302
    invitation = MembershipInvitation.objects.get()
    assert (invitation.enterprise, invitation.organization, invitation.invited_by) == (
        prospect, world.chamber1, world.secretary)  # fmt: skip
    [sms] = channels.outbox
    assert sms.to == "13722223333" and world.chamber1.name in sms.text and "欢迎加入" in sms.text
    link = re.search(r"https?://\S+", sms.text).group(0)  # type: ignore[union-attr]
    assert invitation.token in link
    assert AuditLog.objects.filter(action="orgs.invitation.sent", organization_id=world.chamber1.pk).exists()

    client.force_login(applicant)
    path = link.split("8000", 1)[-1] if "8000" in link else link
    form = client.get(path)
    html = form.content.decode()
    assert 'data-testid="invitation-banner"' in html and USCC in html and "北京远航物流有限公司" in html
    data = {"organization": world.chamber1.pk, "name": "北京远航物流有限公司", "uscc": USCC, "contact_name": "赵经理",
            "contact_mobile": "13722223333", "level": "member", "licence": licence()}  # fmt: skip
    assert client.post(path, data).status_code == 302
    application = MembershipApplication.objects.get()
    invitation.refresh_from_db()
    assert invitation.application == application
    again = client.get(path, follow=True)
    assert 'data-testid="invitation-banner"' not in again.content.decode()  # used: the form is blank again


def test_an_invitation_is_refused_for_members_outsiders_and_twice_a_day(
    client: Any, world: World, prospect: Enterprise
) -> None:
    client.force_login(world.secretary)
    member = invite(client, world.e1, world.chamber1, mobile="13811112222")
    assert member.status_code == 302 and not MembershipInvitation.objects.exists()  # already a member: refused
    bad_mobile = invite(client, prospect, world.chamber1, mobile="12345")
    assert bad_mobile.status_code == 302 and not MembershipInvitation.objects.exists()
    assert invite(client, prospect, world.chamber1).status_code == 302
    assert invite(client, prospect, world.chamber1).status_code == 302
    assert MembershipInvitation.objects.count() == 1 and len(channels.outbox) == 1  # not twice within a day
    messages = [str(m) for m in client.get(reverse("orgs:enterprise", args=[prospect.pk])).context["messages"]]
    assert messages  # the refusal was said
    client.force_login(world.contact)  # an enterprise contact manages no organisation
    assert invite(client, prospect, world.chamber1).status_code == 404
    client.force_login(world.secretary)
    assert invite(client, prospect, world.chamber2).status_code == 404  # another chamber's: not the secretary's
    assert MembershipInvitation.objects.count() == 1


def test_an_expired_or_unknown_link_leaves_a_blank_form_with_a_warning(client: Any, world: World,
                                                                      applicant: Any) -> None:  # fmt: skip
    client.force_login(applicant)
    response = client.get(reverse("orgs:apply") + "?invite=" + "0" * 32)
    assert response.status_code == 200
    assert 'data-testid="invitation-banner"' not in response.content.decode()
    assert any("expired" in str(m) or "过期" in str(m) for m in response.context["messages"])
