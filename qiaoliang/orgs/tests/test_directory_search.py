"""Member directory at scale: trade-name (字号) keys, the capped count, paging by ids, constant query counts.

No timings here (bench/run.py measures them); these check what the fast paths must keep: the same rows, in the
same order, found by the same words, on SQLite and on PostgreSQL (run with DATABASE_URL for the latter).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import paginator as django_paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import World, make_uscc
from qiaoliang.accounts.models import User
from qiaoliang.core import htmx
from qiaoliang.core.text import enterprise_name_keys, name_search_keys, region_names, trade_name
from qiaoliang.orgs import services
from qiaoliang.orgs.models import Enterprise, Membership, enterprise_search_fields
from qiaoliang.orgs.selectors import DirectoryFilters, enterprise_directory, search_enterprises

HUAIROU = "北京市怀柔海盛餐饮有限公司"


# --- the keys -------------------------------------------------------------------------------------------------


def test_trade_name_keys_read_the_name_from_after_each_division() -> None:
    keys = name_search_keys(HUAIROU)

    assert any(key.startswith("hrhs") for key in keys)  # 怀柔海盛…: the part after 北京市
    assert any(key.startswith("hscy") for key in keys)  # 海盛餐饮…: after 北京市怀柔
    assert any(key.startswith("huairouhaisheng") for key in keys)
    assert any(key.startswith("haishengcanyin") for key in keys)
    assert trade_name(HUAIROU) == "海盛"


def test_trade_name_keys_leave_out_what_the_full_name_keys_already_cover() -> None:
    _text, pinyin, initials, keys = enterprise_name_keys(HUAIROU)

    assert initials.startswith("bjshrhs") and pinyin.startswith("beijingshihuairou")
    assert not any(pinyin.startswith(key) or initials.startswith(key) for key in keys)
    assert not any(other != key and other.startswith(key) for key in keys for other in keys)
    assert all(key.isascii() and key.isalnum() and key == key.lower() for key in keys)


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("海盛（北京）网络科技有限公司", "hswlkj"),  # the division in brackets after the trade name
        ("海盛北京餐饮有限公司", "hscy"),  # the division after the trade name, without brackets
        ("新疆维吾尔自治区乌鲁木齐市天山区海盛商贸有限责任公司", "hssm"),  # autonomous region, city, district
        ("北京海淀海盛科技有限公司", "hdhskj"),  # divisions without 市/区
        ("北京海盛網絡科技有限公司", "haishengwangluo"),  # Traditional characters, full pinyin
    ],
)
def test_trade_name_keys_cover_the_ways_names_are_written(name: str, query: str) -> None:
    assert any(key.startswith(query) for key in name_search_keys(name))


def test_region_names_come_with_and_without_their_suffixes() -> None:
    names = region_names()

    assert {"北京市", "北京", "怀柔区", "怀柔", "新疆", "延边", "内蒙古", "广西"} <= names
    assert "市辖区" not in names and all(len(name) >= 2 for name in names)


def test_trade_name_strips_legal_form_and_industry_words() -> None:
    assert trade_name("北京海盛网络科技有限公司") == "海盛"
    assert trade_name("北京市朝阳区华为技术有限公司") == "华为"
    assert trade_name("北京海盛控股集团有限公司") == "海盛"


# --- finding enterprises by them ------------------------------------------------------------------------------


@pytest.fixture
def huairou(world: World) -> Enterprise:
    return services.create_enterprise(
        actor=None, uscc=make_uscc(40, "110116"), name=HUAIROU, organization=world.chamber1, region_id="110116"
    )


def _names(user: Any, **filters: Any) -> list[str]:
    return [e.name for e in enterprise_directory(user, DirectoryFilters(**filters))]


@pytest.mark.parametrize("query", ["hrhs", "hr", "hscy", "haisheng", "huairouhai", "bjshrhs", "beijingshihuairou"])
def test_directory_finds_an_enterprise_by_its_trade_name_initials_and_pinyin(
    world: World, huairou: Enterprise, query: str
) -> None:
    assert HUAIROU in _names(world.staff, q=query)
    assert HUAIROU in _names(world.secretary, q=query)  # a member of the secretary's chamber


def test_trade_name_keys_do_not_find_unrelated_names(world: World, huairou: Enterprise) -> None:
    assert _names(world.staff, q="hrhsx") == []
    assert HUAIROU not in _names(world.staff, q="cyhs")
    assert HUAIROU not in _names(world.staff, q="h")  # one letter: the full name's initials only


def test_api_and_admin_search_find_trade_name_initials(world: World, huairou: Enterprise) -> None:
    client = APIClient()
    client.force_authenticate(world.staff)

    response = client.get("/api/v1/enterprises/", {"search": "hrhs"})

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == [HUAIROU]
    assert list(search_enterprises(Enterprise.objects.all(), "haisheng")) == [huairou]


def test_substring_search_still_finds_new_names(world: World, huairou: Enterprise) -> None:
    # The pair index (FTS5 triggers on SQLite) must keep up with inserts after the name_keys migration.
    assert _names(world.staff, q="海盛") == [HUAIROU]
    assert _names(world.staff, q="海盛餐饮") == [HUAIROU]


def test_keys_follow_a_rename(world: World, huairou: Enterprise) -> None:
    services.update_enterprise(actor=world.staff, enterprise=huairou, name="北京市密云瑞鑫物流有限公司")

    huairou.refresh_from_db()
    assert huairou.name_keys == enterprise_search_fields(huairou.name)["name_keys"]
    assert _names(world.staff, q="hrhs") == []
    assert _names(world.staff, q="haisheng") == []
    assert _names(world.staff, q="myrx") == ["北京市密云瑞鑫物流有限公司"]
    assert _names(world.staff, q="ruixin") == ["北京市密云瑞鑫物流有限公司"]


def test_every_path_that_records_an_enterprise_fills_the_keys(world: World) -> None:
    services.record_enterprises(
        actor=world.staff,
        organization=world.chamber1,
        records=[services.EnterpriseRecord(uscc=make_uscc(41, "110116"), name="北京市怀柔鼎立实业有限公司")],
        as_members=True,
    )

    recorded = Enterprise.objects.get(uscc=make_uscc(41, "110116"))
    assert recorded.name_keys and recorded.name_keys == enterprise_search_fields(recorded.name)["name_keys"]
    assert _names(world.staff, q="hrdl") == ["北京市怀柔鼎立实业有限公司"]


# --- the visible set, narrowed for scoped users ---------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff", "secretary", "convenor", "contact", "liaison", "provider", "outsider"])
def test_directory_lists_exactly_what_the_rules_let_each_persona_see(world: World, persona: str) -> None:
    services.record_enterprises(
        actor=world.staff,
        organization=world.chamber1,
        records=[services.EnterpriseRecord(uscc=make_uscc(42), name="北京未入会企业有限公司")],
    )  # recorded by the chamber, a member nowhere
    user = getattr(world, persona)
    visible = Enterprise.objects.for_user(user, "view")
    members = visible.filter(pk__in=Membership.objects.values("enterprise_id"))

    assert set(enterprise_directory(user, DirectoryFilters(membership="all"))) == set(visible)
    assert set(enterprise_directory(user, DirectoryFilters())) == set(members)
    assert set(enterprise_directory(user, DirectoryFilters(membership="non_member"))) == set(visible) - set(members)


# --- the capped count and paging ------------------------------------------------------------------------------


@pytest.fixture
def many(world: World) -> list[Enterprise]:
    """60 members of chamber 1: 30 北京市怀柔… (trade keys hr…), 30 others; a primary contact each."""
    created = []
    for index in range(60):
        brand = "海盛瑞鑫泰恒达信博远中天金宏创新嘉和联富安康隆源通正德晟峰宇智云辉明"[index % 30] + "华盛"[index % 2]
        name = f"北京市怀柔{brand}科技有限公司" if index < 30 else f"{brand}（北京）餐饮管理有限公司"
        enterprise = services.create_enterprise(
            actor=None, uscc=make_uscc(100 + index), name=name, organization=world.chamber1,
            joined_on=datetime.date(2024, 1, 1), size="small", industry_id="6511", region_id="110116",
        )  # fmt: skip
        services.create_person(
            actor=None, name="联系人", mobile=f"139{index:08d}", enterprise=enterprise, is_primary_contact=True
        )
        created.append(enterprise)
    return created


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(htmx, "COUNT_LIMIT", 20)
    return 20


def _all_pages(user: Any, filters: DirectoryFilters, per_page: int) -> tuple[Any, list[int]]:
    from qiaoliang.orgs.selectors import enterprise_directory_parts

    queryset = enterprise_directory(user, filters)
    paginator = htmx.CappedPaginator(queryset, per_page, parts=lambda: enterprise_directory_parts(user, filters))
    ids: list[int] = []
    for number in paginator.page_range:
        ids += [e.pk for e in paginator.page(number)]
    return paginator, ids


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"q": "科技"},
        {"q": "hr"},
        {"q": "huairou"},
        {"q": "hs"},
        {"size": "small"},
        {"q": "餐饮", "region": "110116"},
    ],
)
@pytest.mark.parametrize("limit", [20, 1000])
def test_pages_list_the_same_rows_in_the_same_order_as_the_query(
    world: World, many: list[Enterprise], monkeypatch: pytest.MonkeyPatch, filters: dict[str, Any], limit: int
) -> None:
    monkeypatch.setattr(htmx, "COUNT_LIMIT", limit)
    for user in (world.staff, world.secretary):
        expected = list(enterprise_directory(user, DirectoryFilters(**filters)).values_list("pk", flat=True))

        paginator, ids = _all_pages(user, DirectoryFilters(**filters), 7)

        if len(expected) > limit:
            assert paginator.capped and int(paginator.count) == limit and ids == expected[:limit]
        else:
            assert not paginator.capped and paginator.count == len(expected) and ids == expected


def test_capped_count_reads_as_a_lower_bound(world: World, many: list[Enterprise], small_limit: int) -> None:
    paginator = htmx.CappedPaginator(enterprise_directory(world.staff, DirectoryFilters()), 7)

    assert paginator.count == small_limit and str(paginator.count) == "20+"
    assert paginator.num_pages == 3 and str(paginator.num_pages) == "3+"
    assert not paginator.page(3).has_next()
    assert str(htmx.CappedCount(1000)) == "1,000+" and htmx.CappedCount(1000) + 1 == 1001
    exact = htmx.CappedPaginator(enterprise_directory(world.staff, DirectoryFilters(q="hrh")), 7)
    assert str(exact.count) == str(len(list(enterprise_directory(world.staff, DirectoryFilters(q="hrh")))))
    assert not exact.capped and exact.count < small_limit


def test_directory_page_says_the_count_is_capped(
    client: Any, world: World, many: list[Enterprise], small_limit: int
) -> None:
    client.force_login(world.staff)

    capped = client.get("/orgs/members/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    exact = client.get("/orgs/members/", {"q": "hrh"}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "找到20+家企业" in capped.content.decode()
    assert len(capped.context["enterprises"]) == 20  # no more than the count says
    found = len(list(enterprise_directory(world.staff, DirectoryFilters(q="hrh"))))
    assert found < small_limit and f"找到{found}家企业" in exact.content.decode()


def test_api_tells_when_the_count_is_capped(world: World, many: list[Enterprise], small_limit: int) -> None:
    client = APIClient()
    client.force_authenticate(world.staff)

    capped = client.get("/api/v1/enterprises/", {"page_size": 7}).json()
    last = client.get("/api/v1/enterprises/", {"page_size": 7, "page": 3}).json()
    beyond = client.get("/api/v1/enterprises/", {"page_size": 7, "page": 4})
    exact = client.get("/api/v1/enterprises/", {"search": "hrh"}).json()

    assert (capped["count"], capped["count_capped"], len(capped["results"])) == (20, True, 7)
    assert (len(last["results"]), last["next"]) == (6, None)
    assert beyond.status_code == 404
    found = len(list(enterprise_directory(world.staff, DirectoryFilters(q="hrh"))))
    assert (exact["count"], exact["count_capped"], len(exact["results"])) == (found, False, found)


# --- query counts -----------------------------------------------------------------------------------------------


@pytest.fixture
def page_size(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Force every Paginator's page size (as bench/run.py does), so no view needs a page-size parameter."""
    forced: dict[str, int] = {}
    original = django_paginator.Paginator.__init__

    def init(self: Any, object_list: Any, per_page: Any, *args: Any, **kwargs: Any) -> None:
        original(self, object_list, forced.get("per_page", per_page), *args, **kwargs)

    monkeypatch.setattr(django_paginator.Paginator, "__init__", init)
    yield forced


