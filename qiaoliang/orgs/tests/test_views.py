"""The roster's web pages: rendering, scoping, search, masking, audit and forms."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_uscc
from qiaoliang.core.models import AuditLog
from qiaoliang.orgs import services
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Position

pytestmark = pytest.mark.django_db


def directory_names(response) -> list[str]:
    return [e["name"] for e in response.context["enterprises"]]


# --- every page renders ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("core:home", (), 'data-testid="count-enterprises">3<'),
        ("orgs:tree", (), "朝阳区餐饮商会"),
        ("orgs:organization", ("chamber1",), "北京天马辉科技有限公司"),
        ("orgs:organization_edit", ("chamber1",), "朝阳区餐饮商会"),
        ("orgs:zones", (), "东部片区"),
        ("orgs:zone", ("zone",), "朝阳区餐饮商会"),
        ("orgs:directory", (), "張家口軟件有限公司"),
        ("orgs:enterprise", ("e1",), "北京天马辉科技有限公司"),
        ("orgs:enterprise_edit", ("e1",), "北京天马辉科技有限公司"),
        ("orgs:enterprise_create", (), "朝阳区餐饮商会"),
        ("orgs:people", (), "张建利"),
    ],
)
def test_each_page_renders_for_staff_in_chinese(client, world, name, args, expected):
    client.force_login(world.staff)
    url = reverse(name, args=[getattr(world, arg).pk for arg in args])

    response = client.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="zh-hans">' in content
    assert expected in content


def test_person_page_shows_posts(client, world):
    person = services.create_person(actor=None, name="李秘书", mobile="13511112222")
    services.assign_position(
        actor=None, person=person, title=Position.Title.SECRETARY_GENERAL, organization=world.chamber1
    )
    client.force_login(world.staff)

    response = client.get(reverse("orgs:person", args=[person.pk]))

    assert response.status_code == 200
    assert "李秘书" in response.content.decode()
    assert "朝阳区餐饮商会" in response.content.decode()


def test_zone_page_lists_convenors_by_group(client, world):
    chief = services.create_person(actor=None, name="赵总召", mobile="13511113333")
    member = services.create_person(actor=None, name="钱秘书", mobile="13511114444")
    services.assign_position(actor=None, person=chief, title=Position.Title.CHIEF_CONVENOR, zone=world.zone)
    services.assign_position(actor=None, person=member, title=Position.Title.SECRETARIAT, zone=world.zone)
    client.force_login(world.convenor)

    response = client.get(reverse("orgs:zone", args=[world.zone.pk]))

    assert response.status_code == 200
    assert [p.person.name for p in response.context["chief_convenors"]] == ["赵总召"]
    assert [p.person.name for p in response.context["secretariat"]] == ["钱秘书"]
    assert response.context["convenors"] == []


def test_tree_lists_visible_organisations_with_member_counts(client, world):
    client.force_login(world.secretary)

    response = client.get(reverse("orgs:tree"))

    rows = [(org.code, org.depth, org.member_count) for org in response.context["organizations"]]
    assert rows == [("F", 0, 0), ("D1", 1, 0), ("C1", 2, 1)]


# --- scoping ------------------------------------------------------------------------------


def test_secretary_gets_404_on_another_chambers_enterprise_and_its_edit_page(client, world):
    client.force_login(world.secretary)

    assert client.get(reverse("orgs:enterprise", args=[world.e2.pk])).status_code == 404
    assert client.get(reverse("orgs:enterprise_edit", args=[world.e2.pk])).status_code == 404
    assert client.get(reverse("orgs:enterprise", args=[world.e1.pk])).status_code == 200
    assert client.get(reverse("orgs:enterprise_edit", args=[world.e1.pk])).status_code == 200


def test_convenor_sees_zone_member_but_may_not_edit_it(client, world):
    client.force_login(world.convenor)

    assert client.get(reverse("orgs:enterprise", args=[world.e1.pk])).status_code == 200
    assert client.get(reverse("orgs:enterprise_edit", args=[world.e1.pk])).status_code == 403
    assert client.get(reverse("orgs:enterprise", args=[world.e2.pk])).status_code == 404


def test_outsider_sees_an_empty_directory(client, world):
    client.force_login(world.outsider)

    response = client.get(reverse("orgs:directory"))

    assert response.status_code == 200
    assert directory_names(response) == []
    assert response.context["page"].paginator.count == 0


def test_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get(reverse("orgs:directory"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_secretary_edits_own_organisation_but_not_its_parent_or_a_sibling(client, world):
    client.force_login(world.secretary)

    assert client.get(reverse("orgs:organization_edit", args=[world.district.pk])).status_code == 403
    assert client.get(reverse("orgs:organization_edit", args=[world.chamber2.pk])).status_code == 404
    response = client.post(
        reverse("orgs:organization_edit", args=[world.chamber1.pk]),
        {"name": "朝阳区餐饮行业商会", "short_name": "餐饮商会", "kind": "chamber", "chamber_kind": "industry",
         "region_code": "110105", "contact_phone": "010-88886666"},
    )  # fmt: skip

    assert response.status_code == 302
    world.chamber1.refresh_from_db()
    assert (world.chamber1.name, world.chamber1.region_id) == ("朝阳区餐饮行业商会", "110105")
    entry = AuditLog.objects.get(action="orgs.organization.updated")
    assert entry.actor == world.secretary


def test_organisation_edit_rejects_chamber_kind_on_an_association(client, world):
    client.cookies["django_language"] = "en"  # the assertions quote the English messages
    client.force_login(world.staff)

    response = client.post(
        reverse("orgs:organization_edit", args=[world.association.pk]),
        {"name": "北京市软件行业协会", "kind": "association", "chamber_kind": "industry"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"chamber_kind": ["Only a chamber of commerce has a chamber kind."]}


def test_organisation_page_pages_members_50_at_a_time(client, world):
    for serial in range(100, 151):
        services.create_enterprise(
            actor=None, uscc=make_uscc(serial), name=f"测试企业{serial}", organization=world.chamber1
        )
    client.force_login(world.staff)

    first = client.get(reverse("orgs:organization", args=[world.chamber1.pk]))
    second = client.get(reverse("orgs:organization", args=[world.chamber1.pk]), {"page": 2}, HTTP_HX_REQUEST="true")

    assert len(first.context["members"].object_list) == 50
    assert first.context["members"].paginator.count == 52
    assert len(second.context["members"].object_list) == 2
    assert "<html" not in second.content.decode()


# --- directory search and filters -------------------------------------------------------------


def test_directory_finds_simplified_name_from_traditional_input(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), {"q": "張家口"})

    assert directory_names(response) == ["張家口軟件有限公司"]


def test_directory_finds_enterprise_by_pinyin_initials(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), {"q": "bjtmh"})

    assert directory_names(response) == ["北京天马辉科技有限公司"]


def test_directory_finds_enterprise_by_credit_code(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), {"q": world.e2.uscc.lower()})

    assert directory_names(response) == ["温州鞋业（北京）有限公司"]


def test_directory_sorts_by_pinyin(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"))

    assert directory_names(response) == ["北京天马辉科技有限公司", "温州鞋业（北京）有限公司", "張家口軟件有限公司"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"industry": "I"}, ["北京天马辉科技有限公司", "張家口軟件有限公司"]),
        ({"industry": "6513"}, ["張家口軟件有限公司"]),
        ({"region": "130000"}, ["張家口軟件有限公司"]),
        ({"region": "110100"}, ["北京天马辉科技有限公司", "温州鞋业（北京）有限公司"]),
        ({"size": "medium"}, ["温州鞋业（北京）有限公司"]),
        ({"organization": "C2"}, ["温州鞋业（北京）有限公司"]),
        ({"level": "president"}, ["北京天马辉科技有限公司"]),
        ({"industry": "I", "region": "110000"}, ["北京天马辉科技有限公司"]),
    ],
)
def test_directory_filters(client, world, params, expected):
    params = dict(params)
    if "organization" in params:
        params["organization"] = str(Organization.objects.get(code=params["organization"]).pk)
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), params)

    assert directory_names(response) == expected


def test_directory_export_link_carries_the_filters(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), {"q": "bjtmh", "size": "small", "page": "1"})

    assert response.context["export_url"] == reverse("orgs:directory_export") + "?q=bjtmh&size=small"
    assert 'href="/orgs/members/export/?q=bjtmh&amp;size=small"' in response.content.decode()


def test_directory_htmx_request_returns_only_the_results_partial(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), {"q": "bjtmh"}, HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "orgs/partials/directory_results.html"
    assert "<html" not in content
    assert "北京天马辉科技有限公司" in content
    assert "HX-Request" in response["Vary"]


def test_directory_history_restore_gets_the_whole_page(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert "<html" in response.content.decode()


def _add_members(count: int, organization: Organization, start: int) -> None:
    for serial in range(start, start + count):
        enterprise = services.create_enterprise(
            actor=None, uscc=make_uscc(serial), name=f"会员企业{serial:04d}", organization=organization,
            industry_id="6511", region_id="110105", size="small",
        )  # fmt: skip
        services.create_person(
            actor=None,
            name=f"联系人{serial}",
            mobile=f"135{serial:08d}",
            enterprise=enterprise,
            is_primary_contact=True,
        )


def _directory_queries(client, user) -> tuple[int, int]:
    client.force_login(user)
    client.get(reverse("orgs:directory"))  # warm the per-process caches (industry and region choices)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("orgs:directory"))
    assert response.status_code == 200
    return len(queries), len(response.context["enterprises"])


@pytest.mark.parametrize(("persona", "rows"), [("staff", (5, 30)), ("secretary", (3, 28))])
def test_directory_query_count_does_not_grow_with_page_size(client, world, persona, rows):
    user = getattr(world, persona)
    _add_members(2, world.chamber1, start=1000)
    small_queries, small_rows = _directory_queries(client, user)

    _add_members(25, world.chamber1, start=2000)
    large_queries, large_rows = _directory_queries(client, user)

    assert (small_rows, large_rows) == rows
    assert large_queries == small_queries


# --- masking and audit of personal data ------------------------------------------------------------


def test_staff_sees_full_mobile_in_directory_and_the_view_is_audited(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:directory"), {"q": "bjtmh"})

    content = response.content.decode()
    assert "13812345678" in content
    assert "138****5678" not in content
    entry = AuditLog.objects.get(action="orgs.directory.personal_data_viewed")
    assert (entry.actor, entry.data) == (world.staff, {"enterprises": [world.e1.pk]})


def test_convenor_sees_zone_members_mobile_masked_and_nothing_is_audited(client, world):
    # A convenor coordinates the zone's chambers but does not manage their members: no personal data.
    client.force_login(world.convenor)

    response = client.get(reverse("orgs:directory"))

    content = response.content.decode()
    assert directory_names(response) == ["北京天马辉科技有限公司"]
    assert "138****5678" in content
    assert "13812345678" not in content
    assert not AuditLog.objects.filter(action="orgs.directory.personal_data_viewed").exists()


def test_secretary_sees_own_members_mobile_in_full(client, world):
    client.force_login(world.secretary)

    response = client.get(reverse("orgs:directory"))

    assert "13812345678" in response.content.decode()
    assert AuditLog.objects.get(action="orgs.directory.personal_data_viewed").actor == world.secretary


def test_enterprise_page_masks_mobile_for_convenor(client, world):
    client.force_login(world.convenor)

    response = client.get(reverse("orgs:enterprise", args=[world.e1.pk]))

    assert "138****5678" in response.content.decode()
    assert "13812345678" not in response.content.decode()
    assert not AuditLog.objects.filter(action="orgs.enterprise.personal_data_viewed").exists()


def test_enterprise_page_with_unmasked_contacts_is_audited(client, world):
    client.force_login(world.staff)

    response = client.get(reverse("orgs:enterprise", args=[world.e1.pk]))

    assert "13812345678" in response.content.decode()
    entry = AuditLog.objects.get(action="orgs.enterprise.personal_data_viewed")
    assert (entry.actor, entry.target_id, entry.target_type) == (world.staff, str(world.e1.pk), "orgs.enterprise")
    assert entry.data == {"people": [world.e1.people.get().pk]}


def test_people_list_is_scoped_and_searchable_by_pinyin(client, world):
    client.force_login(world.secretary)

    everyone = client.get(reverse("orgs:people"))
    found = client.get(reverse("orgs:people"), {"q": "zhang"})
    nobody = client.get(reverse("orgs:people"), {"q": "wang"})

    assert [p.name for p in everyone.context["people"]] == ["张建利"]
    assert [p.name for p in found.context["people"]] == ["张建利"]
    assert list(nobody.context["people"]) == []


def test_people_list_is_empty_for_an_outsider(client, world):
    client.force_login(world.outsider)

    response = client.get(reverse("orgs:people"))

    assert list(response.context["people"]) == []


def test_person_page_of_another_chamber_is_404_for_secretary(client, world):
    client.force_login(world.secretary)
    other = world.e2.people.get()

    assert client.get(reverse("orgs:person", args=[other.pk])).status_code == 404


# --- forms ---------------------------------------------------------------------------------------------------


def _create_payload(world, **overrides):
    payload = {
        "uscc": make_uscc(77),
        "name": "北京新桥科技有限公司",
        "organization": str(world.chamber1.pk),
        "level": "council",
        "joined_on": "2024-03-01",
        "industry_code": "6511",
        "region_code": "110105",
        "size": "small",
        "ownership": "private",
    }
    payload.update(overrides)
    return payload


def test_create_enterprise_with_bad_check_digit_shows_the_error_and_writes_nothing(client, world):
    client.cookies["django_language"] = "en"  # the assertions quote the English messages
    good = make_uscc(77)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    client.force_login(world.secretary)
    audit_before = AuditLog.objects.count()

    response = client.post(reverse("orgs:enterprise_create"), _create_payload(world, uscc=bad))

    assert response.status_code == 200
    assert response.context["form"].errors["uscc"] == [
        f"The check character of unified social credit code {bad} is wrong (expected {good[17]})."
    ]
    assert Enterprise.objects.count() == 3
    assert AuditLog.objects.count() == audit_before


def test_create_enterprise_rejects_unknown_industry_and_region_codes(client, world):
    client.cookies["django_language"] = "en"  # the assertions quote the English messages
    client.force_login(world.staff)

    response = client.post(
        reverse("orgs:enterprise_create"), _create_payload(world, industry_code="9999", region_code="999999")
    )

    assert response.context["form"].errors == {
        "industry_code": ["9999 is not a GB/T 4754-2017 industry code."],
        "region_code": [
            "999999 is not a GB/T 2260 region code (neither in the current table nor in an earlier revision)."
        ],
    }
    assert Enterprise.objects.count() == 3


def test_create_enterprise_with_duplicate_credit_code_shows_the_error(client, world):
    client.cookies["django_language"] = "en"  # the assertions quote the English messages
    client.force_login(world.staff)

    response = client.post(reverse("orgs:enterprise_create"), _create_payload(world, uscc=world.e1.uscc))

    assert response.status_code == 200
    assert response.context["form"].errors["uscc"] == [
        f"An enterprise with unified social credit code {world.e1.uscc} already exists."
    ]


def test_secretary_creates_enterprise_in_own_chamber(client, world):
    client.force_login(world.secretary)

    response = client.post(reverse("orgs:enterprise_create"), _create_payload(world))

    enterprise = Enterprise.objects.get(name="北京新桥科技有限公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:enterprise", args=[enterprise.pk])
    assert (enterprise.industry_id, enterprise.region_id, enterprise.size) == ("6511", "110105", "small")
    membership = Membership.objects.get(enterprise=enterprise)
    assert (membership.organization, membership.level, membership.joined_on) == (
        world.chamber1,
        "council",
        datetime.date(2024, 3, 1),
    )
    entries = AuditLog.objects.filter(actor=world.secretary).order_by("id")
    assert [(e.action, e.target_id) for e in entries] == [
        ("orgs.enterprise.created", str(enterprise.pk)),
        ("orgs.membership.created", str(membership.pk)),
    ]


def test_secretary_cannot_create_enterprise_in_another_chamber(client, world):
    client.force_login(world.secretary)

    response = client.post(
        reverse("orgs:enterprise_create"), _create_payload(world, organization=str(world.chamber2.pk))
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["organization"]
    assert Enterprise.objects.count() == 3


def test_create_page_is_forbidden_to_users_who_manage_no_organisation(client, world):
    client.force_login(world.convenor)

    assert client.get(reverse("orgs:enterprise_create")).status_code == 403


def test_secretary_edits_enterprise_profile_through_the_service(client, world):
    client.force_login(world.secretary)

    response = client.post(
        reverse("orgs:enterprise_edit", args=[world.e1.pk]),
        {"name": "北京天马辉科技股份有限公司", "industry_code": "6513", "region_code": "110105", "size": "medium",
         "employees": "120", "website": "tianmahui.example.cn", "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    world.e1.refresh_from_db()
    assert (world.e1.name, world.e1.industry_id, world.e1.size, world.e1.employees) == (
        "北京天马辉科技股份有限公司",
        "6513",
        "medium",
        120,
    )
    assert world.e1.website == "https://tianmahui.example.cn"
    assert world.e1.name_initials == "bjtmhkjgfyxgs"
    assert AuditLog.objects.filter(action="orgs.enterprise.updated", actor=world.secretary).count() == 1


# --- navigation -------------------------------------------------------------------------------------------------


def test_navigation_offers_import_only_to_those_who_may_import(client, world):
    import_url = reverse("orgs:roster_import")

    client.force_login(world.secretary)
    secretary_page = client.get(reverse("core:home")).content.decode()
    client.force_login(world.convenor)
    convenor_page = client.get(reverse("core:home")).content.decode()

    assert f'href="{import_url}"' in secretary_page
    assert f'href="{import_url}"' not in convenor_page


def test_navigation_offers_back_office_only_to_staff_users(client, world):
    admin_url = reverse("admin:index")
    world.staff.is_staff = True
    world.staff.save(update_fields=["is_staff"])

    client.force_login(world.staff)
    staff_page = client.get(reverse("core:home")).content.decode()
    client.force_login(world.secretary)
    secretary_page = client.get(reverse("core:home")).content.decode()

    assert f'href="{admin_url}"' in staff_page
    assert f'href="{admin_url}"' not in secretary_page
    assert f'href="{reverse("accounts:otp_setup")}"' in secretary_page


def test_zones_are_hidden_from_users_who_see_none_of_their_organisations(client, world):
    client.force_login(world.outsider)

    assert list(client.get(reverse("orgs:zones")).context["zones"]) == []
    assert client.get(reverse("orgs:zone", args=[world.zone.pk])).status_code == 404


def test_secretary_sees_the_zone_holding_their_chamber(client, world):
    client.force_login(world.secretary)

    response = client.get(reverse("orgs:zones"))

    assert [(z.name, z.organization_count) for z in response.context["zones"]] == [("东部片区", 1)]


def test_directory_rows_escape_what_members_typed(client, world):
    services.create_enterprise(
        actor=None, uscc=make_uscc(77), name='<b>坏名</b>&"x"有限公司', organization=world.chamber1
    )
    Organization.objects.filter(pk=world.chamber1.pk).update(short_name="<i>餐饮</i>")
    client.force_login(world.staff)
    body = client.get(reverse("orgs:directory")).content.decode()
    assert "&lt;b&gt;坏名&lt;/b&gt;&amp;&quot;x&quot;有限公司" in body
    assert "&lt;i&gt;餐饮&lt;/i&gt;" in body  # the membership's organisation
    assert "<b>坏名" not in body and "<i>餐饮" not in body
