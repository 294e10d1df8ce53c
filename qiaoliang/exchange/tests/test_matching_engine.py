"""The matching engine: hard rules, rule reasons, incremental updates, persistence, rankers."""

from datetime import date

import numpy as np
import pytest

from qiaoliang.exchange.matching import FEATURES, HashEmbedder, ListingDoc, MatchingEngine, MatchParams, RankModel
from qiaoliang.exchange.matching.bm25 import BM25Index
from qiaoliang.exchange.matching.documents import CATEGORIES

TODAY = date(2026, 1, 15)


def hand_model(**weights: float) -> RankModel:
    """A hand-set model for the tests, so that they do not depend on the trained weights."""
    base = {"cos_gap": 5.0, "bm25_rel": 2.0, "coverage": 3.0, "category": 1.0, "chain_forward": 0.5}
    base |= {"area_misses": -2.0, "local_far": -3.0, "same_city": 0.3, **weights}
    lift = np.full((len(CATEGORIES), len(CATEGORIES)), -1.0)
    np.fill_diagonal(lift, 0.5)
    lift[CATEGORIES.index("talent"), CATEGORIES.index("service")] = 0.4
    return RankModel(
        weights=tuple(base.get(name, 0.0) for name in FEATURES),
        bias=-3.0,
        category_lift=tuple(tuple(row) for row in lift),
    )


def make_engine(model: RankModel | None = None, **params) -> MatchingEngine:
    return MatchingEngine(
        embedder=HashEmbedder(), params=MatchParams(**params), today=lambda: TODAY, model=model or hand_model()
    )


def offer(id, title, description="", **kw):
    kw.setdefault("category", "material")
    kw.setdefault("enterprise_id", f"E{id}")
    return ListingDoc(id=id, direction="offer", title=title, description=description, **kw)


def need(id, title, description="", **kw):
    kw.setdefault("category", "material")
    kw.setdefault("enterprise_id", f"E{id}")
    return ListingDoc(id=id, direction="need", title=title, description=description, **kw)


CORPUS = [
    offer("O1", "供应顺丁橡胶BR9000", "长期供应顺丁橡胶，适用于轮胎制造", industry_code="2652", region_code="370102"),
    offer("O2", "供应医用口罩", "日产10万只一次性医用口罩，全国发货", industry_code="2770", region_code="110105"),
    offer("O3", "出售二手数控机床", "数控车床三台，成色新", industry_code="3421", region_code="320505"),
    offer("O4", "提供中小企业流动资金贷款", "银行信用贷款，审批快", category="capital", industry_code="6621"),
    offer("O5", "人力资源服务：普工批量招聘", "劳务派遣，按入职人数收费", category="service", industry_code="7263"),
    offer("O6", "供应丁苯橡胶SBR1502", "现货，全国发货", industry_code="5169", region_code="330106"),
    need("N1", "采购合成橡胶", "轮胎厂采购顺丁橡胶 500吨", industry_code="2911", region_code="370112"),
    need("N2", "求购医用口罩", "复工急需口罩", industry_code="3670", region_code="110108"),
    need("N3", "寻求融资", "企业扩大生产需要流动资金贷款", category="capital", industry_code="3670"),
    need("N4", "招聘普工20名", "汽车零部件企业招聘普工", category="talent", industry_code="3670"),
]


@pytest.fixture
def engine():
    e = make_engine()
    e.rebuild(CORPUS)
    return e


def ids(results):
    return [r.listing_id for r in results]


def test_same_direction_is_never_returned(engine):
    for doc in CORPUS:
        for result in engine.match(doc, top_n=20, ranker="hybrid"):
            assert engine.get(result.listing_id).direction != doc.direction
        for result in engine.match(doc, top_n=20, ranker="exact"):
            assert engine.get(result.listing_id).direction != doc.direction


def test_expired_and_closed_listings_are_never_returned(engine):
    engine.update(
        offer("O1", "供应顺丁橡胶BR9000", "长期供应顺丁橡胶", industry_code="2652", valid_until=date(2025, 12, 31))
    )
    engine.update(offer("O6", "供应丁苯橡胶SBR1502", "现货", industry_code="5169", is_open=False))
    for ranker in ("hybrid", "bm25", "embedding", "rrf", "exact"):
        found = ids(engine.match_id("N1", top_n=20, ranker=ranker))
        assert "O1" not in found
        assert "O6" not in found


def test_same_enterprise_is_not_matched_with_itself():
    e = make_engine()
    e.rebuild([offer("O1", "供应口罩", enterprise_id="X"), need("N1", "采购口罩", enterprise_id="X")])
    assert e.match_id("N1") == []


