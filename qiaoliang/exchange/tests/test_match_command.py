"""`manage.py match`, `expire_listings` and `matching_index`."""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from conftest import World
from qiaoliang.core.models import Region
from qiaoliang.exchange import matching_service, services
from qiaoliang.exchange.matching import HashEmbedder
from qiaoliang.exchange.models import Listing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _hash_embedder(monkeypatch: Any) -> None:
    monkeypatch.setattr(matching_service, "embedder", lambda: HashEmbedder())


def post(world: World, enterprise: Any, direction: str, title: str, external_id: str = "", **fields: Any) -> Listing:
    return services.create_listing(
        actor=world.staff, enterprise=enterprise, direction=direction, category=fields.pop("category", "material"),
        title=title, valid_until=datetime.date.today() + datetime.timedelta(days=60), external_id=external_id,
        publish=fields.pop("publish", True), **fields,
    )  # fmt: skip


@pytest.fixture
def market(world: World) -> dict[str, Listing]:
    return {
        "need": post(
            world,
            world.e1,
            "need",
            "求购医用外科口罩",
            "N1",
            description="每月需要十万只一次性医用外科口罩",
            region=Region.objects.get(pk="110105"),
        ),
        "masks": post(
            world,
            world.e2,
            "offer",
            "供应医用外科口罩",
            "O1",
            description="医用外科口罩现货，日产五万只",
            region=Region.objects.get(pk="110105"),
        ),
        "tyres": post(world, world.e3, "offer", "供应半钢子午线轮胎", "", description="乘用车轮胎批发"),
        "other_need": post(world, world.e3, "need", "求购办公家具", "N2", description="办公桌椅一批"),
        "draft": post(world, world.e2, "offer", "供应口罩机", "O9", publish=False),
    }


def call(*args: str) -> str:
    out = io.StringIO()
    call_command("match", *args, stdout=out)
    return out.getvalue()


def test_match_prints_ranked_offers_with_reasons(market: dict[str, Listing]) -> None:
    lines = call("N1", "--top", "2").splitlines()
    assert lines[0].startswith(f"#{market['need'].pk} [Need] 求购医用外科口罩")
    assert lines[1].startswith("  1. ") and f"#{market['masks'].pk} (O1) [Offer] 供应医用外科口罩" in lines[1]
    assert any(line.strip().startswith("- Shared key words") for line in lines[2:])


def test_match_json_names_listings_by_external_number_or_id(market: dict[str, Listing]) -> None:
    data = json.loads(call(str(market["need"].pk), "--json"))
    assert data["listing"] == "N1"
    keys = [m["listing"] for m in data["matches"]]
    assert keys[0] == "O1"
    assert market["tyres"].pk in keys  # no external number: the id
    assert "O9" not in keys  # drafts are not matched
    assert set(data["matches"][0]) == {"listing", "score", "reasons"}
    assert 0 < data["matches"][0]["score"] <= 1
    assert {reason["code"] for reason in data["matches"][0]["reasons"]} >= {"shared_terms"}
    same_region = next(reason for reason in data["matches"][0]["reasons"] if reason["code"] == "same_region")
    assert same_region["region_code"] == "110105"


def test_match_all_prints_one_line_per_published_listing(market: dict[str, Listing]) -> None:
    lines = [json.loads(line) for line in call("--all", "--json").splitlines()]
    assert [line["listing"] for line in lines] == ["N1", "O1", market["tyres"].pk, "N2"]
    by_key = {line["listing"]: line for line in lines}
    assert by_key["N1"]["matches"][0]["listing"] == "O1"
    assert by_key["O1"]["matches"][0]["listing"] == "N1"  # offers are matched with needs
    assert all(m["listing"] not in {"O1", market["tyres"].pk} for m in by_key["O1"]["matches"])


def test_match_all_sees_changes_made_after_the_engine_was_built(world: World, market: dict[str, Listing]) -> None:
    call("--all", "--json")
    services.transition_listing(actor=world.staff, listing=market["masks"], to_status="closed")
    lines = [json.loads(line) for line in call("--all", "--json").splitlines()]
    assert "O1" not in [line["listing"] for line in lines]
    assert "O1" not in [m["listing"] for m in lines[0]["matches"]]


def test_unknown_listing_and_missing_arguments_are_errors(market: dict[str, Listing]) -> None:
    with pytest.raises(CommandError, match=r"There is no listing with the id or external number X9\."):
        call("X9")
    with pytest.raises(CommandError, match="Give the id or external number of a listing"):
        call()
    with pytest.raises(CommandError, match=r"Give a listing or --all, not both\."):
        call("N1", "--all")


def test_expire_listings_is_idempotent(world: World, market: dict[str, Listing]) -> None:
    Listing.objects.filter(pk=market["need"].pk).update(valid_until=datetime.date.today() - datetime.timedelta(days=1))
    out = io.StringIO()
    call_command("expire_listings", stdout=out)
    call_command("expire_listings", stdout=out)
    assert out.getvalue().splitlines() == ["1 listings expired.", "0 listings expired."]
    assert Listing.objects.get(pk=market["need"].pk).status == "expired"


def test_expire_listings_takes_a_date(world: World, market: dict[str, Listing]) -> None:
    out = io.StringIO()
    later = (datetime.date.today() + datetime.timedelta(days=61)).isoformat()
    call_command("expire_listings", "--date", later, stdout=out)
    assert out.getvalue() == "4 listings expired.\n"
    with pytest.raises(CommandError, match="is not a date"):
        call_command("expire_listings", "--date", "soon")


def test_matching_index_rebuilds_and_saves_a_snapshot_new_processes_load(
    settings: Any, market: dict[str, Listing]
) -> None:
    out = io.StringIO()
    call_command("matching_index", "--rebuild", "--save", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Indexed 4 open listings in ")
    assert lines[1] == f"Snapshot written to {settings.MATCHING_INDEX_DIR}."
    assert (settings.MATCHING_INDEX_DIR / "synced_at.json").exists()
    matching_service.reset()
    assert json.loads(call("N1", "--json"))["matches"][0]["listing"] == "O1"
    with pytest.raises(CommandError, match="Say what to do"):
        call_command("matching_index")


def test_match_json_reads_the_service_area_field_and_shows_a_calibrated_score(
    world: World, market: dict[str, Listing]
) -> None:
    post(world, world.e2, "offer", "供应医用外科口罩", "O2", description="医用外科口罩现货", service_area="仅限广州市")
    post(world, world.e3, "offer", "供应医用外科口罩", "O3", description="医用外科口罩现货", service_area="全国")
    data = json.loads(call("N1", "--json"))
    by_key = {match["listing"]: match for match in data["matches"]}
    assert "O2" not in by_key  # a Guangzhou-only supplier is never shown to a Beijing need
    serves = next(reason for reason in by_key["O3"]["reasons"] if reason["code"] == "serves_area")
    assert serves["national"] is True
    assert all(0.0 <= match["score"] <= 1.0 for match in data["matches"])
    assert by_key["O1"]["score"] > by_key[market["tyres"].pk]["score"]
