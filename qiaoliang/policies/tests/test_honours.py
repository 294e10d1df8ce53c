"""The honours vocabulary, the normaliser of written honours, enumerations, requirements and the coverage figure.

The written honours are taken from the dev annotations (`data/zj/policy_eligibility_entries_dev.csv`, var 荣誉)
unless a comment says otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import call_command

from qiaoliang.policies import honours
from qiaoliang.policies.honours import (
    ANY,
    CATEGORIES,
    GRADE_SLUGS,
    LEVELS,
    NONE,
    held_key,
    honour_by_code,
    honour_vocabulary,
    normalise_honour,
    requirement_from_key,
    satisfies,
    split_honours,
)
from qiaoliang.policies.management.commands.honour_coverage import (
    GENERIC,
    MAPPED,
    UNMAPPED,
    measure_coverage,
)

# --- the vocabulary file --------------------------------------------------------------------------------------


def test_vocabulary_codes_levels_and_categories_are_consistent() -> None:
    rows = honour_vocabulary()
    assert len(rows) > 300
    codes = [row.code for row in rows]
    assert len(codes) == len(set(codes)), "a code is used twice"
    by_kind: dict[str, list[honours.Honour]] = defaultdict(list)
    for row in rows:
        assert row.code.isascii() and row.code == row.code.lower() and " " not in row.code, row.code
        assert row.level in (*LEVELS, NONE), row
        assert row.category in CATEGORIES, row
        assert row.basis in ("official", "data", "generic"), row
        assert row.name and row.kind, row
        if row.level == NONE:
            assert "." not in row.code, f"{row.code}: a row without a level has the kind alone as its code"
        else:
            assert row.code.endswith("." + row.level), f"{row.code} does not end with its level {row.level}"
        for code in row.implies:
            assert honour_by_code(code) is not None, f"{row.code} implies the unknown code {code}"
            assert code != row.code
        for grade in row.grades:
            assert grade in GRADE_SLUGS, f"{row.code}: unknown grade {grade}"
        by_kind[row.kind_code].append(row)
    for kind_code, kind_rows in by_kind.items():
        assert len({row.kind for row in kind_rows}) == 1, f"{kind_code}: rows name different kinds"
        assert len({row.category for row in kind_rows}) == 1, f"{kind_code}: rows have different categories"
        assert len({row.level for row in kind_rows}) == len(kind_rows), f"{kind_code}: a level twice"
        assert sum(row.default for row in kind_rows) <= 1, f"{kind_code}: several default rows"


def test_no_name_or_alias_is_claimed_twice() -> None:
    row_names: dict[str, set[str]] = defaultdict(set)
    kind_names: dict[str, set[str]] = defaultdict(set)
    for row in honour_vocabulary():
        for name in (row.name, *row.aliases):
            row_names[honours._key(name)].add(row.code)
        for name in (row.kind, *row.kind_aliases):
            kind_names[honours._key(name)].add(row.kind_code)
    assert {key: codes for key, codes in row_names.items() if len(codes) > 1} == {}
    assert {key: kinds for key, kinds in kind_names.items() if len(kinds) > 1} == {}
    clashes = {
        key: (codes, kind_names[key])
        for key, codes in row_names.items()
        if key in kind_names and {honours.kind_code_of(code) for code in codes} != kind_names[key]
    }
    assert clashes == {}


def test_vocabulary_is_loaded_once_and_looked_up_by_code() -> None:
    assert honours.vocabulary() is honours.vocabulary()
    hnte = honour_by_code("hnte.national")
    assert hnte is not None and hnte.name == "国家高新技术企业" and hnte.kind == "高新技术企业" and hnte.default
    assert honour_by_code("sta.provincial:first") == honour_by_code("sta.provincial")
    assert honour_by_code("no.such") is None
    little_giant = honour_by_code("little_giant.national")
    assert little_giant is not None and little_giant.implies == ("srdi.provincial",)


# --- one written honour ---------------------------------------------------------------------------------------

# (text, code, level, region_name, grade, qualifiers that must be there)
READINGS = [
    ("国家高新技术企业", "hnte.national", "national", "", "", ()),
    ("高新技术企业", "hnte.national", "national", "", "", ()),  # a bare kind: national by law
    ("国家高企", "hnte.national", "national", "", "", ()),
    ("金华市级高新技术企业", "hnte.municipal", "municipal", "金华市", "", ()),
    ("重新认定国家级高新技术企业", "hnte.national", "national", "", "", ("renewed",)),
    ("首次通过国家重点扶持的高新技术企业认定", "hnte.national", "national", "", "", ("first",)),
    ("省级企业研究院", "research_inst.provincial", "provincial", "", "", ()),
    ("省级重点企业研究院", "key_research_inst.provincial", "provincial", "", "", ()),
    ("新认定的嘉兴市级科技企业孵化器（加速器）", "incubator.municipal", "municipal", "嘉兴市", "", ("new",)),
    ("新认定为台州市级高新技术研究开发中心", "rd_center.municipal", "municipal", "台州市", "", ("new",)),
    ("仙居县政府质量奖", "quality_award.county", "county", "仙居县", "", ()),
    ("永康市政府质量奖", "quality_award.county", "county", "永康市", "", ()),  # 永康 is a county-level city
    ("获得浙江省人民政府质量提名奖", "quality_award.provincial", "provincial", "浙江省", "提名奖", ()),
    ("中国驰名商标", "well_known_tm.national", "national", "", "", ()),
    ("驰名商标", "well_known_tm.national", "national", "", "", ()),
    ("当年被认定（不包括民间组织评审）为中国驰名商标", "well_known_tm.national", "national", "", "", ("this_year",)),
    ("“中华老字号”", "time_honoured.national", "national", "", "", ()),
    ("浙江老字号", "time_honoured.provincial", "provincial", "浙江省", "", ()),
    ("通过行政途径新评为“省级老字号", "time_honoured.provincial", "provincial", "", "", ("new",)),
    ("省科学技术一等奖", "sta.provincial", "provincial", "", "一等奖", ()),
    ("国家科技进步二等奖", "st_progress.national", "national", "", "二等奖", ()),
    ("中国专利金奖", "patent_award.national", "national", "", "金奖", ()),
    ("新获得中国专利（外观设计）银奖", "patent_award.national", "national", "", "银奖", ("new",)),
    ("项目荣获浙江省标准创新重大贡献奖", "std_award.provincial", "provincial", "浙江省", "重大贡献奖", ()),
    ("县级创业大赛优胜奖", "startup_contest.county", "county", "", "优胜奖", ()),
    ("CMMI三级认证", "cmmi", "none", "", "三级", ()),
    ("信息系统集成及服务资质认证一级", "si_qualification", "none", "", "一级", ()),
    ("复评通过国家AAAAA级旅游景区", "a_scenic.national", "national", "", "AAAAA", ("renewed",)),
    ("首次评定为省五星级品质旅行社", "quality_travel_agency.provincial", "provincial", "", "五星级", ("first",)),
    ("获得省AAA级“守合同重信用”企业", "contract_credit.provincial", "provincial", "", "AAA", ()),
    ("国家级“守合同重信用”称号", "contract_credit.national", "national", "", "", ()),
    ("新认定为玉环市专利示范企业", "patent_demo.county", "county", "玉环市", "", ("new",)),
    ("国家（知识产权）试点示范企业", "ip_demo.national", "national", "", "", ()),
    ("省级”隐性冠军”培育", "hidden_champion_candidate.provincial", "provincial", "", "", ()),
    ("认定为省级隐形冠军企业", "hidden_champion.provincial", "provincial", "", "", ()),
    ("中国制造业单项冠军示范企业", "mfg_champion.national", "national", "", "", ()),
    ("列入省级“两化”融合管理体系贯标（试点）并通过认定", "two_ms_pilot.provincial", "provincial", "", "", ()),
    ("列入市科技企业孵化器（含众创空间）培育对象", "incubator.municipal", "municipal", "", "", ("candidate",)),
    ("优秀国家级技能大师工作室", "skill_master.national", "national", "", "", ("excellent",)),
    ("新获得国家企业知识产权管理规范体系认证证书", "ipms", "none", "", "", ("new",)),
    ("经认定的拟上市企业（指证券公司、会计师事务所和律师事务所已经进场完成尽职调查）", "pre_ipo", "none", "", "", ()),
    ("上市企业", "listed", "none", "", "", ()),  # var 企业类型
    ("省高新技术企业", "hnte.provincial", "provincial", "", "", ()),  # var 企业
]


@pytest.mark.parametrize(("text", "code", "level", "region", "grade", "qualifiers"), READINGS)
def test_written_honours_map_to_the_vocabulary(
    text: str, code: str, level: str, region: str, grade: str, qualifiers: tuple[str, ...]
) -> None:
    match = normalise_honour(text)
    assert match is not None, text
    assert (match.code, match.level, match.region_name, match.grade) == (code, level, region, grade)
    assert set(qualifiers) <= set(match.qualifiers)
    assert match.in_vocabulary
    assert match.name == honour_by_code(code).name  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("國家級企業技術中心", "etc.national"),
        ("省級重點企業研究院", "key_research_inst.provincial"),
        ("專精特新「小巨人」企業", "little_giant.national"),
        ("中華老字號", "time_honoured.national"),
        ("ＣＭＭＩ五級認證", "cmmi"),  # full-width letters folded by NFKC
        ("  国家 高新技术 企业 ", "hnte.national"),
    ],
)
def test_traditional_full_width_and_spaced_input(text: str, code: str) -> None:
    match = normalise_honour(text)
    assert match is not None and match.code == code and match.exact


def test_levels_and_minimum_levels() -> None:
    kind_only = normalise_honour("企业研究院")  # several levels, none the default: any level
    assert kind_only is not None
    assert (kind_only.code, kind_only.level, kind_only.in_vocabulary) == ("research_inst.any", ANY, False)
    beyond = normalise_honour("国家级重点企业研究院")  # the kind exists, this level has no row
    assert beyond is not None
    assert (beyond.code, beyond.kind_code, beyond.level, beyond.in_vocabulary) == (
        "key_research_inst.national", "key_research_inst", "national", False)  # fmt: skip
    minimum = normalise_honour("新认定为省级以上农业科技园区")
    assert minimum is not None
    assert (minimum.code, minimum.min_level, minimum.key) == (
        "agri_park.provincial",
        "provincial",
        "agri_park.provincial+",
    )
    contest = normalise_honour("市级及市级以上创业大赛一等奖")
    assert contest is not None
    assert (contest.code, contest.min_level, contest.grade) == ("startup_contest.municipal", "municipal", "一等奖")
    assert contest.key == "startup_contest.municipal+:first"
    above_city = normalise_honour("市级以上")
    assert above_city is not None and (above_city.code, above_city.min_level) == ("honour.municipal", "municipal")


def test_generic_levels_and_grades() -> None:
    provincial = normalise_honour("省级")
    assert provincial is not None and (provincial.code, provincial.generic) == ("honour.provincial", True)
    titles = normalise_honour("国家级荣誉称号")
    assert titles is not None and titles.code == "honour.national"
    first = normalise_honour("一等奖")
    assert first is not None and (first.code, first.level, first.grade) == ("award.any", ANY, "一等奖")
    first_or_gold = normalise_honour("一等奖（或金等相应奖项）")
    assert first_or_gold is not None and first_or_gold.key == "award.any:first"
    or_better = normalise_honour("国家级大赛三等奖及以上荣誉")
    assert or_better is not None
    assert (or_better.code, or_better.grade, or_better.grade_or_better) == ("award.national", "三等奖", True)
    tier = normalise_honour("通过3A级以上评定")
    assert tier is not None and tier.key == "rating:a3+"
    measured = normalise_honour("ISO10012测量管理体系3A级以上认证")
    assert measured is not None and (measured.code, measured.grade, measured.grade_or_better) == ("mms", "AAA", True)


def test_region_hint_decides_what_a_bare_city_or_county_level_means() -> None:
    # 温岭 is a county-level city: "市级" in its own policy is county level.
    for hint in ("温岭市", "331081", "温岭"):
        match = normalise_honour("市级高新技术企业", region_hint=hint)
        assert match is not None
        assert (match.code, match.level, match.region_name, match.in_vocabulary) == (
            "hnte.county", "county", "温岭市", False)  # fmt: skip
    city = normalise_honour("市级企业技术中心", region_hint="330700")
    assert city is not None and (city.code, city.region_name) == ("etc.municipal", "金华市")
    from_district = normalise_honour("市级企业技术中心", region_hint="婺城区")
    assert from_district is not None and (from_district.code, from_district.region_name) == ("etc.municipal", "金华市")
    county = normalise_honour("县级企业技术中心", region_hint="仙居县")
    assert county is not None and (county.code, county.region_name) == ("etc.county", "仙居县")
    province = normalise_honour("省级企业技术中心", region_hint="金华市")
    assert province is not None and province.region_name == "浙江省"
    without = normalise_honour("市级企业技术中心")
    assert without is not None and (without.code, without.region_name) == ("etc.municipal", "")
    written = normalise_honour("金华市级高新技术企业", region_hint="温岭市")  # a division written out wins
    assert written is not None and (written.code, written.region_name) == ("hnte.municipal", "金华市")


@pytest.mark.parametrize(
    "text",
    [
        "国家级项目",
        "获得国内发明专利",
        "省级重点企业研究院建设项目",  # a project, not the honour
        "县级及以上众创空间的入驻对象",  # a tenant of a maker space
        "列入国家重点研发计划",
        "主编国家标准",
        "首次上规",
        "纳税年度200强",
        "获得世界级旅游及其相关品牌",  # no level above national
        "",
        "   ",
    ],
)
def test_what_is_not_an_honour_is_not_read_as_one(text: str) -> None:
    assert normalise_honour(text) is None
    assert split_honours(text) == []


def test_a_name_found_inside_a_longer_text_is_not_exact() -> None:
    contained = normalise_honour("铁路、公路、水利、机电、港口与航道等施工总承包一级资质")
    assert contained is not None
    assert (contained.code, contained.grade, contained.exact) == ("gc_qualification", "一级", False)
    enumerated = normalise_honour("国家(省)高新技术企业")  # two levels: split_honours reads both
    assert enumerated is not None and enumerated.code == "hnte.national" and not enumerated.exact
    assert "hnte.national" in enumerated.describe() and "国家(省)高新技术企业" in enumerated.describe()


# --- enumerations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("国家、省、市级企业技术中心", ["etc.national", "etc.provincial", "etc.municipal"]),  # from the brief
        ("国家(省)高新技术企业", ["hnte.national", "hnte.provincial"]),
        ("省、市专利示范企业", ["patent_demo.provincial", "patent_demo.municipal"]),
        ("国家知识产权示范企业、优势企业", ["ip_demo.national", "ip_advantage.national"]),  # sentence 410_11
        ("一、二、三等奖", ["award.any:first", "award.any:second", "award.any:third"]),  # sentence 479_63
        ("国家科技进步一、二等奖", ["st_progress.national:first", "st_progress.national:second"]),
        (
            "获得国家自然科学奖、国家技术发明奖或国家科学技术进步奖的一等奖",
            ["natural_science.national:first", "tech_invention.national:first", "st_progress.national:first"],
        ),
        ("新认定的国家级和省级科技孵化器", ["incubator.national", "incubator.provincial"]),  # sentence 554_87
        ("新认定的嘉兴市级众创空间、星创天地", ["maker_space.municipal", "star_space.municipal"]),
        ("工程技术（研究）中心（重点实验室、工程实验室）", ["ertc.any", "key_lab.any", "eng_lab.any"]),
        ("国家级荣誉称号、高新技术企业", ["honour.national", "hnte.national"]),  # constructed
        ("省级以上企业技术中心", ["etc.provincial+"]),  # from the brief
        ("守信用、重合同单位", ["contract_credit.any"]),  # one name with a 、 in it
        ("国家级守信用、重合同单位", ["contract_credit.national"]),
    ],
)
def test_split_honours(text: str, keys: list[str]) -> None:
    assert [match.key for match in split_honours(text)] == keys


def test_split_pieces_that_inherited_are_not_exact_and_keep_their_region() -> None:
    national, provincial, municipal = split_honours("国家、省、市级企业技术中心")
    assert (national.exact, provincial.exact, municipal.exact) == (False, False, True)
    maker, star = split_honours("新认定的嘉兴市级众创空间、星创天地")
    assert (maker.region_name, star.region_name) == ("嘉兴市", "嘉兴市")
    assert "new" in maker.qualifiers
    listed = split_honours(
        "新认定的国家工程实验室、国家重点实验室、国家工程（技术）研究中心、国家地方联合工程研究中心（工程实验室）等"
    )
    assert {"eng_lab.national", "key_lab.national", "ertc.national", "joint_erc.national"} <= {m.code for m in listed}


# --- requirements ---------------------------------------------------------------------------------------------

SATISFIES = [
    # 以上: that level or higher
    (["etc.national"], "省级以上企业技术中心", True),
    (["etc.provincial"], "省级以上企业技术中心", True),
    (["etc.municipal"], "省级以上企业技术中心", False),
    (["etc.municipal"], "市级以上", True),
    (["etc.county"], "市级以上", False),
    # a level without 以上 is that level
    (["etc.national"], "省级企业技术中心", False),
    (["etc.provincial"], "国家级企业技术中心", False),
    (["etc.county"], "企业技术中心", True),  # any level
    (["hnte.national"], "高新技术企业", True),
    (["hnte.municipal"], "高新技术企业", False),  # a bare 高新技术企业 is the national one
    (["hnte.municipal"], "金华市级高新技术企业", True),
    # grades
    (["sta.provincial:first"], "省科学技术一等奖", True),
    (["sta.provincial:一等奖"], "省科学技术一等奖", True),
    (["sta.provincial:second"], "省科学技术一等奖", False),
    (["sta.provincial"], "省科学技术一等奖", False),  # a grade is required and none is held
    (["sta.national:first"], "省科学技术一等奖", False),
    (["st_progress.provincial:first"], "省科学技术一等奖", True),  # 科学技术进步奖 is a 科学技术奖
    (["sta.provincial:third"], "省科学技术奖", True),  # no grade required: any grade
    (["quality_award.national:nomination"], "中国质量奖", False),  # a nomination is not the award
    (["quality_award.national:提名奖"], "中国质量奖提名奖", True),
    (["quality_award.national"], "中国质量奖", True),
    (["startup_contest.county:first"], "一等奖", True),  # any award of that grade
    (["startup_contest.county:second"], "一等奖", False),
    (["startup_contest.national:second"], "国家级大赛三等奖及以上荣誉", True),
    (["startup_contest.national:merit"], "国家级大赛三等奖及以上荣誉", False),
    (["startup_contest.provincial:first"], "国家级大赛三等奖及以上荣誉", False),
    (["a_scenic.national:AAAAA"], "通过3A级以上评定", True),
    (["a_scenic.national:a2"], "通过3A级以上评定", False),
    (["cmmi:l5"], "CMMI三级认证", False),
    # implied honours
    (["little_giant.national"], "省级专精特新中小企业", True),
    (["key_little_giant.national"], "专精特新中小企业", True),
    (["srdi.provincial"], "专精特新“小巨人”企业", False),
    (["key_research_inst.provincial"], "省级企业研究院", True),
    (["research_inst.provincial"], "省级重点企业研究院", False),
    # generic requirements
    (["etc.provincial"], "省级荣誉称号", True),
    (["etc.county"], "省级荣誉称号", False),
    (["iso9001"], "省级荣誉称号", False),
    (["patent_award.national:gold"], "获得国家级金奖", True),
    (["etc.national"], "获得国家级金奖", False),
    # nothing held, unknown codes
    ([], "高新技术企业", False),
    (["no.such", "hnte.nowhere"], "高新技术企业", False),
]


@pytest.mark.parametrize(("held", "text", "expected"), SATISFIES)
def test_satisfies(held: list[str], text: str, expected: bool) -> None:
    required = normalise_honour(text)
    assert required is not None, text
    assert satisfies(held, required) is expected
    assert satisfies(held, required.key) is expected  # the stored key means the same


def test_keys_round_trip() -> None:
    for text in (
        "省级以上企业技术中心",
        "省科学技术一等奖",
        "国家级大赛三等奖及以上荣誉",
        "企业研究院",
        "CMMI三级认证",
    ):
        match = normalise_honour(text)
        assert match is not None
        back = requirement_from_key(match.key)
        assert (back.kind_code, back.level, back.min_level, back.grade, back.grade_or_better) == (
            match.kind_code, match.level, match.min_level, match.grade, match.grade_or_better)  # fmt: skip
        assert back.key == match.key
    assert held_key("sta.provincial", "一等奖") == "sta.provincial:first"
    assert held_key("a_scenic.national", "5A级") == "a_scenic.national:a5"
    assert held_key("hnte.national") == "hnte.national"
    with pytest.raises(ValueError):
        held_key("no.such")
    with pytest.raises(ValueError):
        requirement_from_key("no_such_kind.national")
    with pytest.raises(ValueError):
        requirement_from_key("hnte.galactic")


# --- coverage of the dev annotations --------------------------------------------------------------------------

# Values written at least twice that are not honours (projects, patents, plans, places, a monitoring list).
FREQUENT_NON_HONOURS = {
    "国家级工业信息化建设项目", "国家级项目", "央企投资项目", "工业发展先进村", "浙江省小微企业培育监测平台",
    "省级工业信息化建设项目", "省级重点项目", "纳入《兰溪市信息物流产业发展“十三五”规划（2016-2020）》",
    "获得国内发明专利",
}  # fmt: skip


def test_coverage_of_the_dev_honour_conditions() -> None:
    coverage = measure_coverage()
    assert coverage.rows == 785
    assert len(coverage.strings) == 698
    # Measured 529 of 698 distinct values (75.8 %) mapped, 294 distinct codes; the floor sits a little below.
    assert coverage.count(MAPPED) >= 515
    assert coverage.mapped_share >= 0.73
    assert coverage.count(UNMAPPED) <= 130
    assert coverage.count(GENERIC) <= 50
    assert 250 <= len(coverage.codes) <= 320  # 698 written values collapse to far fewer codes
    frequent_unmapped = {value for value, rows in coverage.unmapped() if rows >= 2}
    assert frequent_unmapped <= FREQUENT_NON_HONOURS  # every honour written twice or more maps
    assert coverage.codes["hnte.national"] >= 15


def test_coverage_command_prints_the_figures() -> None:
    out = StringIO()
    call_command("honour_coverage", stdout=out)
    text = out.getvalue()
    assert "785" in text and "698" in text
    assert "hnte.national" in text
    assert "国家级项目" in text  # listed among the values not mapped
