"""A sequence labeller over characters: an averaged structured perceptron with first-order transitions.

Tags are BIO over span kinds (B-N/I-N for quantities, B-T/I-T for other fields, O outside). Decoding is
Viterbi with the BIO constraints (no I-x after O or after a span of another kind), run on batches of
sentences at once with numpy. Training (Collins 2002) decodes a batch with the current weights and adds the
features of the gold tags minus those of the predicted tags; the returned weights are the average over all
steps, which generalises much better than the last ones. Per-span confidences come from a forward-backward
pass over the same scores (a CRF-like marginal of the span's tags, with a temperature).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

OUTSIDE = "O"
_NEG = -1e9
_BUCKET = 256


@dataclass
class EncodedSentence:
    """Feature ids of one sentence, flattened: ids[offsets[k]:offsets[k+1]] are the features of character k.

    ``starts`` marks the characters where a span may begin or end (word boundaries); None allows every one.
    """

    ids: np.ndarray
    offsets: np.ndarray
    starts: np.ndarray | None = None

    @property
    def length(self) -> int:
        """Return the number of characters."""
        return len(self.offsets) - 1


@dataclass
class FeatureIndex:
    """Feature strings to columns; unknown features are dropped when a sentence is encoded."""

    names: list[str]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {name: i for i, name in enumerate(self.names)}

    @classmethod
    def fit(cls, rows: Sequence[Sequence[Sequence[str]]], min_count: int) -> FeatureIndex:
        """Keep the features seen at least min_count times (the bias feature 'b' is always kept)."""
        counts: Counter[str] = Counter()
        for sentence in rows:
            for position in sentence:
                counts.update(position)
        names = sorted(name for name, count in counts.items() if count >= min_count and name)
        if "b" not in names:
            names.insert(0, "b")
        return cls(names)

    def encode(self, sentence: Sequence[Sequence[str]], starts: Sequence[bool] | None = None) -> EncodedSentence:
        """Return the known feature ids of each character (the bias feature always among them)."""
        index = self.index
        bias = index["b"]
        ids: list[int] = []
        offsets = [0]
        for position in sentence:
            known = [index[name] for name in position if name in index]
            ids.extend(known if known else [bias])
            offsets.append(len(ids))
        return EncodedSentence(
            np.asarray(ids, dtype=np.int32),
            np.asarray(offsets, dtype=np.int64),
            None if starts is None else np.asarray(starts, dtype=bool)[: len(sentence)],
        )


def allowed_transitions(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the BIO masks (0 allowed, a large negative number forbidden) of transitions and of the first tag."""
    size = len(tags)
    transition = np.zeros((size, size))
    start = np.zeros(size)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            kind = tag[2:]
            start[j] = _NEG
            for i, previous in enumerate(tags):
                if previous[2:] != kind or previous == OUTSIDE:
                    transition[i, j] = _NEG
    return transition, start


def inside_word_transitions(tags: Sequence[str]) -> np.ndarray:
    """Return the mask of transitions into a character that is not a word start: O stays O, a span goes on."""
    size = len(tags)
    mask = np.full((size, size), _NEG)
    for i, previous in enumerate(tags):
        for j, tag in enumerate(tags):
            if (previous == OUTSIDE and tag == OUTSIDE) or (previous != OUTSIDE and tag == "I-" + previous[2:]):
                mask[i, j] = 0.0
    return mask


@dataclass
class Tagger:
    """Weights of a trained tagger (averaged): emissions per feature and tag, transitions, first-tag scores."""

    tags: list[str]
    features: FeatureIndex
    emission: np.ndarray  # (features, tags)
    transition: np.ndarray  # (tags, tags)
    start: np.ndarray  # (tags,)

    def encode(self, sentence: Sequence[Sequence[str]], starts: Sequence[bool] | None = None) -> EncodedSentence:
        """Return the feature ids of a sentence's feature strings (and its word starts)."""
        return self.features.encode(sentence, starts)

    def emissions(self, sentences: Sequence[EncodedSentence]) -> list[np.ndarray]:
        """Return the (length, tags) emission scores of each sentence."""
        return _emissions(self.emission, sentences)

    def decode(self, sentences: Sequence[EncodedSentence]) -> list[list[int]]:
        """Return the best tag sequence (tag numbers) of each sentence."""
        mask_t, mask_s = allowed_transitions(self.tags)
        return viterbi(
            self.emissions(sentences),
            self.transition + mask_t,
            self.start + mask_s,
            [sentence.starts for sentence in sentences],
            inside_word_transitions(self.tags),
        )

    def marginals(self, sentences: Sequence[EncodedSentence], temperature: float) -> list[np.ndarray]:
        """Return per sentence the (length, tags) marginal probabilities of the tags, scores / temperature."""
        mask_t, mask_s = allowed_transitions(self.tags)
        inside = inside_word_transitions(self.tags)
        return [
            forward_backward(
                scores / temperature,
                (self.transition + mask_t) / temperature,
                (self.start + mask_s) / temperature,
                sentence.starts,
                inside,
            )
            for scores, sentence in zip(self.emissions(sentences), sentences, strict=True)
        ]


