"""Writes through the orgs services: validation, tree paths, uniqueness and the audit trail."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from conftest import make_uscc
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import AuditLog
from qiaoliang.orgs import services
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person, Position


def test_new_chamber_gets_a_path_under_its_parent(world):
    chamber = services.create_organization(
        actor=world.staff,
        code="C9",
        name="朝阳区建材商会",
        kind="chamber",
        chamber_kind="industry",
        parent=world.district,
    )
    assert chamber.path == f"{world.federation.pk:08d}/{world.district.pk:08d}/{chamber.pk:08d}/"
    assert chamber.depth == 2
    assert chamber.ancestor_ids() == [world.federation.pk, world.district.pk, chamber.pk]
    entry = AuditLog.objects.get(action="orgs.organization.created", target_id=str(chamber.pk))
    assert entry.actor == world.staff
    assert entry.data["code"] == "C9"


def test_only_a_federation_may_stand_at_the_top(db):
    with pytest.raises(DomainError):
        services.create_organization(actor=None, code="X", name="孤立商会", kind="chamber", chamber_kind="industry")


def test_chamber_kind_is_refused_for_a_federation(db):
    with pytest.raises(DomainError):
        services.create_organization(actor=None, code="X", name="某工商联", kind="federation", chamber_kind="industry")
    assert Organization.objects.count() == 0


def test_moving_a_district_moves_its_chambers_and_scopes_follow(world):
    other = services.create_organization(actor=None, code="D2", name="海淀区工商联", kind="district_federation",
                                         parent=world.federation)  # fmt: skip
    services.move_organization(actor=world.staff, organization=world.chamber2, new_parent=other)
    world.chamber2.refresh_from_db()
    assert world.chamber2.parent == other
    assert world.chamber2.path.startswith(other.path)
    assert world.chamber2.depth == 2
    with pytest.raises(DomainError):
        services.move_organization(actor=world.staff, organization=world.district, new_parent=world.chamber1)


def test_enterprise_with_wrong_check_character_is_refused_and_nothing_is_written(world):
    good = make_uscc(77)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = Enterprise.objects.count(), AuditLog.objects.count()
    with pytest.raises(DomainError) as excinfo:
        services.create_enterprise(actor=world.staff, uscc=bad, name="坏码企业", organization=world.chamber1)
    assert bad in excinfo.value.message
    assert (Enterprise.objects.count(), AuditLog.objects.count()) == before


def test_a_uscc_belongs_to_one_enterprise(world):
    with pytest.raises(DomainError):
        services.create_enterprise(actor=world.staff, uscc=world.e1.uscc.lower(), name="重复企业")


def test_renaming_an_enterprise_updates_its_search_keys_and_audits_the_change(world):
    services.update_enterprise(actor=world.secretary, enterprise=world.e1, name="北京天马輝科技集團有限公司")
    world.e1.refresh_from_db()
    assert world.e1.name_search == "北京天马辉科技集团有限公司"
    assert world.e1.name_initials.startswith("bjtmhkjjt")
    entry = AuditLog.objects.get(action="orgs.enterprise.updated")
    assert entry.data == {"name": ["北京天马辉科技有限公司", "北京天马輝科技集團有限公司"]}
    assert entry.actor == world.secretary


def test_update_without_changes_writes_nothing(world):
    count = AuditLog.objects.count()
    services.update_enterprise(actor=world.staff, enterprise=world.e1, name=world.e1.name)
    assert AuditLog.objects.count() == count


def test_uscc_cannot_be_changed_through_update(world):
    with pytest.raises(DomainError):
        services.update_enterprise(actor=world.staff, enterprise=world.e1, uscc=make_uscc(99))


def test_an_enterprise_joins_several_organisations_once_each(world):
    services.add_membership(actor=world.staff, enterprise=world.e1, organization=world.association, level="council")
    assert set(world.e1.memberships.values_list("organization__code", flat=True)) == {"C1", "A1"}
    with pytest.raises(DomainError):
        services.add_membership(actor=world.staff, enterprise=world.e1, organization=world.association)


def test_the_database_backs_the_one_membership_rule(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(enterprise=world.e1, organization=world.chamber1)


def test_a_mobile_number_belongs_to_one_person(world):
    with pytest.raises(DomainError):
        services.create_person(actor=world.staff, name="另一人", mobile="138 1234 5678")
    with pytest.raises(DomainError):
        services.create_person(actor=world.staff, name="坏号码", mobile="12345")
    assert Person.objects.count() == 2


def test_person_creation_audit_masks_the_mobile(world):
    services.create_person(actor=world.staff, name="李四", mobile="13611112222")
    entry = AuditLog.objects.filter(action="orgs.person.created").latest("id")
    assert entry.data == {"mobile": "136****2222"}


def test_posts_have_terms_in_order_and_one_home(world):
    person = Person.objects.get(name="张建利")
    post = services.assign_position(
        actor=world.staff, person=person, title=Position.Title.CHAIR, organization=world.chamber1,
        term_start=datetime.date(2024, 1, 1), term_end=datetime.date(2028, 12, 31),
    )  # fmt: skip
    assert (post.title, post.organization, post.zone) == ("chair", world.chamber1, None)
    with pytest.raises(DomainError):
        services.assign_position(actor=world.staff, person=person, title="convenor")
    with pytest.raises(DomainError):
        services.assign_position(
            actor=world.staff, person=person, title="director", organization=world.chamber1,
            term_start=datetime.date(2025, 1, 1), term_end=datetime.date(2024, 1, 1),
        )  # fmt: skip


def test_zone_convenors_are_posts_in_the_zone(world):
    person = services.create_person(actor=world.staff, name="赵召集", mobile="13500001111")
    services.assign_position(actor=world.staff, person=person, title=Position.Title.CHIEF_CONVENOR, zone=world.zone)
    assert list(world.zone.positions.values_list("title", flat=True)) == ["chief_convenor"]


def test_directory_substring_search_finds_two_character_words_through_the_pair_index(world):
    from qiaoliang.orgs.selectors import search_enterprises

    everything = Enterprise.objects.all()
    assert list(search_enterprises(everything, "科技").values_list("name", flat=True)) == ["北京天马辉科技有限公司"]
    assert list(search_enterprises(everything, "軟件").values_list("name", flat=True)) == ["張家口軟件有限公司"]
    assert list(search_enterprises(everything, "鞋").values_list("name", flat=True)) == ["温州鞋业（北京）有限公司"]
    assert list(search_enterprises(everything, "鞋业(北京)").values_list("name", flat=True)) == [
        "温州鞋业（北京）有限公司"
    ]
    assert list(search_enterprises(everything, "天马科技")) == []  # pairs present, but not as a substring
    services.update_enterprise(actor=world.staff, enterprise=world.e1, name="北京天马辉网络有限公司")
    assert list(search_enterprises(everything, "科技")) == []  # the index follows renames