def test_the_learned_category_prior_ranks_a_compatible_category_first():
    e = make_engine()
    e.rebuild(
        [
            offer("O1", "数控机床操作工 人才推荐", category="technology"),
            offer("O2", "数控机床操作工 人才推荐", category="service"),
            need("N1", "招聘数控机床操作工", category="talent"),
        ]
    )
    results = e.match_id("N1")
    assert ids(results) == ["O2", "O1"]
    reason = next(r for r in results[0].reasons if r.code == "compatible_category")
    assert reason.params == {"need_category": "talent", "offer_category": "service", "lift": 1.5}
    assert "compatible_category" not in [r.code for r in results[1].reasons]  # below chance: no reason


def test_rubber_to_tyre_pair_has_an_industry_chain_reason(engine):
    results = engine.match_id("N1")
    assert results[0].listing_id == "O1"
    chain = [r for r in results[0].reasons if r.code == "industry_chain"]
    assert chain
    assert chain[0].params["upstream"] == "合成橡胶制造"
    assert chain[0].params["downstream"] == "轮胎制造"
    shared = next(r for r in results[0].reasons if r.code == "shared_terms")
    assert "顺丁橡胶" in shared.params["terms"]


def test_same_city_reason_and_score_range(engine):
    results = engine.match_id("N1")
    assert any(r.code == "same_city" for r in results[0].reasons)
    assert all(0.0 <= r.score <= 1.0 for r in results)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_incremental_add_update_remove_change_results(engine):
    assert "O9" not in ids(engine.match_id("N2"))
    engine.add(offer("O9", "供应KN95口罩", "口罩现货", region_code="110108"))
    assert "O9" in ids(engine.match_id("N2"))
    engine.update(offer("O9", "供应钢材", "螺纹钢现货"))
    assert "O9" not in ids(engine.match_id("N2", ranker="bm25"))
    engine.update(offer("O9", "供应KN95口罩", "口罩现货", region_code="110108"))
    assert "O9" in ids(engine.match_id("N2"))
    engine.remove("O9")
    assert "O9" not in ids(engine.match_id("N2"))
    assert "O9" not in engine


def test_update_keeps_the_vector_when_the_text_is_unchanged(engine):
    calls = []
    original = engine.embedder.embed_passages

    def counting(texts):
        calls.append(len(texts))
        return original(texts)

    engine.embedder.embed_passages = counting
    doc = engine.get("O2")
    engine.update(ListingDoc(**{**doc.to_json(), "valid_until": None, "is_open": False}))
    assert calls == []


def test_save_load_round_trip_gives_identical_results(engine, tmp_path):
    engine.remove("O3")  # a dead slot must survive the round trip
    engine.save(tmp_path)
    loaded = MatchingEngine.load(tmp_path, embedder=HashEmbedder(), today=lambda: TODAY)
    assert len(loaded) == len(engine)
    assert loaded.model == engine.model
    for doc in CORPUS:
        if doc.id == "O3":
            continue
        for ranker in ("hybrid", "exact", "bm25"):
            assert engine.match_id(doc.id, ranker=ranker) == loaded.match_id(doc.id, ranker=ranker)


def test_exact_and_fast_rankers_agree_on_a_small_corpus(engine):
    for doc in CORPUS:
        fast = engine.match(doc, top_n=3)
        exact = engine.match(doc, top_n=3, ranker="exact")
        assert ids(fast) == ids(exact)


def test_hybrid_fuses_both_lists():
    e = make_engine()
    e.rebuild(
        [
            offer("O1", "专业口罩生产线", "全自动"),  # shares the word 口罩
            offer("O2", "熔喷布", "用于KN95口罩"),
            need("N1", "口罩生产线", "全自动口罩生产设备"),
        ]
    )
    doc = e.get("N1")
    vector = np.zeros(384, dtype=np.float32)
    vector[0] = 1.0
    e.add(offer("O3", "无关文字", "完全不同"), vector=vector)  # only the embedding list can find it
    bm25 = ids(e.match(doc, ranker="bm25"))
    embedding = ids(e.match(doc, ranker="embedding", query_vector=vector))
    hybrid = ids(e.match(doc, ranker="hybrid", query_vector=vector))
    assert "O3" not in bm25
    assert embedding[0] == "O3"
    assert set(bm25) | {embedding[0]} <= set(hybrid)


def test_a_local_need_does_not_rank_suppliers_from_another_city_first():
    e = make_engine()
    e.rebuild(
        [
            offer("O1", "团餐配送服务", "员工食堂配餐", category="service", region_code="440305", industry_code="6241"),
            offer("O2", "团餐配送服务", "员工食堂配餐", category="service", region_code="310115", industry_code="6241"),
            need("N1", "寻找员工配餐服务", "工厂食堂团餐", category="service", region_code="310112"),
        ]
    )
    assert ids(e.match_id("N1")) == ["O2", "O1"]


