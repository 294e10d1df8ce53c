"""`manage.py import_listings FILE.xlsx [--draft] [--dry-run] [--org CODE]`: the resource sheet, all or nothing."""

from __future__ import annotations

import datetime
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook

from conftest import World, make_uscc
from qiaoliang.core.models import AuditLog
from qiaoliang.exchange import importers as importing
from qiaoliang.exchange import matching_service
from qiaoliang.exchange.matching import HashEmbedder
from qiaoliang.exchange.models import Listing, ListingStatusChange
from qiaoliang.exchange.search import search_listings
from qiaoliang.orgs.models import Enterprise, Membership

pytestmark = pytest.mark.django_db

HEADERS = importing.HEADERS
NEW_USCC = make_uscc(501, "440114")
OTHER_USCC = make_uscc(502, "320102")


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _hash_embedder(monkeypatch: Any) -> None:
    monkeypatch.setattr(matching_service, "embedder", lambda: HashEmbedder())


def in_days(days: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


def sheet_row(**values: Any) -> list[Any]:
    row = {
        "统一社会信用代码": NEW_USCC, "企业名称": "广州腾诚橡胶有限公司", "供需": "供", "类别": "物资",
        "标题": "供应顺丁橡胶BR9000", "描述": "<p>现货顺丁橡胶，月供500吨</p>", "行业代码": "2913",
        "行政区划代码": "440114", "数量": 500, "单位": "吨", "价格或预算": "1.2万元/吨", "有效期至": in_days(90),
        "外部编号": "O0001", "服务区域": "",
    }  # fmt: skip
    row.update(values)
    return [row[header] for header in HEADERS]


def good_rows() -> list[list[Any]]:
    return [
        sheet_row(),
        sheet_row(**{"统一社会信用代码": OTHER_USCC, "企业名称": "南京安恒轮胎有限公司", "供需": "需",
                     "标题": "求购顺丁橡胶", "描述": "轮胎生产需要顺丁橡胶", "行业代码": "2911",
                     "行政区划代码": "320102", "价格或预算": "50-80万元", "外部编号": "N0001"}),
        sheet_row(**{"统一社会信用代码": OTHER_USCC, "企业名称": "南京安恒轮胎有限公司", "供需": "need",
                     "类别": "talent", "标题": "招聘轮胎工艺工程师", "描述": "", "行业代码": "", "行政区划代码": "",
                     "数量": None, "单位": "", "价格或预算": "0.8-1.3万/月", "外部编号": "N0002"}),
    ]  # fmt: skip


def write(tmp_path: Path, rows: list[list[Any]], name: str = "listings.xlsx", headers: list[str] = HEADERS) -> str:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return str(path)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_listings", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str) -> tuple[str, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_listings", *args, stdout=out, stderr=err)
    return str(excinfo.value), err.getvalue().splitlines()


def test_a_sheet_is_imported_published_with_non_members_history_and_one_audit_entry(world: World, tmp_path) -> None:
    out, err = run(write(tmp_path, good_rows()), "--no-index")
    assert err == ""
    assert out.splitlines()[0] == (
        "3 rows for 北京市工商业联合会: 3 new listings, 0 updated, 0 unchanged; 2 enterprises new to the platform, "
        "0 new memberships."
    )
    offer = Listing.objects.get(external_id="O0001")
    assert (offer.status, offer.direction, offer.category, offer.organization) == (
        "published", "offer", "material", world.federation,
    )  # fmt: skip
    assert (offer.industry_id, offer.region_id, offer.quantity, offer.unit) == ("2913", "440114", Decimal(500), "吨")
    assert (offer.price_min, offer.price_max, offer.price_text) == (Decimal(12000), Decimal(12000), "1.2万元/吨")
    assert offer.published_at is not None and offer.created_by is None
    need = Listing.objects.get(external_id="N0001")
    assert (need.direction, need.price_min, need.price_max) == ("need", Decimal(500_000), Decimal(800_000))
    talent = Listing.objects.get(external_id="N0002")
    assert (talent.category, talent.industry_id, talent.region_id, talent.quantity) == ("talent", None, None, None)
    assert (talent.price_min, talent.price_max) == (Decimal(8000), Decimal(13000))
    assert offer.description == "现货顺丁橡胶，月供500吨"  # HTML removed on the way in
    new = Enterprise.objects.get(uscc=NEW_USCC)
    assert (new.name, new.registered_by) == ("广州腾诚橡胶有限公司", world.federation)
    # Out-of-town firms met through a sheet are recorded, not counted as members.
    assert not Membership.objects.filter(enterprise__uscc__in=[NEW_USCC, OTHER_USCC]).exists()
    assert list(ListingStatusChange.objects.filter(listing=offer).values_list("from_status", "to_status")) == [
        ("", "draft"), ("draft", "published"),
    ]  # fmt: skip
    assert list(search_listings(Listing.objects.all(), "顺丁橡胶").order_by("external_id").values_list(
        "external_id", flat=True)) == ["N0001", "O0001"]  # fmt: skip
    entry = AuditLog.objects.get(action="exchange.listings.imported")
    assert (entry.organization_id, entry.data["file"], entry.data["listings_created"], entry.data["source"]) == (
        world.federation.pk, "listings.xlsx", 3, "cli",
    )  # fmt: skip
    assert AuditLog.objects.filter(action__startswith="exchange.").count() == 1


