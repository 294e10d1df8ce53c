"""Structured matching rules: service areas, industry chain table, prices, categories."""

import numpy as np
import pytest

from qiaoliang.exchange.matching import rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("全国发货，量大从优", (rules.SCOPE_NATIONAL, 0)),
        ("服务浙江省全境", (rules.SCOPE_PROVINCE, 330000)),
        ("山东省内可送达", (rules.SCOPE_PROVINCE, 370000)),
        ("覆盖四川各地市", (rules.SCOPE_PROVINCE, 510000)),
        ("覆盖重庆各区", (rules.SCOPE_PROVINCE, 500000)),
        ("仅限郑州市内", (rules.SCOPE_CITY, 410100)),
        ("服务范围：南京本地", (rules.SCOPE_CITY, 320100)),
        ("限杭州及周边区县", (rules.SCOPE_CITY, 330100)),
        ("本公司提供覆盖胶辊", (rules.SCOPE_NONE, 0)),
    ],
)
def test_service_area_is_parsed_from_the_text(text, expected):
    assert rules.service_area(text, 330106) == expected


def test_local_services_default_to_their_own_city():
    assert rules.service_area("团餐配送", 330106, local_service=True) == (rules.SCOPE_CITY, 330100)
    assert rules.is_local_service("service", ["团餐", "配送"])
    assert not rules.is_local_service("material", ["团餐"])


def test_chain_table_links_rubber_to_tyres_to_cars_but_not_backwards():
    up = rules.industry_parts("2652")
    tyre = rules.industry_parts("2911")
    car = rules.industry_parts("3610")

    def linked(a, b):
        return bool(rules.chain_links(*(np.array([v]) for v in (a[0], a[1], b[0], b[1])))[0])

    assert linked(up, tyre)
    assert linked(tyre, car)
    assert not linked(tyre, up)
    assert not linked(car, tyre)


def test_industry_parts_accept_section_letters_and_short_codes():
    assert rules.industry_parts("C2911") == (29, 291, 2911)
    assert rules.industry_parts("29") == (29, -1, -1)
    assert rules.industry_parts("") == (-1, -1, -1)


def test_price_relation_needs_overlap_and_flags_offers_far_above_budget():
    nan = float("nan")
    c_min = np.array([10_000.0, 50_000.0, nan])
    c_max = np.array([12_000.0, 60_000.0, nan])
    assert rules.price_relation(nan, 11_000.0, c_min, c_max, query_is_need=True).tolist() == [1, -1, 0]


def test_region_levels_distinguish_county_city_province():
    levels = rules.region_levels(330106, np.array([330106, 330108, 330203, 440305, 0]))
    assert levels.tolist() == [3, 2, 1, 0, 0]


def test_every_category_is_compatible_with_itself():
    matrix = rules.category_matrix()
    assert np.all(np.diag(matrix) == 1.0)
    talent, service = rules.CATEGORY_INDEX["talent"], rules.CATEGORY_INDEX["service"]
    assert matrix[talent, service] > matrix[talent, rules.CATEGORY_INDEX["material"]]
