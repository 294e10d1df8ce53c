"""`manage.py train_appeal_classifier` and `classify_appeals`: the contract of the JSON lines output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError
from django.utils import translation

from qiaoliang.core import textclassifier as classifier

from .conftest import write_csv

Run = Callable[..., tuple[str, str]]

NEW_MESSAGES = [
    ["1", "公交车太少", "希望增加公交线路和班次，乘客等车太久。", ""],
    ["2", "学校收费", "小学老师向家长收取补课费和资料费。", ""],
    ["3", "", "", ""],
    ["4", "地铁出口\n太少", "地铁站换乘不便，\n乘客出站要走很远。", ""],
    ["5", "幼儿园学位", "孩子入园报名难，学校学位不够。", ""],
]
EXPECTED = ["交通运输", "教育文体", None, "交通运输", "教育文体"]


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def classify(run: Run, path: Path, model: Path, columns: str = "留言主题,留言详情") -> list[dict[str, Any]]:
    out, _err = run("classify_appeals", str(path), "--model", str(model), "--text-columns", columns, "--json")
    return [json.loads(line) for line in out.splitlines()]


def test_json_lines_number_rows_from_one_in_file_order(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "new.csv", NEW_MESSAGES)
    records = classify(run, path, model_path)
    assert [record["row"] for record in records] == [1, 2, 3, 4, 5]
    assert [set(record) for record in records] == [{"row", "label", "confidence"}] * 5
    for record, expected in zip(records, EXPECTED, strict=True):
        if expected is not None:
            assert record["label"] == expected
        assert 0.0 < record["confidence"] <= 1.0


def test_labels_are_printed_as_chinese_characters_and_stdout_holds_only_json(
    tmp_path: Path, model_path: Path, run: Run
) -> None:
    path = write_csv(tmp_path / "new.csv", NEW_MESSAGES[:2])
    out, _err = run("classify_appeals", str(path), "--model", str(model_path), "--text-columns", "留言主题,留言详情",
                    "--json")  # fmt: skip
    lines = out.splitlines()
    assert len(lines) == 2
    assert '"label": "交通运输"' in lines[0]
    assert all(json.loads(line)["row"] for line in lines)


def test_a_row_with_empty_text_still_gets_a_line_with_a_low_confidence(
    tmp_path: Path, model_path: Path, run: Run
) -> None:
    path = write_csv(tmp_path / "new.csv", [["1", "", "", ""], ["2", "   ", "", ""]])
    records = classify(run, path, model_path)
    assert [record["row"] for record in records] == [1, 2]
    assert all(record["label"] in {"交通运输", "教育文体"} for record in records)
    assert all(record["confidence"] == pytest.approx(0.5, abs=0.01) for record in records)


def test_blank_lines_are_skipped_and_short_rows_read_as_empty_cells(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = tmp_path / "new.csv"
    path.write_text("留言主题,留言详情\n公交车太少,等车太久\n\n学校收费\n", encoding="utf-8")
    records = classify(run, path, model_path)
    assert [(record["row"], record["label"]) for record in records] == [(1, "交通运输"), (2, "教育文体")]


def test_the_model_reads_utf8_with_bom_and_gbk_files_alike(tmp_path: Path, model_path: Path, run: Run) -> None:
    rows = [NEW_MESSAGES[0], NEW_MESSAGES[1], NEW_MESSAGES[4]]
    plain = classify(run, write_csv(tmp_path / "plain.csv", rows), model_path)
    bom = classify(run, write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig"), model_path)
    gbk = classify(run, write_csv(tmp_path / "gbk.csv", rows, encoding="gbk"), model_path)
    assert [record["label"] for record in plain] == ["交通运输", "教育文体", "教育文体"]
    assert bom == plain
    assert gbk == plain


def test_header_names_are_matched_without_spaces_and_bom(tmp_path: Path, model_path: Path, run: Run) -> None:
    header = ["留言编号", " 留言主题 ", "留言详情\u3000", "一级分类"]
    path = write_csv(tmp_path / "spaced.csv", NEW_MESSAGES[:1], header=header, encoding="utf-8-sig")
    assert classify(run, path, model_path, columns=" 留言主题 ，留言详情")[0]["label"] == "交通运输"


def test_traditional_characters_are_folded_to_simplified(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "traditional.csv", [["1", "學校亂收費", "小學老師向學生收取資料費和補課費。", ""]])
    assert classify(run, path, model_path)[0]["label"] == "教育文体"


def test_the_model_text_columns_are_the_default(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "new.csv", NEW_MESSAGES[:2])
    out, _err = run("classify_appeals", str(path), "--model", str(model_path), "--json")
    assert [json.loads(line)["label"] for line in out.splitlines()] == ["交通运输", "教育文体"]


def test_a_very_long_text_cell_is_truncated_not_refused(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "long.csv", [["1", "学校收费", "老师收取补课费。" * 10_000, ""]])
    out, err = run("classify_appeals", str(path), "--model", str(model_path), "--text-columns", "留言主题,留言详情",
                   "--json")  # fmt: skip
    assert json.loads(out)["label"] == "教育文体"
    assert "truncated" in err


def test_without_json_a_table_is_printed(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "new.csv", NEW_MESSAGES[:1])
    out, _err = run("classify_appeals", str(path), "--model", str(model_path), "--text-columns", "留言主题,留言详情")
    assert out.splitlines() == [
        "row\tlabel\tconfidence",
        f"1\t交通运输\t{classify(run, path, model_path)[0]['confidence']:.2f}",
    ]


def test_a_missing_text_column_is_a_clear_error(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "new.csv", NEW_MESSAGES[:1])
    expected = re.escape("Column not found: 标题. The file's columns are: 留言编号, 留言主题, 留言详情, 一级分类.")
    with pytest.raises(CommandError, match=expected):
        run("classify_appeals", str(path), "--model", str(model_path), "--text-columns", "标题", "--json")


def test_errors_are_in_chinese_by_default(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "new.csv", NEW_MESSAGES[:1])
    with translation.override("zh-hans"), pytest.raises(CommandError, match="找不到列：标题"):
        run("classify_appeals", str(path), "--model", str(model_path), "--text-columns", "标题", "--json")


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "File not found"), (b"", "The file is empty"), ("留言主题,留言详情\n".encode(), "no data rows")],
)
def test_missing_empty_and_header_only_files_are_refused(
    tmp_path: Path, model_path: Path, run: Run, content: bytes | None, message: str
) -> None:
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run("classify_appeals", str(path), "--model", str(model_path), "--text-columns", "留言主题", "--json")


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path, run: Run) -> None:
    data = write_csv(tmp_path / "new.csv", NEW_MESSAGES[:1])
    with pytest.raises(CommandError, match="Not an appeal classifier model file"):
        run("classify_appeals", str(data), "--model", str(data), "--text-columns", "留言主题", "--json")


# --- training -------------------------------------------------------------------------------------------------


def test_training_writes_a_model_with_its_labels_columns_and_metadata(
    tmp_path: Path, training_file: Path, run: Run
) -> None:
    path = tmp_path / "models" / "appeals.npz"
    out, _err = run("train_appeal_classifier", str(training_file), "--text-columns", "留言主题,留言详情",
                    "--label-column", "一级分类", "--out", str(path))  # fmt: skip
    assert "Trained on 16 rows, 2 labels" in out
    model = classifier.load(path)
    assert model.labels == ["交通运输", "教育文体"]
    assert model.text_columns == ["留言主题", "留言详情"]
    assert model.training["rows"] == 16
    assert model.training["label_counts"] == {"交通运输": 8, "教育文体": 8}
    assert model.training["source_file"] == "train.csv"
    assert sorted(p.name for p in path.parent.iterdir()) == ["appeals.npz"]  # no temporary file left


def test_rows_without_label_or_text_are_left_out_of_training(tmp_path: Path, training_file: Path, run: Run) -> None:
    text = training_file.read_text(encoding="utf-8") + "200,公交,,\n201,,,交通运输\n"
    path = tmp_path / "gaps.csv"
    path.write_text(text, encoding="utf-8")
    out, err = run("train_appeal_classifier", str(path), "--text-columns", "留言主题,留言详情",
                   "--label-column", "一级分类", "--out", str(tmp_path / "m.npz"))  # fmt: skip
    assert "2 rows without a label or without text were left out." in err
    assert "Trained on 16 rows" in out


def test_a_gbk_training_file_is_read(tmp_path: Path, training_file: Path, run: Run) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(training_file.read_text(encoding="utf-8").encode("gbk"))
    run("train_appeal_classifier", str(path), "--text-columns", "留言主题,留言详情", "--label-column", "一级分类",
        "--out", str(tmp_path / "m.npz"))  # fmt: skip
    assert classifier.load(tmp_path / "m.npz").training["encoding"] == "gb18030"


def test_a_missing_label_column_is_a_clear_error(tmp_path: Path, training_file: Path, run: Run) -> None:
    with pytest.raises(CommandError, match="Column not found: 类别"):
        run("train_appeal_classifier", str(training_file), "--text-columns", "留言主题", "--label-column", "类别",
            "--out", str(tmp_path / "m.npz"))  # fmt: skip
    assert not (tmp_path / "m.npz").exists()


def test_a_label_column_with_one_label_is_refused(tmp_path: Path, run: Run) -> None:
    path = write_csv(
        tmp_path / "one.csv", [["1", "公交", "公交太少", "交通运输"], ["2", "地铁", "地铁太挤", "交通运输"]]
    )
    with pytest.raises(CommandError, match="has 1 distinct label; at least 2 are needed"):
        run("train_appeal_classifier", str(path), "--text-columns", "留言主题,留言详情", "--label-column", "一级分类",
            "--out", str(tmp_path / "m.npz"))  # fmt: skip


def test_the_label_column_cannot_be_a_text_column(tmp_path: Path, training_file: Path, run: Run) -> None:
    with pytest.raises(CommandError, match="cannot also be a text column"):
        run("train_appeal_classifier", str(training_file), "--text-columns", "留言主题,一级分类",
            "--label-column", "一级分类", "--out", str(tmp_path / "m.npz"))  # fmt: skip


def test_a_different_number_of_text_columns_is_noted_on_stderr(tmp_path: Path, model_path: Path, run: Run) -> None:
    path = write_csv(tmp_path / "new.csv", NEW_MESSAGES[:1])
    out, err = run("classify_appeals", str(path), "--model", str(model_path), "--text-columns", "留言详情", "--json")
    assert "The model was trained on the text columns 留言主题, 留言详情; the columns given are 留言详情." in err
    assert [json.loads(line)["row"] for line in out.splitlines()] == [1]
