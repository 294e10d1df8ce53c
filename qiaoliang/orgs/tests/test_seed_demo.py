"""The demo data: a believable, deterministic city federation built by `manage.py seed_demo`."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.management import call_command
from stdnum.cn import uscc as stdnum_uscc

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.core.codes import normalize_mobile
from qiaoliang.core.models import AuditLog, Industry, Region
from qiaoliang.orgs import demo
from qiaoliang.orgs.models import (
    Enterprise,
    Membership,
    Organization,
    Partnership,
    Person,
    Position,
    Zone,
    enterprise_search_fields,
)

pytestmark = pytest.mark.django_db


def run_seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--enterprises", "200", *args, stdout=out)
    return out.getvalue()


def digest() -> str:
    """Return a hash over the generated enterprises, people and memberships (ids left out)."""
    h = hashlib.sha256()
    for row in Enterprise.objects.order_by("uscc").values_list(
        "uscc", "name", "industry_id", "region_id", "size", "ownership", "founded_on", "employees"
    ):
        h.update(repr(row).encode())
    for row in Person.objects.order_by("mobile").values_list("mobile", "name", "enterprise__uscc", "job_title"):
        h.update(repr(row).encode())
    for row in Membership.objects.order_by("enterprise__uscc", "organization__code").values_list(
        "enterprise__uscc", "organization__code", "level", "joined_on", "status"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def test_seed_builds_a_city_federation_with_members_posts_and_zones() -> None:
    output = run_seed()

    assert Organization.objects.filter(kind="federation").count() == 1
    districts = Organization.objects.filter(kind="district_federation")
    assert districts.count() == 10
    assert all(d.region_id and d.region_id.startswith("1101") for d in districts)
    chambers = Organization.objects.filter(kind__in=["chamber", "association"])
    assert chambers.count() == 63
    assert chambers.filter(chamber_kind="hometown").count() == 12
    assert chambers.filter(chamber_kind="street").count() == 16
    assert chambers.filter(kind="association").count() == 8
    assert Zone.objects.count() == 4
    assert Partnership.objects.count() == 8
    for zone in Zone.objects.all():
        assert zone.positions.filter(title=Position.Title.CHIEF_CONVENOR).count() == 1
        assert zone.positions.filter(title=Position.Title.CONVENOR).count() >= 1
        assert zone.positions.filter(title=Position.Title.SECRETARIAT).count() == 3
    assert Position.objects.filter(title=Position.Title.SECRETARY_GENERAL).count() == 74
    assert Position.objects.filter(term_end__isnull=True).count() == 0
    assert "Demo federation created" in output or "演示" in output
    entry = AuditLog.objects.get(action="orgs.demo.seeded")
    assert entry.data["enterprises"] == 200
    assert entry.data["organizations"] == 74


def test_seeded_enterprises_have_valid_codes_and_people() -> None:
    run_seed()

    enterprises = list(Enterprise.objects.all())
    assert len(enterprises) == 200
    classes = set(Industry.objects.filter(level=4).values_list("code", flat=True))
    beijing = set(Region.objects.filter(code__startswith="11").values_list("code", flat=True))
    for enterprise in enterprises:
        assert stdnum_uscc.is_valid(enterprise.uscc), enterprise.uscc
        assert enterprise.uscc[2:8] == enterprise.region_id
        assert enterprise.industry_id in classes
        assert enterprise.region_id in beijing
        assert enterprise_search_fields(enterprise.name) == {
            "name_search": enterprise.name_search,
            "name_pinyin": enterprise.name_pinyin,
            "name_initials": enterprise.name_initials,
            "name_grams": enterprise.name_grams,
            "name_keys": enterprise.name_keys,
        }
        assert enterprise.name.endswith("公司")
    assert len({e.name for e in enterprises}) == 200
    assert Person.objects.filter(is_primary_contact=True, enterprise__isnull=False).count() == 200
    for mobile in Person.objects.values_list("mobile", flat=True):
        assert normalize_mobile(mobile) == mobile
    counts = {e.pk: 0 for e in enterprises}
    for enterprise_id in Membership.objects.values_list("enterprise_id", flat=True):
        counts[enterprise_id] += 1
    assert set(counts.values()) <= {1, 2}
    assert Membership.objects.filter(level="member").count() > Membership.objects.filter(level="president").count()


def test_seed_creates_one_account_per_role_with_the_demo_password() -> None:
    output = run_seed()

    expected = {
        "staff": Role.FEDERATION_STAFF,
        "secretary": Role.CHAMBER_SECRETARY,
        "convenor": Role.ZONE_CONVENOR,
        "enterprise": Role.ENTERPRISE_CONTACT,
        "liaison": Role.DEPARTMENT_LIAISON,
        "provider": Role.SERVICE_PROVIDER,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert list(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) == [role]
        assert user.check_password(demo.DEMO_PASSWORD)
        assert not user.is_superuser
        assert username in output
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(demo.DEMO_PASSWORD)
    staff = User.objects.get(username="staff")
    assert staff.is_staff and staff.has_perm("orgs.change_enterprise") and not staff.has_perm("orgs.delete_enterprise")
    assert staff.mobile == "13900000001"
    secretary = RoleAssignment.objects.get(user__username="secretary")
    assert secretary.organization is not None and secretary.organization.memberships.exists()
    contact = RoleAssignment.objects.get(user__username="enterprise")
    assert User.objects.get(username="enterprise").person.enterprise_id == contact.enterprise_id
    assert demo.DEMO_PASSWORD in output


def test_running_seed_twice_changes_nothing() -> None:
    run_seed()
    before = digest()
    counts = (Organization.objects.count(), Person.objects.count(), User.objects.count(), Position.objects.count())

    output = run_seed()

    assert "already exists" in output or "已存在" in output
    assert "secretary" in output
    assert digest() == before
    assert (Organization.objects.count(), Person.objects.count(), User.objects.count(), Position.objects.count()) == (
        counts
    )
    assert AuditLog.objects.filter(action="orgs.demo.seeded").count() == 1


def test_same_seed_gives_the_same_data_and_another_seed_does_not(settings: Any) -> None:
    run_seed("--seed", "7")
    first = digest()
    usccs = sorted(Enterprise.objects.values_list("uscc", flat=True))

    run_seed("--seed", "7", "--reset")
    assert digest() == first
    assert sorted(Enterprise.objects.values_list("uscc", flat=True)) == usccs
    assert Organization.objects.count() == 74
    assert User.objects.filter(username__in=demo.DEMO_USERNAMES).count() == 7

    run_seed("--seed", "8", "--reset")
    assert digest() != first
    assert AuditLog.objects.filter(action="orgs.demo.reset").count() == 2
    assert AuditLog.objects.filter(action="orgs.demo.seeded").count() == 3


def test_uscc_builder_matches_the_national_check_characters() -> None:
    codes = [demo.build_uscc("110105", demo.scramble(i, 12345)) for i in range(2000)]

    assert len(set(codes)) == 2000
    assert all(stdnum_uscc.is_valid(code) for code in codes)
    assert demo.organization_code_check("19220382") == "1"  # Huawei: 914403001922038216