def _emissions(weights: np.ndarray, sentences: Sequence[EncodedSentence]) -> list[np.ndarray]:
    result = []
    for sentence in sentences:
        if sentence.length == 0:
            result.append(np.zeros((0, weights.shape[1])))
            continue
        gathered = weights[sentence.ids]
        result.append(np.add.reduceat(gathered, sentence.offsets[:-1], axis=0))
    return result


def viterbi(
    emissions: Sequence[np.ndarray],
    transition: np.ndarray,
    start: np.ndarray,
    starts: Sequence[np.ndarray | None] | None = None,
    inside: np.ndarray | None = None,
) -> list[list[int]]:
    """Return the best paths of several sentences at once (padded to the longest; padding keeps the score).

    With ``starts`` (per sentence, the characters that begin a word) and ``inside`` (the mask of
    `inside_word_transitions`), spans begin and end at word boundaries only.
    """
    if not emissions:
        return []
    size = transition.shape[0]
    lengths = np.array([len(scores) for scores in emissions])
    longest = int(lengths.max()) if len(lengths) else 0
    if longest == 0:
        return [[] for _ in emissions]
    batch = len(emissions)
    padded = np.zeros((batch, longest, size))
    for b, scores in enumerate(emissions):
        padded[b, : len(scores)] = scores
    word_start = np.ones((batch, longest), dtype=bool)
    if starts is not None and inside is not None:
        for b, marks in enumerate(starts):
            if marks is not None:
                word_start[b, : len(marks)] = marks
    inside_transition = transition + inside if inside is not None else transition
    delta = start[None, :] + padded[:, 0, :]
    back = np.zeros((batch, longest, size), dtype=np.int16)
    identity = np.arange(size, dtype=np.int16)
    for t in range(1, longest):
        step_transition = np.where(word_start[:, t, None, None], transition[None, :, :], inside_transition[None, :, :])
        candidates = delta[:, :, None] + step_transition
        best_previous = candidates.argmax(axis=1)
        new_delta = candidates.max(axis=1) + padded[:, t, :]
        active = (lengths > t)[:, None]
        delta = np.where(active, new_delta, delta)
        back[:, t, :] = np.where(active, best_previous, identity[None, :])
    paths: list[list[int]] = []
    last = delta.argmax(axis=1)
    for b in range(batch):
        length = int(lengths[b])
        if length == 0:
            paths.append([])
            continue
        tag = int(last[b])
        path = [tag]
        for t in range(longest - 1, 0, -1):
            tag = int(back[b, t, tag])
            if t < length:
                path.append(tag)
        paths.append(path[::-1][:length] if len(path) >= length else path[::-1])
    return paths


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    top = values.max(axis=axis, keepdims=True)
    return np.asarray(np.squeeze(top, axis=axis) + np.log(np.exp(values - top).sum(axis=axis)))


def forward_backward(
    scores: np.ndarray,
    transition: np.ndarray,
    start: np.ndarray,
    starts: np.ndarray | None = None,
    inside: np.ndarray | None = None,
) -> np.ndarray:
    """Return the (length, tags) marginals of a linear-chain model with these log-potentials.

    ``starts`` and ``inside`` restrict spans to word boundaries as in `viterbi`.
    """
    length = len(scores)
    if length == 0:
        return np.zeros((0, len(start)))
    inside_transition = transition + inside if inside is not None else transition

    def step_transition(t: int) -> np.ndarray:
        if starts is None or inside is None or t >= len(starts) or starts[t]:
            return transition
        return inside_transition

    alpha = np.zeros_like(scores)
    beta = np.zeros_like(scores)
    alpha[0] = start + scores[0]
    for t in range(1, length):
        alpha[t] = _logsumexp(alpha[t - 1][:, None] + step_transition(t), axis=0) + scores[t]
    for t in range(length - 2, -1, -1):
        beta[t] = _logsumexp(step_transition(t + 1) + (scores[t + 1] + beta[t + 1])[None, :], axis=1)
    total = _logsumexp(alpha[-1], axis=0)
    return np.asarray(np.exp(np.clip(alpha + beta - total, -700, 0)))


