"""Extractor files: one ``.npz`` (a zip of plain numpy arrays, read with ``allow_pickle=False``).

The file holds the format name and version, the configuration, the tagger's feature names and weights, the
three attribute classifiers, the prefix counts, the head words of the training fields, the confirmed
conditions of the training sentences that have any, the training metadata (with the SHA-256 of the training
files) and a SHA-256 checksum over all of it. A file that is not such a model, or whose checksum does not
match, is refused with `ModelFileError`. Files written before the head words and the confirmed conditions
were stored load with none (spans are then not extended, and nothing is remembered).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from qiaoliang.core import npzfile
from qiaoliang.policies.extraction.attributes import AttributeModel, LinearClassifier
from qiaoliang.policies.extraction.model import Extractor, ExtractorConfig, Lexicon
from qiaoliang.policies.extraction.tagger import FeatureIndex, Tagger

FORMAT_NAME = "qiaoliang.policies.extractor"
FORMAT_VERSION = 1
MAX_MODEL_BYTES = 64 * 1024 * 1024
_CLASSIFIERS = ("entry_type", "var", "relation")
_ARRAY_NAMES = ("meta", "emission", "transition", "start", *(f"weights_{name}" for name in _CLASSIFIERS))


class ModelFileError(ValueError):
    """A model file that cannot be used; the message is for the user."""


def to_arrays(extractor: Extractor) -> dict[str, np.ndarray]:
    """Return the arrays a model file holds (the checksum included)."""
    attributes = extractor.attributes
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "config": dataclasses.asdict(extractor.config),
        "tags": extractor.tagger.tags,
        "features": extractor.tagger.features.names,
        "classifiers": {
            name: {"labels": getattr(attributes, name).labels, "features": getattr(attributes, name).features}
            for name in _CLASSIFIERS
        },
        "quantity_vars": attributes.quantity_vars,
        "prefixes": extractor.prefixes,
        "heads": sorted(extractor.heads),
        "memory": {key: [list(entry) for entry in entries] for key, entries in sorted(extractor.memory.items())},
        "score_scale": extractor.score_scale,
        "lexicon": (
            {name: sorted(uids) for name, uids in sorted(extractor.lexicon.by_field.items())}
            if extractor.lexicon is not None
            else None
        ),
        "training": extractor.training,
    }
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        "emission": extractor.tagger.emission.astype(np.float32),
        "transition": extractor.tagger.transition.astype(np.float64),
        "start": extractor.tagger.start.astype(np.float64),
    }
    for name in _CLASSIFIERS:
        arrays[f"weights_{name}"] = getattr(attributes, name).weights.astype(np.float32)
    return npzfile.with_checksum(arrays, _ARRAY_NAMES)


def save(extractor: Extractor, path: Path | str) -> None:
    """Write the model to path atomically (a temporary file in the same folder, then a rename)."""
    npzfile.write(path, to_arrays(extractor), mode=0o644)  # a model file is not a secret


def _refuse(path: Path) -> ModelFileError:
    return ModelFileError(_("Not a policy condition extractor file: %(path)s") % {"path": path})


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    return npzfile.read(
        path,
        _ARRAY_NAMES,
        max_bytes=MAX_MODEL_BYTES,
        refuse=lambda: _refuse(path),
        not_found=lambda: ModelFileError(_("Model file not found: %(path)s") % {"path": path}),
    )


def checksum_of(path: Path | str) -> str:
    """Return the checksum recorded in a model file (after checking that it matches the content)."""
    path = Path(path)
    arrays = _read_arrays(path)
    recorded = npzfile.recorded_checksum(arrays)
    if not npzfile.checksum_matches(arrays, _ARRAY_NAMES):
        raise ModelFileError(
            _("The model file is damaged or was changed (checksum mismatch): %(path)s") % {"path": path}
        )
    return recorded


def load(path: Path | str) -> Extractor:
    """Read a model written by `save`; raise ModelFileError for any other file or a changed one."""
    path = Path(path)
    arrays = _read_arrays(path)
    meta = npzfile.checked_meta(path, arrays, _ARRAY_NAMES, format_name=FORMAT_NAME, format_version=FORMAT_VERSION,
                                refuse=lambda: _refuse(path), error=ModelFileError)  # fmt: skip
    try:
        return _from_meta(meta, arrays, path)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise _refuse(path) from error


def _from_meta(meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path) -> Extractor:
    known = {option.name for option in dataclasses.fields(ExtractorConfig)}
    config = ExtractorConfig(**{key: value for key, value in meta["config"].items() if key in known})
    tags = [str(tag) for tag in meta["tags"]]
    names = [str(name) for name in meta["features"]]
    emission, transition, start = arrays["emission"], arrays["transition"], arrays["start"]
    if (
        emission.shape != (len(names), len(tags))
        or transition.shape != (len(tags), len(tags))
        or start.shape != (len(tags),)
    ):
        raise _refuse(path)
    classifiers = {}
    for name in _CLASSIFIERS:
        spec = meta["classifiers"][name]
        labels, features = [str(x) for x in spec["labels"]], [str(x) for x in spec["features"]]
        weights = arrays[f"weights_{name}"]
        if not labels or weights.shape != (len(features), len(labels)):
            raise _refuse(path)
        classifiers[name] = LinearClassifier(labels=labels, features=features, weights=weights.astype(np.float64))
    prefixes = {str(key): [int(value[0]), int(value[1])] for key, value in meta["prefixes"].items()}
    lexicon = None
    if meta.get("lexicon") is not None:
        lexicon = Lexicon({str(name): {str(uid) for uid in uids} for name, uids in meta["lexicon"].items()})
    return Extractor(
        config=config,
        tagger=Tagger(
            tags=tags,
            features=FeatureIndex(names),
            emission=emission.astype(np.float32),
            transition=transition.astype(np.float64),
            start=start.astype(np.float64),
        ),
        attributes=AttributeModel(
            entry_type=classifiers["entry_type"],
            var=classifiers["var"],
            relation=classifiers["relation"],
            quantity_vars=[str(var) for var in meta["quantity_vars"]],
        ),
        prefixes=prefixes,
        score_scale=float(meta["score_scale"]),
        lexicon=lexicon,
        training=dict(meta.get("training") or {}),
        heads=frozenset(str(word) for word in meta.get("heads") or ()),
        memory={
            str(key): [(str(a), str(b), str(c), str(d)) for a, b, c, d in entries]
            for key, entries in (meta.get("memory") or {}).items()
        },
    )
