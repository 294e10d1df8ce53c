"""Common problems (共性问题): recent appeals grouped by topic, each group with a label and its most typical appeals.

Method: the title and description are cut into words (rjieba, words of two or more characters, without common
function words) and weighted by TF-IDF (sublinear tf, words in at least `min_df` appeals and at most half of them);
spherical k-means (cosine) on the L2-normalised rows, k-means++ seeding, a fixed seed so a report can be made again.
The number of groups grows with the square root of the appeals. A group's label is its most distinctive words
(centroid weight over the words' weight in all appeals); its representatives are the appeals nearest its centre.
Groups are ordered by size; a group of fewer than `min_size` appeals is left out (noise, not a common problem).

Pure numpy, bounded: at most `MAX_APPEALS` appeals and `MAX_TERMS` words; 10,000 appeals cluster in seconds.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qiaoliang.core.textclassifier import normalize_cell, words

MAX_APPEALS = 20_000
MAX_TERMS = 5_000
MAX_CHARS = 1_000
# Words that say nothing about a topic in appeals and messages (and masked place codes like A3区, A市).
STOP_WORDS = frozenset(
    word
    for line in (Path(__file__).resolve().parent / "data" / "stop_words.txt").read_text(encoding="utf-8").splitlines()
    if not line.startswith("#")
    for word in line.split()
)
_MASKED_PLACE = re.compile(r"^[a-z]\d*(市|区|县|镇|省)?$")


@dataclass
class Cluster:
    """One topic: its label words, its appeals (indexes into the input, nearest the centre first)."""

    label: list[str]
    members: list[int]
    representatives: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)


def _terms(text: str) -> list[str]:
    normalized = normalize_cell(text, max_chars=MAX_CHARS, fold_digits=True)
    return [w for w in words(normalized) if len(w) >= 2 and w not in STOP_WORDS and not _MASKED_PLACE.match(w)]


def _tfidf(documents: Sequence[list[str]], min_df: int) -> tuple[np.ndarray, list[str], np.ndarray]:
    df: Counter[str] = Counter()
    for terms in documents:
        df.update(set(terms))
    n = len(documents)
    kept = [term for term, count in df.items() if count >= min_df and count <= max(n // 2, min_df)]
    kept.sort(key=lambda term: (-df[term], term))
    kept = kept[:MAX_TERMS]
    index = {term: i for i, term in enumerate(kept)}
    idf = np.array([math.log((1 + n) / (1 + df[term])) + 1.0 for term in kept], dtype=np.float32)
    matrix = np.zeros((n, len(kept)), dtype=np.float32)
    for row, terms in enumerate(documents):
        for term, count in Counter(terms).items():
            column = index.get(term)
            if column is not None:
                matrix[row, column] = 1.0 + math.log(count)
    matrix *= idf
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms, kept, idf


def _kmeans(matrix: np.ndarray, k: int, seed: int, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means with k-means++ seeding; return (assignments, unit centroids)."""
    rng = np.random.default_rng(seed)
    n = matrix.shape[0]
    centers = [matrix[rng.integers(n)]]
    distance = 1.0 - matrix @ centers[0]
    for _ in range(1, k):
        weights = np.clip(distance, 0, None) ** 2
        total = float(weights.sum())
        choice = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
        centers.append(matrix[choice])
        distance = np.minimum(distance, 1.0 - matrix @ matrix[choice])
    centroids = np.vstack(centers)
    assignment = np.full(n, -1)
    for _ in range(iterations):
        similarity = matrix @ centroids.T
        new = similarity.argmax(axis=1)
        if np.array_equal(new, assignment):
            break
        assignment = new
        for cluster in range(k):
            members = matrix[assignment == cluster]
            if len(members):
                center = members.sum(axis=0)
                norm = float(np.linalg.norm(center))
                centroids[cluster] = center / norm if norm else center
    return assignment, centroids


def cluster(
    texts: Sequence[str], *, k: int | None = None, min_df: int = 3, min_size: int = 5, seed: int = 2020,
    label_words: int = 4, representatives: int = 3,
) -> list[Cluster]:  # fmt: skip
    """Group texts by topic; return the clusters of at least `min_size` texts, largest first."""
    texts = list(texts)[:MAX_APPEALS]
    documents = [_terms(text) for text in texts]
    if len(documents) < max(2, min_size):
        return []
    matrix, vocabulary, _idf = _tfidf(documents, min_df)
    if not vocabulary:
        return []
    k = k or max(2, min(60, round(math.sqrt(len(documents) / 2))))
    k = min(k, len(documents))
    assignment, centroids = _kmeans(matrix, k, seed)
    overall = matrix.mean(axis=0) + 1e-6
    clusters: list[Cluster] = []
    for number in range(k):
        members = np.flatnonzero(assignment == number)
        if len(members) < min_size:
            continue
        center = centroids[number]
        distinct = center * np.log1p(center / overall)
        label = [vocabulary[i] for i in np.argsort(-distinct)[:label_words] if center[i] > 0]
        order = members[np.argsort(-(matrix[members] @ center))]
        clusters.append(Cluster(label=label, members=[int(i) for i in order],
                                representatives=[int(i) for i in order[:representatives]]))  # fmt: skip
    clusters.sort(key=lambda item: -item.size)
    return clusters
