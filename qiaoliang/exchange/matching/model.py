"""The learned part of the ranking: feature weights, the category prior and the score calibration.

Every candidate of a match is described by the features in `FEATURES` (text similarity from BM25 and
the embedding, category, industry, region, service area, price). A logistic regression over them,
fitted on judged pairs (bench/eval_matching.py), gives both the order and the probability that the
candidate is relevant; an isotonic map fitted on held-out predictions corrects what is left of the
calibration, so `MatchResult.score` reads as P(relevant). The category prior is the smoothed lift
P(offer category | relevant to a need of category c) / P(offer category), learned from the same
judgements: a compatibility table learned from data instead of a hand-written gate.

The shipped model is data/rank_model.json; `fit` and `fit_category_lift` re-create it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .documents import CATEGORIES

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA_DIR / "rank_model.json"

FEATURES: tuple[str, ...] = (
    "cos",  # cosine similarity of the e5 embeddings
    "cos_gap",  # cosine minus the best cosine among this match's candidates (≤ 0)
    "emb_rr",  # 10 / (10 + rank) in the embedding list (0 when not in it)
    "bm25_rel",  # BM25 score / the best BM25 score among the candidates
    "coverage",  # share of the query's IDF-weighted terms found in the candidate
    "bm25_rr",  # 10 / (10 + rank) in the BM25 list (0 when not in it)
    "category",  # learned log-lift of (need category, offer category)
    "chain_forward",  # the offer's industry supplies the need's (KAG chain, GB/T 4754)
    "chain_backward",  # the other way round (the offer is made from what the need wants)
    "same_class",  # same GB/T 4754 小类
    "same_group",  # same 中类 (not 小类)
    "same_division",  # same 大类 (not 中类)
    "same_province",  # same province (GB/T 2260)
    "same_city",  # same prefecture city
    "same_county",  # same county
    "area_covers",  # the offer states an area and it covers the need's place
    "area_misses",  # the offer states an area and the need's province is outside it
    "area_city_misses",  # the offer's area is limited to cities of the need's province, not the need's city
    "need_area_misses",  # the need states an area and the offer is outside it and does not serve it
    "local_far",  # a locally delivered service (either side) between different cities, area not covering
    "price_fit",  # the budget range overlaps the price range
    "price_over",  # the cheapest price is above 1.5 × the top of the budget
)
N_FEATURES = len(FEATURES)


@dataclass(frozen=True)
class RankModel:
    """Weights over `FEATURES`, the category log-lift table and the isotonic calibration."""

    weights: tuple[float, ...] = tuple([0.0] * N_FEATURES)
    bias: float = 0.0
    category_lift: tuple[tuple[float, ...], ...] = tuple(tuple([0.0] * len(CATEGORIES)) for _ in CATEGORIES)
    calibration_x: tuple[float, ...] = ()  # isotonic knots for matching a need against offers …
    calibration_y: tuple[float, ...] = ()
    offer_calibration_x: tuple[float, ...] = ()  # … and for matching an offer against needs
    offer_calibration_y: tuple[float, ...] = ()
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.weights) != N_FEATURES:
            raise ValueError(f"a rank model needs {N_FEATURES} weights, not {len(self.weights)}")

    @property
    def w(self) -> np.ndarray:
        return np.asarray(self.weights, dtype=np.float64)

    @property
    def lift(self) -> np.ndarray:
        """Return L[need_category, offer_category] (log-lift, 0 = as often as chance)."""
        return np.asarray(self.category_lift, dtype=np.float64)

    def raw(self, features: np.ndarray) -> np.ndarray:
        """Return the linear score (the logit) of candidates, one row of features each."""
        return features @ self.w + self.bias

    def probability(self, raw: np.ndarray, direction: str = "need") -> np.ndarray:
        """Return the calibrated P(relevant) of linear scores of a match for a need (or for an offer).

        The two directions have their own calibration: an exchange has fewer needs than offers, and
        many offers have no fitting need at all, so the best needs found for an offer are relevant less
        often than the best offers found for a need at the same linear score.
        """
        logistic = 1.0 / (1.0 + np.exp(-np.clip(raw, -30, 30)))
        x, y = self.calibration_x, self.calibration_y
        if direction == "offer" and len(self.offer_calibration_x) >= 2:
            x, y = self.offer_calibration_x, self.offer_calibration_y
        if len(x) >= 2:
            return np.interp(logistic, x, y)
        return logistic

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "categories": list(CATEGORIES),
            "category_lift": [[round(v, 6) for v in row] for row in self.category_lift],
            "calibration": {
                "need": {"x": list(self.calibration_x), "y": list(self.calibration_y)},
                "offer": {"x": list(self.offer_calibration_x), "y": list(self.offer_calibration_y)},
            },
            "info": self.info,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RankModel:
        names = list(data["features"])
        by_name = dict(zip(names, data["weights"], strict=True))
        unknown = set(names) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown features in rank model: {sorted(unknown)}")
        order = [CATEGORIES.index(c) for c in data.get("categories", CATEGORIES)]
        lift = np.zeros((len(CATEGORIES), len(CATEGORIES)))
        for i, row in zip(order, data["category_lift"], strict=True):
            for j, value in zip(order, row, strict=True):
                lift[i, j] = value
        calibration = data.get("calibration") or {}
        need = calibration.get("need", calibration)  # format of the first version: one {"x", "y"}
        offer = calibration.get("offer", {})
        return cls(
            weights=tuple(float(by_name.get(name, 0.0)) for name in FEATURES),
            bias=float(data["bias"]),
            category_lift=tuple(tuple(float(v) for v in row) for row in lift),
            calibration_x=tuple(float(v) for v in need.get("x", ())),
            calibration_y=tuple(float(v) for v in need.get("y", ())),
            offer_calibration_x=tuple(float(v) for v in offer.get("x", ())),
            offer_calibration_y=tuple(float(v) for v in offer.get("y", ())),
            info=dict(data.get("info") or {}),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=1)
def default_model() -> RankModel:
    """Return the shipped model (data/rank_model.json)."""
    return RankModel.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


# -- fitting (used by bench/eval_matching.py; pure numpy) ---------------------------------------------------
def fit_category_lift(
    pairs: list[tuple[str, str]], offer_categories: list[str], *, smoothing: float = 5.0
) -> tuple[tuple[float, ...], ...]:
    """Return the smoothed log-lift table from judged relevant (need category, offer category) pairs.

    lift(n, o) = P(o | relevant to n) / P(o), where P(o) is the share of offers in category o and
    P(o | relevant to n) is smoothed towards P(o) with `smoothing` pseudo-pairs, so a pair never
    seen gets a lift below 1 that grows more certain as the need category gets more judgements.
    """
    k = len(CATEGORIES)
    base = np.full(k, 1.0)  # one pseudo-offer per category keeps P(o) > 0
    for category in offer_categories:
        base[CATEGORIES.index(category)] += 1
    base /= base.sum()
    counts = np.zeros((k, k))
    for need, offer in pairs:
        counts[CATEGORIES.index(need), CATEGORIES.index(offer)] += 1
    table = []
    for i in range(k):
        total = counts[i].sum()
        smoothed = (counts[i] + smoothing * base) / (total + smoothing)
        table.append(tuple(float(math.log(smoothed[j] / base[j])) for j in range(k)))
    return tuple(table)


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    l2: float = 1.0,
    iterations: int = 50,
) -> tuple[np.ndarray, float]:
    """Return (weights, bias) of an L2-regularised logistic regression (Newton's method).

    The bias is not penalised. `l2` is the penalty on the sum of squared weights, in units of
    (weighted) examples.
    """
    n, d = features.shape
    x = np.hstack([features, np.ones((n, 1))])
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    beta = np.zeros(d + 1)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (sw * (p - labels)) + penalty * beta
        hessian = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def fit_isotonic(scores: np.ndarray, labels: np.ndarray, *, points: int = 24) -> tuple[tuple[float, ...], ...]:
    """Return (x, y) knots of a monotone map from scores to the observed rate of relevance.

    Pool-adjacent-violators over the sorted scores, then sampled at `points` quantiles (and the two
    ends) so the shipped table stays small; between knots the map is linear.
    """
    order = np.argsort(scores, kind="mergesort")
    x = np.asarray(scores, dtype=np.float64)[order]
    y = np.asarray(labels, dtype=np.float64)[order]
    blocks: list[list[float]] = []  # [sum of y, count, x of the block's first, x of its last]
    for xi, yi in zip(x, y, strict=True):
        blocks.append([yi, 1.0, xi, xi])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            total, count, _first, last = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
            blocks[-1][3] = last
    knots_x, knots_y = [], []
    for total, count, first, last in blocks:
        knots_x.append((first + last) / 2)
        knots_y.append(total / count)
    kx, ky = np.asarray(knots_x), np.asarray(knots_y)
    grid = np.unique(np.concatenate([[0.0], np.quantile(x, np.linspace(0, 1, points)), [1.0]]))
    values = np.maximum.accumulate(np.interp(grid, kx, ky))
    return tuple(round(float(v), 6) for v in grid), tuple(round(float(v), 6) for v in values)
