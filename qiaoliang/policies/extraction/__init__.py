"""Condition extraction for policy sentences: which enterprises a sentence says qualify, as structured entries.

``extract(sentence)`` proposes ``ProposedCondition(entry_type, var, relation, field)`` rows of the shape the
Zhejiang policy annotations use (``qiaoliang/policies/data/zj``): 经营要求 / 荣誉 / 是 / 国家高新技术企业,
经营要求 / 年销售收入 / 大于等于 / 5000万元, 注册地 / 注册地 / 是 / 嘉兴市 …; a sentence stating no condition
gives an empty list. docs/policy-extraction.md gives the method, the evaluation and the figures.

    from qiaoliang.policies.extraction import default_extractor, train
    default_extractor().extract("对注册地在嘉兴市的高新技术企业，给予10万元奖励。")
    # sentences: (sid, uid, sentence) triples; entries: dicts with sid, entry_type, var, relation, field
    extractor = train(sentences, entries)

`default_extractor()` is the model trained on the shipped dev data: read from the committed artifact
``qiaoliang/policies/data/extractor.npz`` (rebuilt with ``python manage.py train_policy_extractor --out
qiaoliang/policies/data/extractor.npz``) when its recorded training files match the shipped ones, else
trained at first use. Everything is numpy and rjieba; nothing is fetched at run time.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qiaoliang.policies.extraction import data
from qiaoliang.policies.extraction.model import (
    Extractor,
    ExtractorConfig,
    ProposedCondition,
    train_sentences,
)
from qiaoliang.policies.extraction.storage import ModelFileError, checksum_of, load, save

__all__ = [
    "ARTIFACT",
    "Extractor",
    "ExtractorConfig",
    "ModelFileError",
    "ProposedCondition",
    "checksum_of",
    "default_extractor",
    "load",
    "save",
    "train",
    "train_on_dev",
]

ARTIFACT = data.DATA_DIR.parent / "extractor.npz"
logger = logging.getLogger(__name__)
_LOCK = threading.Lock()
_DEFAULT: Extractor | None = None


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def dev_data_digest() -> dict[str, str]:
    """Return the SHA-256 of the shipped training files, by file name."""
    return {path.name: file_sha256(path) for path in (data.SENTENCES_FILE, data.ENTRIES_FILE)}


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def train(
    sentences: Iterable[tuple[str, str, str]],
    entries: Iterable[Mapping[str, object]],
    config: ExtractorConfig | None = None,
    *,
    training: dict[str, Any] | None = None,
) -> Extractor:
    """Train an extractor on (sid, uid, sentence) triples and entry rows (sid, entry_type, var, relation, field).

    Entries are joined to their sentence by sid (entries of unknown sids and without a field are ignored);
    sentences without entries teach the extractor what a sentence without a condition looks like. Staff
    corrections are added as more entry rows of the same shape (and their sentences, when new).
    """
    started = time.perf_counter()
    built = data.build_sentences(list(sentences), list(entries))
    metadata = {
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "sentences": len(built),
        "policies": len({sentence.uid for sentence in built}),
        "entries": sum(len(sentence.entries) for sentence in built),
        "versions": {"numpy": np.__version__, "rjieba": _version("rjieba")},
        **(training or {}),
    }
    extractor = train_sentences(built, config, training=metadata)
    extractor.training["seconds"] = round(time.perf_counter() - started, 1)
    return extractor


def train_on_dev(
    extra_sentences: Iterable[tuple[str, str, str]] = (),
    extra_entries: Iterable[Mapping[str, object]] = (),
    config: ExtractorConfig | None = None,
) -> Extractor:
    """Train on the shipped dev data plus extra sentences and entry rows (staff corrections)."""
    sentence_rows, entry_rows = data.read_dev_rows()
    known = {sid for sid, _uid, _text in sentence_rows}
    added = [row for row in extra_sentences if row[0] not in known]
    extra = list(extra_entries)
    return train(
        [*sentence_rows, *added],
        [*entry_rows, *extra],
        config,
        training={"dev_data": dev_data_digest(), "extra_sentences": len(added), "extra_entries": len(extra)},
    )


def _artifact_matches(extractor: Extractor) -> bool:
    training = extractor.training
    return (
        training.get("dev_data") == dev_data_digest()
        and not training.get("extra_entries")
        and not training.get("extra_sentences")
        and extractor.config == ExtractorConfig()
    )


def default_extractor() -> Extractor:
    """Return the extractor of the shipped dev data (the committed artifact, or trained at first use; cached)."""
    global _DEFAULT
    with _LOCK:
        if _DEFAULT is None:
            extractor: Extractor | None = None
            if ARTIFACT.is_file():
                try:
                    extractor = load(ARTIFACT)
                except ModelFileError as error:
                    logger.warning("Policy extractor artifact unusable (%s); training it again.", error)
                if extractor is not None and not _artifact_matches(extractor):
                    logger.warning("Policy extractor artifact was trained on other data or settings; training again.")
                    extractor = None
            _DEFAULT = extractor if extractor is not None else train_on_dev()
        return _DEFAULT