def _query_count(fetch: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = fetch()
    assert response.status_code == 200
    return len(captured.captured_queries), response


@pytest.mark.parametrize("persona", ["staff", "secretary"])
@pytest.mark.parametrize("query", [{}, {"q": "科技"}, {"q": "hr"}, {"q": "hrhs"}, {"industry": "65", "size": "small"}])
@pytest.mark.parametrize("limit", [20, 1000])
def test_query_count_does_not_grow_with_the_page_size(
    client: Any, world: World, many: list[Enterprise], page_size: dict[str, int], monkeypatch: pytest.MonkeyPatch,
    persona: str, query: dict[str, str], limit: int,
) -> None:  # fmt: skip
    monkeypatch.setattr(htmx, "COUNT_LIMIT", limit)
    user: User = getattr(world, persona)
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    api_query = {("search" if key == "q" else key): value for key, value in query.items()}
    # Warm the per-process caches (content types, translations) and the scope cached on the user object.
    client.get("/orgs/members/", query)
    api.get("/api/v1/enterprises/", api_query)
    counts: dict[int, tuple[int, int]] = {}
    rows: dict[int, tuple[int, int]] = {}
    for size in (5, 25):
        page_size["per_page"] = size
        api_params = {**api_query, "page_size": size}
        page_queries, page = _query_count(lambda: client.get("/orgs/members/", query))
        api_queries, api_response = _query_count(lambda: api.get("/api/v1/enterprises/", api_params))  # noqa: B023
        counts[size] = (page_queries, api_queries)
        rows[size] = (len(page.context["enterprises"]), len(api_response.json()["results"]))

    assert counts[5] == counts[25], (counts, rows)
    if rows[25][0] > 5:
        assert rows[5] == (5, 5)  # the page size really changed
