"""Checksummed .npz model files (core.npzfile): round trip, the checksum that stored models carry, refusals."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qiaoliang.core import npzfile

NAMES = ("meta", "weights")


class RefusedError(ValueError):
    pass


class MissingError(ValueError):
    pass


def arrays() -> dict[str, np.ndarray]:
    return {
        "meta": np.frombuffer(b'{"format": "x"}', dtype=np.uint8),
        "weights": np.arange(6, dtype=np.float32).reshape(2, 3),
    }


def read(path: Path) -> dict[str, np.ndarray]:
    return npzfile.read(path, NAMES, max_bytes=1024 * 1024, refuse=RefusedError, not_found=MissingError)


def test_the_checksum_is_the_one_stored_models_carry() -> None:
    # The SHA-256 over name, dtype, shape and bytes that textclassifier and the extractor wrote before this
    # module existed: files and database rows written then must still load.
    assert npzfile.checksum(arrays(), NAMES) == "42413ac6358e61bd24e1e5f2248252fb74c13a28da60ee63130c633a839ab7c9"


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "model.npz"
    npzfile.write(path, npzfile.with_checksum(arrays(), NAMES), mode=0o644)
    loaded = read(path)
    assert npzfile.checksum_matches(loaded, NAMES)
    assert npzfile.recorded_checksum(loaded) == npzfile.checksum(arrays(), NAMES)
    assert np.array_equal(loaded["weights"], arrays()["weights"])
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]  # no temporary file left


def test_a_changed_array_fails_the_checksum(tmp_path: Path) -> None:
    changed = npzfile.with_checksum(arrays(), NAMES)
    changed["weights"] = changed["weights"] + 1
    path = tmp_path / "model.npz"
    npzfile.write(path, changed)
    assert not npzfile.checksum_matches(read(path), NAMES)


def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(MissingError):
        read(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(RefusedError):
        read(tmp_path / "text.npz")
    good = npzfile.with_checksum(arrays(), NAMES)
    extra = {f"{name}.npy": _npy(array) for name, array in good.items()} | {"other.npy": _npy(np.zeros(1))}
    with pytest.raises(RefusedError):
        read(_zip_with(tmp_path / "extra.npz", extra))
    pickled = {f"{name}.npy": _npy(array) for name, array in good.items()}
    pickled["weights.npy"] = _npy(np.array([{"a": 1}], dtype=object))
    with pytest.raises(RefusedError):
        read(_zip_with(tmp_path / "pickled.npz", pickled))
    big = tmp_path / "big.npz"
    npzfile.write(big, good)
    with pytest.raises(RefusedError):
        npzfile.read(big, NAMES, max_bytes=10, refuse=RefusedError, not_found=MissingError)
