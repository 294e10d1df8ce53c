"""Policy documents: reading pasted text, Word files and web pages; clauses; metadata; clause types."""

from __future__ import annotations

import contextlib
import datetime
import io
import time
import zipfile
from typing import Any

import docx
import pytest
from django.utils import translation

from qiaoliang.core import textclassifier
from qiaoliang.core.exceptions import DomainError
from qiaoliang.policies import clauses, documents
from qiaoliang.policies.documents import DocumentError, PolicyText

NOTICE = """平政发〔2020〕126号
平湖市人民政府关于全面推进科技创新推动高质量发展的若干政策意见
各镇人民政府、街道办事处，市政府各部门，市属各单位：
为深入实施创新驱动发展战略，结合我市实际，制定本意见。
一、总体要求
（一）加大研发投入。对企业研发投入给予补助，最高不超过50万元。对新认定的省级研发中心，奖励20万元；
对新认定的市级研发中心，奖励10万元。
（二）支持平台建设。
1.对新建的重点实验室，按省级财政奖励给予1:1配套支持。
2.对新认定的孵化器（由市科技局负责认定），给予一次性奖励。（具体办法另行制定）
二、附则
本意见自2021年1月1日起施行，有效期三年。原《平湖市人民政府关于推动科技创新的若干政策意见》（平政发〔2017〕129号）同时废止。
平湖市人民政府
2020年12月22日
（此件公开发布）
平湖市人民政府办公室2020年12月23日印发"""


def _docx(build: Any) -> io.BytesIO:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return buffer


# --- reading -------------------------------------------------------------------------------------------------


def test_pasted_text_loses_copy_debris_and_keeps_chinese_punctuation() -> None:
    pasted = (
        "关 于 印 发 扶 持 办 法 的 通 知\r\n"
        "\u3000\u3000⼀、对企业给予\xa0１２０万元补助；\u200b\n"
        "— 3 —\n"
        "《关于实施<台州市人才新政三十条>的补充意见》&nbsp;<b>同时</b>执行。"
    )
    text = documents.read_text(pasted)
    assert text.source == "text"
    assert text.lines == [
        "关于印发扶持办法的通知",
        "一、对企业给予120万元补助；",  # Kangxi ⼀ → 一, full-width digits folded, spaces between characters gone
        "《关于实施<台州市人才新政三十条>的补充意见》同时执行。",  # page number dropped, <…> without a tag kept
    ]


def test_lines_a_pdf_viewer_wrapped_are_joined_and_paragraphs_are_not() -> None:
    wrapped = "\n".join(
        [
            "一、为深入实施创新驱动发展战略加快建设创新型城市推",
            "动经济高质量发展结合本市实际制定本办法现就有关事",
            "项通知如下请各单位认真贯彻执行并及时报告实施情况",
            "二、对新认定的国家高新技术企业给予一次性奖励三十",
            "万元对复审通过的高新技术企业给予一次性奖励十万元",
            "对首次认定的省级科技型中小企业给予一次性奖励二万",
            "元。",
        ]
    )
    lines = documents.read_text(wrapped).lines
    assert len(lines) == 2
    assert lines[1].startswith("二、对新认定") and lines[1].endswith("给予一次性奖励二万元。")
    paragraphs = documents.read_text(NOTICE).lines
    assert len(paragraphs) == len(NOTICE.split("\n"))


def test_a_word_file_is_read_in_order_with_its_tables_and_generated_numbers() -> None:
    def build(document: Any) -> None:
        document.core_properties.title = "平湖市科技创新政策"
        document.add_paragraph("平政发〔2020〕126号")
        document.add_paragraph("总　则")
        document.add_paragraph("对企业研发投入给予补助。", style="List Number")
        document.add_paragraph("对新认定的研发中心给予奖励。", style="List Number")
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = "项目"
        table.cell(0, 1).text = "金额"
        table.cell(1, 0).merge(table.cell(1, 1)).text = "合并的单元格"
        document.add_paragraph("附则：本意见自发布之日起施行。")
        # Word's Chinese numbering: the list shows 一、 二、 before its paragraphs.
        numbering = document.part.numbering_part.element
        namespace = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
        for level in numbering.iter(f"{namespace}lvl"):
            level.find(f"{namespace}numFmt").set(f"{namespace}val", "chineseCounting")
            level.find(f"{namespace}lvlText").set(f"{namespace}val", "%1、")

    text = documents.read_docx(_docx(build))
    assert text.source == "docx"
    assert text.title == "平湖市科技创新政策"
    assert text.lines == [
        "平政发〔2020〕126号",
        "总则",
        "一、对企业研发投入给予补助。",
        "二、对新认定的研发中心给予奖励。",
        "项目",
        "金额",
        "合并的单元格",  # once, although it spans two grid columns
        "附则：本意见自发布之日起施行。",
    ]
    assert [clause.number for clause in documents.split_clauses(text)][2:4] == ["一、", "二、"]


