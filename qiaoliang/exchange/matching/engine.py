"""The matching engine facade: index listings, match one against the opposite direction.

    engine = MatchingEngine(embedder=E5Embedder())
    engine.rebuild(docs)                       # or add / update / remove one by one
    engine.match(doc, top_n=10)                # → [MatchResult(listing_id, score 0..1, reasons)]

Algorithm (see README.md): hard rules pick the eligible listings (opposite direction, open, not
expired, another enterprise, same city for local services); BM25 and the embedding index each
return their top `candidates`; reciprocal-rank fusion merges them; rule multipliers (category
compatibility, industry chain, same industry, region, price fit) re-rank; the score is divided by
the best score the formula can give, so 1.0 means "first in both lists with every boost".

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
from pathlib import Path
from typing import Any

import numpy as np

from . import rules
from .bm25 import BM25Index
from .documents import CATEGORIES, DIRECTIONS, ListingDoc, MatchResult, Reason
from .tokenizer import Tokenizer, clean_text, default_tokenizer
from .vectors import Embedder, VectorIndex

FORMAT_VERSION = 1
RANKERS = ("hybrid", "rrf", "bm25", "embedding", "exact")
_NO_EXPIRY = np.iinfo(np.int32).max


@dataclass(frozen=True)
class MatchParams:
    """Tunable parameters of the ranking formula (defaults chosen by cross-validation, see README)."""

    k1: float = 1.2
    b: float = 0.75
    title_weight: int = 2
    max_query_terms: int = 32
    max_df_ratio: float = 0.05  # query terms in more than 5 % of the side's listings are skipped (see README)
    candidates: int = 100  # per list; 200 gives the same nDCG@10 on the dev set (0.858 vs 0.857)
    rrf_k: float = 30.0
    bm25_weight: float = 1.0
    embedding_weight: float = 1.0
    category_power: float = 3.0
    incompatible_category: float = 0.15
    chain_boost: float = 0.15
    reverse_chain_boost: float = -0.5  # the offer is made *from* what the need wants: a penalty
    same_industry_boost: float = 0.0
    region_boosts: tuple[float, float, float] = (0.02, 0.04, 0.06)  # same province, city, county
    region_scale: float = 3.0
    price_boost: float = 0.1
    price_penalty: float = 0.2
    scope_city_penalty: float = 0.0
    query_mode: str = "query"  # embed the listing being matched as an e5 "query" or as a "passage"
    semantic_reason_min: float = 0.85
    exact_threshold: int = 20_000  # vectors per direction; HNSW above (see README, measured)
    exclude_same_enterprise: bool = True

    def max_multiplier(self) -> float:
        """Return the largest product of rule multipliers (for the 0..1 display score)."""
        return (
            (1 + max(self.chain_boost, self.reverse_chain_boost))
            * (1 + self.same_industry_boost)
            * (1 + max(self.region_boosts) * self.region_scale)
            * (1 + self.price_boost)
        )


def _stable_int(value: int | str | None) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value or 1
    digest = hashlib.blake2b(str(value).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


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
        "local": (bool, False),
        "scope_level": (np.int8, 0),
        "scope_code": (np.int32, 0),
    }

    def __init__(self, params: MatchParams, dim: int) -> None:
        self.bm25 = BM25Index(k1=params.k1, b=params.b)
        self.vectors = VectorIndex(dim, exact_threshold=params.exact_threshold)
        self.ids: list[int | str | None] = []
        self.text_keys: list[str] = []
        self.capacity = 1024
        self.cols = {name: np.full(self.capacity, fill, dtype=dtype) for name, (dtype, fill) in self.COLUMNS.items()}

    @property
    def n_slots(self) -> int:
        return len(self.ids)

    def new_slot(self, doc: ListingDoc, text_key: str, local: bool, scope: tuple[int, int] = (0, 0)) -> int:
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
        c["local"][slot] = local
        c["scope_level"][slot], c["scope_code"][slot] = scope
        return slot

    def kill(self, slot: int) -> None:
        self.cols["alive"][slot] = False
        self.ids[slot] = None
        self.bm25.remove(slot)
        self.vectors.remove(slot)


@dataclass
class _Query:
    """Everything the ranking needs to know about the listing being matched."""

    doc: ListingDoc
    weights: dict[str, float]
    vector: np.ndarray | None
    region: int
    division: int
    group: int
    klass: int
    enterprise: int
    local: bool
    scope: tuple[int, int]
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
        self._category_matrix = rules.category_matrix(self.params.incompatible_category)

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
    def _scope(doc: ListingDoc, local: bool, text: str | None = None) -> tuple[int, int]:
        if text is None:
            text = clean_text(f"{doc.title}。{doc.description}")
        return rules.service_area(text, rules.region_int(doc.region_code), local_service=local)

    @staticmethod
    def _text_key(doc: ListingDoc) -> str:
        return hashlib.blake2b(MatchingEngine.embedding_text(doc).encode("utf-8"), digest_size=12).hexdigest()

    def set_params(self, **changes: Any) -> None:
        """Change ranking parameters that need no re-indexing (fusion and rule weights, k1, b)."""
        if {"title_weight", "exact_threshold"} & set(changes):
            raise ValueError("title_weight and exact_threshold need a rebuild")
        with self._lock:
            self.params = replace(self.params, **changes)
            for side in self._sides.values():
                side.bm25.k1, side.bm25.b = self.params.k1, self.params.b
            self._category_matrix = rules.category_matrix(self.params.incompatible_category)

    # -- writes ----------------------------------------------------------------------------------
    def _prepare(
        self, docs: list[ListingDoc], vectors: np.ndarray | None
    ) -> list[tuple[ListingDoc, list[str], str, np.ndarray | None, str]]:
        """Tokenise and embed outside the lock; reuse stored vectors when the text is unchanged."""
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
            prepared.append([doc, terms, key, vector, text])
        if to_embed and self.embedder is not None:
            embedded = self.embedder.embed_passages([self.embedding_text(docs[i]) for i in to_embed])
            for row, i in enumerate(to_embed):
                prepared[i][3] = embedded[row]
        return [tuple(p) for p in prepared]  # type: ignore[misc]  # (doc, terms, text key, vector, clean text)

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

    def _apply(self, item: tuple[ListingDoc, list[str], str, np.ndarray | None, str]) -> int:
        """Index text and attributes of one listing in a new slot (the caller stores the vector)."""
        doc, terms, key, _vector, text = item
        if doc.id in self._docs:
            self._remove_locked(doc.id)
        side = self._sides[doc.direction]
        local = rules.is_local_service(doc.category, terms)
        slot = side.new_slot(doc, key, local, self._scope(doc, local, text))
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
            embedder=self.embedder, params=self.params, tokenizer=self.tokenizer, today=self.today, dim=self.dim
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
        use_rules: bool | None = None,
        today: date | None = None,
        candidate_cache: dict | None = None,
    ) -> list[MatchResult]:
        """Return the best listings of the opposite direction for `doc`, best first, with reasons.

        `ranker`: "hybrid" (fusion + rules, the default), "rrf" (fusion only), "bm25", "embedding"
        (single rankers, hard rules only), "exact" (the hybrid formula over every eligible listing).
        `query_vector` skips embedding (benchmarks time it apart). `candidate_cache` (a dict kept by the
        caller) reuses the candidate lists of an earlier call for the same listing, so fusion and rule
        weights can be tuned without re-running BM25 and vector search (the evaluation does this).
        """
        if ranker not in RANKERS:
            raise ValueError(f"unknown ranker {ranker!r}")
        if top_n <= 0:
            return []
        terms = self.index_terms(doc)
        needs_vector = ranker != "bm25"
        if needs_vector and query_vector is None:
            query_vector = self.embed_for_match(doc)
        with self._lock:
            side = self._sides[doc.opposite]
            query = self._query(doc, terms, query_vector, side, today)
            return self._rank(side, query, top_n, ranker, use_rules, candidate_cache)

    def _query(
        self, doc: ListingDoc, terms: list[str], vector: np.ndarray | None, side: _Side, today: date | None
    ) -> _Query:
        division, group, klass = rules.industry_parts(doc.industry_code)
        own_side = self._sides[doc.direction]
        slot = self._where.get(doc.id)
        if slot is not None and own_side.text_keys[slot] == self._text_key(doc):
            local = bool(own_side.cols["local"][slot])
            scope = (int(own_side.cols["scope_level"][slot]), int(own_side.cols["scope_code"][slot]))
        else:
            local = rules.is_local_service(doc.category, terms)
            scope = self._scope(doc, local)
        return _Query(
            doc=doc,
            weights=side.bm25.query_weights(terms, self.params.max_query_terms, self.params.max_df_ratio),
            vector=None if vector is None else np.asarray(vector, dtype=np.float32),
            region=rules.region_int(doc.region_code),
            division=division,
            group=group,
            klass=klass,
            enterprise=_stable_int(doc.enterprise_id) if self.params.exclude_same_enterprise else 0,
            local=local,
            scope=scope,
            today=(today or self.today()).toordinal(),
        )

    def _eligibility(self, side: _Side, query: _Query) -> Callable[[np.ndarray], np.ndarray]:
        """Return the hard-rule filter over slots: alive, open, unexpired, other enterprise, local rule."""
        c = side.cols

        def eligible(slots: np.ndarray) -> np.ndarray:
            mask = c["alive"][slots] & c["is_open"][slots] & (c["valid"][slots] >= query.today)
            if query.enterprise:
                mask &= c["enterprise"][slots] != query.enterprise
            province_out, _ = self._scope_mismatch(side, query, slots)
            mask &= ~province_out
            return mask

        return eligible

    def _scope_mismatch(self, side: _Side, query: _Query, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (outside the province, outside the city but in the province) of the service areas.

        The offer must serve the need's region when it states an area; a need that limits the area
        accepts offers located there or serving the whole country. A province-level miss is a hard
        rule; a city-level miss inside the right province is only demoted (`scope_city_penalty`):
        "服务深圳及周边" still reaches Dongguan, and talent can move within a province.
        """
        c = side.cols
        n = len(slots)
        regions = c["region"][slots]
        levels, codes = c["scope_level"][slots], c["scope_code"][slots]
        q_level, q_code = query.scope
        q_region = np.full(n, query.region, dtype=np.int64)
        q_levels, q_codes = np.full(n, q_level), np.full(n, q_code)
        if query.doc.direction == "need":
            offer_side = (rules.outside_scope(levels, codes, q_region), rules.outside_city(levels, codes, q_region))
            need_side = (
                rules.outside_scope(q_levels, q_codes, regions),
                rules.outside_city(q_levels, q_codes, regions),
            )
            national = levels == rules.SCOPE_NATIONAL
        else:
            offer_side = (
                rules.outside_scope(q_levels, q_codes, regions),
                rules.outside_city(q_levels, q_codes, regions),
            )
            need_side = (rules.outside_scope(levels, codes, q_region), rules.outside_city(levels, codes, q_region))
            national = np.full(n, q_level == rules.SCOPE_NATIONAL)
        province_out = offer_side[0] | (need_side[0] & ~national)
        city_out = (offer_side[1] | (need_side[1] & ~national)) & ~province_out
        return province_out, city_out

    def _candidates(
        self, side: _Side, query: _Query, top_n: int, ranker: str, has_vector: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the BM25 list, the embedding list (slots and scores, best first) and their union."""
        p = self.params
        eligible = self._eligibility(side, query)
        empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        bm_slots, bm_scores, em_slots, em_sims = empty_i, empty_f, empty_i, empty_f
        if ranker == "exact":
            slots = np.flatnonzero(side.cols["alive"][: side.n_slots])
            slots = slots[eligible(slots)] if len(slots) else slots
            bm_slots, bm_scores = _sorted(*side.bm25.score(query.weights, eligible))
            if has_vector:
                em_slots, em_sims = _sorted(slots, side.vectors.all_similarities(query.vector)[slots])  # type: ignore[arg-type]
            return bm_slots, bm_scores, em_slots, em_sims, slots
        k = p.candidates if ranker in ("hybrid", "rrf") else top_n
        if ranker in ("hybrid", "rrf", "bm25"):
            bm_slots, bm_scores = side.bm25.top(query.weights, k, eligible)
        if ranker in ("hybrid", "rrf", "embedding") and has_vector:
            em_slots, em_sims = side.vectors.top(query.vector, k, eligible)  # type: ignore[arg-type]
        return bm_slots, bm_scores, em_slots, em_sims, np.union1d(bm_slots, em_slots).astype(np.int64)

    def _rank(
        self,
        side: _Side,
        query: _Query,
        top_n: int,
        ranker: str,
        use_rules: bool | None,
        candidate_cache: dict | None = None,
    ) -> list[MatchResult]:
        p = self.params
        has_vector = query.vector is not None and side.vectors.count > 0
        key = (query.doc.id, ranker, top_n)
        if candidate_cache is not None and key in candidate_cache:
            bm_slots, bm_scores, em_slots, em_sims, cand = candidate_cache[key]
        else:
            bm_slots, bm_scores, em_slots, em_sims, cand = self._candidates(side, query, top_n, ranker, has_vector)
            if candidate_cache is not None:
                candidate_cache[key] = (bm_slots, bm_scores, em_slots, em_sims, cand)
        if not len(cand):
            return []
        if ranker == "bm25":
            base = _lookup(cand, bm_slots, bm_scores.astype(np.float64), 0.0)
            base_max = float(base.max()) or 1.0
        elif ranker == "embedding":
            base = _lookup(cand, em_slots, em_sims.astype(np.float64), -1.0)
            base_max = 1.0
        else:
            base = _rrf(cand, bm_slots, p.rrf_k, p.bm25_weight) + _rrf(cand, em_slots, p.rrf_k, p.embedding_weight)
            base_max = (p.bm25_weight + (p.embedding_weight if has_vector else 0.0)) / (p.rrf_k + 1)
        apply_rules = use_rules if use_rules is not None else ranker in ("hybrid", "exact")
        signals = self._signals(side, query, cand)
        if apply_rules:
            score = base * signals["multiplier"]
            score_max = base_max * p.max_multiplier()
        else:
            score, score_max = base, base_max
        n = min(top_n, len(cand))
        part = np.argpartition(-score, n - 1)[:n] if len(cand) > n else np.arange(len(cand))
        order = part[np.lexsort((cand[part], -score[part]))]
        sims = side.vectors.similarities(query.vector, cand[order]) if has_vector else None  # type: ignore[arg-type]
        results = []
        for rank, i in enumerate(order.tolist()):
            slot = int(cand[i])
            display = float(np.clip(score[i] / score_max, 0.0, 1.0)) if score_max > 0 else 0.0
            similarity = None if sims is None else float(sims[rank])
            reasons = self._reasons(side, query, slot, i, signals, similarity)
            results.append(MatchResult(listing_id=side.ids[slot], score=display, reasons=reasons))  # type: ignore[arg-type]
        return results

    def _signals(self, side: _Side, query: _Query, cand: np.ndarray) -> dict[str, np.ndarray]:
        """Compute every rule signal for the candidates and the combined multiplier."""
        p = self.params
        c = side.cols
        q_cat = rules.CATEGORY_INDEX[query.doc.category]
        c_cat = c["category"][cand].astype(np.int64)
        query_is_need = query.doc.direction == "need"
        compat = self._category_matrix[q_cat, c_cat] if query_is_need else self._category_matrix[c_cat, q_cat]
        c_div, c_grp, c_cls = c["division"][cand], c["group"][cand], c["klass"][cand]
        q_div = np.full(len(cand), query.division)
        q_grp = np.full(len(cand), query.group)
        if query_is_need:  # offers (candidates) supply the need (query)
            forward = rules.chain_links(c_div, c_grp, q_div, q_grp)
            backward = rules.chain_links(q_div, q_grp, c_div, c_grp)
        else:
            forward = rules.chain_links(q_div, q_grp, c_div, c_grp)
            backward = rules.chain_links(c_div, c_grp, q_div, q_grp)
        backward &= ~forward
        if query.klass >= 0:
            same_industry = c_cls == query.klass
        elif query.group >= 0:
            same_industry = c_grp == query.group
        else:
            same_industry = np.zeros(len(cand), dtype=bool)
        region = rules.region_levels(query.region, c["region"][cand])
        price = rules.price_relation(
            _nan(query.doc.price_min),
            _nan(query.doc.price_max),
            c["price_min"][cand],
            c["price_max"][cand],
            query_is_need,
        )
        region_boost = np.array((0.0, *p.region_boosts))[region] * p.region_scale
        _, city_out = self._scope_mismatch(side, query, cand)
        multiplier = (
            np.power(compat, p.category_power)
            * (1 + p.chain_boost * forward + p.reverse_chain_boost * backward)
            * (1 + p.same_industry_boost * same_industry)
            * (1 + region_boost)
            * (1 + p.price_boost * (price > 0) - p.price_penalty * (price < 0))
            * (1 - p.scope_city_penalty * city_out)
        )
        return {
            "compat": compat,
            "forward": forward,
            "backward": backward,
            "same_industry": same_industry,
            "region": region,
            "price": price,
            "multiplier": multiplier,
        }

    def _reasons(
        self, side: _Side, query: _Query, slot: int, i: int, signals: dict[str, np.ndarray], similarity: float | None
    ) -> list[Reason]:
        """Explain one match with structured reason codes (translated by the Django layer)."""
        other = self._docs.get(side.ids[slot])  # type: ignore[arg-type]
        reasons: list[Reason] = []
        shared = side.bm25.shared_terms(slot, query.weights)
        if shared:
            reasons.append(Reason("shared_terms", {"terms": shared}))
        if other is None:
            return reasons
        if other.category == query.doc.category:
            reasons.append(Reason("same_category", {"category": other.category}))
        elif signals["compat"][i] > self.params.incompatible_category:
            need, offer = (query.doc, other) if query.doc.direction == "need" else (other, query.doc)
            reasons.append(
                Reason("compatible_category", {"need_category": need.category, "offer_category": offer.category})
            )
        if signals["forward"][i] or signals["backward"][i]:
            offer, need = (other, query.doc) if query.doc.direction == "need" else (query.doc, other)
            up, down = (offer, need) if signals["forward"][i] else (need, offer)
            reasons.append(Reason("industry_chain", _chain_params(up.industry_code, down.industry_code)))
        elif signals["same_industry"][i]:
            code = other.industry_code.lstrip("ABCDEFGHIJKLMNOPQRST")
            reasons.append(
                Reason("same_industry", {"industry_code": code, "name": rules.industry_names().get(code, code)})
            )
        level = int(signals["region"][i])
        if level:
            region = rules.region_int(other.region_code)
            region = region if level == 3 else (region // 100 * 100 if level == 2 else region // 10000 * 10000)
            name = rules.region_names().get(region, str(region))
            reasons.append(
                Reason(
                    ("", "same_province", "same_city", "same_region")[level], {"region_code": str(region), "name": name}
                )
            )
        if signals["price"][i] > 0:
            need, offer = (query.doc, other) if query.doc.direction == "need" else (other, query.doc)
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
        if similarity is not None and similarity >= self.params.semantic_reason_min:
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
                "dim": self.dim,
                "sides": {},
            }
            with (directory / "docs.jsonl").open("w", encoding="utf-8") as handle:
                for direction, side in self._sides.items():
                    for slot, listing_id in enumerate(side.ids):
                        if listing_id is None:
                            continue
                        row = {"slot": slot, "text_key": side.text_keys[slot], "doc": self._docs[listing_id].to_json()}
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
        values = meta["params"]
        values["region_boosts"] = tuple(values["region_boosts"])
        engine = cls(embedder=embedder, params=MatchParams(**values), tokenizer=tokenizer, today=today, dim=meta["dim"])
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
                    side.new_slot(dead, "", False)
                    side.cols["alive"][slot] = False
                    side.ids[slot] = None
                    continue
                doc = ListingDoc.from_json(row["doc"])
                side.new_slot(doc, row["text_key"], False)
                engine._docs[doc.id] = doc
                engine._where[doc.id] = slot
            side.bm25 = BM25Index.load(directory / f"{direction}.bm25.npz")
            for slot in range(side.n_slots):
                if side.ids[slot] is not None:
                    doc = engine._docs[side.ids[slot]]  # type: ignore[index]
                    local = rules.is_local_service(doc.category, side.bm25.doc_terms(slot))
                    side.cols["local"][slot] = local
                    side.cols["scope_level"][slot], side.cols["scope_code"][slot] = engine._scope(doc, local)
            side.vectors.load_into(directory, direction)
        return engine


def _sorted(slots: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((slots, -scores))
    return slots[order], scores[order]


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
