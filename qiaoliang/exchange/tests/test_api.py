"""REST API of the exchange: listings (scoped, filtered, lifecycle), ranked matches, the match workflow."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import World, make_uscc, make_user
from qiaoliang.accounts.models import Role
from qiaoliang.core.models import AuditLog, IdempotencyRecord, Industry, Region
from qiaoliang.exchange import matching_service, services
from qiaoliang.exchange.matching import HashEmbedder
from qiaoliang.exchange.models import Listing, Match, MatchMessage
from qiaoliang.orgs import services as org_services

pytestmark = pytest.mark.django_db

FUTURE = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()


@pytest.fixture(autouse=True)
def _hash_embedder(monkeypatch: Any) -> None:
    monkeypatch.setattr(matching_service, "embedder", lambda: HashEmbedder())


def client_for(world: World, persona: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(getattr(world, persona))
    return client


def ids(response: Any) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def post(world: World, enterprise: Any, direction: str, title: str, *, publish: bool = True, **fields: Any) -> Listing:
    if "region_id" in fields:
        fields["region"] = Region.objects.get(pk=fields.pop("region_id"))
    if "industry_id" in fields:
        fields["industry"] = Industry.objects.get(pk=fields.pop("industry_id"))
    return services.create_listing(
        actor=world.staff, enterprise=enterprise, direction=direction, category=fields.pop("category", "material"),
        title=title, valid_until=datetime.date.today() + datetime.timedelta(days=60), publish=publish, **fields,
    )  # fmt: skip


@pytest.fixture
def board(world: World) -> dict[str, Listing]:
    return {
        "need": post(world, world.e1, "need", "求购医用外科口罩", external_id="N1", region_id="110105",
                     description="每月需要十万只一次性医用外科口罩", industry_id="6511"),
        "offer": post(world, world.e2, "offer", "供应医用外科口罩", external_id="O1", region_id="110105",
                      description="医用外科口罩现货", is_urgent=True),
        "talent": post(world, world.e3, "offer", "提供软件开发人才", category="talent", region_id="130700"),
        "own_draft": post(world, world.e1, "need", "求购防护服", publish=False),
        "other_draft": post(world, world.e2, "offer", "供应口罩机", publish=False),
    }  # fmt: skip


# --- listings: who sees what ----------------------------------------------------------------

VISIBLE = {
    "staff": ["need", "offer", "talent", "own_draft", "other_draft"],
    "secretary": ["need", "offer", "talent", "own_draft"],
    "contact": ["need", "offer", "talent", "own_draft"],
    "provider": ["need", "offer", "talent"],
    "outsider": [],
}


@pytest.mark.parametrize("persona", list(VISIBLE))
def test_listing_list_holds_the_board_and_the_users_own_listings(world: World, board: dict, persona: str) -> None:
    response = client_for(world, persona).get("/api/v1/listings/")
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted(board[name].pk for name in VISIBLE[persona])


def test_anonymous_clients_are_refused(board: dict) -> None:
    assert APIClient().get("/api/v1/listings/").status_code in {401, 403}


def test_an_invisible_listing_is_not_found(world: World, board: dict) -> None:
    assert client_for(world, "contact").get(f"/api/v1/listings/{board['other_draft'].pk}/").status_code == 404
    response = client_for(world, "contact").get(f"/api/v1/listings/{board['need'].pk}/")
    assert response.status_code == 200
    data = response.json()
    assert (data["external_id"], data["direction"], data["status"], data["enterprise"]["name"]) == (
        "N1", "need", "published", world.e1.name,
    )  # fmt: skip
    assert (data["industry"]["code"], data["region"]["code"], data["organization"]["code"]) == ("6511", "110105", "C1")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"direction": "offer"}, ["offer", "talent", "other_draft"]),
        ({"category": "talent"}, ["talent"]),
        ({"status": "draft"}, ["own_draft", "other_draft"]),
        ({"urgent": "true"}, ["offer"]),
        ({"region": "110000"}, ["need", "offer"]),
        ({"region": "130700"}, ["talent"]),
        ({"industry": "65"}, ["need"]),
        ({"industry": "I"}, ["need"]),
        ({"search": "口罩"}, ["need", "offer", "other_draft"]),
        ({"search": "醫用口罩"}, ["need", "offer"]),
        ({"search": "外科口罩 现货"}, ["offer"]),
    ],
)
def test_listing_filters(world: World, board: dict, query: dict[str, str], expected: list[str]) -> None:
    response = client_for(world, "staff").get("/api/v1/listings/", query)
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted(board[name].pk for name in expected)


def test_organization_filter_takes_the_subtree(world: World, board: dict) -> None:
    client = client_for(world, "staff")
    district = ids(client.get("/api/v1/listings/", {"organization": world.district.pk}))
    chamber2 = ids(client.get("/api/v1/listings/", {"organization": world.chamber2.pk}))
    assert sorted(district) == sorted(board[n].pk for n in ["need", "offer", "own_draft", "other_draft"])
    assert sorted(chamber2) == sorted(board[n].pk for n in ["offer", "other_draft"])


# --- listings: writes -------------------------------------------------------------------------


def new_listing(world: World, **changes: Any) -> dict[str, Any]:
    return {"enterprise": world.e1.pk, "direction": "need", "category": "material", "title": "求购纸箱",
            "valid_until": FUTURE, **changes}  # fmt: skip


def test_an_enterprise_contact_posts_a_draft_and_submits_it(world: World) -> None:
    client = client_for(world, "contact")
    response = client.post("/api/v1/listings/", new_listing(world, price_min="100", price_max="200"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["status"], data["organization"]["code"], data["price_max"]) == ("draft", "C1", "200.00")
    response = client.post(f"/api/v1/listings/{data['id']}/submit/", {}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "pending")


def test_only_reviewers_publish_directly(world: World) -> None:
    response = client_for(world, "contact").post("/api/v1/listings/", new_listing(world, publish=True), format="json")
    assert response.status_code == 403
    assert Listing.objects.count() == 0
    response = client_for(world, "secretary").post("/api/v1/listings/", new_listing(world, publish=True), format="json")
    assert (response.status_code, response.json()["status"]) == (201, "published")


def test_posting_for_an_enterprise_out_of_scope_is_refused(world: World) -> None:
    response = client_for(world, "contact").post(
        "/api/v1/listings/", new_listing(world, enterprise=world.e2.pk), format="json"
    )
    assert response.status_code == 400
    assert "enterprise" in response.json()


def test_domain_errors_come_back_as_json(world: World) -> None:
    response = client_for(world, "contact").post(
        "/api/v1/listings/", new_listing(world, valid_until="2020-01-01"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "valid_until"


def test_an_enterprise_change_to_a_published_listing_goes_back_to_review(world: World, board: dict) -> None:
    response = client_for(world, "contact").patch(
        f"/api/v1/listings/{board['need'].pk}/", {"title": "求购医用外科口罩20万只"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["status"]) == ("求购医用外科口罩20万只", "pending")


def test_changes_are_refused_outside_scope(world: World, board: dict) -> None:
    assert (
        client_for(world, "contact")
        .patch(f"/api/v1/listings/{board['offer'].pk}/", {"title": "x"}, format="json")
        .status_code
        == 403
    )  # visible on the board, not theirs
    assert (
        client_for(world, "outsider")
        .patch(f"/api/v1/listings/{board['need'].pk}/", {"title": "x"}, format="json")
        .status_code
        == 404
    )


def test_review_approve_and_reject(world: World, board: dict) -> None:
    pending = services.transition_listing(actor=world.contact, listing=board["own_draft"], to_status="pending")
    assert client_for(world, "contact").post(f"/api/v1/listings/{pending.pk}/approve/").status_code == 403
    response = client_for(world, "secretary").post(f"/api/v1/listings/{pending.pk}/reject/", {}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    response = client_for(world, "secretary").post(
        f"/api/v1/listings/{pending.pk}/reject/", {"note": "请补充规格"}, format="json"
    )
    assert (response.json()["status"], response.json()["review_note"]) == ("rejected", "请补充规格")
    client_for(world, "contact").post(f"/api/v1/listings/{pending.pk}/submit/")
    response = client_for(world, "secretary").post(f"/api/v1/listings/{pending.pk}/approve/")
    assert (response.status_code, response.json()["status"]) == (200, "published")
    assert AuditLog.objects.filter(action="exchange.listing.published", actor=world.secretary).count() == 1


def test_close_by_the_poster_and_not_by_others(world: World, board: dict) -> None:
    assert client_for(world, "provider").post(f"/api/v1/listings/{board['need'].pk}/close/").status_code == 403
    response = client_for(world, "contact").post(f"/api/v1/listings/{board['need'].pk}/close/")
    assert (response.status_code, response.json()["status"]) == (200, "closed")
    response = client_for(world, "contact").post(f"/api/v1/listings/{board['need'].pk}/close/")
    assert (response.status_code, response.json()["code"]) == (400, "transition")


# --- ranked matches -----------------------------------------------------------------------------


def test_listing_matches_are_ranked_with_reasons(world: World, board: dict) -> None:
    response = client_for(world, "contact").get(f"/api/v1/listings/{board['need'].pk}/matches/")
    assert response.status_code == 200
    items = response.json()
    assert items[0]["rank"] == 1 and items[0]["listing"]["id"] == board["offer"].pk
    assert items[0]["listing"]["external_id"] == "O1"
    assert 0 < items[0]["score"] <= 1
    shared = next(reason for reason in items[0]["reasons"] if reason["code"] == "shared_terms")
    assert shared["text"].startswith("Shared key words:")
    assert (items[0]["match"], items[0]["match_status"]) == (None, None)
    assert board["other_draft"].pk not in [item["listing"]["id"] for item in items]


def test_listing_matches_show_the_stored_match(world: World, board: dict) -> None:
    match = services.introduce(actor=world.staff, need=board["need"], offer=board["offer"])
    items = client_for(world, "contact").get(f"/api/v1/listings/{board['need'].pk}/matches/", {"top": 3}).json()
    assert (items[0]["match"], items[0]["match_status"]) == (match.pk, "suggested")


def test_listing_matches_check_scope_and_top(world: World, board: dict) -> None:
    assert client_for(world, "contact").get(f"/api/v1/listings/{board['other_draft'].pk}/matches/").status_code == 404
    assert client_for(world, "contact").get(f"/api/v1/listings/{board['need'].pk}/matches/", {"top": 0}).status_code \
        == 400  # fmt: skip


# --- the match workflow -------------------------------------------------------------------------


@pytest.fixture
def match(world: World, board: dict) -> Match:
    return services.introduce(actor=world.staff, need=board["need"], offer=board["offer"])


@pytest.mark.parametrize(("persona", "visible"), [("staff", True), ("secretary", True), ("contact", True),
                                                  ("provider", False), ("outsider", False)])  # fmt: skip
def test_matches_are_seen_by_both_sides_and_staff_in_scope(world: World, match: Match, persona: str,
                                                           visible: bool) -> None:  # fmt: skip
    response = client_for(world, persona).get("/api/v1/matches/")
    assert ids(response) == ([match.pk] if visible else [])
    detail = client_for(world, persona).get(f"/api/v1/matches/{match.pk}/")
    assert detail.status_code == (200 if visible else 404)


def test_match_detail_presents_both_listings_and_reasons(world: World, match: Match) -> None:
    data = client_for(world, "contact").get(f"/api/v1/matches/{match.pk}/").json()
    assert (data["need"]["external_id"], data["offer"]["external_id"], data["status"]) == ("N1", "O1", "suggested")
    assert data["reasons"] == [{"code": "introduced", "text": "Introduced by the federation", "params": {}}]


@pytest.fixture
def offer_side(world: World) -> Any:
    """The contact of e2, the enterprise of the offer."""
    return make_user("e2contact", Role.ENTERPRISE_CONTACT, enterprise=world.e2)


def as_user(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_both_sides_agree_then_one_proposes_and_the_other_confirms_the_deal(world: World, match: Match,
                                                                          offer_side: Any) -> None:  # fmt: skip
    need_side, other = client_for(world, "contact"), as_user(offer_side)
    url = f"/api/v1/matches/{match.pk}/status/"
    assert need_side.post(url, {"status": "contacted"}, format="json").json()["status"] == "contacted"
    assert other.post(url, {"status": "in_talks"}, format="json").json()["status"] == "in_talks"
    response = need_side.post(url, {"status": "deal"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "deal_amount")
    today = datetime.date.today().isoformat()
    response = need_side.post(url, {"status": "deal", "deal_amount": "120000", "deal_date": today}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "in_talks")  # proposed, not yet a deal
    response = other.post(url, {"status": "deal"}, format="json")  # confirming the other side's proposal
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["deal_amount"], response.json()["deal_date"]) == (
        "deal", "120000.00", today,
    )  # fmt: skip


def test_an_amount_past_its_column_is_refused_and_lists_keep_working(world: World, match: Match,
                                                                    offer_side: Any) -> None:  # fmt: skip
    url = f"/api/v1/matches/{match.pk}/status/"
    client_for(world, "contact").post(url, {"status": "contacted"}, format="json")
    as_user(offer_side).post(url, {"status": "in_talks"}, format="json")
    response = client_for(world, "contact").post(
        url, {"status": "deal", "deal_amount": "1000000000000000", "deal_date": "2026-11-01"}, format="json"
    )
    assert response.status_code == 400 and "deal_amount" in response.json()
    assert client_for(world, "staff").get("/api/v1/matches/").status_code == 200


def test_declining_needs_a_reason(world: World, match: Match) -> None:
    url = f"/api/v1/matches/{match.pk}/status/"
    response = client_for(world, "contact").post(url, {"status": "declined"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "reason")
    response = client_for(world, "contact").post(url, {"status": "declined", "reason": "价格不合适"}, format="json")
    assert (response.json()["status"], response.json()["declined_reason"]) == ("declined", "价格不合适")


def test_match_status_is_refused_outside_scope_and_to_staff_who_cannot_sign(world: World, match: Match) -> None:
    url = f"/api/v1/matches/{match.pk}/status/"
    assert client_for(world, "outsider").post(url, {"status": "contacted"}, format="json").status_code == 404
    assert client_for(world, "provider").post(url, {"status": "contacted"}, format="json").status_code == 404
    assert client_for(world, "staff").post(url, {"status": "contacted"}, format="json").status_code == 403


def test_a_retried_proposal_with_the_same_key_is_applied_once(world: World, match: Match, offer_side: Any) -> None:
    client = client_for(world, "contact")
    url = f"/api/v1/matches/{match.pk}/status/"
    client.post(url, {"status": "contacted"}, format="json")
    as_user(offer_side).post(url, {"status": "in_talks"}, format="json")
    body = {"status": "deal", "deal_amount": "5000", "deal_date": datetime.date.today().isoformat()}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert MatchMessage.objects.filter(match=match, kind="event", body__contains="5,000.00").count() == 1
    assert IdempotencyRecord.objects.filter(key="retry-1", state="done").count() == 1


def test_an_idempotency_key_cannot_be_reused_for_another_request(world: World, match: Match) -> None:
    client = client_for(world, "contact")
    url = f"/api/v1/matches/{match.pk}/status/"
    client.post(url, {"status": "contacted"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = client.post(url, {"status": "in_talks"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400 and "Idempotency-Key" in response.json()


def test_a_failed_request_does_not_burn_its_key(world: World, match: Match, offer_side: Any) -> None:
    client = client_for(world, "contact")
    url = f"/api/v1/matches/{match.pk}/status/"
    body = {"status": "deal", "deal_amount": "5000", "deal_date": datetime.date.today().isoformat()}
    assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="d").status_code == 400  # not in talks yet
    client.post(url, {"status": "contacted"}, format="json")
    as_user(offer_side).post(url, {"status": "in_talks"}, format="json")
    response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="d")
    assert (response.status_code, response.json()["proposed_amount"]) == (200, "5000.00")


def test_keys_are_per_user(world: World, match: Match, offer_side: Any) -> None:
    url = f"/api/v1/matches/{match.pk}/status/"
    client_for(world, "contact").post(url, {"status": "contacted"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    response = as_user(offer_side).post(url, {"status": "in_talks"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert (response.status_code, response.json()["status"]) == (200, "in_talks")


@pytest.fixture
def crowd(world: World) -> World:
    """Add 12 member enterprises to C1, each with an offer and a need, and matches between them."""
    needs, offers = [], []
    for n in range(12):
        enterprise = org_services.create_enterprise(
            actor=None, uscc=make_uscc(2000 + n), name=f"北京批量企业{n:02d}有限公司", organization=world.chamber1,
            industry_id="6511", region_id="110105",
        )  # fmt: skip
        needs.append(post(world, enterprise, "need", f"求购口罩{n}", region_id="110105", industry_id="6511"))
        offers.append(post(world, enterprise, "offer", f"供应口罩{n}", region_id="110105"))
    for n in range(12):
        services.introduce(actor=world.staff, need=needs[n], offer=offers[(n + 1) % 12])
    return world


def count_queries(client: APIClient, path: str, page_size: int) -> tuple[int, int]:
    client.get(path, {"page_size": page_size})  # warm: the user's scope is cached after the first request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"page_size": page_size})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize(
    ("persona", "path"),
    [("staff", "/api/v1/listings/"), ("secretary", "/api/v1/listings/"), ("contact", "/api/v1/listings/"),
     ("provider", "/api/v1/listings/"), ("staff", "/api/v1/matches/"), ("secretary", "/api/v1/matches/")],
)  # fmt: skip
def test_list_query_count_does_not_grow_with_page_size(crowd: World, persona: str, path: str) -> None:
    client = client_for(crowd, persona)
    small, small_rows = count_queries(client, path, 5)
    large, large_rows = count_queries(client, path, 50)
    assert large == small
    assert small_rows == 5 and large_rows > 5


def test_ranked_matches_query_count_does_not_grow_with_top(crowd: World) -> None:
    client = client_for(crowd, "secretary")
    listing = Listing.objects.filter(direction="need").first()
    assert listing is not None
    client.get(f"/api/v1/listings/{listing.pk}/matches/")  # builds the engine
    counts = []
    for top in (3, 10):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/listings/{listing.pk}/matches/", {"top": top})
        assert len(response.json()) == top
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_listings_are_newest_first_with_drafts_last_on_every_database(world: World, board: dict) -> None:
    order = ids(client_for(world, "staff").get("/api/v1/listings/"))
    published = [board[name].pk for name in ("talent", "offer", "need")]
    assert order[:3] == published
    assert sorted(order[3:]) == sorted([board["own_draft"].pk, board["other_draft"].pk])
