"""The back office: every changelist loads, writes go through the services and are audited."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from conftest import make_uscc
from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.core.models import AuditLog
from qiaoliang.orgs.models import Department, Enterprise, Organization, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(world) -> User:
    return User.objects.create_superuser(username="root", password="correct-horse-battery", email="root@example.cn")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label_lower)
def test_every_changelist_loads_for_a_superuser(admin_client, model):
    response = admin_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200


def test_all_roster_models_are_registered():
    labels = {model._meta.label_lower for model in admin.site._registry}

    assert labels >= {
        "core.industry", "core.region", "core.auditlog", "accounts.user", "accounts.roleassignment",
        "orgs.organization", "orgs.zone", "orgs.department", "orgs.partnership", "orgs.enterprise",
        "orgs.membership", "orgs.person", "orgs.position",
    }  # fmt: skip


@pytest.mark.parametrize("model", [AuditLog], ids=["auditlog"])
def test_audit_log_cannot_be_added_changed_or_deleted(admin_client, model):
    entry = AuditLog.objects.first()

    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "change", entry.pk), {"action": "forged"}).status_code == 403
    assert admin_client.post(admin_url(model, "delete", entry.pk), {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(action="forged").count() == 0


def test_change_pages_load(admin_client, world, superuser):
    person = Person.objects.get(mobile="13812345678")

    for model, obj in [(Enterprise, world.e1), (Organization, world.chamber1), (Person, person), (User, superuser)]:
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_admin_save_of_a_department_writes_an_audit_entry(admin_client, world, superuser):
    response = admin_client.post(
        admin_url(Department, "change", world.department.pk),
        {"code": "DEP1", "name": "北京市发展改革委", "short_name": "", "contact_name": "", "contact_phone": "",
         "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    entry = AuditLog.objects.get(action="admin.orgs.department.changed")
    assert (entry.actor, entry.target_id, entry.data) == (superuser, str(world.department.pk), {"fields": ["name"]})


def test_admin_change_of_an_enterprise_goes_through_the_service(admin_client, world, superuser):
    e1 = world.e1
    response = admin_client.post(
        admin_url(Enterprise, "change", e1.pk),
        {"name": "北京天马辉软件有限公司", "short_name": "", "industry": "6511", "region": "110105", "size": "small",
         "ownership": "", "founded_on": "", "employees": "", "main_business": "", "website": "", "address": "",
         "is_active": "on",
         "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1", "memberships-MIN_NUM_FORMS": "0",
         "memberships-MAX_NUM_FORMS": "1000", "memberships-0-id": str(e1.memberships.get().pk),
         "memberships-0-enterprise": str(e1.pk), "memberships-0-organization": str(world.chamber1.pk),
         "memberships-0-level": "president", "memberships-0-joined_on": "2020-01-01", "memberships-0-status": "active"},
    )  # fmt: skip

    assert response.status_code == 302
    e1.refresh_from_db()
    assert (e1.name, e1.name_initials) == ("北京天马辉软件有限公司", "bjtmhrjyxgs")
    entry = AuditLog.objects.get(action="orgs.enterprise.updated")
    assert entry.actor == superuser
    assert entry.data == {"name": ["北京天马辉科技有限公司", "北京天马辉软件有限公司"]}


def test_admin_add_of_an_organisation_places_it_in_the_tree(admin_client, world, superuser):
    response = admin_client.post(
        admin_url(Organization, "add"),
        {"code": "C3", "name": "朝阳区物流商会", "short_name": "", "kind": "chamber", "chamber_kind": "industry",
         "parent": str(world.district.pk), "founded_on": "", "address": "", "region": "", "contact_name": "",
         "contact_phone": "", "contact_email": "", "website": "", "description": "", "is_active": "on",
         "partnerships-TOTAL_FORMS": "0", "partnerships-INITIAL_FORMS": "0", "partnerships-MIN_NUM_FORMS": "0",
         "partnerships-MAX_NUM_FORMS": "1000"},
    )  # fmt: skip

    assert response.status_code == 302
    created = Organization.objects.get(code="C3")
    assert created.path == f"{world.district.path}{created.pk:08d}/"
    assert created.depth == 2
    assert AuditLog.objects.get(action="orgs.organization.created", target_id=str(created.pk)).actor == superuser


def test_admin_add_of_an_enterprise_rejects_a_bad_check_digit(admin_client, world):
    admin_client.cookies["django_language"] = "en"  # the assertions quote the English messages
    good = make_uscc(90)
    bad = good[:17] + ("0" if good[17] != "0" else "1")

    response = admin_client.post(
        admin_url(Enterprise, "add"),
        {"uscc": bad, "name": "错误企业", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
         "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000"},
    )  # fmt: skip

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["uscc"] == [
        f"The check character of unified social credit code {bad} is wrong (expected {good[17]})."
    ]
    assert Enterprise.objects.count() == 3


def test_admin_role_assignment_added_inline_is_audited(admin_client, world, superuser):
    user = world.outsider
    response = admin_client.post(
        admin_url(User, "change", user.pk),
        {"username": "outsider", "display_name": "", "first_name": "", "last_name": "", "email": "", "mobile": "",
         "person": "", "is_active": "on", "last_login_0": "", "last_login_1": "", "date_joined_0": "2024-01-01",
         "date_joined_1": "00:00:00",
         "roles-TOTAL_FORMS": "1", "roles-INITIAL_FORMS": "0", "roles-MIN_NUM_FORMS": "0",
         "roles-MAX_NUM_FORMS": "1000",
         "roles-0-role": Role.CHAMBER_SECRETARY, "roles-0-organization": str(world.chamber2.pk), "roles-0-zone": "",
         "roles-0-enterprise": "", "roles-0-department": ""},
    )  # fmt: skip

    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=user)
    entry = AuditLog.objects.get(action="admin.accounts.roleassignment.created")
    assert (entry.actor, entry.target_id) == (superuser, str(assignment.pk))


def test_admin_person_page_view_is_audited(admin_client, world, superuser):
    person = Person.objects.get(mobile="13812345678")

    admin_client.get(admin_url(Person, "change", person.pk))

    entry = AuditLog.objects.get(action="admin.orgs.person.personal_data_viewed")
    assert (entry.actor, entry.target_id) == (superuser, str(person.pk))


def test_admin_enterprise_search_understands_traditional_and_initials(admin_client, world):
    traditional = admin_client.get(admin_url(Enterprise, "changelist"), {"q": "張家口"})
    initials = admin_client.get(admin_url(Enterprise, "changelist"), {"q": "bjtmh"})

    assert [e.name for e in traditional.context["cl"].result_list] == ["張家口軟件有限公司"]
    assert [e.name for e in initials.context["cl"].result_list] == ["北京天马辉科技有限公司"]
