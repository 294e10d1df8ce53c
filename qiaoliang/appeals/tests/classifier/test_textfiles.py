"""Reading CSV files: encodings, headers, bounds."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from qiaoliang.appeals import textfiles
from qiaoliang.appeals.textfiles import TextFileError


@pytest.fixture(autouse=True)
def _english() -> object:
    with translation.override("en"):
        yield


def test_cells_with_newlines_stay_in_their_row(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('主题,详情,类别\n"第一\n行","多行\n\n详情",甲\n第二,详情,乙\n', encoding="utf-8")
    table = textfiles.read_table(path, text_columns=["主题", "详情"], label_column="类别")
    assert table.texts == [["第一\n行", "多行\n\n详情"], ["第二", "详情"]]
    assert table.labels == ["甲", "乙"]


ENCODINGS = [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
             ("utf-16", "utf-16")]  # fmt: skip


@pytest.mark.parametrize(("encoding", "found"), ENCODINGS)
def test_encodings_are_detected(tmp_path: Path, encoding: str, found: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("主题,类别\n学校乱收费,教育文体\n".encode(encoding))
    table = textfiles.read_table(path, text_columns=["主题"], label_column="类别")
    assert (table.encoding, table.texts, table.labels) == (found, [["学校乱收费"]], ["教育文体"])


def test_a_tab_separated_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("主题\t类别\n学校,教育\n", encoding="utf-8")
    assert textfiles.read_table(path, text_columns=["主题"]).texts == [["学校,教育"]]


def test_binary_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\x81\x30\xff\xfe\xff" * 10)
    with pytest.raises(TextFileError, match="neither UTF-8, UTF-16 nor GBK"):
        textfiles.read_table(path, text_columns=["主题"])


def test_rows_above_the_bound_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("主题\n" + "学校\n" * 11, encoding="utf-8")
    with pytest.raises(TextFileError, match="more than 10 rows"):
        textfiles.read_table(path, text_columns=["主题"], max_rows=10)


def test_a_huge_line_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textfiles, "MAX_LINE_CHARS", 1000)
    path = tmp_path / "a.csv"
    path.write_text("主题\n" + "," * 5000 + "\n", encoding="utf-8")
    with pytest.raises(TextFileError, match="longer than 1000 characters"):
        textfiles.read_table(path, text_columns=["主题"])


def test_a_file_above_the_size_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textfiles, "MAX_FILE_BYTES", 100)
    path = tmp_path / "a.csv"
    path.write_text("主题\n" + "学校\n" * 50, encoding="utf-8")
    with pytest.raises(TextFileError, match="at most 0 MB"):
        textfiles.read_table(path, text_columns=["主题"])


def test_long_cells_are_truncated_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("主题\n" + "学" * 300 + "\n短\n", encoding="utf-8")
    table = textfiles.read_table(path, text_columns=["主题"], max_cell_chars=100)
    assert [len(cells[0]) for cells in table.texts] == [100, 1]
    assert table.truncated_cells == 1


def test_column_lists_accept_full_width_commas_and_spaces() -> None:
    assert textfiles.parse_column_list(" 留言主题 ，留言详情,留言主题") == ["留言主题", "留言详情"]
    with pytest.raises(TextFileError, match="at least one text column"):
        textfiles.parse_column_list(" , ")
