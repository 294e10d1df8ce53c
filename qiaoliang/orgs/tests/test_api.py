"""REST API of the orgs app: scoping, permissions, search, writes, masking, token auth, query counts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import World, make_uscc
from qiaoliang.core.models import AuditLog, Notification
from qiaoliang.orgs import services
from qiaoliang.orgs.models import Enterprise, EnterpriseChangeRequest, Membership, Person

LIST_PATHS = [f"/api/v1/{name}/" for name in ["organizations", "zones", "enterprises", "memberships", "people"]]
PERSONAS = ["staff", "secretary", "convenor", "contact", "liaison", "provider", "outsider"]


def client_for(world: World, persona: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    # A session login loads a fresh user (and scope) per request, as a real client would.
    client.force_login(getattr(world, persona))
    return client


def ids(response: Any) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def membership(world: World, enterprise: Enterprise) -> Membership:
    return Membership.objects.get(enterprise=enterprise)


# --- the permission matrix -------------------------------------------------------------------

ENTERPRISE_LIST = {
    "staff": ["e1", "e2", "e3"],
    "secretary": ["e1"],
    "convenor": ["e1"],
    "contact": ["e1"],
    "liaison": [],
    "provider": [],
    "outsider": [],
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_enterprise_list_holds_exactly_the_enterprises_in_scope(world: World, persona: str) -> None:
    response = client_for(world, persona).get("/api/v1/enterprises/")

    assert response.status_code == 200
    expected = sorted(getattr(world, name).pk for name in ENTERPRISE_LIST[persona])
    assert sorted(ids(response)) == expected
    assert response.json()["count"] == len(expected)


#                  persona        (e1 retrieve, e2 retrieve, e1 update, e2 update)
ENTERPRISE_MATRIX = {
    "staff": (200, 200, 200, 200),
    "secretary": (200, 404, 200, 404),
    "convenor": (200, 404, 403, 404),
    "contact": (200, 404, 200, 404),
    "liaison": (404, 404, 404, 404),
    "provider": (404, 404, 404, 404),
    "outsider": (404, 404, 404, 404),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_enterprise_retrieve_and_update_answer_by_scope(world: World, persona: str) -> None:
    client = client_for(world, persona)

    codes = (
        client.get(f"/api/v1/enterprises/{world.e1.pk}/").status_code,
        client.get(f"/api/v1/enterprises/{world.e2.pk}/").status_code,
        client.patch(f"/api/v1/enterprises/{world.e1.pk}/", {"employees": 42}, format="json").status_code,
        client.patch(f"/api/v1/enterprises/{world.e2.pk}/", {"employees": 43}, format="json").status_code,
    )

    assert codes == ENTERPRISE_MATRIX[persona]
    world.e1.refresh_from_db()
    world.e2.refresh_from_db()
    assert world.e1.employees == (42 if codes[2] == 200 else None)
    assert world.e2.employees == (43 if codes[3] == 200 else None)


#                  persona        (create in C1, create in C2)
ENTERPRISE_CREATE_MATRIX = {
    "staff": (201, 201),
    "secretary": (201, 400),
    "convenor": (403, 403),
    "contact": (403, 403),
    "liaison": (403, 403),
    "provider": (403, 403),
    "outsider": (403, 403),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_enterprise_create_is_for_staff_and_secretaries_of_the_chosen_organisation(world: World, persona: str) -> None:
    client = client_for(world, persona)

    codes = tuple(
        client.post(
            "/api/v1/enterprises/",
            {"uscc": make_uscc(100 + n), "name": f"北京新会员{n}有限公司", "organization": org.pk},
            format="json",
        ).status_code
        for n, org in enumerate([world.chamber1, world.chamber2])
    )

    assert codes == ENTERPRISE_CREATE_MATRIX[persona]
    assert Enterprise.objects.filter(uscc=make_uscc(100)).exists() == (codes[0] == 201)
    assert Enterprise.objects.filter(uscc=make_uscc(101)).exists() == (codes[1] == 201)


#                  persona        (m1 retrieve, m2 retrieve, m1 update, m2 update)
MEMBERSHIP_MATRIX = {
    "staff": (200, 200, 200, 200),
    "secretary": (200, 404, 200, 404),
    "convenor": (200, 404, 403, 404),
    "contact": (200, 404, 403, 404),
    "liaison": (404, 404, 404, 404),
    "provider": (404, 404, 404, 404),
    "outsider": (404, 404, 404, 404),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_membership_retrieve_and_update_answer_by_scope(world: World, persona: str) -> None:
    client = client_for(world, persona)
    m1, m2 = membership(world, world.e1), membership(world, world.e2)

    codes = (
        client.get(f"/api/v1/memberships/{m1.pk}/").status_code,
        client.get(f"/api/v1/memberships/{m2.pk}/").status_code,
        client.patch(f"/api/v1/memberships/{m1.pk}/", {"level": "council"}, format="json").status_code,
        client.patch(f"/api/v1/memberships/{m2.pk}/", {"level": "council"}, format="json").status_code,
    )

    assert codes == MEMBERSHIP_MATRIX[persona]
    m1.refresh_from_db()
    m2.refresh_from_db()
    assert m1.level == ("council" if codes[2] == 200 else "president")
    assert m2.level == ("council" if codes[3] == 200 else "member")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("staff", ["e1", "e2", "e3"]),
        ("secretary", ["e1"]),
        ("convenor", ["e1"]),
        ("contact", ["e1"]),
        ("outsider", []),
    ],
)
def test_membership_list_holds_exactly_the_memberships_in_scope(
    world: World, persona: str, expected: list[str]
) -> None:
    response = client_for(world, persona).get("/api/v1/memberships/")

    assert response.status_code == 200
    assert sorted(row["enterprise"]["id"] for row in response.json()["results"]) == sorted(
        getattr(world, name).pk for name in expected
    )


def test_secretary_adds_a_visible_enterprise_to_a_chamber_in_their_subtree(world: World) -> None:
    branch = services.create_organization(
        actor=None, code="C1-1", name="朝阳区餐饮商会青年分会", kind="chamber", parent=world.chamber1
    )

    response = client_for(world, "secretary").post(
        "/api/v1/memberships/",
        {"enterprise": world.e1.pk, "organization": branch.pk, "level": "council", "joined_on": "2024-03-01"},
        format="json",
    )

    assert response.status_code == 201
    created = Membership.objects.get(enterprise=world.e1, organization=branch)
    assert response.json() == {
        "id": created.pk,
        "enterprise": {"id": world.e1.pk, "uscc": world.e1.uscc, "name": "北京天马辉科技有限公司"},
        "organization": {"id": branch.pk, "code": "C1-1", "name": "朝阳区餐饮商会青年分会"},
        "level": "council",
        "joined_on": "2024-03-01",
        "status": "active",
    }
    assert AuditLog.objects.filter(action="orgs.membership.created", target_id=str(created.pk)).count() == 1


def test_secretary_cannot_add_members_to_another_chamber_or_add_enterprises_they_cannot_see(world: World) -> None:
    client = client_for(world, "secretary")

    to_other_chamber = client.post(
        "/api/v1/memberships/", {"enterprise": world.e1.pk, "organization": world.chamber2.pk}, format="json"
    )
    invisible_enterprise = client.post(
        "/api/v1/memberships/", {"enterprise": world.e2.pk, "organization": world.chamber1.pk}, format="json"
    )

    assert to_other_chamber.status_code == 400
    assert list(to_other_chamber.json()) == ["organization"]
    assert invisible_enterprise.status_code == 400
    assert list(invisible_enterprise.json()) == ["enterprise"]
    assert Membership.objects.count() == 3


@pytest.mark.parametrize("persona", ["convenor", "contact", "outsider"])
def test_people_who_do_not_manage_members_cannot_add_memberships(world: World, persona: str) -> None:
    response = client_for(world, persona).post(
        "/api/v1/memberships/", {"enterprise": world.e1.pk, "organization": world.chamber2.pk}, format="json"
    )

    assert response.status_code == 403
    assert Membership.objects.count() == 3


def test_a_second_membership_in_the_same_organisation_is_a_domain_error(world: World) -> None:
    response = client_for(world, "staff").post(
        "/api/v1/memberships/", {"enterprise": world.e1.pk, "organization": world.chamber1.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "北京天马辉科技有限公司 is already a member of 朝阳区餐饮商会.",
        "code": "membership",
    }
    assert Membership.objects.count() == 3


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("staff", ["F", "D1", "C1", "C2", "A1"]),
        ("secretary", ["F", "D1", "C1"]),
        ("convenor", ["F", "D1", "C1"]),
        ("contact", ["F", "D1", "C1"]),
        ("outsider", ["F"]),
    ],
)
def test_organisation_list_in_tree_order_holds_what_the_user_may_see(
    world: World, persona: str, expected: list[str]
) -> None:
    response = client_for(world, persona).get("/api/v1/organizations/")

    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == expected


def test_organisations_filter_by_kind_and_parent(world: World) -> None:
    client = client_for(world, "staff")

    chambers = client.get("/api/v1/organizations/", {"kind": "chamber"})
    children = client.get("/api/v1/organizations/", {"parent": world.district.pk})

    assert [row["code"] for row in chambers.json()["results"]] == ["C1", "C2"]
    assert [row["code"] for row in children.json()["results"]] == ["C1", "C2"]


def test_an_organisation_outside_scope_is_not_found(world: World) -> None:
    client = client_for(world, "secretary")

    assert client.get(f"/api/v1/organizations/{world.chamber1.pk}/").status_code == 200
    assert client.get(f"/api/v1/organizations/{world.chamber2.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("staff", ["Z1"]), ("secretary", ["Z1"]), ("convenor", ["Z1"]), ("contact", ["Z1"]), ("outsider", [])],
)
def test_zone_list_holds_zones_with_a_visible_organisation(world: World, persona: str, expected: list[str]) -> None:
    response = client_for(world, persona).get("/api/v1/zones/")

    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == expected


def test_zone_shows_its_organisation_ids(world: World) -> None:
    response = client_for(world, "convenor").get(f"/api/v1/zones/{world.zone.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": world.zone.pk,
        "code": "Z1",
        "name": "东部片区",
        "federation": world.federation.pk,
        "organizations": [world.chamber1.pk],
        "description": "",
    }
    assert client_for(world, "outsider").get(f"/api/v1/zones/{world.zone.pk}/").status_code == 404


# --- enterprise output, search and filters --------------------------------------------------


def test_enterprise_detail_shows_industry_region_and_memberships(world: World) -> None:
    response = client_for(world, "secretary").get(f"/api/v1/enterprises/{world.e1.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["uscc"] == make_uscc(1)
    assert body["name"] == "北京天马辉科技有限公司"
    assert body["industry"]["code"] == "6511"
    assert body["region"]["code"] == "110105"
    assert body["size"] == "small"
    assert body["memberships"] == [
        {
            "id": membership(world, world.e1).pk,
            "organization": world.chamber1.pk,
            "organization_name": "朝阳区餐饮商会",
            "level": "president",
            "joined_on": "2020-01-01",
            "status": "active",
        }
    ]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("張家口", ["e3"]),
        ("张家口", ["e3"]),
        ("bjtmh", ["e1"]),
        ("BJTMH", ["e1"]),
        ("天马", ["e1"]),
        ("温州", ["e2"]),
        ("zzz", []),
    ],
)
def test_enterprise_search_finds_names_traditional_input_and_pinyin_initials(
    world: World, search: str, expected: list[str]
) -> None:
    response = client_for(world, "staff").get("/api/v1/enterprises/", {"search": search})

    assert response.status_code == 200
    assert ids(response) == [getattr(world, name).pk for name in expected]


def test_enterprise_search_by_exact_uscc(world: World) -> None:
    response = client_for(world, "staff").get("/api/v1/enterprises/", {"search": make_uscc(2)})

    assert ids(response) == [world.e2.pk]


def test_enterprise_search_stays_in_scope(world: World) -> None:
    response = client_for(world, "secretary").get("/api/v1/enterprises/", {"search": "張家口"})

    assert response.status_code == 200
    assert ids(response) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"industry": "651"}, ["e1", "e3"]),
        ({"industry": "6511"}, ["e1"]),
        ({"industry": "I"}, ["e1", "e3"]),
        ({"region": "130000"}, ["e3"]),
        ({"size": "medium"}, ["e2"]),
        ({"level": "president"}, ["e1"]),
        ({"status": "active", "size": "micro"}, ["e3"]),
    ],
)
def test_enterprise_directory_filters_match_the_web_ui(
    world: World, params: dict[str, str], expected: list[str]
) -> None:
    response = client_for(world, "staff").get("/api/v1/enterprises/", params)

    assert response.status_code == 200
    assert sorted(ids(response)) == sorted(getattr(world, name).pk for name in expected)


def test_enterprise_filter_by_organization(world: World) -> None:
    response = client_for(world, "staff").get("/api/v1/enterprises/", {"organization": world.chamber2.pk})

    assert ids(response) == [world.e2.pk]


def test_enterprise_filter_with_an_unknown_choice_is_a_bad_request(world: World) -> None:
    response = client_for(world, "staff").get("/api/v1/enterprises/", {"size": "huge"})

    assert response.status_code == 400
    assert list(response.json()) == ["size"]


# --- enterprise writes -------------------------------------------------------------------------


def test_staff_creates_an_enterprise_with_its_membership(world: World) -> None:
    response = client_for(world, "staff").post(
        "/api/v1/enterprises/",
        {
            "uscc": make_uscc(200).lower(),
            "name": "  北京新星餐饮管理有限公司 ",
            "organization": world.chamber1.pk,
            "level": "council",
            "joined_on": "2024-05-06",
            "industry": "6511",
            "region": "110105",
            "size": "micro",
            "employees": 12,
        },
        format="json",
    )

    assert response.status_code == 201
    enterprise = Enterprise.objects.get(uscc=make_uscc(200))
    body = response.json()
    assert body["id"] == enterprise.pk
    assert body["name"] == "北京新星餐饮管理有限公司"
    assert body["uscc"] == make_uscc(200)
    assert body["industry"]["code"] == "6511"
    assert body["employees"] == 12
    assert [(m["organization"], m["level"], m["joined_on"]) for m in body["memberships"]] == [
        (world.chamber1.pk, "council", "2024-05-06")
    ]
    assert AuditLog.objects.filter(action="orgs.enterprise.created", target_id=str(enterprise.pk)).count() == 1


def test_staff_may_create_an_enterprise_without_an_organisation_but_a_secretary_may_not(world: World) -> None:
    staff = client_for(world, "staff").post(
        "/api/v1/enterprises/", {"uscc": make_uscc(201), "name": "独立企业有限公司"}, format="json"
    )
    secretary = client_for(world, "secretary").post(
        "/api/v1/enterprises/", {"uscc": make_uscc(202), "name": "另一家企业有限公司"}, format="json"
    )

    assert staff.status_code == 201
    assert staff.json()["memberships"] == []
    assert secretary.status_code == 400
    assert list(secretary.json()) == ["organization"]
    assert not Enterprise.objects.filter(uscc=make_uscc(202)).exists()


def test_create_with_a_bad_uscc_check_character_is_rejected_and_writes_nothing(world: World) -> None:
    good = make_uscc(300)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = (Enterprise.objects.count(), Membership.objects.count(), AuditLog.objects.count())

    response = client_for(world, "staff").post(
        "/api/v1/enterprises/", {"uscc": bad, "name": "校验位错误有限公司", "organization": world.chamber1.pk},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {
        "uscc": [f"The check character of unified social credit code {bad} is wrong (expected {good[17]})."]
    }
    assert (Enterprise.objects.count(), Membership.objects.count(), AuditLog.objects.count()) == before


def test_create_with_a_uscc_already_registered_is_a_domain_error(world: World) -> None:
    response = client_for(world, "staff").post(
        "/api/v1/enterprises/", {"uscc": make_uscc(1), "name": "重复企业有限公司"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"An enterprise with unified social credit code {make_uscc(1)} already exists.",
        "code": "uscc",
    }
    assert Enterprise.objects.count() == 3


def test_create_reports_every_bad_field(world: World) -> None:
    response = client_for(world, "staff").post(
        "/api/v1/enterprises/",
        {"uscc": "123", "name": "", "industry": "99999", "size": "huge", "organization": 999999},
        format="json",
    )

    assert response.status_code == 400
    assert sorted(response.json()) == ["industry", "name", "organization", "size", "uscc"]
    assert response.json()["uscc"] == ["The unified social credit code must have 18 characters, not 3."]


def test_contact_updates_details_at_once_and_key_fields_wait_for_review(world: World) -> None:
    response = client_for(world, "contact").patch(
        f"/api/v1/enterprises/{world.e1.pk}/",
        {"name": "北京天马辉智能科技有限公司", "website": "https://tmh.example.cn"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["name"] == "北京天马辉科技有限公司"  # the name waits for the secretary
    world.e1.refresh_from_db()
    assert world.e1.website == "https://tmh.example.cn"
    entry = AuditLog.objects.get(action="orgs.enterprise.updated", target_id=str(world.e1.pk))
    assert entry.actor == world.contact
    assert entry.data == {"website": ["", "https://tmh.example.cn"]}
    request = EnterpriseChangeRequest.objects.get(enterprise=world.e1)
    assert (request.status, request.changes) == (
        "pending",
        {"name": ["北京天马辉科技有限公司", "北京天马辉智能科技有限公司"]},
    )
    assert Notification.objects.filter(user=world.secretary, kind="orgs.enterprise.change_requested").count() == 1

    response = client_for(world, "secretary").post(f"/orgs/changes/{request.pk}/", {"action": "approve"})
    assert response.status_code == 302
    world.e1.refresh_from_db()
    assert world.e1.name == "北京天马辉智能科技有限公司"
    assert world.e1.name_initials.startswith("bjtmhzn")
    assert Notification.objects.filter(user=world.contact, kind="orgs.enterprise.change_approved").count() == 1


def test_update_cannot_change_the_uscc(world: World) -> None:
    response = client_for(world, "staff").patch(
        f"/api/v1/enterprises/{world.e1.pk}/", {"uscc": make_uscc(9)}, format="json"
    )

    assert response.status_code == 200
    world.e1.refresh_from_db()
    assert world.e1.uscc == make_uscc(1)


def test_put_is_not_offered(world: World) -> None:
    response = client_for(world, "staff").put(f"/api/v1/enterprises/{world.e1.pk}/", {"name": "x"}, format="json")

    assert response.status_code == 405


# --- people and personal data ------------------------------------------------------------------

#                  persona        {person name: shown mobile}
PEOPLE = {
    "staff": {"张建利": "13812345678", "王小明": "13987654321"},
    "secretary": {"张建利": "13812345678"},
    "convenor": {"张建利": "138****5678"},
    "contact": {"张建利": "13812345678"},
    "outsider": {},
}


@pytest.mark.parametrize("persona", list(PEOPLE))
def test_people_list_masks_mobiles_unless_the_user_may_see_personal_data(world: World, persona: str) -> None:
    response = client_for(world, persona).get("/api/v1/people/")

    assert response.status_code == 200
    assert {row["name"]: row["mobile"] for row in response.json()["results"]} == PEOPLE[persona]


def test_masked_person_hides_email_too(world: World) -> None:
    person = Person.objects.get(name="张建利")
    services.update_person(actor=None, person=person, email="zhang.jianli@tmh.example.cn")

    masked = client_for(world, "convenor").get(f"/api/v1/people/{person.pk}/").json()
    shown = client_for(world, "secretary").get(f"/api/v1/people/{person.pk}/").json()

    assert (masked["mobile"], masked["email"], masked["is_masked"]) == ("138****5678", "z***@tmh.example.cn", True)
    assert (shown["mobile"], shown["email"], shown["is_masked"]) == (
        "13812345678",
        "zhang.jianli@tmh.example.cn",
        False,
    )


def test_viewing_unmasked_personal_data_writes_one_audit_entry_per_request(world: World) -> None:
    people = sorted(Person.objects.values_list("pk", flat=True))

    client_for(world, "staff").get("/api/v1/people/")

    entries = AuditLog.objects.filter(action="orgs.person.personal_data_viewed")
    assert [(e.actor, e.data) for e in entries] == [(world.staff, {"people": people})]


def test_viewing_only_masked_people_writes_no_audit_entry(world: World) -> None:
    response = client_for(world, "convenor").get("/api/v1/people/")

    assert response.status_code == 200
    assert not AuditLog.objects.filter(action="orgs.person.personal_data_viewed").exists()


def test_person_outside_scope_is_not_found(world: World) -> None:
    other = Person.objects.get(name="王小明")

    assert client_for(world, "secretary").get(f"/api/v1/people/{other.pk}/").status_code == 404


def test_people_filter_by_enterprise(world: World) -> None:
    response = client_for(world, "staff").get("/api/v1/people/", {"enterprise": world.e2.pk})

    assert [row["name"] for row in response.json()["results"]] == ["王小明"]


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize("path", LIST_PATHS)
def test_anonymous_requests_are_unauthorised(db: Any, path: str) -> None:
    response = APIClient().get(path)

    assert response.status_code == 401


def test_token_from_drf_create_token_authenticates(world: World) -> None:
    out = io.StringIO()
    call_command("drf_create_token", "secretary", stdout=out)
    token = Token.objects.get(user=world.secretary)
    assert token.key in out.getvalue()
    client = APIClient()

    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/enterprises/")

    assert response.status_code == 200
    assert ids(response) == [world.e1.pk]


def test_a_wrong_token_is_unauthorised(world: World) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert client.get("/api/v1/enterprises/").status_code == 401


# --- query counts --------------------------------------------------------------------------


@pytest.fixture
def crowd(world: World) -> World:
    """Add 15 enterprises to chamber C1 (each with a contact and a second membership in C2), 10 chambers, 7 zones."""
    for n in range(15):
        enterprise = services.create_enterprise(
            actor=None, uscc=make_uscc(1000 + n), name=f"北京批量企业{n:02d}有限公司", organization=world.chamber1,
            industry_id="6511", region_id="110105",
        )  # fmt: skip
        services.add_membership(actor=None, enterprise=enterprise, organization=world.chamber2)
        services.create_person(
            actor=None, name=f"联系人{n:02d}", mobile=f"1350000{n:04d}", enterprise=enterprise, is_primary_contact=True
        )
    chambers = [
        services.create_organization(
            actor=None, code=f"C1-{n}", name=f"朝阳区第{n}商会", kind="chamber", parent=world.chamber1
        )
        for n in range(10)
    ]
    for n in range(7):
        services.create_zone(
            actor=None, code=f"Z2-{n}", name=f"片区{n}", federation=world.federation, organizations=chambers[n : n + 3]
        )
    return world


def count_queries(client: APIClient, path: str, page_size: int) -> tuple[int, int]:
    client.get(path, {"page_size": page_size})  # warm: the user's scope is cached after the first request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"page_size": page_size})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("persona", ["staff", "secretary"])
@pytest.mark.parametrize("path", LIST_PATHS)
def test_list_query_count_does_not_grow_with_page_size(crowd: World, persona: str, path: str) -> None:
    client = client_for(crowd, persona)

    small, small_rows = count_queries(client, path, 5)
    large, large_rows = count_queries(client, path, 50)

    assert large == small
    assert small_rows == 5
    assert large_rows > 5


def test_enterprise_list_shows_memberships_the_user_may_see(crowd: World) -> None:
    query = {"search": "北京批量企业00"}
    staff = client_for(crowd, "staff").get("/api/v1/enterprises/", query).json()["results"]
    secretary = client_for(crowd, "secretary").get("/api/v1/enterprises/", query).json()["results"]

    assert [m["organization_name"] for m in staff[0]["memberships"]] == ["朝阳区餐饮商会", "北京温州商会"]
    assert [m["organization_name"] for m in secretary[0]["memberships"]] == ["朝阳区餐饮商会"]


def test_the_fast_enterprise_output_is_what_the_declared_fields_give(world: World) -> None:
    import datetime

    from django.db.models import Prefetch

    from qiaoliang.orgs.api.serializers import EnterpriseSerializer

    full = services.create_enterprise(
        actor=None, uscc=make_uscc(90), name="北京全字段科技有限公司", organization=world.chamber1, level="council",
        joined_on=datetime.date(2021, 3, 4), size="large", industry_id="6511", region_id="110105",
    )  # fmt: skip
    Enterprise.objects.filter(pk=full.pk).update(
        short_name="全字段", ownership="private", founded_on=datetime.date(2001, 2, 3), employees=321,
        main_business="软件开发", website="https://example.com/", address="北京市朝阳区",
    )  # fmt: skip
    Membership.objects.create(enterprise=full, organization=world.association, status=Membership.Status.SUSPENDED)
    memberships = Membership.objects.select_related("organization").order_by("organization__path")
    enterprises = list(
        Enterprise.objects.select_related("industry", "region")
        .prefetch_related(Prefetch("memberships", queryset=memberships))
        .order_by("pk")
    )
    assert len(enterprises) == 4 and any(e.website == "" and e.founded_on is None for e in enterprises)
    serializer = EnterpriseSerializer()
    for enterprise in enterprises:
        assert serializer.to_representation(enterprise) == serializer.drf_representation(enterprise)

    response = client_for(world, "staff").get(f"/api/v1/enterprises/{full.pk}/")
    assert response.status_code == 200
    assert response.json()["founded_on"] == "2001-02-03" and response.json()["website"] == "https://example.com/"
    assert {m["status"] for m in response.json()["memberships"]} == {"active", "suspended"}
