"""The matching engine facade: index listings, match one against the opposite direction.

    engine = MatchingEngine(embedder=E5Embedder())
    engine.rebuild(docs)                       # or add / update / remove one by one
    engine.match(doc, top_n=10)                # → [MatchResult(listing_id, score 0..1, reasons)]

Algorithm (see README.md): hard rules pick the eligible listings (opposite direction, open, not
expired, another enterprise, a service area stated as a limit); BM25 and the embedding index each
return their top `candidates`; every candidate of the union is described by features (text
similarity, learned category prior, industry chain, region, service area, price) and scored by the
learned model (`model.py`), whose calibrated output P(relevant) is the score shown to users.

Thread-safety: one re-entrant lock guards the index; tokenising and embedding happen outside it,
so a background task that updates listings blocks a match only for the index write itself
(microseconds). `rebuild` and `load` build a fresh state off-lock and swap it in (copy-on-write).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from . import geo, rules
from .bm25 import BM25Index
from .documents import CATEGORIES, DIRECTIONS, ListingDoc, MatchResult, Reason
from .model import FEATURES, RankModel, default_model
from .tokenizer import Tokenizer, clean_text, default_tokenizer
from .vectors import Embedder, VectorIndex

FORMAT_VERSION = 2
RANKERS = ("hybrid", "rrf", "bm25", "embedding", "exact")
_NO_EXPIRY = np.iinfo(np.int32).max


@dataclass(frozen=True)
class MatchParams:
    """Parameters of retrieval and reasons; how the signals are weighed is the learned `RankModel`."""

    k1: float = 1.2
    b: float = 0.75
    title_weight: int = 2
    max_query_terms: int = 32
    max_df_ratio: float = 0.05  # query terms in more than 5 % of the side's listings are skipped (see README)
    candidates: int = 100  # per list
    rrf_k: float = 60.0  # for the "rrf" ranker only (fusion without rules, for the evaluation)
    bm25_weight: float = 1.0
    embedding_weight: float = 1.0
    query_mode: str = "query"  # embed the listing being matched as an e5 "query" or as a "passage"
    generic_df_ratio: float = 0.04  # shared words found in more listings than this are generic (not shown)
    semantic_reason_rank: int = 3  # "similar description" when the embedding ranks the match this high …
    semantic_reason_gap: float = 0.02  # … and its cosine is this close to the best one
    exact_threshold: int = 20_000  # vectors per direction; HNSW above (see README, measured)
    exclude_same_enterprise: bool = True


def _stable_int(value: int | str | None) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value or 1
    digest = hashlib.blake2b(str(value).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class _Place:
    """Where a listing is and what area it serves or wants served."""

    loc: int = 0
    area: geo.Area = geo.NO_AREA
    local: bool = False


def place_of(doc: ListingDoc, text: str) -> _Place:
    """Return a listing's place: region (else the first place named), service area (the structured field
    first, then the text) and whether it is a locally delivered service."""
    region = rules.region_int(doc.region_code)
    area = geo.NO_AREA
    if doc.service_area:
        area = geo.parse_area(clean_text(doc.service_area), region, structured=True)
    if not area.mask:
        area = geo.parse_area(text, region)
    loc = region or geo.place_in_text(text)
    if not loc and area.mask and len(area.cities) == 1:
        loc = area.cities[0]
    return _Place(loc=loc, area=area, local=rules.is_local(doc.industry_code, text))


class _Side:
    """The listings of one direction: BM25 index, vectors and attribute columns by slot."""

    COLUMNS: dict[str, tuple[Any, Any]] = {
        "alive": (bool, False),
        "is_open": (bool, False),
        "valid": (np.int32, _NO_EXPIRY),
        "category": (np.int8, 0),
        "region": (np.int32, 0),
        "division": (np.int16, -1),
        "group": (np.int16, -1),
        "klass": (np.int32, -1),
        "price_min": (np.float64, np.nan),
        "price_max": (np.float64, np.nan),
        "enterprise": (np.int64, 0),
        "loc": (np.int32, 0),  # where the listing is: its region, else the first place its text names
        "local": (bool, False),  # a locally delivered service (industry or words)
        "area_mask": (np.int64, 0),  # provinces of the stated service area (geo.Area.mask); 0 = none stated
        "area_city": (np.int32, 0),  # the one city the area is limited to (0 = none or several)
        "area_strict": (bool, False),  # the area is stated as a limit (仅限 / 以外不发货 / 省外不接)
        "area_cities": (bool, False),  # the area is limited to several cities (checked exactly, `areas`)
    }

    def __init__(self, params: MatchParams, dim: int) -> None:
        self.bm25 = BM25Index(k1=params.k1, b=params.b)
        self.vectors = VectorIndex(dim, exact_threshold=params.exact_threshold)
        self.ids: list[int | str | None] = []
        self.text_keys: list[str] = []
        self.areas: list[geo.Area] = []
        self.capacity = 1024
        self.cols = {name: np.full(self.capacity, fill, dtype=dtype) for name, (dtype, fill) in self.COLUMNS.items()}

    @property
    def n_slots(self) -> int:
        return len(self.ids)

    def new_slot(self, doc: ListingDoc, text_key: str, place: _Place) -> int:
        slot = len(self.ids)
        if slot >= self.capacity:
            size = self.capacity * 2
            for name, (dtype, fill) in self.COLUMNS.items():
                column = np.full(size, fill, dtype=dtype)
                column[: self.capacity] = self.cols[name]
                self.cols[name] = column
            self.capacity = size
        self.ids.append(doc.id)
        self.text_keys.append(text_key)
        self.areas.append(place.area)
        division, group, klass = rules.industry_parts(doc.industry_code)
        c = self.cols
        c["alive"][slot] = True
        c["is_open"][slot] = doc.is_open
        c["valid"][slot] = doc.valid_until.toordinal() if doc.valid_until else _NO_EXPIRY
        c["category"][slot] = rules.CATEGORY_INDEX[doc.category]
        c["region"][slot] = rules.region_int(doc.region_code)
        c["division"][slot] = division
        c["group"][slot] = group
        c["klass"][slot] = klass
        c["price_min"][slot] = _nan(doc.price_min)
        c["price_max"][slot] = _nan(doc.price_max)
        c["enterprise"][slot] = _stable_int(doc.enterprise_id)
        c["loc"][slot] = place.loc
        c["local"][slot] = place.local
        c["area_mask"][slot] = place.area.mask
        c["area_city"][slot] = place.area.cities[0] if len(place.area.cities) == 1 else 0
        c["area_strict"][slot] = place.area.strict
        c["area_cities"][slot] = len(place.area.cities) > 1
        return slot

    def kill(self, slot: int) -> None:
        self.cols["alive"][slot] = False
        self.ids[slot] = None
        self.areas[slot] = geo.NO_AREA
        self.bm25.remove(slot)
        self.vectors.remove(slot)


@dataclass
class _Query:
    """Everything the ranking needs to know about the listing being matched."""

    doc: ListingDoc
    weights: dict[str, float]
    vector: np.ndarray | None
    division: int
    group: int
    klass: int
    enterprise: int
    place: _Place
    today: int
    extra: dict[str, Any] = field(default_factory=dict)


class MatchingEngine:
    """Index listings of both directions and rank, for one listing, the fitting listings of the other."""

    def __init__(
        self,
        *,
        embedder: Embedder | None = None,
        params: MatchParams | None = None,
        tokenizer: Tokenizer | None = None,
        today: Callable[[], date] | None = None,
        dim: int | None = None,
        model: RankModel | None = None,
    ) -> None:
        self.embedder = embedder
        self.params = params or MatchParams()
        self.tokenizer = tokenizer or default_tokenizer()
        self.today = today or date.today
        self.dim = dim or (embedder.dim if embedder is not None else 384)
        self._lock = threading.RLock()
        self._sides = {direction: _Side(self.params, self.dim) for direction in DIRECTIONS}
        self._docs: dict[int | str, ListingDoc] = {}
        self._where: dict[int | str, int] = {}
        self.model: RankModel = model or default_model()

    # -- text ------------------------------------------------------------------------------------
    @staticmethod
    def embedding_text(doc: ListingDoc) -> str:
        """Return the text embedded for a listing (title, then description)."""
        return f"{doc.title}。{doc.description}".strip("。 ")

    def index_terms(self, doc: ListingDoc) -> list[str]:
        """Return the BM25 terms of a listing (title terms count `title_weight` times)."""
        return self._analyse(doc)[0]

    def _analyse(self, doc: ListingDoc) -> tuple[list[str], str]:
        """Return the BM25 terms and the cleaned full text (for the service-area parser)."""
        title, description = clean_text(doc.title), clean_text(doc.description)
        terms = self.tokenizer.tokenize_clean(title) * self.params.title_weight
        terms += self.tokenizer.tokenize_clean(description)
        return terms, f"{title}。{description}"

    @staticmethod
    def _text_key(doc: ListingDoc) -> str:
        return hashlib.blake2b(MatchingEngine.embedding_text(doc).encode("utf-8"), digest_size=12).hexdigest()

    def set_params(self, **changes: Any) -> None:
        """Change parameters that need no re-indexing (k1, b, candidates, reasons)."""
        if {"title_weight", "exact_threshold"} & set(changes):
            raise ValueError("title_weight and exact_threshold need a rebuild")
        with self._lock:
            self.params = replace(self.params, **changes)
            for side in self._sides.values():
                side.bm25.k1, side.bm25.b = self.params.k1, self.params.b

    def set_model(self, model: RankModel) -> None:
        """Replace the learned ranking model (weights, category prior, calibration)."""
        with self._lock:
            self.model = model

    # -- writes ----------------------------------------------------------------------------------
    def _prepare(
        self, docs: list[ListingDoc], vectors: np.ndarray | None
    ) -> list[tuple[ListingDoc, list[str], str, np.ndarray | None, _Place]]:
        """Tokenise, place and embed outside the lock; reuse stored vectors when the text is unchanged."""
        prepared = []
        to_embed: list[int] = []
        for i, doc in enumerate(docs):
            key = self._text_key(doc)
            vector = None
            if vectors is not None:
                vector = vectors[i]
            else:
                vector = self._stored_vector(doc.id, key)
                if vector is None and self.embedder is not None:
                    to_embed.append(i)
            terms, text = self._analyse(doc)
            prepared.append([doc, terms, key, vector, place_of(doc, text)])
        if to_embed and self.embedder is not None:
            embedded = self.embedder.embed_passages([self.embedding_text(docs[i]) for i in to_embed])
            for row, i in enumerate(to_embed):
                prepared[i][3] = embedded[row]
        return [tuple(p) for p in prepared]  # type: ignore[misc]  # (doc, terms, text key, vector, place)

    def _stored_vector(self, listing_id: int | str, key: str) -> np.ndarray | None:
        with self._lock:
            doc = self._docs.get(listing_id)
            if doc is None:
                return None
            side = self._sides[doc.direction]
            slot = self._where[listing_id]
            if side.text_keys[slot] != key:
                return None
            return side.vectors.get(slot)

    def _apply(self, item: tuple[ListingDoc, list[str], str, np.ndarray | None, _Place]) -> int:
        """Index text and attributes of one listing in a new slot (the caller stores the vector)."""
        doc, terms, key, _vector, place = item
        if doc.id in self._docs:
            self._remove_locked(doc.id)
        side = self._sides[doc.direction]
        slot = side.new_slot(doc, key, place)
        side.bm25.add(slot, terms)
        self._docs[doc.id] = doc
        self._where[doc.id] = slot
        return slot

    def add(self, doc: ListingDoc, *, vector: np.ndarray | None = None) -> None:
        """Index a listing (replaces a listing with the same id)."""
        self.add_many([doc], vectors=None if vector is None else np.asarray(vector).reshape(1, -1))

    def add_many(self, docs: Iterable[ListingDoc], *, vectors: np.ndarray | None = None, batch: int = 256) -> None:
        """Index many listings; `vectors` (one row per listing) skips embedding."""
        docs = list(docs)
        for start in range(0, len(docs), batch):
            chunk = docs[start : start + batch]
            prepared = self._prepare(chunk, None if vectors is None else vectors[start : start + batch])
            with self._lock:
                pending: dict[str, tuple[list[int], list[np.ndarray]]] = {}
                for item in prepared:
                    slot = self._apply(item)
                    if item[3] is not None:
                        slots, rows = pending.setdefault(item[0].direction, ([], []))
                        slots.append(slot)
                        rows.append(item[3])
                for direction, (slots, rows) in pending.items():
                    self._sides[direction].vectors.set_many(np.array(slots), np.stack(rows).astype(np.float32))

    def update(self, doc: ListingDoc, *, vector: np.ndarray | None = None) -> None:
        """Re-index a changed listing (its vector is reused when title and description are unchanged)."""
        self.add(doc, vector=vector)

    def _remove_locked(self, listing_id: int | str) -> None:
        doc = self._docs.pop(listing_id)
        slot = self._where.pop(listing_id)
        side = self._sides[doc.direction]
        side.kill(slot)
        bm25 = side.bm25
        if bm25.stale_postings > 10_000 and bm25.stale_postings * 4 > bm25.total_len:
            bm25.compact()

    def remove(self, listing_id: int | str) -> None:
        """Drop a listing from the index (no error when unknown)."""
        with self._lock:
            if listing_id in self._docs:
                self._remove_locked(listing_id)

    def rebuild(self, docs: Iterable[ListingDoc], *, vectors: np.ndarray | None = None) -> None:
        """Replace the whole index (built off-lock, then swapped in)."""
        fresh = MatchingEngine(
            embedder=self.embedder,
            params=self.params,
            tokenizer=self.tokenizer,
            today=self.today,
            dim=self.dim,
            model=self.model,
        )
        for side in fresh._sides.values():  # bulk-build the HNSW graph once at the end, on all cores
            side.vectors.exact_threshold = np.iinfo(np.int64).max
        fresh.add_many(docs, vectors=vectors)
        for side in fresh._sides.values():
            side.vectors.exact_threshold = self.params.exact_threshold
            if side.vectors.count > side.vectors.exact_threshold:
                side.vectors.build_ann()
        self._swap_from(fresh)

    def _swap_from(self, other: MatchingEngine) -> None:
        with self._lock:
            self._sides, self._docs, self._where = other._sides, other._docs, other._where

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, listing_id: object) -> bool:
        return listing_id in self._docs

    def get(self, listing_id: int | str) -> ListingDoc | None:
        """Return the indexed listing with this id."""
        return self._docs.get(listing_id)

    # -- matching --------------------------------------------------------------------------------
    def embed_for_match(self, doc: ListingDoc) -> np.ndarray | None:
        """Return the vector used to match this listing (stored passage vector or a fresh e5 query)."""
        if self.params.query_mode == "passage":
            stored = self._stored_vector(doc.id, self._text_key(doc))
            if stored is not None:
                return stored
            if self.embedder is None:
                return None
            return self.embedder.embed_passages([self.embedding_text(doc)])[0]
        if self.embedder is None:
            return None
        return self.embedder.embed_query(self.embedding_text(doc))

    def match_id(self, listing_id: int | str, top_n: int = 10, **kwargs: Any) -> list[MatchResult]:
        """Match an indexed listing by id."""
        doc = self._docs.get(listing_id)
        if doc is None:
            raise KeyError(listing_id)
        return self.match(doc, top_n=top_n, **kwargs)

    def match(
        self,
        doc: ListingDoc,
        top_n: int = 10,
        *,
        ranker: str = "hybrid",
        query_vector: np.ndarray | None = None,
        today: date | None = None,
        candidate_cache: dict | None = None,
    ) -> list[MatchResult]:
        """Return the best listings of the opposite direction for `doc`, best first, with reasons.

        `ranker`: "hybrid" (the learned model over the fused candidates, the default), "rrf" (reciprocal-
        rank fusion without any other signal), "bm25", "embedding" (single lists, hard rules only),
        "exact" (the learned model over every eligible listing). `query_vector` skips embedding
        (benchmarks time it apart). `candidate_cache` (a dict kept by the caller) reuses the candidates
        and features of an earlier call for the same listing, so models can be compared without
        re-running BM25 and vector search (the evaluation does this).
        """
        if ranker not in RANKERS:
            raise ValueError(f"unknown ranker {ranker!r}")
        if top_n <= 0:
            return []
        terms, text = self._analyse(doc)
        if ranker != "bm25" and query_vector is None:
            query_vector = self.embed_for_match(doc)
        with self._lock:
            side = self._sides[doc.opposite]
            query = self._query(doc, terms, text, query_vector, side, today)
            return self._rank(side, query, top_n, ranker, candidate_cache)

    def candidate_features(
        self,
        doc: ListingDoc,
        *,
        query_vector: np.ndarray | None = None,
        today: date | None = None,
        exact: bool = False,
    ) -> tuple[list[int | str], np.ndarray]:
        """Return the candidates of a match (ids) and their features (rows over `model.FEATURES`).

        This is what the model is trained on (bench/eval_matching.py): the same candidates and the same
        features the engine scores when it matches.
        """
        terms, text = self._analyse(doc)
        if query_vector is None:
            query_vector = self.embed_for_match(doc)
        with self._lock:
            side = self._sides[doc.opposite]
            query = self._query(doc, terms, text, query_vector, side, today)
            found = self._candidates(side, query, "exact" if exact else "hybrid")
            if not len(found.cand):
                return [], np.zeros((0, len(FEATURES)))
            features, _signals = self._features(side, query, found)
            return [side.ids[int(slot)] for slot in found.cand], features  # type: ignore[misc]

    def _query(
        self,
        doc: ListingDoc,
        terms: list[str],
        text: str,
        vector: np.ndarray | None,
        side: _Side,
        today: date | None,
    ) -> _Query:
        division, group, klass = rules.industry_parts(doc.industry_code)
        own_side = self._sides[doc.direction]
        slot = self._where.get(doc.id)
        if slot is not None and self._docs.get(doc.id) == doc:
            place = _Place(
                loc=int(own_side.cols["loc"][slot]),
                area=own_side.areas[slot],
                local=bool(own_side.cols["local"][slot]),
            )
        else:
            place = place_of(doc, text)
        return _Query(
            doc=doc,
            weights=side.bm25.query_weights(terms, self.params.max_query_terms, self.params.max_df_ratio),
            vector=None if vector is None else np.asarray(vector, dtype=np.float32),
            division=division,
            group=group,
            klass=klass,
            enterprise=_stable_int(doc.enterprise_id) if self.params.exclude_same_enterprise else 0,
            place=place,
            today=(today or self.today()).toordinal(),
        )

    def _pairs(self, side: _Side, query: _Query, slots: np.ndarray) -> dict[str, np.ndarray]:
        """Return need and offer places and areas of the query paired with each slot (need side first)."""
        c = side.cols
        n = len(slots)
        area = query.place.area
        mine = {
            "loc": np.full(n, query.place.loc, dtype=np.int64),
            "mask": np.full(n, area.mask, dtype=np.int64),
            "city": np.full(n, area.cities[0] if len(area.cities) == 1 else 0, dtype=np.int64),
            "strict": np.full(n, area.strict),
            "local": np.full(n, query.place.local),
        }
        theirs = {
            "loc": c["loc"][slots].astype(np.int64),
            "mask": c["area_mask"][slots],
            "city": c["area_city"][slots].astype(np.int64),
            "strict": c["area_strict"][slots],
            "local": c["local"][slots],
        }
        need, offer = (mine, theirs) if query.doc.direction == "need" else (theirs, mine)
        return {f"need_{k}": v for k, v in need.items()} | {f"offer_{k}": v for k, v in offer.items()}

    def _eligibility(self, side: _Side, query: _Query) -> Callable[[np.ndarray], np.ndarray]:
        """Return the hard-rule filter over slots: alive, open, unexpired, other enterprise, stated limits.

        An offer whose area is stated as a limit (仅限本市, 广东省以外不发货, 省外不接) is never shown for a
        need outside it; a need that limits where its supplier may be is never shown offers located
        elsewhere that do not say they serve the need's place. Areas stated without a limit (服务长三角)
        are evidence for the model, not a rule.
        """
        c = side.cols

        def eligible(slots: np.ndarray) -> np.ndarray:
            mask = c["alive"][slots] & c["is_open"][slots] & (c["valid"][slots] >= query.today)
            if query.enterprise:
                mask &= c["enterprise"][slots] != query.enterprise
            # Only pairs with a limit on either side need the area test.
            limited = mask if query.place.area.strict else mask & c["area_strict"][slots]
            if limited.any():
                rows = np.flatnonzero(limited)
                pairs = self._pairs(side, query, slots[rows])
                covers = _covers(pairs["offer_mask"], pairs["offer_city"], pairs["need_loc"])
                offer_out = pairs["offer_strict"] & (pairs["need_loc"] > 0) & ~covers
                need_has = _covers(pairs["need_mask"], pairs["need_city"], pairs["offer_loc"])
                need_out = pairs["need_strict"] & (pairs["offer_loc"] > 0) & ~need_has & ~covers
                mask[rows] = ~offer_out & ~need_out
            return mask

        return eligible

    def _candidates(self, side: _Side, query: _Query, ranker: str) -> _Found:
        """Return the BM25 list, the embedding list (slots and scores, best first) and their union."""
        p = self.params
        eligible = self._eligibility(side, query)
        has_vector = query.vector is not None and side.vectors.count > 0
        all_slots, all_scores, all_matched = side.bm25.score_matched(query.weights, eligible)
        bm_slots, bm_scores = _sorted(all_slots, all_scores, None if ranker == "exact" else p.candidates)
        em_slots, em_sims = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if ranker == "exact":
            cand = np.flatnonzero(side.cols["alive"][: side.n_slots])
            cand = cand[eligible(cand)] if len(cand) else cand
            if has_vector:
                em_slots, em_sims = _sorted(cand, side.vectors.all_similarities(query.vector)[cand])  # type: ignore[arg-type]
        else:
            k = p.candidates
            if ranker != "bm25" and has_vector:
                em_slots, em_sims = side.vectors.top(query.vector, k, eligible)  # type: ignore[arg-type]
            cand = np.union1d(bm_slots, em_slots).astype(np.int64)
        return _Found(cand, bm_slots, bm_scores, em_slots, em_sims, all_slots, all_scores, all_matched, has_vector)

    def _rank(
        self, side: _Side, query: _Query, top_n: int, ranker: str, candidate_cache: dict | None = None
    ) -> list[MatchResult]:
        p = self.params
        kind = "exact" if ranker == "exact" else "fast"
        key = (query.doc.id, kind)
        if candidate_cache is not None and key in candidate_cache:
            found, features, signals = candidate_cache[key]
        else:
            found = self._candidates(side, query, ranker if ranker == "exact" else "hybrid")
            features, signals = self._features(side, query, found) if len(found.cand) else (None, {})
            if candidate_cache is not None:
                candidate_cache[key] = (found, features, signals)
        cand = found.cand
        if not len(cand):
            return []
        if ranker == "bm25":
            order_score = _lookup(cand, found.bm_slots, found.bm_scores.astype(np.float64), -1.0)
            keep = order_score >= 0
            best = float(order_score.max()) or 1.0
            display = np.clip(order_score / best, 0.0, 1.0)
        elif ranker == "embedding":
            order_score = _lookup(cand, found.em_slots, found.em_sims.astype(np.float64), -2.0)
            keep = order_score > -2.0
            display = np.clip(order_score, 0.0, 1.0)
        elif ranker == "rrf":
            order_score = _rrf(cand, found.bm_slots, p.rrf_k, p.bm25_weight) + _rrf(
                cand, found.em_slots, p.rrf_k, p.embedding_weight
            )
            keep = order_score > 0
            best = (p.bm25_weight + (p.embedding_weight if found.has_vector else 0.0)) / (p.rrf_k + 1)
            display = np.clip(order_score / best, 0.0, 1.0)
        else:
            order_score = self.model.raw(features)  # type: ignore[arg-type]
            keep = np.ones(len(cand), dtype=bool)
            display = self.model.probability(order_score, query.doc.direction)
        index = np.flatnonzero(keep)
        n = min(top_n, len(index))
        if not n:
            return []
        part = index[np.argpartition(-order_score[index], n - 1)[:n]] if len(index) > n else index
        order = part[np.lexsort((cand[part], -order_score[part]))]
        results = []
        for i in order.tolist():
            slot = int(cand[i])
            reasons = self._reasons(side, query, slot, i, signals, found)
            results.append(MatchResult(listing_id=side.ids[slot], score=float(display[i]), reasons=reasons))  # type: ignore[arg-type]
        return results

    def _features(self, side: _Side, query: _Query, found: _Found) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return the feature rows of the candidates (over `model.FEATURES`) and the signals for reasons."""
        c = side.cols
        cand = found.cand
        n = len(cand)
        f: dict[str, np.ndarray] = {}
        # text: embedding and BM25
        if found.has_vector:
            cos = side.vectors.similarities(query.vector, cand).astype(np.float64)  # type: ignore[arg-type]
            f["cos"] = cos
            f["cos_gap"] = cos - float(cos.max())
        else:
            f["cos"] = f["cos_gap"] = np.zeros(n)
        f["emb_rr"] = _rank_feature(cand, found.em_slots)
        bm25 = _lookup(cand, found.all_slots, found.all_scores.astype(np.float64), 0.0)
        f["bm25_rel"] = bm25 / (float(bm25.max()) or 1.0)
        total = float(sum(query.weights.values())) or 1.0
        f["coverage"] = _lookup(cand, found.all_slots, found.all_matched.astype(np.float64), 0.0) / total
        f["bm25_rr"] = _rank_feature(cand, found.bm_slots)
        # category prior (learned)
        q_cat = rules.CATEGORY_INDEX[query.doc.category]
        c_cat = c["category"][cand].astype(np.int64)
        query_is_need = query.doc.direction == "need"
        lift = self.model.lift
        f["category"] = lift[q_cat, c_cat] if query_is_need else lift[c_cat, q_cat]
        # industry
        c_div, c_grp, c_cls = c["division"][cand], c["group"][cand], c["klass"][cand]
        q_div = np.full(n, query.division)
        q_grp = np.full(n, query.group)
        if query_is_need:  # offers (candidates) supply the need (query)
            forward = rules.chain_links(c_div, c_grp, q_div, q_grp)
            backward = rules.chain_links(q_div, q_grp, c_div, c_grp)
        else:
            forward = rules.chain_links(q_div, q_grp, c_div, c_grp)
            backward = rules.chain_links(c_div, c_grp, q_div, q_grp)
        backward &= ~forward
        f["chain_forward"], f["chain_backward"] = forward.astype(np.float64), backward.astype(np.float64)
        same_class = (c_cls == query.klass) & (query.klass >= 0)
        same_group = (c_grp == query.group) & (query.group >= 0) & ~same_class
        same_division = (c_div == query.division) & (query.division >= 0) & ~same_class & ~same_group
        f["same_class"], f["same_group"] = same_class.astype(np.float64), same_group.astype(np.float64)
        f["same_division"] = same_division.astype(np.float64)
        # region
        level = rules.region_levels(query.place.loc, c["loc"][cand].astype(np.int64))
        f["same_province"] = (level >= 1).astype(np.float64)
        f["same_city"] = (level >= 2).astype(np.float64)
        f["same_county"] = (level >= 3).astype(np.float64)
        # service area
        pairs = self._pairs(side, query, cand)
        need_loc, offer_loc = pairs["need_loc"], pairs["offer_loc"]
        stated = (pairs["offer_mask"] != 0) & (need_loc > 0)
        in_province = _covers(pairs["offer_mask"], np.zeros(n, dtype=np.int64), need_loc)
        covers = _covers(pairs["offer_mask"], pairs["offer_city"], need_loc)
        covers = self._refine_cities(side, query, cand, covers, need_loc)
        f["area_covers"] = (stated & covers).astype(np.float64)
        f["area_misses"] = (stated & ~in_province).astype(np.float64)
        f["area_city_misses"] = (stated & in_province & ~covers).astype(np.float64)
        need_stated = (pairs["need_mask"] != 0) & (offer_loc > 0) & ~_national(pairs["need_mask"])
        need_has = _covers(pairs["need_mask"], pairs["need_city"], offer_loc)
        f["need_area_misses"] = (need_stated & ~need_has & ~(stated & covers)).astype(np.float64)
        known = (need_loc > 0) & (offer_loc > 0)
        other_city = known & (need_loc // 100 != offer_loc // 100)
        f["local_far"] = ((pairs["need_local"] | pairs["offer_local"]) & other_city & ~(stated & covers)).astype(
            np.float64
        )
        # price
        price = rules.price_relation(
            _nan(query.doc.price_min),
            _nan(query.doc.price_max),
            c["price_min"][cand],
            c["price_max"][cand],
            query_is_need,
        )
        f["price_fit"] = (price > 0).astype(np.float64)
        f["price_over"] = (price < 0).astype(np.float64)
        features = np.column_stack([f[name] for name in FEATURES])
        signals = {"cos": f["cos"], "level": level, "covers": stated & covers, "forward": forward,
                   "backward": backward, "same_class": same_class, "same_group": same_group,
                   "category": f["category"], "price": price}  # fmt: skip
        return features, signals

    def _refine_cities(
        self, side: _Side, query: _Query, cand: np.ndarray, covers: np.ndarray, need_loc: np.ndarray
    ) -> np.ndarray:
        """Check areas limited to several cities exactly (the columns hold one city only)."""
        if query.doc.direction == "need":
            several = np.flatnonzero(side.cols["area_cities"][cand] & (need_loc > 0))
            if not len(several):
                return covers
            covers = covers.copy()
            for i in several.tolist():
                covers[i] = bool(side.areas[int(cand[i])].covers(int(need_loc[i])))
            return covers
        area = query.place.area
        if len(area.cities) > 1:
            return np.array([bool(area.covers(int(loc))) if loc else False for loc in need_loc.tolist()])
        return covers

    def _reasons(
        self, side: _Side, query: _Query, slot: int, i: int, signals: dict[str, np.ndarray], found: _Found
    ) -> list[Reason]:
        """Explain one match with structured reason codes and their evidence (translated by reasons.py)."""
        p = self.params
        other = self._docs.get(side.ids[slot])  # type: ignore[arg-type]
        reasons: list[Reason] = []
        shared = side.bm25.shared_terms(slot, query.weights, max_df_ratio=p.generic_df_ratio)
        if shared:
            reasons.append(Reason("shared_terms", {"terms": shared}))
        if other is None or not signals:
            return reasons
        need, offer = (query.doc, other) if query.doc.direction == "need" else (other, query.doc)
        if signals["forward"][i] or signals["backward"][i]:
            up, down = (offer, need) if signals["forward"][i] else (need, offer)
            reasons.append(Reason("industry_chain", _chain_params(up.industry_code, down.industry_code)))
        elif signals["same_class"][i] or signals["same_group"][i]:
            code = other.industry_code.lstrip("ABCDEFGHIJKLMNOPQRST")
            if signals["same_group"][i]:
                code = code[:3]
            reasons.append(
                Reason("same_industry", {"industry_code": code, "name": rules.industry_names().get(code, code)})
            )
        if other.category == query.doc.category:
            reasons.append(Reason("same_category", {"category": other.category}))
        elif signals["category"][i] > 0:
            lift = float(np.exp(signals["category"][i]))
            reasons.append(
                Reason(
                    "compatible_category",
                    {"need_category": need.category, "offer_category": offer.category, "lift": round(lift, 1)},
                )
            )
        if signals["covers"][i]:
            offer_area = side.areas[slot] if query.doc.direction == "need" else query.place.area
            need_loc = query.place.loc if query.doc.direction == "need" else int(side.cols["loc"][slot])
            reasons.append(
                Reason(
                    "serves_area",
                    {
                        "area": geo.area_name(offer_area),
                        "region_code": str(need_loc),
                        "name": geo.full_name(need_loc),
                        "national": offer_area.national,
                    },
                )
            )
        level = int(signals["level"][i])
        if level:
            region = int(side.cols["loc"][slot])
            region = region if level == 3 else (region // 100 * 100 if level == 2 else region // 10000 * 10000)
            name = geo.full_name(region) or str(region)
            reasons.append(
                Reason(
                    ("", "same_province", "same_city", "same_region")[level], {"region_code": str(region), "name": name}
                )
            )
        if signals["price"][i] > 0:
            reasons.append(
                Reason(
                    "price_fit",
                    {
                        "budget_min": need.price_min,
                        "budget_max": need.price_max,
                        "price_min": offer.price_min,
                        "price_max": offer.price_max,
                    },
                )
            )
        if found.has_vector and len(found.em_slots):
            top = found.em_slots[: p.semantic_reason_rank]
            similarity = float(signals["cos"][i])
            if slot in top.tolist() and similarity >= float(found.em_sims[0]) - p.semantic_reason_gap:
                reasons.append(Reason("semantic", {"similarity": round(similarity, 3)}))
        return reasons

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write the index to a directory (docs.jsonl, BM25 .npz, vectors .npy/.usearch, meta.json)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            meta: dict[str, Any] = {
                "format": FORMAT_VERSION,
                "params": asdict(self.params),
                "model": self.model.to_json(),
                "dim": self.dim,
                "sides": {},
            }
            with (directory / "docs.jsonl").open("w", encoding="utf-8") as handle:
                for direction, side in self._sides.items():
                    for slot, listing_id in enumerate(side.ids):
                        if listing_id is None:
                            continue
                        area = side.areas[slot]
                        place = {
                            "loc": int(side.cols["loc"][slot]),
                            "local": bool(side.cols["local"][slot]),
                            "mask": area.mask,
                            "cities": list(area.cities),
                            "strict": area.strict,
                            "label": area.label,
                        }
                        row = {
                            "slot": slot,
                            "text_key": side.text_keys[slot],
                            "place": place,
                            "doc": self._docs[listing_id].to_json(),
                        }
                        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                    meta["sides"][direction] = {"n_slots": side.n_slots}
                    side.bm25.save(directory / f"{direction}.bm25.npz")
                    side.vectors.save(directory, direction)
            (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        embedder: Embedder | None = None,
        tokenizer: Tokenizer | None = None,
        today: Callable[[], date] | None = None,
    ) -> MatchingEngine:
        """Read an index written by `save` (no re-tokenising, no re-embedding)."""
        directory = Path(directory)
        meta = json.loads((directory / "meta.json").read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported index format {meta.get('format')!r}")
        params = MatchParams(**meta["params"])
        model = RankModel.from_json(meta["model"])
        engine = cls(embedder=embedder, params=params, tokenizer=tokenizer, today=today, dim=meta["dim"], model=model)
        rows_by_side: dict[str, list[dict[str, Any]]] = {direction: [] for direction in DIRECTIONS}
        with (directory / "docs.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                rows_by_side[row["doc"]["direction"]].append(row)
        for direction, side in engine._sides.items():
            rows = {row["slot"]: row for row in rows_by_side[direction]}
            for slot in range(meta["sides"][direction]["n_slots"]):
                row = rows.get(slot)
                if row is None:  # a removed listing's slot stays empty so slot numbers are preserved
                    dead = ListingDoc(id=f"__dead{slot}", direction=direction, category="material", title="")  # type: ignore[arg-type]
                    side.new_slot(dead, "", _Place())
                    side.cols["alive"][slot] = False
                    side.ids[slot] = None
                    continue
                doc = ListingDoc.from_json(row["doc"])
                saved = row["place"]
                area = geo.Area(saved["mask"], tuple(saved["cities"]), saved["strict"], saved["label"])
                side.new_slot(doc, row["text_key"], _Place(saved["loc"], area, saved["local"]))
                engine._docs[doc.id] = doc
                engine._where[doc.id] = slot
            side.bm25 = BM25Index.load(directory / f"{direction}.bm25.npz")
            side.vectors.load_into(directory, direction)
        return engine


@dataclass
class _Found:
    """The candidates of one match: the two ranked lists, their union and every BM25 score."""

    cand: np.ndarray
    bm_slots: np.ndarray
    bm_scores: np.ndarray
    em_slots: np.ndarray
    em_sims: np.ndarray
    all_slots: np.ndarray  # every eligible listing containing a query term, with its BM25 score
    all_scores: np.ndarray
    all_matched: np.ndarray  # … and the summed query weight of the terms it contains
    has_vector: bool


def _sorted(slots: np.ndarray, scores: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (slots, scores) best first (ties by slot), the best k only when k is given."""
    if k is not None and len(slots) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        slots, scores = slots[part], scores[part]
    order = np.lexsort((slots, -scores))
    return slots[order], scores[order]


@lru_cache(maxsize=1)
def _province_bits() -> np.ndarray:
    """Return province (2 digits) → bit of `geo.Area.mask` as a lookup array (63 for unknown)."""
    table = np.full(100, 63, dtype=np.int64)
    for province in range(100):
        table[province] = geo.province_bit(province * 10000)
    return table


@lru_cache(maxsize=1)
def _municipalities() -> np.ndarray:
    table = np.zeros(100, dtype=bool)
    table[list(geo.MUNICIPALITIES)] = True
    return table


def _covers(mask: np.ndarray, city: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """Return, per pair, whether an area (province mask + one limiting city, 0 = none) covers a place."""
    province = loc // 10000 % 100
    inside = ((mask >> _province_bits()[province]) & 1).astype(bool) & (loc > 0)
    return inside & ((city == 0) | (city == loc - loc % 100) | _municipalities()[province])


def _national(mask: np.ndarray) -> np.ndarray:
    return (mask & geo.MAINLAND_MASK) == geo.MAINLAND_MASK


def _rank_feature(cand: np.ndarray, ranked_slots: np.ndarray) -> np.ndarray:
    """Return 10 / (10 + rank) (rank from 0) for candidates in a ranked list, 0 elsewhere."""
    if not len(ranked_slots):
        return np.zeros(len(cand), dtype=np.float64)
    return _lookup(cand, ranked_slots, 10.0 / (10.0 + np.arange(len(ranked_slots), dtype=np.float64)), 0.0)


def _lookup(cand: np.ndarray, slots: np.ndarray, values: np.ndarray, default: float) -> np.ndarray:
    result = np.full(len(cand), default, dtype=np.float64)
    if len(slots):
        order = np.argsort(slots)
        pos = np.searchsorted(slots[order], cand)
        pos = np.clip(pos, 0, len(slots) - 1)
        hit = slots[order][pos] == cand
        result[hit] = values[order][pos[hit]]
    return result


def _rrf(cand: np.ndarray, ranked_slots: np.ndarray, k: float, weight: float) -> np.ndarray:
    """Return weight / (k + rank) for candidates in the ranked list (rank from 1), 0 elsewhere."""
    if not len(ranked_slots) or weight == 0:
        return np.zeros(len(cand), dtype=np.float64)
    ranks = np.arange(1, len(ranked_slots) + 1, dtype=np.float64)
    contribution = weight / (k + ranks)
    return _lookup(cand, ranked_slots, contribution, 0.0)


def _chain_params(upstream_code: str, downstream_code: str) -> dict[str, Any]:
    names = rules.industry_names()
    params: dict[str, Any] = {}
    for key, code in (("upstream", upstream_code), ("downstream", downstream_code)):
        division, group, _ = rules.industry_parts(code)
        exact = code.lstrip("ABCDEFGHIJKLMNOPQRST")
        params[f"{key}_code"] = exact
        params[key] = (
            names.get(exact)
            or (names.get(str(group)) if group >= 0 else None)
            or names.get(str(division).zfill(2), exact)
        )
    return params


__all__ = ["CATEGORIES", "RANKERS", "MatchParams", "MatchingEngine"]