def train(
    encoded: Sequence[EncodedSentence],
    gold: Sequence[Sequence[int]],
    tags: Sequence[str],
    features: FeatureIndex,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
) -> Tagger:
    """Train an averaged perceptron on encoded sentences and their gold tag numbers."""
    n_features, size = len(features.names), len(tags)
    weights = np.zeros((n_features, size))
    totals = np.zeros((n_features, size))  # sum of step × change, for the average
    transition = np.zeros((size, size))
    transition_totals = np.zeros((size, size))
    start = np.zeros(size)
    start_totals = np.zeros(size)
    mask_t, mask_s = allowed_transitions(tags)
    inside = inside_word_transitions(tags)
    gold_arrays = [np.asarray(sequence, dtype=np.int64) for sequence in gold]
    rng = np.random.default_rng(seed)
    step = 1
    usable = [i for i, sentence in enumerate(encoded) if sentence.length > 0]
    for _epoch in range(epochs):
        shuffled = [usable[int(i)] for i in rng.permutation(len(usable))]
        batches = []
        for bucket_low in range(0, len(shuffled), _BUCKET):  # similar lengths in a batch: less padding to decode
            bucket = sorted(shuffled[bucket_low : bucket_low + _BUCKET], key=lambda i: encoded[i].length)
            batches += [bucket[low : low + batch_size] for low in range(0, len(bucket), batch_size)]
        for batch_number in rng.permutation(len(batches)):
            members = batches[int(batch_number)]
            emissions = _emissions(weights, [encoded[i] for i in members])
            paths = viterbi(
                emissions, transition + mask_t, start + mask_s, [encoded[i].starts for i in members], inside
            )
            rows: list[np.ndarray] = []
            columns: list[np.ndarray] = []
            signs: list[np.ndarray] = []
            delta_t = np.zeros((size, size))
            delta_s = np.zeros(size)
            for i, path in zip(members, paths, strict=True):
                predicted = np.asarray(path, dtype=np.int64)
                truth = gold_arrays[i]
                wrong = np.flatnonzero(predicted != truth)
                if not len(wrong):
                    continue
                sentence = encoded[i]
                for k in wrong:
                    ids = sentence.ids[sentence.offsets[k] : sentence.offsets[k + 1]]
                    rows += [ids, ids]
                    columns += [np.full(len(ids), truth[k]), np.full(len(ids), predicted[k])]
                    signs += [np.ones(len(ids)), -np.ones(len(ids))]
                delta_s[truth[0]] += 1
                delta_s[predicted[0]] -= 1
                np.add.at(delta_t, (truth[:-1], truth[1:]), 1)
                np.add.at(delta_t, (predicted[:-1], predicted[1:]), -1)
            if rows:
                row_ids = np.concatenate(rows)
                column_ids = np.concatenate(columns)
                change = np.concatenate(signs)
                np.add.at(weights, (row_ids, column_ids), change)
                np.add.at(totals, (row_ids, column_ids), step * change)
                transition += delta_t
                transition_totals += step * delta_t
                start += delta_s
                start_totals += step * delta_s
            step += 1
    return Tagger(
        tags=list(tags),
        features=features,
        emission=weights - totals / step,
        transition=transition - transition_totals / step,
        start=start - start_totals / step,
    )


def prune(model: Tagger) -> Tagger:
    """Return the tagger without the features whose weights are all zero (never updated in training)."""
    keep = np.flatnonzero(np.abs(model.emission).sum(axis=1) > 0)
    bias = model.features.index.get("b")
    if bias is not None and bias not in set(keep.tolist()):
        keep = np.sort(np.append(keep, bias))
    names = [model.features.names[int(i)] for i in keep]
    return Tagger(
        tags=list(model.tags),
        features=FeatureIndex(names),
        emission=model.emission[keep].astype(np.float32),
        transition=model.transition.astype(np.float64),
        start=model.start.astype(np.float64),
    )
