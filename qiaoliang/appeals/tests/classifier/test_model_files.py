"""Model files: written atomically, read back identically, anything else refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.utils import translation

from qiaoliang.core import textclassifier as classifier
from qiaoliang.core.textclassifier import ModelFileError

from .conftest import SCHOOL, TRAFFIC

DOCUMENTS = [list(pair) for pair in TRAFFIC + SCHOOL]
LABELS = ["交通运输"] * len(TRAFFIC) + ["教育文体"] * len(SCHOOL)


@pytest.fixture(autouse=True)
def _english() -> object:
    with translation.override("en"):
        yield


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "model.npz"
    classifier.save(classifier.fit(DOCUMENTS, LABELS, text_columns=["a", "b"]), path)
    return path


def test_a_saved_model_predicts_like_the_fitted_one(tmp_path: Path) -> None:
    model = classifier.fit(DOCUMENTS, LABELS)
    classifier.save(model, tmp_path / "m.npz")
    loaded = classifier.load(tmp_path / "m.npz")
    probe = [["公交车太少", "等车太久"], ["学校收费", "老师收补课费"], ["", ""]]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe), rtol=1e-5)
    assert loaded.temperature == model.temperature
    assert loaded.config == model.config


def test_separable_labels_are_predicted_with_high_confidence() -> None:
    model = classifier.fit(DOCUMENTS, LABELS)
    predictions = model.predict([["高峰期公交车拥挤", "希望增加公交班次"], ["中学老师补课", "学生家长负担重"]])
    assert [label for label, _confidence in predictions] == ["交通运输", "教育文体"]
    assert all(confidence > 0.6 for _label, confidence in predictions)


def test_more_than_two_labels_and_one_text_column() -> None:
    documents = [
        [text]
        for text in ["公交车 公交线路", "公交站台 公交车", "学校 老师", "老师 学生 学校", "医院 医生", "医生 看病 医院"]
    ]
    labels = ["交通", "交通", "教育", "教育", "卫生", "卫生"]
    model = classifier.fit(documents, labels)
    assert [label for label, _c in model.predict([["公交车"], ["学校老师"], ["医院看病"]])] == ["交通", "教育", "卫生"]


def test_a_plain_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("留言主题,留言详情\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match="Not an appeal classifier model file"):
        classifier.load(path)


def test_a_foreign_npz_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, coef=np.zeros((2, 3)))
    with pytest.raises(ModelFileError, match="Not an appeal classifier model file"):
        classifier.load(path)


def test_a_changed_model_fails_its_checksum(tmp_path: Path, saved: Path) -> None:
    with zipfile.ZipFile(saved) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    weights = np.load(io.BytesIO(entries["weights.npy"]))
    buffer = io.BytesIO()
    np.save(buffer, weights * 2)
    entries["weights.npy"] = buffer.getvalue()
    changed = tmp_path / "changed.npz"
    with zipfile.ZipFile(changed, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        classifier.load(changed)


def test_pickled_arrays_are_never_loaded(tmp_path: Path, saved: Path) -> None:
    with zipfile.ZipFile(saved) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    entries["meta.npy"] = buffer.getvalue()
    hostile = tmp_path / "hostile.npz"
    with zipfile.ZipFile(hostile, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="Not an appeal classifier model file"):
        classifier.load(hostile)


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="Model file not found"):
        classifier.load(tmp_path / "absent.npz")


def test_save_replaces_an_existing_model_atomically(tmp_path: Path, saved: Path) -> None:
    other = classifier.fit([["公交"], ["学校"], ["公交车"], ["老师"]], ["甲", "乙", "甲", "乙"])
    classifier.save(other, saved)
    assert classifier.load(saved).labels == ["乙", "甲"]  # sorted by code point
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_fit_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="two labels"):
        classifier.fit([["公交"], ["地铁"]], ["交通", "交通"])


def test_stratified_folds_spread_each_label_evenly() -> None:
    codes = np.array([0] * 10 + [1] * 5 + [2] * 3)
    folds = classifier.stratified_folds(codes, 5, seed=1)
    assert np.bincount(folds, minlength=5).tolist() == [4, 4, 4, 3, 3]
    assert all(np.bincount(folds[codes == 0], minlength=5).tolist() == [2] * 5 for _ in [0])
    assert sorted(np.bincount(folds[codes == 1], minlength=5).tolist()) == [1] * 5


def test_text_is_normalised_before_features() -> None:
    assert classifier.normalize_cell("  ＡＢＣ１２３  學校\n\t收費 ", max_chars=100) == "abc0 学校 收费"
    assert classifier.char_ngrams("公交，车", 1, 2) == ["公", "交", "公交", "车"]


def test_sparse_rows_take_and_dot_handle_empty_rows() -> None:
    rows = classifier.SparseRows(
        indptr=np.array([0, 2, 2, 3]), indices=np.array([0, 2, 1]), data=np.array([1.0, 2.0, 3.0], dtype=np.float32),
        n_columns=3,
    )  # fmt: skip
    taken = rows.take(np.array([2, 1, 0]))
    assert taken.indptr.tolist() == [0, 1, 1, 3]
    assert taken.indices.tolist() == [1, 0, 2]
    weights = np.array([[1.0, 10.0, 100.0]])
    assert rows.dot(weights).ravel().tolist() == [201.0, 0.0, 30.0]
    assert taken.dot(weights).ravel().tolist() == [30.0, 0.0, 201.0]