def test_draft_option_imports_drafts(world: World, tmp_path) -> None:
    run(write(tmp_path, good_rows()), "--draft", "--no-index")
    assert set(Listing.objects.values_list("status", flat=True)) == {"draft"}
    assert Listing.objects.filter(published_at__isnull=False).count() == 0
    assert ListingStatusChange.objects.filter(to_status="published").count() == 0


def test_existing_member_keeps_its_chamber_as_reviewer(world: World, tmp_path) -> None:
    row = sheet_row(**{"统一社会信用代码": world.e1.uscc, "企业名称": world.e1.name})
    run(write(tmp_path, [row]), "--no-index")
    listing = Listing.objects.get(external_id="O0001")
    assert (listing.enterprise, listing.organization) == (world.e1, world.chamber1)
    assert not Membership.objects.filter(enterprise=world.e1, organization=world.federation).exists()


def test_org_option_chooses_who_records_and_reviews_new_enterprises(world: World, tmp_path) -> None:
    run(write(tmp_path, good_rows()), "--org", "C2", "--no-index")
    assert Enterprise.objects.get(uscc=NEW_USCC).registered_by == world.chamber2
    assert Listing.objects.get(external_id="O0001").organization == world.chamber2
    assert not Membership.objects.filter(enterprise__uscc=NEW_USCC).exists()
    message, _lines = fails(write(tmp_path, good_rows()), "--org", "NOPE")
    assert message == "There is no organisation with code NOPE."


def test_as_members_option_makes_new_enterprises_members(world: World, tmp_path) -> None:
    out, _err = run(write(tmp_path, good_rows()), "--org", "C2", "--as-members", "--no-index")
    assert "2 enterprises new to the platform, 2 new memberships." in out
    membership = Membership.objects.get(enterprise__uscc=NEW_USCC)
    assert (membership.organization, membership.status) == (world.chamber2, "active")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"统一社会信用代码": "91440114MA2UJPUU6X"}, "Row 2 [统一社会信用代码] "),
        ({"企业名称": ""}, "Row 2 [企业名称] The enterprise name is empty."),
        ({"供需": "卖"}, "Row 2 [供需] 卖 is not an accepted value; write one of 供、需、offer、need."),
        ({"类别": "设备"}, "Row 2 [类别] 设备 is not an accepted value"),
        ({"标题": "  "}, "Row 2 [标题] The title is empty."),
        ({"标题": "长" * 121}, "Row 2 [标题] The title is longer than 120 characters."),
        ({"行业代码": "9999"}, "Row 2 [行业代码] 9999 is not a GB/T 4754-2017 industry code."),
        ({"行政区划代码": "999999"}, "Row 2 [行政区划代码] 999999 is not a GB/T 2260 region code"),
        ({"数量": "许多"}, "Row 2 [数量] 许多 is not a number."),
        ({"数量": -3}, "Row 2 [数量] Quantities and prices cannot be negative."),
        ({"有效期至": "2020-01-01"}, "Row 2 [有效期至] The date 2020-01-01 has passed; the listing would be expired."),
        ({"有效期至": "明年"}, "Row 2 [有效期至] 明年 is not a date; write it as YYYY-MM-DD."),
        ({"有效期至": ""}, "Row 2 [有效期至] The date is empty; write until when the listing is valid as YYYY-MM-DD."),
        ({"价格或预算": "价" * 41}, "Row 2 [价格或预算] The price or budget is longer than 40 characters."),
    ],
)
def test_a_bad_cell_stops_the_import_with_its_row_column_and_reason(
    world: World, tmp_path, changes: dict[str, Any], expected: str
) -> None:
    rows = good_rows()
    rows[0] = sheet_row(**changes)
    message, lines = fails(write(tmp_path, rows), "--no-index")
    assert message == "1 errors in listings.xlsx; nothing was imported."
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert Listing.objects.count() == 0
    assert not Enterprise.objects.filter(uscc__in=[NEW_USCC, OTHER_USCC]).exists()