def test_areas_stated_as_limits_are_hard_rules():
    e = make_engine()
    e.rebuild(
        [
            offer("O1", "道路货运", "仅限杭州市内", category="service", region_code="330106"),
            offer("O2", "道路货运", "全国可服务", category="service", region_code="330106"),
            offer("O3", "道路货运", "广东省以外不接单", category="service", region_code="440305"),
            offer("O4", "道路货运", "省外不接", category="service", region_code="330106"),
            offer("O5", "道路货运", "除新疆西藏外均可到达", category="service", region_code="330106"),
            need("N1", "需要道路货运", "", category="service", region_code="440106"),
            need("N2", "需要道路货运", "", category="service", region_code="650102"),
        ]
    )
    assert set(ids(e.match_id("N1"))) == {"O2", "O3", "O5"}
    assert set(ids(e.match_id("N2"))) == {"O2"}
    assert set(ids(e.match_id("O4"))) == set()  # offers are matched with needs under the same rule
    assert set(ids(e.match_id("O2"))) == {"N1", "N2"}


def test_the_structured_service_area_is_read_and_explained():
    e = make_engine()
    e.rebuild(
        [
            offer("O1", "工业厂房保洁", "", category="service", region_code="310115", service_area="长三角"),
            offer("O2", "工业厂房保洁", "", category="service", region_code="310115", service_area="仅限上海"),
            need("N1", "厂房保洁外包", "", category="service", region_code="320505"),
        ]
    )
    results = e.match_id("N1")
    assert ids(results) == ["O1"]
    reason = next(r for r in results[0].reasons if r.code == "serves_area")
    assert reason.params["area"] == "长三角"
    assert reason.params["name"] == "苏州市虎丘区"
    assert ListingDoc.from_json(e.get("O2").to_json()).service_area == "仅限上海"


def test_a_need_that_limits_the_area_excludes_suppliers_elsewhere():
    e = make_engine()
    e.rebuild(
        [
            offer("O1", "消防设施维保", "", category="service", region_code="440106"),
            offer("O2", "消防设施维保", "", category="service", region_code="440305"),
            offer("O3", "消防设施维保", "服务珠三角", category="service", region_code="440305"),
            need("N1", "消防设施维保", "仅限本市单位", category="service", region_code="440111"),
        ]
    )
    assert set(ids(e.match_id("N1"))) == {"O1", "O3"}


def test_one_shared_generic_word_is_not_a_strong_match():
    """The shipped model: rebar and masks share only 配送; the score must say so."""
    e = MatchingEngine(embedder=HashEmbedder(), today=lambda: TODAY)
    e.rebuild(
        [
            offer("O1", "HRB400E螺纹钢", "建筑用热轧带肋钢筋，厂家直发，可配送到工地", region_code="310115"),
            offer("O2", "KN95口罩", "KN95防护口罩现货，日产五万只，可配送", region_code="310115"),
            offer("O3", "医用外科口罩", "一次性医用外科口罩，三层防护，可配送", region_code="320505"),
            need("N1", "采购KN95口罩", "工厂复工需要KN95口罩两万只，要求配送到厂", region_code="310112"),
        ]
    )
    results = {r.listing_id: r for r in e.match_id("N1")}
    assert results["O2"].score > results["O1"].score
    assert results["O1"].score < 0.2
    shared = next((r for r in results["O1"].reasons if r.code == "shared_terms"), None)
    assert shared is None or "配送" not in shared.params["terms"]


def test_bm25_remove_and_compact_keep_scores():
    index = BM25Index()
    index.add(0, ["口罩", "医用"])
    index.add(1, ["口罩"])
    index.add(2, ["钢材"])
    before = index.score({"口罩": 1.0})
    index.add(3, ["口罩", "口罩"])
    index.remove(3)
    index.compact()
    after = index.score({"口罩": 1.0})
    assert before[0].tolist() == after[0].tolist()
    assert np.allclose(before[1], after[1])


def test_matches_stay_consistent_while_a_background_thread_updates(engine):
    import threading

    errors = []

    def writer():
        try:
            for i in range(200):
                engine.update(offer("W1", f"供应顺丁橡胶 第{i}批", "轮胎用", industry_code="2652"))
                if i % 10 == 0:
                    engine.remove("W1")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    for _ in range(100):
        for result in engine.match_id("N1"):
            assert engine.get(result.listing_id) is None or engine.get(result.listing_id).direction == "offer"
    thread.join()
    assert errors == []
