"""Condition extraction: the extract_policy_conditions contract, its errors, training, model files, expansion."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from qiaoliang.policies import extraction
from qiaoliang.policies.extraction import csvfile, data, evaluation, expansion, model

ADMINISTRATIVE = "各镇人民政府，各街道办事处，市政府直属各单位："
JIAXING = "注册地在嘉兴市的高新技术企业，给予一次性奖励10万元。"
SALES = "对年销售收入达到5000万元以上的工业企业，给予奖励20万元。"


@pytest.fixture(scope="session")
def extractor() -> extraction.Extractor:
    """The shipped extractor, loaded (or trained) once for the whole run."""
    return extraction.default_extractor()


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def run(*args: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    with translation.override("en"):  # messages are matched in English whatever the catalogue holds
        call_command("extract_policy_conditions", *args, "--json", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


# --- the command line contract -----------------------------------------------------------------------------------


def test_round_trip_keeps_order_sids_and_shape(tmp_path: Path, extractor: extraction.Extractor) -> None:
    rows = [("s-3", SALES), ("s-1", ADMINISTRATIVE), ("s-2", JIAXING), ("s-4", "")]
    body = "sid,sentence\n" + "".join(f'{sid},"{sentence}"\n' for sid, sentence in rows)
    records = run(str(write_csv(tmp_path / "in.csv", body)))

    assert [record["sid"] for record in records] == ["s-3", "s-1", "s-2", "s-4"]
    for record in records:
        assert set(record) == {"sid", "conditions"}
        assert isinstance(record["conditions"], list)
        for condition in record["conditions"]:
            assert set(condition) == {"entry_type", "var", "relation", "field"}
            assert all(isinstance(value, str) for value in condition.values())
    by_sid = {record["sid"]: record["conditions"] for record in records}
    assert by_sid["s-1"] == []  # an administrative sentence states no condition
    assert by_sid["s-4"] == []  # nor does an empty one
    jiaxing_fields = {condition["field"] for condition in by_sid["s-2"]}
    assert jiaxing_fields & {"嘉兴市", "高新技术企业"}
    assert jiaxing_fields <= {"嘉兴市", "高新技术企业", "注册地在嘉兴市"}
    sales = [condition for condition in by_sid["s-3"] if condition["field"] == "5000万元"]
    assert sales, by_sid["s-3"]
    assert sales[0]["relation"] in {"大于", "大于等于"}
    assert sales[0]["entry_type"] == "经营要求"


def test_output_is_utf8_json_lines_without_escapes(tmp_path: Path, extractor: extraction.Extractor) -> None:
    out = io.StringIO()
    call_command(
        "extract_policy_conditions",
        str(write_csv(tmp_path / "in.csv", f"sid,sentence\na,{JIAXING}\n")),
        "--json",
        stdout=out,
    )
    line = out.getvalue().strip()
    assert "\\u" not in line and "嘉兴" in line


def test_bom_and_extra_columns(tmp_path: Path, extractor: extraction.Extractor) -> None:
    body = f"uid, SID ,note,Sentence\n1,x1,ignored,{ADMINISTRATIVE}\n2,x2,,{SALES}\n"
    records = run(str(write_csv(tmp_path / "bom.csv", body, "utf-8-sig")))
    assert [record["sid"] for record in records] == ["x1", "x2"]
    assert records[0]["conditions"] == []
    assert records[1]["conditions"]


def test_matches_the_library(tmp_path: Path, extractor: extraction.Extractor) -> None:
    records = run(str(write_csv(tmp_path / "in.csv", f"sid,sentence\na,{SALES}\n")))
    assert records[0]["conditions"] == [condition.as_dict() for condition in extractor.extract(SALES)]


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("sid,text\na,b\n", "utf-8", "Column not found"),
        ("id,sentence\na,b\n", "utf-8", "sid"),
        (f"sid,sentence\na,{JIAXING}\n", "gbk", "not UTF-8"),
        ("sid,sentence\na," + "长" * (csvfile.MAX_CELL_CHARS + 1) + "\n", "utf-8", "longer than"),
        ("", "utf-8", "empty"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, content: str, encoding: str, message: str) -> None:
    path = write_csv(tmp_path / "bad.csv", content, encoding)
    with pytest.raises(CommandError, match=message):
        run(str(path))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="File not found"):
        run(str(tmp_path / "absent.csv"))


def test_size_and_row_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "rows.csv", "sid,sentence\n" + "".join(f"s{i},句子{i}\n" for i in range(20)))
    monkeypatch.setattr(csvfile, "MAX_ROWS", 10)
    with pytest.raises(CommandError, match="more than 10 rows"):
        run(str(path))
    monkeypatch.setattr(csvfile, "MAX_FILE_BYTES", 100)
    with pytest.raises(CommandError, match="at most 0 MB"):
        run(str(path))


def test_a_bad_model_file_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", f"sid,sentence\na,{SALES}\n")
    fake = tmp_path / "model.npz"
    fake.write_bytes(b"not a model")
    with pytest.raises(CommandError, match="Not a policy condition extractor"):
        run(str(path), "--model", str(fake))


# --- training, model files ----------------------------------------------------------------------------------------

TOY_SENTENCES = [
    ("对获得{}的企业，给予奖励{}万元。", "经营要求", "荣誉", "是"),
    ("对年销售收入{}以上的企业，给予奖励{}万元。", "经营要求", "年销售收入", "大于等于"),
]
HONOURS = ["省级企业技术中心", "国家高新技术企业", "省级专利示范企业", "浙江名牌产品", "省级绿色工厂", "国家级众创空间"]
AMOUNTS = ["500万元", "1000万元", "2000万元", "5000万元", "1亿元", "3亿元"]
FILLER = ["各镇人民政府，各街道办事处：", "本意见自发布之日起施行。", "加强组织领导，明确工作职责。"]


def toy_data() -> tuple[list[tuple[str, str, str]], list[dict[str, str]]]:
    sentences, entries = [], []
    for i, (honour, amount) in enumerate(zip(HONOURS, AMOUNTS, strict=True)):
        uid = str(i)
        for k, (template, entry_type, var, relation) in enumerate(TOY_SENTENCES):
            sid = f"{uid}_{k}"
            value = honour if k == 0 else amount
            sentences.append((sid, uid, template.format(value, 10 + i)))
            entries.append({"sid": sid, "entry_type": entry_type, "var": var, "relation": relation, "field": value})
        for k, filler in enumerate(FILLER):
            sentences.append((f"{uid}_f{k}", uid, filler))
    return sentences, entries


@pytest.fixture(scope="module")
def toy() -> extraction.Extractor:
    sentences, entries = toy_data()
    return extraction.train(sentences, entries, extraction.ExtractorConfig(epochs=10))


def test_train_and_extract(toy: extraction.Extractor) -> None:
    found = toy.extract("对获得省级科技型中小企业的企业，给予奖励8万元。")
    assert [condition.field for condition in found] == ["省级科技型中小企业"]
    assert found[0].entry_type == "经营要求" and found[0].relation == "是"
    quantity = toy.extract("对年销售收入3000万元以上的企业，给予奖励12万元。")
    assert [(c.field, c.var, c.relation) for c in quantity] == [("3000万元", "年销售收入", "大于等于")]
    assert quantity[0].start is not None and quantity[0].end is not None
    assert "对年销售收入3000万元以上"[quantity[0].start : quantity[0].end] == "3000万元"
    assert 0 < quantity[0].confidence <= 1
    assert toy.extract("加强组织领导，明确工作职责。") == []
    assert toy.extract("") == []
    with pytest.raises(AttributeError):
        found[0].field = "x"  # type: ignore[misc]  # frozen


def test_fields_of_a_span_lose_a_trailing_de(toy: extraction.Extractor) -> None:
    text = "对新认定为国家级、省级企业技术中心的，分别给予奖励。"
    start = text.index("国家级")
    end = text.index("，")
    fields = [value for value, *_rest in toy.fields(text, [(start, end, "T", 0.9)])]
    assert fields == ["国家级企业技术中心", "省级企业技术中心"]
    bare = "对县内工业设计中心被认定为国家级、省级的，分别给予奖励；"
    assert toy.fields(bare, [(bare.index("国家级"), bare.index("，"), "T", 0.9)]) == []


def test_head_words_and_spans_cut_before_a_head(toy: extraction.Extractor) -> None:
    # 企业 ends two toy honours (国家高新技术企业, 省级专利示范企业); the others end one each; amounts have no head
    assert toy.heads == frozenset({"企业"})
    extended = dataclasses.replace(toy, heads=frozenset({"孵化器", "企业", "研究院"}))
    extended = dataclasses.replace(extended, config=extended.config.replace(extend_heads=3))
    text = "对新认定的国家级科技孵化器、省级重点企业研究院，给予奖励。"
    cut = (text.index("国家级"), text.index("孵化器"), "T", 0.9)
    assert [value for value, *_ in extended.fields(text, [cut])] == ["国家级科技孵化器"]
    cut = (text.index("省级"), text.index("企业研究院"), "T", 0.9)
    assert [value for value, *_ in extended.fields(text, [cut])] == ["省级重点企业研究院"]
    whole = (text.index("省级"), text.index("，"), "T", 0.9)  # ends with a head: unchanged
    assert [value for value, *_ in extended.fields(text, [whole])] == ["省级重点企业研究院"]
    off = dataclasses.replace(extended, config=extended.config.replace(extend_heads=0))
    assert [value for value, *_ in off.fields(text, [cut])] == ["省级重点"]


@pytest.mark.parametrize(
    ("text", "value", "support"),
    [
        ("对年销售收入5000万元以上的企业，给予奖励。", "5000万元", False),
        ("对新认定的企业，给予奖励20万元。", "20万元", True),
        ("单个项目最高不超过100万元。", "100万元", True),
        ("分别给予10万元奖励。", "10万元", True),
        ("营业收入不超过2000万元的小微企业，减半征收。", "2000万元", False),
        ("为高层次人才创业企业提供最高500平方米的创业场所。", "500平方米", True),
    ],
)
def test_support_amounts_are_not_conditions(text: str, value: str, support: bool) -> None:
    start = text.index(value)
    assert model.is_support_amount(text, start, start + len(value)) is support


def test_a_confirmed_sentence_is_remembered(toy: extraction.Extractor) -> None:
    text = "对获得省级企业技术中心的企业，给予奖励10万元。"  # a toy training sentence
    assert model.memory_key(text) in toy.memory
    spaced = " " + text.replace("，", "， ")  # white space does not matter
    remembered = toy.extract(spaced)
    assert [(c.entry_type, c.var, c.relation, c.field, c.confidence) for c in remembered] == [
        ("经营要求", "荣誉", "是", "省级企业技术中心", 1.0)
    ]
    assert spaced[remembered[0].start : remembered[0].end] == "省级企业技术中心"
    assert model.memory_key(FILLER[0]) not in toy.memory  # sentences without conditions are not remembered
    assert model.memory_key("加强组织领导。") == ""  # nor headings
    unseen = "对获得省级企业技术中心的企业，给予奖励11万元。"
    assert toy.remembered(unseen) is None
    off = dataclasses.replace(toy, config=toy.config.replace(memory=False))
    assert off.remembered(text) is None
    assert [c.field for c in off.extract(text)] == ["省级企业技术中心"]  # the tagger's own answer


def test_training_takes_corrections(toy: extraction.Extractor) -> None:
    sentences, entries = toy_data()
    assert toy.training["entries"] == len(entries)
    sentences.append(("99_0", "99", "对注册在嘉兴市的企业，给予奖励。"))
    entries.append({"sid": "99_0", "entry_type": "注册地", "var": "注册地", "relation": "是", "field": "嘉兴市"})
    entries.append({"sid": "unknown", "entry_type": "注册地", "var": "注册地", "relation": "是", "field": "杭州市"})
    corrected = extraction.train(sentences, entries, extraction.ExtractorConfig(epochs=10))
    assert corrected.training["entries"] == len(entries) - 1  # the unknown sid is ignored


def test_model_file_round_trip_and_tampering(toy: extraction.Extractor, tmp_path: Path) -> None:
    path = tmp_path / "extractor.npz"
    extraction.save(toy, path)
    loaded = extraction.load(path)
    texts = ["对获得省级科技型中小企业的企业，给予奖励8万元。", "对年销售收入3000万元以上的企业，给予奖励。", FILLER[0]]
    assert loaded.extract_many(texts) == toy.extract_many(texts)
    assert loaded.heads == toy.heads and loaded.heads
    assert loaded.memory == toy.memory and loaded.memory
    assert len(extraction.checksum_of(path)) == 64
    damaged = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:  # a byte in the middle of the weights' compressed data
        member = archive.getinfo("emission.npy")
    data_start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    damaged[data_start + member.compress_size // 2] ^= 0xFF
    (tmp_path / "damaged.npz").write_bytes(bytes(damaged))
    with pytest.raises(extraction.ModelFileError):
        extraction.load(tmp_path / "damaged.npz")


def test_train_command_adds_extra_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sentences, entries = toy_data()
    monkeypatch.setattr(data, "read_dev_rows", lambda: (sentences, entries))
    extra = write_csv(
        tmp_path / "extra.csv",
        "sid,entry_type,var,relation,field,sentence\n"
        "new_1,注册地,注册地,是,嘉兴市,对注册在嘉兴市的企业，给予奖励。\n"
        "0_0,经营要求,荣誉,是,企业,\n",
    )
    out_file = tmp_path / "model.npz"
    stdout = io.StringIO()
    call_command(
        "train_policy_extractor",
        "--out",
        str(out_file),
        "--extra-entries",
        str(extra),
        stdout=stdout,
        stderr=io.StringIO(),
    )
    model = extraction.load(out_file)
    assert model.training["entries"] == len(entries) + 2
    assert model.training["sentences"] == len(sentences) + 1
    assert extraction.checksum_of(out_file) in stdout.getvalue()
    records = run(str(write_csv(tmp_path / "in.csv", f"sid,sentence\na,{FILLER[1]}\n")), "--model", str(out_file))
    assert records == [{"sid": "a", "conditions": []}]


def test_shipped_artifact_is_current(extractor: extraction.Extractor) -> None:
    """The committed artifact was trained on the shipped data with the shipped settings (else: rebuild it)."""
    assert extraction.ARTIFACT.is_file(), "run: python manage.py train_policy_extractor --out " + str(
        extraction.ARTIFACT
    )
    assert extraction.ARTIFACT.stat().st_size < 5 * 1024 * 1024
    shipped = extraction.load(extraction.ARTIFACT)
    assert shipped.training["dev_data"] == extraction.dev_data_digest()
    assert shipped.config == extraction.ExtractorConfig()


# --- pieces ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "fields"),
    [
        ("国家级、省级企业技术中心", ["国家级企业技术中心", "省级企业技术中心"]),
        ("新认定为国家、省级科技孵化器", ["新认定为国家级科技孵化器", "新认定为省级科技孵化器"]),
        ("一、二、三等奖", ["一等奖", "二等奖", "三等奖"]),
        ("列入国家火炬计划、国家星火计划", ["列入国家火炬计划", "列入国家星火计划"]),
        ("1000-5000万元", ["1000万元", "5000万元"]),
        ("省科技进步一等奖、二等奖、三等奖", ["省科技进步一等奖", "省科技进步二等奖", "省科技进步三等奖"]),
        ("国家AAA、AAAA、AAAAA级旅游景区", ["国家AAA级旅游景区", "国家AAAA级旅游景区", "国家AAAAA级旅游景区"]),
        ("ISO27001/BS7799认证", ["ISO27001/BS7799认证"]),
        ("“中华老字号”“浙江老字号”品牌称号", ["中华老字号", "浙江老字号"]),
        (
            "国家级、省级创业大赛一、二、三等奖",
            [
                "国家级创业大赛一等奖",
                "国家级创业大赛二等奖",
                "国家级创业大赛三等奖",
                "省级创业大赛一等奖",
                "省级创业大赛二等奖",
                "省级创业大赛三等奖",
            ],
        ),
        ("AAA级、AAAA级、AAAAA级称号", ["AAA级", "AAAA级", "AAAAA级"]),
        ("国家级、省级荣誉称号", ["国家级荣誉称号", "省级荣誉称号"]),
        ("国家级、省级区域产业品牌", ["国家级区域产业品牌", "省级区域产业品牌"]),  # not 省级区 + 域产业品牌
        (
            "嘉兴市、省级、国家级服务业标准化试点项目",  # the place is the whole 嘉兴市, not its 市
            ["嘉兴市服务业标准化试点项目", "省级服务业标准化试点项目", "国家级服务业标准化试点项目"],
        ),
        (
            "国家科学技术一等奖、二等奖和省科学技术一等奖",
            ["国家科学技术一等奖", "国家科学技术二等奖", "省科学技术一等奖"],
        ),
        ("中国专利金奖、中国外观设计金奖、省专利金奖", ["中国专利金奖", "中国外观设计金奖", "省专利金奖"]),
        ("中国专利金奖、优秀奖", ["中国专利金奖", "中国专利优秀奖"]),
        ("技能大赛金、银、铜奖", ["技能大赛金奖", "技能大赛银奖", "技能大赛铜奖"]),
        ("国家高新技术企业", ["国家高新技术企业"]),
    ],
)
def test_expansion(span: str, fields: list[str]) -> None:
    assert expansion.expand(span) == fields


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("为省高新技术企业", "省高新技术企业"),
        ("工程技术研究中心等", "工程技术研究中心"),
        ("国家级", ""),
        ("获得省级", ""),
        ("省级以上", ""),
        ("500", ""),
        ("研究中心（技术创新中心", ""),
        ("国家级企业技术中心", "国家级企业技术中心"),
        ("一等奖", "一等奖"),
        ("等国际认证", "国际认证"),
        ("其它国家级以上优秀作品", "国家级以上优秀作品"),
        ("等级评定企业", "等级评定企业"),
    ],
)
def test_clean_field(value: str, cleaned: str) -> None:
    assert model.clean_field(value) == cleaned


def test_alignment_and_prefixes() -> None:
    text = "对新认定为国家级、省级企业技术中心的企业，分别奖励。"
    spans, literal = data.align("新认定为国家级企业技术中心", text)
    assert not literal and text[spans[0][0] : spans[0][1]] == "新认定为国家级、省级企业技术中心"
    assert data.split_prefix("首次获得浙江名牌产品") == ("首次获得", "浙江名牌产品")
    assert data.split_prefix("新三板挂牌企业") == ("", "新三板挂牌企业")
    assert data.align("2亿元", "销售收入2亿（含）以下的企业")[0] == [(4, 6)]


def test_frozen_split_is_fixed_and_grouped() -> None:
    uids = [str(i) for i in range(64)]
    frozen = data.frozen_test_policies(uids)
    assert len(frozen) == 13 and frozen == data.frozen_test_policies(reversed(uids))
    folds = data.grouped_folds(uids, 5, 0)
    assert sorted(set(folds.values())) == [0, 1, 2, 3, 4]


def test_scores_count_sets_per_sentence() -> None:
    sentence = data.Sentence(
        sid="1_1",
        uid="1",
        text="x",
        entries=[data.Entry("经营要求", "荣誉", "是", "A"), data.Entry("经营要求", "荣誉", "是", "B")],
    )
    scores = evaluation.Scores("t")
    scores.add(sentence, [("经营要求", "A"), ("经营要求", "A"), ("企业类型", "C")])
    assert (scores.pairs.tp, scores.pairs.fp, scores.pairs.fn) == (1, 1, 1)
    assert scores.triples.precision == pytest.approx(0.5)
    assert scores.per_type["企业类型"].fp == 1


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("extraction must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


def test_evaluate_command_on_toy_data(monkeypatch: pytest.MonkeyPatch) -> None:
    sentences, entries = toy_data()
    monkeypatch.setattr(data, "load_dev", lambda: data.build_sentences(sentences, entries))
    out = io.StringIO()
    with translation.override("en"):
        call_command("evaluate_policy_extractor", "--folds", "2", stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "### Grouped cross-validation: 5 policies" in text
    assert "### Frozen test: 1 policies" in text
    assert "| extractor: (sentence, field) |" in text and "| gazetteer: (sentence, field) |" in text
    with pytest.raises(CommandError, match="--folds"):
        call_command("evaluate_policy_extractor", "--folds", "1")