def test_a_bad_uscc_says_why(world: World, tmp_path) -> None:
    _message, lines = fails(write(tmp_path, [sheet_row(**{"统一社会信用代码": "12345"})]), "--no-index")
    assert lines[0].startswith("Row 2 [统一社会信用代码] ") and len(lines[0]) > len("Row 2 [统一社会信用代码] ")


def test_duplicate_external_numbers_and_conflicting_names_in_the_file_are_errors(world: World, tmp_path) -> None:
    rows = [
        *good_rows(),
        sheet_row(**{"标题": "供应丁苯橡胶"}),
        sheet_row(**{"企业名称": "别的名字", "外部编号": "O0009"}),
    ]
    _message, lines = fails(write(tmp_path, rows), "--no-index")
    assert lines == [
        "Row 5 [外部编号] The external number O0001 also appears in row 2.",
        "Row 6 [企业名称] Row 2 gives the same unified social credit code with the name 广州腾诚橡胶有限公司.",
    ]
    assert Listing.objects.count() == 0


def test_every_bad_row_is_listed(world: World, tmp_path) -> None:
    rows = [sheet_row(**{"供需": "x"}), sheet_row(**{"外部编号": "O2", "行业代码": "0000", "有效期至": "2001-01-01"})]
    _message, lines = fails(write(tmp_path, rows), "--no-index")
    assert [line.split("]")[0] for line in lines] == ["Row 2 [供需", "Row 3 [行业代码", "Row 3 [有效期至"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("listings.csv", b"a,b", "Only Excel .xlsx files can be imported"),
        ("listings.xlsx", b"not a zip file", "The file is not an Excel .xlsx workbook or it is damaged."),
    ],
)
def test_wrong_or_damaged_files_are_refused(world: World, tmp_path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    message, _lines = fails(str(path))
    assert message.startswith(expected)


def test_missing_and_unknown_columns_are_refused(world: World, tmp_path) -> None:
    message, _lines = fails(write(tmp_path, [], headers=[h for h in HEADERS if h != "标题"]))
    assert message == "These columns are missing: 标题."
    message, _lines = fails(write(tmp_path, [], headers=[*HEADERS, "备注"]))
    assert message.startswith("These columns are not part of the resource sheet: 备注.")


def test_optional_columns_may_be_left_out(world: World, tmp_path) -> None:
    headers = ["统一社会信用代码", "企业名称", "供需", "类别", "标题", "有效期至"]
    row = [NEW_USCC, "广州腾诚橡胶有限公司", "需", "资金", "求流动资金贷款", in_days(30)]
    run(write(tmp_path, [row], headers=headers), "--no-index")
    listing = Listing.objects.get()
    assert (listing.category, listing.external_id, listing.price_text) == ("capital", "", "")


def test_excel_dates_are_read(world: World, tmp_path) -> None:
    run(write(tmp_path, [sheet_row(**{"有效期至": datetime.date.today() + datetime.timedelta(days=10)})]), "--no-index")
    assert Listing.objects.get().valid_until == datetime.date.today() + datetime.timedelta(days=10)


def test_dates_beyond_two_years_are_shortened_and_said(world: World, tmp_path) -> None:
    out, _err = run(write(tmp_path, [sheet_row(**{"有效期至": in_days(1000)})]), "--no-index")
    limit = datetime.date.today() + importing.MAX_VALIDITY
    assert f"1 listings were valid for more than two years; they are valid until {limit.isoformat()}." in out
    assert Listing.objects.get().valid_until == limit


def test_dry_run_counts_and_writes_nothing(world: World, tmp_path) -> None:
    out, _err = run(write(tmp_path, good_rows()), "--dry-run")
    assert "3 new listings" in out and "Dry run: nothing was written." in out
    assert Listing.objects.count() == 0 and not AuditLog.objects.filter(action="exchange.listings.imported").exists()


def test_importing_the_same_file_again_changes_nothing(world: World, tmp_path) -> None:
    path = write(tmp_path, good_rows())
    run(path, "--no-index")
    before = list(Listing.objects.order_by("pk").values_list("pk", "updated_at"))
    out, _err = run(path, "--no-index")
    assert out.splitlines()[0].endswith(
        "0 new listings, 0 updated, 3 unchanged; 0 enterprises new to the platform, 0 new memberships."
    )
    assert list(Listing.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert ListingStatusChange.objects.count() == 6


def test_a_changed_row_updates_its_listing_in_place(world: World, tmp_path) -> None:
    run(write(tmp_path, good_rows()), "--no-index")
    offer = Listing.objects.get(external_id="O0001")
    Listing.objects.filter(pk=offer.pk).update(embedding=b"\x00" * 768)
    rows = good_rows()
    rows[0] = sheet_row(**{"标题": "供应丁苯橡胶SBR1502", "价格或预算": "面议"})
    out, _err = run(write(tmp_path, rows), "--no-index")
    assert "0 new listings, 1 updated, 2 unchanged" in out
    offer.refresh_from_db()
    assert (offer.title, offer.price_min, offer.price_text, offer.status) == ("供应丁苯橡胶SBR1502", None, "面议",
                                                                              "published")  # fmt: skip
    assert offer.embedding is None  # the text changed: embedded again
    assert "丁苯橡胶" in offer.search_tokens.split()
    assert Listing.objects.count() == 3


def test_a_row_cannot_turn_an_offer_into_a_need_or_change_a_closed_listing(world: World, tmp_path) -> None:
    run(write(tmp_path, good_rows()), "--no-index")
    rows = good_rows()
    rows[0] = sheet_row(**{"供需": "需"})
    _message, lines = fails(write(tmp_path, rows), "--no-index")
    assert lines[0].startswith("Row 2 [供需] Listing O0001 was imported as Offer;")
    Listing.objects.filter(external_id="O0001").update(status="closed")
    rows[0] = sheet_row(**{"标题": "供应丁苯橡胶"})
    _message, lines = fails(write(tmp_path, rows), "--no-index")
    assert lines == ["Row 2 [外部编号] Listing O0001 is closed and cannot be changed; give it a new external number."]


def test_an_expired_listing_with_a_new_date_is_published_again(world: World, tmp_path) -> None:
    run(write(tmp_path, good_rows()), "--no-index")
    Listing.objects.filter(external_id="O0001").update(status="expired")
    rows = good_rows()
    rows[0] = sheet_row(**{"有效期至": in_days(200)})
    run(write(tmp_path, rows), "--no-index")
    assert Listing.objects.get(external_id="O0001").status == "published"
    assert ListingStatusChange.objects.filter(from_status="expired", to_status="published").count() == 1


def test_the_import_writes_in_batches_not_row_by_row(world: World, tmp_path) -> None:
    def queries(count: int, name: str) -> int:
        rows = [
            sheet_row(**{"统一社会信用代码": make_uscc(1000 + i + count), "企业名称": f"企业{i}号有限公司",
                         "外部编号": f"{name}{i}"})
            for i in range(count)
        ]  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            run(write(tmp_path, rows, name=f"{name}.xlsx"), "--no-index")
        return len(captured)

    # Bulk inserts are split only by the database's parameter limit (SQLite: 999 → a few batches).
    assert queries(40, "B") - queries(10, "A") <= 3


def test_imported_listings_are_embedded_and_matched_by_a_new_process(world: World, tmp_path) -> None:
    out, _err = run(write(tmp_path, good_rows()))
    assert "Indexed 3 listings for matching" in out
    assert Listing.objects.filter(embedding__isnull=True).count() == 0
    matching_service.reset()  # as in a new process: the engine is built from the database
    printed = io.StringIO()
    call_command("match", "N0001", "--json", stdout=printed)
    assert '"listing": "O0001"' in printed.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50-80万元", (500_000, 800_000)),
        ("100万元", (1_000_000, 1_000_000)),
        ("1.2万元/吨", (12_000, 12_000)),
        ("0.8-1.3万/月", (8_000, 13_000)),
        ("4-8千/月", (4_000, 8_000)),
        ("5千-1万/月", (5_000, 10_000)),
        ("100万元以内", (None, 1_000_000)),
        ("500万元起", (5_000_000, None)),
        ("3600-4100元/吨", (3_600, 4_100)),
        ("１２万元", (120_000, 120_000)),
        ("面议", (None, None)),
        ("年化4%起", (None, None)),
        ("LPR+50BP", (None, None)),
        ("按入职人数收费", (None, None)),
    ],
)
def test_prices_and_budgets_are_read_in_yuan(text: str, expected: tuple[int | None, int | None]) -> None:
    low, high = importing.parse_price(text)
    assert (low, high) == tuple(None if value is None else Decimal(value) for value in expected)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_imports_of_the_same_sheet_at_once_write_it_once(tmp_path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    from qiaoliang.orgs import services as org_services

    federation = org_services.create_organization(actor=None, code="F", name="某市工商联", kind="federation")
    with open(write(tmp_path, good_rows()), "rb") as handle:
        parsed = importing.parse_sheet(handle, "listings.xlsx")
    barrier = threading.Barrier(2)
    outcomes: list[tuple[int, int]] = []

    def load() -> None:
        try:
            barrier.wait(timeout=5)
            result = importing.import_listings(actor=None, organization=federation, parsed=parsed)
            outcomes.append((result.listings_created, result.listings_unchanged))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    # The organisation lock makes the second import wait and then find every row already there.
    assert sorted(outcomes) == [(0, 3), (3, 0)]
    assert Listing.objects.count() == 3