def test_a_word_file_from_a_path_or_a_stream_without_a_name(tmp_path: Any) -> None:
    path = tmp_path / "政策.docx"
    path.write_bytes(_docx(lambda document: document.add_paragraph("对企业给予奖励。")).getvalue())
    assert documents.read_docx(path).text == "对企业给予奖励。"
    with path.open("rb") as handle:
        assert documents.read_docx(io.BufferedReader(handle)).text == "对企业给予奖励。"  # type: ignore[arg-type]


def test_word_files_that_are_no_word_files_or_too_large_are_refused() -> None:
    with translation.override("en"):
        wrong_type = _docx(lambda document: document.add_paragraph("正文"))
        wrong_type.name = "policy.doc"  # type: ignore[attr-defined]
        with pytest.raises(DomainError, match="cannot be uploaded here; use DOCX") as refused:
            documents.read_docx(wrong_type)
        assert refused.value.code == "file_type"

        with pytest.raises(DomainError, match="does not match its type") as refused:
            documents.read_docx(io.BytesIO(b"%PDF-1.7 not a word file"))
        assert refused.value.code == "file_type"

        oversized = io.BytesIO(b"PK\x03\x04" + b"\0" * (documents.MAX_DOCX_BYTES + 10))
        with pytest.raises(DocumentError, match="larger than 20 MB") as refused:
            documents.read_docx(oversized)
        assert refused.value.code == "file_size"

        macro = io.BytesIO()
        with zipfile.ZipFile(macro, "w") as archive, zipfile.ZipFile(_docx(lambda d: d.add_paragraph("x"))) as source:
            for entry in source.infolist():
                archive.writestr(entry, source.read(entry))
            archive.writestr("word/vbaProject.bin", b"macro")
        macro.seek(0)
        with pytest.raises(DomainError, match="macros are refused"):
            documents.read_docx(macro)


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>关于印发科技政策的通知_平湖市人民政府</title>
<meta name="PubDate" content="2020-12-23 09:30">
<style>p { color: red }</style><script>document.write("<p>注入的文字</p>")</script></head>
<body><header>首页 | 政务公开</header><nav><a href="/">网站导航</a></nav>
<div class="article"><h1>平湖市人民政府关于全面推进科技创新的若干政策意见</h1>
<p>平政发〔2020〕126号</p><p>一、研发投入&nbsp;补助</p>
<p>（一）对企业研发投入给予补助，最高不超过<b>50</b>万元&#xFF1B;对&lt;script&gt;标签&amp;实体给予说明。</p>
<div hidden>隐藏的段落</div><p style="display: none">也隐藏</p><br>
<!-- 旧版本 <p>注释里的段落</p> --><ul><li>第一项</li><li>第二项</li></ul></div>
<footer>版权所有 平湖市人民政府</footer></body></html>"""


def test_a_web_page_gives_its_visible_text_without_markup() -> None:
    text = documents.read_html(PAGE)
    assert text.source == "html"
    assert text.title == "平湖市人民政府关于全面推进科技创新的若干政策意见"  # the article's heading
    assert text.published == "2020-12-23 09:30"
    assert text.lines == [
        "平湖市人民政府关于全面推进科技创新的若干政策意见",
        "平政发〔2020〕126号",
        "一、研发投入补助",  # &nbsp; between Chinese characters is debris
        "（一）对企业研发投入给予补助，最高不超过50万元；对<script>标签&实体给予说明。",
        "第一项",
        "第二项",
    ]
    for dropped in ("注入的文字", "color", "网站导航", "首页", "版权所有", "隐藏", "注释"):
        assert dropped not in text.text
    # A saved page in GB2312 (as many government sites serve them) is decoded by its declared charset.
    saved = documents.read_html(PAGE.replace("utf-8", "gb2312").encode("gb18030"))
    assert saved.lines == text.lines


def test_oversized_and_hostile_inputs_are_refused_quickly() -> None:
    with translation.override("en"):
        with pytest.raises(DocumentError, match="longer than 1,000,000 characters") as refused:
            documents.read_text("政" * (documents.MAX_TEXT_CHARS + 1))
        assert refused.value.code == "document_size"
        with pytest.raises(DocumentError, match="larger than 5 MB"):
            documents.read_html("<p>" + "政" * documents.MAX_HTML_CHARS)
        with pytest.raises(DocumentError, match="holds no text") as refused:
            documents.read_text(" \n\u3000\n")
        assert refused.value.code == "document_empty"
        # Markup that would make html.parser look for a tag's end again and again: read or refused in time.
        for hostile in ("<a " * 100_000, "<!--" * 100_000, "<p>" * 150_000 + "正文", "<a b='" + "x" * 4_000_000):
            started = time.perf_counter()
            with contextlib.suppress(DocumentError):
                documents.read_html(hostile)
            assert time.perf_counter() - started < 15
        with pytest.raises(DocumentError, match="too much markup"):
            documents.read_html("<i>" * (documents.MAX_HTML_TAGS + 1))


# --- clauses -------------------------------------------------------------------------------------------------


def test_a_numbered_document_is_cut_into_sentences_items_and_headings() -> None:
    found = documents.split_clauses(documents.read_text(NOTICE))
    texts = [clause.text for clause in found]
    assert texts[:8] == [
        "平政发〔2020〕126号",
        "平湖市人民政府关于全面推进科技创新推动高质量发展的若干政策意见",
        "各镇人民政府、街道办事处，市政府各部门，市属各单位：",
        "为深入实施创新驱动发展战略，结合我市实际，制定本意见。",
        "一、总体要求",
        "（一）加大研发投入。",
        "对企业研发投入给予补助，最高不超过50万元。",
        "对新认定的省级研发中心，奖励20万元；",
    ]
    by_text = {clause.text: clause for clause in found}
    heading = by_text["一、总体要求"]
    assert (heading.number, heading.level, heading.is_heading) == ("一、", 3, True)
    item = by_text["（一）加大研发投入。"]
    assert (item.number, item.level, item.is_heading) == ("（一）", 4, False)
    assert by_text["1.对新建的重点实验室，按省级财政奖励给予1:1配套支持。"].number == "1."  # a ratio is no cut
    # A bracketed remark after a full stop stays with its sentence; one inside a sentence does not cut it.
    assert "2.对新认定的孵化器（由市科技局负责认定），给予一次性奖励。（具体办法另行制定）" in by_text
    assert by_text["二、附则"].is_heading
    assert not by_text["平湖市人民政府"].is_heading
    assert [clause.order for clause in found] == list(range(1, len(found) + 1))


def test_the_same_document_without_its_line_breaks_comes_apart_at_its_numbers() -> None:
    with_breaks = [clause.text for clause in documents.split_clauses(NOTICE)]
    joined = [clause.text for clause in documents.split_clauses(NOTICE.replace("\n", ""))]
    # Everything but a heading followed by a sentence without a number, and the signature block.
    assert joined == [
        *with_breaks[:12],
        "二、附则本意见自2021年1月1日起施行，有效期三年。",
        with_breaks[14],
        "平湖市人民政府2020年12月22日（此件公开发布）平湖市人民政府办公室2020年12月23日印发",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一、二、三等奖的项目，分别给予奖励。", ["一、二、三等奖的项目，分别给予奖励。"]),
        ("按第（三）项规定执行。", ["按第（三）项规定执行。"]),
        ("为推进发展，实行统一、规范的管理。", ["为推进发展，实行统一、规范的管理。"]),
        (
            "（1）发生安全事故的，（2）发生环境事件的，不予支持。",
            ["（1）发生安全事故的，（2）发生环境事件的，不予支持。"],
        ),
        ("对其给予1.5万元补助。每年9:30前报送。", ["对其给予1.5万元补助。", "每年9:30前报送。"]),
        (
            "第一章总则第一条为规范管理，制定本办法。第二条本办法适用于本市。",
            ["第一章总则", "第一条为规范管理，制定本办法。", "第二条本办法适用于本市。"],
        ),
        (
            "原政策（仙政发〔2016〕20号第一条至第四条）不再执行。",
            ["原政策（仙政发〔2016〕20号第一条至第四条）不再执行。"],
        ),
        ("五、附则\n（三）\n（四）条涉及的奖励按规定执行。", ["五、附则", "（三）（四）条涉及的奖励按规定执行。"]),
    ],
)
def test_what_is_not_a_cut(text: str, expected: list[str]) -> None:
    assert [clause.text for clause in documents.split_clauses(text)] == expected


def test_clause_splitting_agrees_with_the_annotated_sentences() -> None:
    agreement = clauses.split_agreement(separator="")
    assert agreement.documents == 64
    assert agreement.recall > 0.95  # measured 0.969 with the line breaks lost
    assert agreement.precision > 0.94


# --- metadata ------------------------------------------------------------------------------------------------


def test_metadata_of_a_notice() -> None:
    found = documents.guess_metadata(documents.read_text(NOTICE))
    assert found.document_number == "平政发〔2020〕126号"
    assert found.title == "平湖市人民政府关于全面推进科技创新推动高质量发展的若干政策意见"
    assert found.issuer == "平湖市人民政府"
    assert found.issue_date == datetime.date(2020, 12, 22)  # signed, not the printing office's 12-23
    assert found.validity == "自2021年1月1日起施行，有效期三年"
    assert (found.valid_from, found.valid_until) == (datetime.date(2021, 1, 1), datetime.date(2023, 12, 31))
    assert (found.region, found.region_code, found.level) == ("平湖市", "330482", "county")


def test_metadata_from_a_header_with_joint_issuers_and_a_number_without_brackets() -> None:
    text = (
        "嘉兴市科学技术局嘉兴市财政局嘉科综201847号关于印发《嘉兴市科技保险补贴实施办法（试行）》的通知"
        "各县（市、区）科技局、财政局：现将办法印发给你们，请遵照执行。嘉兴市科学技术局嘉兴市财政局"
        "二〇一八年六月十九日本办法自发布之日起试行，试行期至2019年12月31日止。"
    )
    found = documents.guess_metadata(text)
    assert found.document_number == "嘉科综〔2018〕47号"
    assert found.issuers == ("嘉兴市科学技术局", "嘉兴市财政局")
    assert found.issue_date == datetime.date(2018, 6, 19)
    assert (found.valid_from, found.valid_until) == (datetime.date(2018, 6, 19), datetime.date(2019, 12, 31))
    assert (found.region, found.level) == ("嘉兴市", "municipal")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("温岭市人民政府文件温政发202057号温岭市人民政府关于…", "温政发〔2020〕57号"),
        ("杭州市富阳区人力资源和社会保障局杭州市富阳区财政局富人社〔2018〕7号", "富人社〔2018〕7号"),
        ("中共台州市椒江区委办公室\n椒区委办发[2017]23号", "椒区委办发〔2017〕23号"),
        ("根据《扶持办法》（玉政发[2017]19号）有关规定", ""),  # a reference, not the document's own
    ],
)
def test_document_numbers(text: str, number: str) -> None:
    assert documents.parse_document_number(text) == number


@pytest.mark.parametrize(
    ("issuer_line", "region", "level"),
    [
        ("国务院办公厅关于进一步支持小微企业发展的通知", "", "national"),
        ("浙江省人民政府关于促进民营经济发展的若干意见", "浙江省", "provincial"),
        ("宁波市江北区科学技术局关于印发管理办法的通知", "宁波市江北区", "county"),
        ("中共绍兴市上虞区委绍兴市上虞区人民政府关于促进建筑业发展的若干意见", "绍兴市上虞区", "county"),
    ],
)
def test_the_level_follows_the_issuer(issuer_line: str, region: str, level: str) -> None:
    found = documents.guess_metadata(issuer_line + "\n为促进发展，制定本意见。")
    assert (found.region, found.level) == (region, level)


def test_metadata_guesses_agree_with_the_annotated_entities() -> None:
    agreement = {item.field: item for item in clauses.metadata_agreement()}
    assert agreement["document_number"].lenient / agreement["document_number"].documents > 0.9
    assert agreement["title"].lenient / agreement["title"].documents > 0.9
    assert agreement["issuer"].lenient / agreement["issuer"].documents > 0.85
    assert agreement["issue_date"].exact / agreement["issue_date"].documents > 0.85


# --- clause types --------------------------------------------------------------------------------------------


def test_unmistakable_clauses_get_their_type() -> None:
    found = clauses.classify_clauses(
        [
            "对新认定的国家高新技术企业，一次性给予30万元奖励。",
            "对符合条件的小型微利企业，减按20%的税率缴纳企业所得税。",
            "本办法自发布之日起施行。",
            "各乡镇人民政府、街道办事处，县政府直属各单位：",
            "",
        ]
    )
    assert [label for label, _confidence in found] == [
        "政策内容-资金支持",
        "政策内容-税收优惠",
        clauses.OTHER,
        clauses.OTHER,
        clauses.OTHER,
    ]
    assert all(confidence > 0.9 for _label, confidence in found[:4])
    assert clauses.classify_clauses([]) == []


def test_rare_labels_are_merged_into_other_and_folds_keep_policies_whole() -> None:
    assert clauses.training_labels(["", "甲", "甲", "乙"], min_examples=2) == [clauses.OTHER, "甲", "甲", clauses.OTHER]
    groups = ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] * 1
    folds = clauses.group_folds(groups, 2, seed=0)
    for group in set(groups):
        assert len({int(folds[i]) for i, g in enumerate(groups) if g == group}) == 1
    assert sorted(int((folds == fold).sum()) for fold in (0, 1)) == [6, 6]
    model = clauses.default_clause_classifier()
    assert "政策内容-政府采购" not in model.labels and clauses.OTHER in model.labels


def test_the_classifier_engine_moved_to_core_keeps_its_file_format() -> None:
    # Models stored by appeals.RoutingModel carry this name; it must not follow the module's new place.
    assert textclassifier.FORMAT_NAME == "qiaoliang.appeals.classifier"
    assert isinstance(documents.read_text("正文"), PolicyText)
