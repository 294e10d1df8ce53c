"""Checksummed ``.npz`` model files: plain numpy arrays in a zip, no pickle, written atomically.

Used by the model files of `core.textclassifier` and `policies.extraction`. A file holds named arrays plus a
``checksum`` array: the SHA-256, as ASCII hex in uint8, over the name, dtype, shape and bytes of each
checksummed array in a fixed order. Reading checks the file's size, that it is a zip holding exactly the
expected entries, their unpacked size, and loads every array with ``allow_pickle=False``; the caller gives the
exception to raise (with its own, translated, message) for a file that is not one of its models.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

CHECKSUM = "checksum"


def checksum(arrays: Mapping[str, np.ndarray], names: Iterable[str]) -> str:
    """Return the SHA-256 (hex) over the arrays of these names, in this order: name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    for name in names:
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def with_checksum(arrays: Mapping[str, np.ndarray], names: Iterable[str]) -> dict[str, np.ndarray]:
    """Return the arrays with their ``checksum`` array added."""
    result = dict(arrays)
    result[CHECKSUM] = np.frombuffer(checksum(arrays, names).encode("ascii"), dtype=np.uint8)
    return result


def checksum_matches(arrays: Mapping[str, np.ndarray], names: Iterable[str]) -> bool:
    """Return whether the recorded checksum is a uint8 array equal to the checksum of the content."""
    recorded = arrays.get(CHECKSUM)
    if recorded is None or recorded.dtype != np.uint8:
        return False
    return recorded.tobytes().decode("ascii", "replace") == checksum(arrays, names)


def recorded_checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """Return the checksum written in the file (not checked)."""
    return arrays[CHECKSUM].tobytes().decode("ascii", "replace")


def write(path: Path | str, arrays: Mapping[str, np.ndarray], *, mode: int | None = None) -> None:
    """Write the arrays compressed to path atomically (a temporary file in the same folder, then a rename).

    ``mode`` sets the file's permissions (the temporary file is private, 0o600, otherwise).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(
    path: Path,
    names: Iterable[str],
    *,
    max_bytes: int,
    refuse: Callable[[], Exception],
    not_found: Callable[[], Exception],
) -> dict[str, np.ndarray]:
    """Return the arrays of a file holding exactly these names (and the checksum), checksum not yet checked.

    Raises ``not_found()`` for a missing file and ``refuse()`` for anything that is not such a file: larger
    than max_bytes (or unpacking to more than four times that), not a zip, other entries, an array that
    would need pickle, a damaged archive.
    """
    expected = frozenset(f"{name}.npy" for name in (*names, CHECKSUM))
    if not path.is_file():
        raise not_found()
    if path.stat().st_size > max_bytes or not zipfile.is_zipfile(path):
        raise refuse()
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if (
                len(entries) != len(expected)
                or {entry.filename for entry in entries} != expected
                or sum(entry.file_size for entry in entries) > 4 * max_bytes
            ):
                entries = []
            for entry in entries:
                with archive.open(entry) as member:
                    arrays[entry.filename.removesuffix(".npy")] = np.load(io.BytesIO(member.read()), allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise refuse() from error
    if set(arrays) != {name.removesuffix(".npy") for name in expected}:
        raise refuse()
    return arrays


def checked_meta(
    path: Path,
    arrays: Mapping[str, np.ndarray],
    names: Iterable[str],
    *,
    format_name: str,
    format_version: int,
    refuse: Callable[[], Exception],
    error: Callable[[str], Exception],
) -> dict[str, Any]:
    """Check what `read` returned (checksum, the ``meta`` array's JSON, its format name and version) and return
    the meta dict. ``refuse()`` for a file of another kind, ``error(message)`` for a damaged or older file."""
    if arrays[CHECKSUM].dtype != np.uint8 or arrays["meta"].dtype != np.uint8:
        raise refuse()
    if not checksum_matches(arrays, names):
        raise error(_("The model file is damaged or was changed (checksum mismatch): %(path)s") % {"path": path})
    try:
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    except ValueError as failure:
        raise refuse() from failure
    if not isinstance(meta, dict) or meta.get("format") != format_name:
        raise refuse()
    if meta.get("format_version") != format_version:
        raise error(
            _("The model file has format version %(found)s; this program reads version %(expected)s. Train it again.")
            % {"found": meta.get("format_version"), "expected": format_version}
        )
    return meta
