"""Structured matching rules: places and service areas, industry chain table, prices, the learned model."""

import numpy as np
import pytest

from qiaoliang.exchange.matching import geo, rules
from qiaoliang.exchange.matching.documents import CATEGORIES
from qiaoliang.exchange.matching.model import (
    FEATURES,
    RankModel,
    default_model,
    fit_category_lift,
    fit_isotonic,
    fit_logistic,
)

HANGZHOU = 330106  # 杭州市西湖区
GUANGZHOU = 440106  # 广州市天河区
SHENZHEN = 440305  # 深圳市南山区
SHANGHAI = 310112  # 上海市闵行区
URUMQI = 650102  # 乌鲁木齐市天山区
LHASA = 540102  # 拉萨市城关区
CHENGDU = 510104  # 成都市锦江区
HARBIN = 230102  # 哈尔滨市道里区


def covers(text: str, place: int, home: int = 0) -> bool | None:
    return geo.parse_area(text, home).covers(place)


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("全国包邮", [URUMQI, HARBIN], []),
        ("除新疆西藏外全国包邮", [HARBIN, SHANGHAI], [URUMQI, LHASA]),
        ("服务长三角", [SHANGHAI, HANGZHOU], [GUANGZHOU]),
        ("配送范围：江浙沪", [SHANGHAI, HANGZHOU], [CHENGDU]),
        ("珠三角地区当天送达", [GUANGZHOU, SHENZHEN], [441500]),  # 汕尾 is in Guangdong, not in the delta
        ("粤港澳大湾区可上门", [SHENZHEN], [SHANGHAI]),
        ("京津冀区域配送", [110105, 120101, 130102], [SHANGHAI]),
        ("成渝地区均可承接", [CHENGDU, 500103], [GUANGZHOU]),
        ("东三省上门服务", [HARBIN, 210102], [110105]),
        ("华南地区配送", [GUANGZHOU, 450102], [SHANGHAI]),
        ("西北五省区覆盖", [URUMQI, 610102], [CHENGDU]),
        ("只做广州、佛山两地", [GUANGZHOU, 440604], [SHENZHEN]),
        ("服务范围：浙江省全境", [HANGZHOU, 330203], [SHANGHAI]),
        ("可送达四川各地市", [CHENGDU, 510704], [500103]),
        ("上门维修仅限杭州", [HANGZHOU], [330203]),
    ],
)
def test_areas_are_read_from_text(text, inside, outside):
    area = geo.parse_area(text)
    assert area.mask
    for place in inside:
        assert area.covers(place), (text, place)
    for place in outside:
        assert area.covers(place) is False, (text, place)


def test_limits_relative_to_the_listing_s_own_place():
    assert covers("广东省以外不发货", SHENZHEN) is True
    assert covers("广东省以外不发货", SHANGHAI) is False
    assert geo.parse_area("广东省以外不发货").strict
    assert covers("省外不接", HANGZHOU, home=330203) is True  # a Ningbo firm: Zhejiang only
    assert covers("省外不接", SHANGHAI, home=330203) is False
    assert covers("仅限本市", 440111, home=GUANGZHOU) is True
    assert covers("仅限本市", SHENZHEN, home=GUANGZHOU) is False
    assert geo.parse_area("仅限本市", GUANGZHOU).strict
    assert covers("北京五环内上门", 110108) is True
    assert covers("北京五环内上门", 120101) is False


def test_place_names_without_a_cue_are_not_an_area():
    assert geo.parse_area("公司位于杭州，成立十年").mask == 0
    assert geo.parse_area("本公司提供覆盖胶辊").mask == 0
    assert geo.parse_area("").mask == 0


def test_the_structured_field_needs_no_cue_word():
    area = geo.parse_area("江苏、安徽", structured=True)
    assert area.covers(320102) and area.covers(340102) and area.covers(HANGZHOU) is False


def test_gazetteer_reads_names_with_and_without_suffixes():
    places = geo.gazetteer()
    assert places["浙江"][0].code == 330000
    assert places["新疆"][0].code == 650000
    assert places["广州"][0].code == 440100
    assert places["闵行"][0].code == 310112
    assert "合作" not in places  # a county-level city, but an ordinary word first (jieba's dictionary)
    assert geo.place_in_text("北京朝阳区一家餐厅") in (110000, 110105)
    assert geo.place_in_text("上海松江的工厂") == 310000 or geo.place_in_text("上海松江的工厂") == 310117


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


def test_every_chain_row_is_grounded_on_the_kag_table():
    assert all(basis.startswith("KAG:") for _u, _d, basis in rules.chain_table().links)


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


def test_local_services_are_known_by_industry_or_words():
    assert rules.is_local("6241", "")  # 餐饮配送服务
    assert rules.is_local("", "可上门安装调试")
    assert not rules.is_local("2652", "合成橡胶现货")


def test_category_lift_is_learned_and_smoothed():
    offers = ["material"] * 50 + ["service"] * 40 + ["capital"] * 10
    pairs = [("project", "capital")] * 6 + [("project", "project")] * 2
    table = np.asarray(fit_category_lift(pairs, offers))
    project, capital = CATEGORIES.index("project"), CATEGORIES.index("capital")
    assert table[project, capital] > 1.0  # capital answers projects far more often than chance
    assert table[project, CATEGORIES.index("material")] < 0  # never seen: below chance, but finite
    assert np.all(np.isfinite(table))
    assert np.allclose(table[CATEGORIES.index("talent")], 0.0)  # no judgement: no opinion


def test_logistic_fit_and_isotonic_calibration():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 2))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * x[:, 0] - 1)))).astype(float)
    weights, bias = fit_logistic(x, y, l2=0.1)
    assert 1.6 < weights[0] < 2.4 and abs(weights[1]) < 0.3 and -1.4 < bias < -0.6
    xs, ys = fit_isotonic(1 / (1 + np.exp(-(x @ weights + bias))), y)
    assert list(ys) == sorted(ys) and xs[0] == 0.0 and xs[-1] == 1.0


def test_the_shipped_model_has_a_weight_per_feature_and_round_trips():
    model = default_model()
    assert len(model.weights) == len(FEATURES)
    assert RankModel.from_json(model.to_json()) == model
    probabilities = model.probability(np.array([-10.0, 0.0, 10.0]))
    assert np.all(np.diff(probabilities) >= 0) and probabilities[0] >= 0 and probabilities[-1] <= 1


def test_each_direction_has_its_own_calibration():
    model = RankModel(
        calibration_x=(0.0, 1.0),
        calibration_y=(0.0, 1.0),
        offer_calibration_x=(0.0, 1.0),
        offer_calibration_y=(0.0, 0.5),
    )
    assert model.probability(np.array([0.0]), "need")[0] == pytest.approx(0.5)
    assert model.probability(np.array([0.0]), "offer")[0] == pytest.approx(0.25)
    assert RankModel.from_json(model.to_json()) == model
