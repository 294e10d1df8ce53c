"""Online membership applications: an enterprise applies with its licence, the organisation's secretary approves or
returns it with a reason, everyone concerned is told, and approval creates the membership and the contact's role."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import World, make_uscc, make_user
from qiaoliang.accounts.models import Role, RoleAssignment
from qiaoliang.core.models import AuditLog, Notification
from qiaoliang.core.tests import hostile_files
from qiaoliang.orgs.models import Enterprise, Membership, MembershipApplication, Person

pytestmark = pytest.mark.django_db
USCC = make_uscc(901)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def applicant(db: Any) -> Any:
    user = make_user("applicant", mobile="13611112222")
    user.display_name = "李经理"
    user.save(update_fields=["display_name"])
    return user


def licence(name: str = "执照.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, hostile_files.find("brochure.pdf").content, content_type="application/pdf")


def payload(world: World, **changes: Any) -> dict[str, Any]:
    data = {
        "organization": world.chamber1.pk, "name": "北京新星餐饮有限公司", "uscc": USCC, "industry_code": "6210",
        "region_code": "110105", "size": "small", "ownership": "private", "address": "朝阳区某路1号",
        "main_business": "中餐", "contact_name": "李经理", "contact_mobile": "13611112222",
        "contact_email": "li@example.cn", "contact_job_title": "总经理", "level": "member", "statement": "希望加入商会",
        "licence": licence(),
    }  # fmt: skip
    data.update(changes)
    return data


def apply(client: Any, world: World, **changes: Any) -> Any:
    return client.post(reverse("orgs:apply"), payload(world, **changes))


def test_an_enterprise_applies_and_the_chambers_secretary_is_told(client: Any, world: World, applicant: Any) -> None:
    client.force_login(applicant)
    response = apply(client, world)
    application = MembershipApplication.objects.get()
    assert response["Location"] == reverse("orgs:application", args=[application.pk])
    assert (application.status, application.uscc, application.applicant) == ("submitted", USCC, applicant)
    assert application.licence_name == "执照.pdf" and "执照" not in application.licence.name
    assert Notification.objects.filter(user=world.secretary, kind="orgs.application.submitted").count() == 1
    assert not Notification.objects.filter(user=world.staff).exists()  # the secretary stands closer
    assert AuditLog.objects.filter(action="orgs.application.submitted", organization_id=world.chamber1.pk).exists()


def test_approval_creates_the_member_its_contact_and_the_role(client: Any, world: World, applicant: Any) -> None:
    client.force_login(applicant)
    apply(client, world)
    application = MembershipApplication.objects.get()
    client.force_login(world.secretary)
    response = client.post(
        reverse("orgs:application_decide", args=[application.pk]), {"action": "approve", "level": "council"}
    )
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(uscc=USCC)
    membership = Membership.objects.get(enterprise=enterprise)
    assert (membership.organization, membership.level, membership.status) == (world.chamber1, "council", "active")
    assert Person.objects.get(mobile="13611112222").enterprise == enterprise
    assert RoleAssignment.objects.filter(user=applicant, role=Role.ENTERPRISE_CONTACT, enterprise=enterprise).exists()
    application.refresh_from_db()
    assert (application.status, application.enterprise) == ("approved", enterprise)
    assert Notification.objects.filter(user=applicant, kind="orgs.application.approved").count() == 1
    client.force_login(applicant)
    assert client.get(reverse("orgs:my_enterprise"))["Location"] == reverse("orgs:enterprise", args=[enterprise.pk])


def test_a_return_needs_a_reason_which_the_applicant_reads_and_answers(client: Any, world: World,
                                                                      applicant: Any) -> None:  # fmt: skip
    client.force_login(applicant)
    apply(client, world)
    application = MembershipApplication.objects.get()
    client.force_login(world.secretary)
    client.cookies["django_language"] = "en"
    refused = client.post(reverse("orgs:application_decide", args=[application.pk]), {"action": "return"},
                          follow=True)  # fmt: skip
    assert "Say what the applicant should change." in [str(m) for m in refused.context["messages"]]
    client.post(reverse("orgs:application_decide", args=[application.pk]), {"action": "return",
                                                                              "note": "执照照片不清楚"})  # fmt: skip
    application.refresh_from_db()
    assert (application.status, application.review_note) == ("returned", "执照照片不清楚")
    note = Notification.objects.get(user=applicant, kind="orgs.application.returned")
    assert "执照照片不清楚" in note.body

    client.force_login(applicant)
    page = client.get(reverse("orgs:application", args=[application.pk]))
    assert "执照照片不清楚" in page.content.decode()
    data = payload(world, licence=licence("清晰执照.pdf"))
    response = client.post(reverse("orgs:application", args=[application.pk]), data)
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.licence_name) == ("submitted", "清晰执照.pdf")
    assert Notification.objects.filter(user=world.secretary, kind="orgs.application.submitted").count() == 2


@pytest.mark.parametrize(
    "hostile",
    [f for f in hostile_files.attachment_files() if not f.accepted and f.name.endswith((".pdf", ".png", ".jpg"))],
    ids=lambda f: f.ident,
)
def test_a_hostile_licence_is_refused_and_nothing_is_saved(client: Any, world: World, applicant: Any,
                                                            hostile: Any) -> None:  # fmt: skip
    client.force_login(applicant)
    response = apply(client, world, licence=SimpleUploadedFile(hostile.name, hostile.content))
    if hostile.threat in {"path_traversal", "nul_in_name"} and response.status_code == 302:
        # Django's upload parser keeps only a clean base name; the real PDF behind it is harmless to accept.
        stored = MembershipApplication.objects.get()
        assert "/" not in stored.licence_name and "\\" not in stored.licence_name and "\x00" not in stored.licence_name
        return
    assert response.status_code == 200
    assert response.context["form"].errors["licence"]
    assert MembershipApplication.objects.count() == 0


def test_a_bad_uscc_and_a_second_open_application_are_refused(client: Any, world: World, applicant: Any) -> None:
    client.force_login(applicant)
    client.cookies["django_language"] = "en"
    bad = apply(client, world, uscc="91110105MA00000000")
    assert bad.context["form"].errors["uscc"]
    apply(client, world)
    again = apply(client, world)
    assert "already open" in " ".join(again.context["form"].non_field_errors() + again.context["form"].errors.get(
        "uscc", []))  # fmt: skip
    assert MembershipApplication.objects.count() == 1


@pytest.mark.parametrize(("persona", "status"), [("secretary", 200), ("staff", 200), ("convenor", 404),
                                                 ("contact", 404), ("outsider", 404)])  # fmt: skip
def test_an_application_is_seen_by_its_applicant_and_its_reviewers(client: Any, world: World, applicant: Any,
                                                                   persona: str, status: int) -> None:  # fmt: skip
    client.force_login(applicant)
    apply(client, world)
    application = MembershipApplication.objects.get()
    client.force_login(getattr(world, persona))
    assert client.get(reverse("orgs:application", args=[application.pk])).status_code == status
    assert client.get(reverse("orgs:application_licence", args=[application.pk])).status_code == status


def test_another_chambers_secretary_cannot_decide(client: Any, world: World, applicant: Any) -> None:
    client.force_login(applicant)
    apply(client, world)
    application = MembershipApplication.objects.get()
    client.force_login(make_user("secretary2", Role.CHAMBER_SECRETARY, organization=world.chamber2))
    assert client.post(reverse("orgs:application_decide", args=[application.pk]), {"action": "approve"}).status_code \
        == 404  # fmt: skip
    application.refresh_from_db()
    assert application.status == "submitted"
