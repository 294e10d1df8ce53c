"""Okapi BM25 over Chinese tokens with an incremental inverted index scored in numpy.

Documents live in integer *slots* handed out by the caller (the engine). Postings are per-term
append-only arrays of (slot, term frequency); removing a document marks its slot dead and lowers
the document frequencies at once (so IDF stays exact), and its stale postings are skipped through
the alive mask until `compact()` drops them. An update is a remove plus an add in a new slot.

Scoring touches only the postings of the query terms: contributions are gathered per term with
numpy and summed per slot with `np.bincount` (dense, O(postings + slots) in C), never a Python loop
over documents. BM25 (Robertson/Sparck Jones IDF with the +1 that keeps it positive):

    score(d, q) = Σ_t  w_q(t) · idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
    idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
    w_q(t)      = (k3+1)·qtf / (k3 + qtf)         (query term frequency, saturated)
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np


class BM25Index:
    """Hold an inverted index over slots and score queries with BM25."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, k3: float = 1.2) -> None:
        self.k1 = k1
        self.b = b
        self.k3 = k3
        self.term_ids: dict[str, int] = {}
        self.terms: list[str] = []
        self.df: list[int] = []
        self._post_slots: list[array] = []
        self._post_tf: list[array] = []
        self._forward: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._doc_len = np.zeros(1024, dtype=np.float32)
        self._alive = np.zeros(1024, dtype=bool)
        self.n_slots = 0
        self.n_docs = 0
        self.total_len = 0.0
        self.stale_postings = 0

    # -- writes ---------------------------------------------------------------------------------
    def _grow(self, slot: int) -> None:
        if slot < len(self._alive):
            return
        size = max(slot + 1, len(self._alive) * 2)
        self._doc_len = np.resize(self._doc_len, size)
        alive = np.zeros(size, dtype=bool)
        alive[: len(self._alive)] = self._alive
        self._alive = alive

    def _term_id(self, term: str) -> int:
        tid = self.term_ids.get(term)
        if tid is None:
            tid = len(self.terms)
            self.term_ids[term] = tid
            self.terms.append(term)
            self.df.append(0)
            self._post_slots.append(array("i"))
            self._post_tf.append(array("f"))
        return tid

    def add(self, slot: int, terms: Iterable[str] | Counter) -> None:
        """Index the terms (with repeats, or a Counter of weights) of a document in a new slot."""
        if slot in self._forward:
            raise ValueError(f"slot {slot} is already indexed; remove it or use a new slot")
        counts = terms if isinstance(terms, Counter) else Counter(terms)
        self._grow(slot)
        ids = np.empty(len(counts), dtype=np.int32)
        tfs = np.empty(len(counts), dtype=np.float32)
        for i, (term, tf) in enumerate(counts.items()):
            tid = self._term_id(term)
            ids[i] = tid
            tfs[i] = tf
            self.df[tid] += 1
            self._post_slots[tid].append(slot)
            self._post_tf[tid].append(float(tf))
        length = float(tfs.sum())
        self._forward[slot] = (ids, tfs)
        self._doc_len[slot] = length
        self._alive[slot] = True
        self.n_slots = max(self.n_slots, slot + 1)
        self.n_docs += 1
        self.total_len += length

    def remove(self, slot: int) -> None:
        """Forget the document in a slot (its postings go stale until `compact`)."""
        entry = self._forward.pop(slot, None)
        if entry is None:
            return
        ids, tfs = entry
        for tid in ids.tolist():
            self.df[tid] -= 1
        self._alive[slot] = False
        self.n_docs -= 1
        self.total_len -= float(tfs.sum())
        self.stale_postings += len(ids)

    def compact(self) -> None:
        """Drop stale postings of removed documents."""
        if not self.stale_postings:
            return
        alive = self._alive
        for tid in range(len(self.terms)):
            slots = np.frombuffer(self._post_slots[tid], dtype=np.int32)
            if not len(slots):
                continue
            keep = alive[slots]
            if keep.all():
                continue
            new_slots = array("i", slots[keep].tobytes())
            new_tf = array("f", np.frombuffer(self._post_tf[tid], dtype=np.float32)[keep].tobytes())
            del slots, keep
            self._post_slots[tid] = new_slots
            self._post_tf[tid] = new_tf
        self.stale_postings = 0

    # -- reads ----------------------------------------------------------------------------------
    def idf(self, term: str) -> float:
        """Return the IDF of a term (0 for unknown terms)."""
        tid = self.term_ids.get(term)
        if tid is None or self.df[tid] <= 0:
            return 0.0
        df = self.df[tid]
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def query_weights(self, terms: Iterable[str], max_terms: int = 32, max_df_ratio: float = 1.0) -> dict[str, float]:
        """Return the query terms with weight w_q·idf, keeping the `max_terms` strongest.

        Terms found in more than `max_df_ratio` of the documents are dropped (they add little to the
        ranking and cost the most postings) unless that would leave fewer than three terms.
        """
        counts = Counter(terms)
        weighted = []
        common = []
        limit = max(max_df_ratio * self.n_docs, 50)
        for term, qtf in counts.items():
            idf = self.idf(term)
            if idf > 0:
                if self.df[self.term_ids[term]] > limit:
                    common.append(((self.k3 + 1) * qtf / (self.k3 + qtf) * idf, term))
                    continue
                wq = (self.k3 + 1) * qtf / (self.k3 + qtf)
                weighted.append((wq * idf, term))
        if len(weighted) < 3:
            weighted += sorted(common, key=lambda item: (-item[0], item[1]))[: 3 - len(weighted)]
        weighted.sort(key=lambda item: (-item[0], item[1]))
        return {term: weight for weight, term in weighted[:max_terms]}

    def score(
        self, weights: dict[str, float], eligible: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (slots, scores) of the alive, eligible documents that contain a query term."""
        slots, scores, _matched = self.score_matched(weights, eligible)
        return slots, scores

    def score_matched(
        self, weights: dict[str, float], eligible: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (slots, scores, matched) of the alive, eligible documents that contain a query term.

        `matched` is the sum of the query weights of the terms a document contains: divided by the sum
        of all query weights it is the share of the query's IDF mass that the document covers.
        """
        empty = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32), np.empty(0, dtype=np.float32)
        if not weights or not self.n_docs:
            return empty
        avgdl = self.total_len / self.n_docs
        k1, b = self.k1, self.b
        all_slots = []
        all_scores = []
        all_weights = []
        for term, weight in weights.items():
            tid = self.term_ids.get(term)
            if tid is None:
                continue
            slots = np.array(self._post_slots[tid], dtype=np.int32)
            if not len(slots):
                continue
            tf = np.array(self._post_tf[tid], dtype=np.float32)
            norm = k1 * (1.0 - b + b * self._doc_len[slots] / avgdl)
            all_slots.append(slots)
            all_scores.append(weight * tf * (k1 + 1.0) / (tf + norm))
            all_weights.append(np.full(len(slots), weight, dtype=np.float32))
        if not all_slots:
            return empty
        slots = np.concatenate(all_slots)
        contributions = np.concatenate(all_scores)
        term_weights = np.concatenate(all_weights)
        if len(slots) * 8 < self.n_slots:
            unique, inverse = np.unique(slots, return_inverse=True)
            totals = np.bincount(inverse, weights=contributions).astype(np.float32)
            matched = np.bincount(inverse, weights=term_weights).astype(np.float32)
        else:
            dense = np.bincount(slots, weights=contributions, minlength=self.n_slots)
            unique = np.flatnonzero(dense)  # type: ignore[assignment]
            totals = dense[unique].astype(np.float32)
            matched = np.bincount(slots, weights=term_weights, minlength=self.n_slots)[unique].astype(np.float32)
        mask = self._alive[unique]
        if eligible is not None:
            mask &= eligible(unique)
        return unique[mask], totals[mask], matched[mask]

    def top(
        self, weights: dict[str, float], k: int, eligible: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the best k (slots, scores), best first (ties by slot)."""
        slots, scores = self.score(weights, eligible)
        if len(slots) > k:
            part = np.argpartition(-scores, k - 1)[:k]
            slots, scores = slots[part], scores[part]
        order = np.lexsort((slots, -scores))
        return slots[order], scores[order]

    def doc_terms(self, slot: int) -> list[str]:
        """Return the distinct terms of an indexed document."""
        entry = self._forward.get(slot)
        if entry is None:
            return []
        return [self.terms[tid] for tid in entry[0].tolist()]

    def shared_terms(
        self, slot: int, weights: dict[str, float], limit: int = 5, max_df_ratio: float = 1.0
    ) -> list[str]:
        """Return the query terms a document contains, strongest first, without sub-words of longer ones.

        Terms found in more than `max_df_ratio` of the documents (and in more than two) are generic
        (配送, 服务) and left out, and so are single characters.
        """
        entry = self._forward.get(slot)
        if entry is None:
            return []
        ids = set(entry[0].tolist())
        limit_df = max(max_df_ratio * self.n_docs, 2)
        shared = []
        for term in weights:
            tid = self.term_ids.get(term)
            if tid in ids and len(term) >= 2 and self.df[tid] <= limit_df:  # type: ignore[index]
                shared.append(term)
        shared.sort(key=lambda t: (-weights[t], t))
        # Show 顺丁橡胶 rather than its pieces 顺丁 and 橡胶.
        kept = [t for t in shared if not any(t != other and t in other for other in shared)]
        return kept[:limit]

    # -- persistence ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Return the index as arrays (forward index in CSR form) for saving."""
        slots = np.array(sorted(self._forward), dtype=np.int64)
        lengths = np.array([len(self._forward[s][0]) for s in slots.tolist()], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        if len(slots):
            ids = np.concatenate([self._forward[s][0] for s in slots.tolist()])
            tfs = np.concatenate([self._forward[s][1] for s in slots.tolist()])
        else:
            ids = np.empty(0, dtype=np.int32)
            tfs = np.empty(0, dtype=np.float32)
        return {"slots": slots, "indptr": indptr, "term_ids": ids, "tfs": tfs, "terms": list(self.terms)}

    def save(self, path: Path) -> None:
        """Write the forward index to an .npz file (postings are rebuilt on load)."""
        state = self.state()
        np.savez(
            path,
            slots=state["slots"],
            indptr=state["indptr"],
            term_ids=state["term_ids"],
            tfs=state["tfs"],
            terms=np.array(state["terms"], dtype=object),
            params=np.array([self.k1, self.b, self.k3]),
        )

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        """Read an index written by `save`."""
        data = np.load(path, allow_pickle=True)
        k1, b, k3 = data["params"].tolist()
        index = cls(k1=k1, b=b, k3=k3)
        terms = data["terms"].tolist()
        slots, indptr, ids, tfs = data["slots"], data["indptr"], data["term_ids"], data["tfs"]
        for i, slot in enumerate(slots.tolist()):
            lo, hi = indptr[i], indptr[i + 1]
            index.add(
                slot, Counter(dict(zip((terms[t] for t in ids[lo:hi].tolist()), tfs[lo:hi].tolist(), strict=True)))
            )
        return index
