"""Classifier test fixtures: small CSV files of labelled messages written in a temporary folder."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

HEADER = ["留言编号", "留言主题", "留言详情", "一级分类"]

# Two labels with disjoint vocabularies: a model must separate them perfectly.
TRAFFIC = [
    ("公交线路太少", "我们小区附近公交车班次太少，等车要一个小时，希望增加公交线路。"),
    ("道路拥堵严重", "上下班高峰期道路拥堵，红绿灯时间不合理，交通秩序混乱。"),
    ("出租车拒载", "出租车司机经常拒载乘客，还绕路多收车费，请交通部门管理。"),
    ("地铁站出口", "地铁站出口太少，乘客换乘很不方便，希望增加地铁出口。"),
    ("公交站台损坏", "公交站台的候车亭损坏，下雨天乘客等车淋雨，请修复站台。"),
    ("高速收费站", "高速公路收费站排队太长，车辆通行缓慢，建议增加收费通道。"),
    ("共享单车乱停", "共享单车乱停乱放占用道路，影响车辆和行人通行。"),
    ("货车超载", "大货车超载超速，道路被压坏，交通安全隐患很大。"),
]
SCHOOL = [
    ("学校乱收费", "孩子所在小学向学生收取资料费，老师要求家长买课外辅导书。"),
    ("幼儿园入学难", "小区幼儿园学位不够，孩子入园报名排不上，家长很着急。"),
    ("教师待遇", "乡村教师工资待遇低，学校老师流失严重，影响学生教育。"),
    ("课外补课", "学校老师组织学生课外有偿补课，家长负担很重。"),
    ("中学食堂", "中学食堂饭菜质量差，学生吃不饱，请教育局检查学校食堂。"),
    ("学区划分", "学区划分不合理，孩子上学要走很远，希望教育部门调整学区。"),
    ("校车安全", "学校校车超员，学生上学放学安全没有保障，请学校整改。"),
    ("体育场馆开放", "学校体育场馆周末不向学生开放，希望学校开放操场。"),
]


def rows_of(pairs: list[tuple[str, str]], label: str, start: int = 1) -> list[list[str]]:
    """Return CSV rows (id, subject, details, label) for (subject, details) pairs."""
    return [[str(start + i), subject, details, label] for i, (subject, details) in enumerate(pairs)]


def write_csv(path: Path, rows: list[list[str]], *, header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    """Write a header and rows with the csv module (cells may hold newlines) in the given encoding."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def training_file(tmp_path: Path) -> Path:
    """A labelled file of 16 messages, 8 about traffic (交通运输) and 8 about schools (教育文体)."""
    rows = rows_of(TRAFFIC, "交通运输") + rows_of(SCHOOL, "教育文体", start=100)
    return write_csv(tmp_path / "train.csv", rows)


@pytest.fixture
def run() -> Callable[..., tuple[str, str]]:
    """Return a function that runs a management command and returns (stdout, stderr)."""

    def call(*args: Any, **options: Any) -> tuple[str, str]:
        stdout, stderr = io.StringIO(), io.StringIO()
        call_command(*args, stdout=stdout, stderr=stderr, **options)
        return stdout.getvalue(), stderr.getvalue()

    return call


@pytest.fixture
def model_path(tmp_path: Path, training_file: Path, run: Callable[..., tuple[str, str]]) -> Path:
    """A model trained on the training file."""
    path = tmp_path / "model.npz"
    run(
        "train_appeal_classifier", str(training_file), "--text-columns", "留言主题,留言详情",
        "--label-column", "一级分类", "--out", str(path),
    )  # fmt: skip
    return path
