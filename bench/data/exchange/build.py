"""Build the resource-exchange (供需对接) evaluation sets.

    /work/main/.venv/bin/python bench/data/exchange/build.py

Deterministic (fixed seeds, no clock). Plain Python 3.11 + openpyxl. Reads the
shared data in ../shared/data (relative to the repository) and writes into this
directory: listings.xlsx/.jsonl, qrels.jsonl, negatives.jsonl and the held-out
twins heldout_*.  See SOURCE.md for the rules.
"""

from __future__ import annotations

import ast
import csv
import datetime
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _charmaps import PHRASES, PINYIN, S2T  # noqa: E402
from topics import CAPITAL_SECTORS, EQUITY_SECTORS, T  # noqa: E402

SHARED = (HERE / "../../../../shared/data").resolve()
HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "供需",
    "类别",
    "标题",
    "描述",
    "行业代码",
    "行政区划代码",
    "数量",
    "单位",
    "价格或预算",
    "有效期至",
    "外部编号",
]

# ------------------------------------------------------------------ shared data
IND = {}
with open(SHARED / "gbt4754-2017-industry/gbt4754_2017_flat.csv", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        if r["level"] == "4":
            IND[r["code"]] = r["name"].split(" ")[0].strip()
PROV = {}
with open(SHARED / "admin-divisions-2023/provinces.csv", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        PROV[r["code"]] = r["name"]
CITYNAME = {}
with open(SHARED / "admin-divisions-2023/cities.csv", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        CITYNAME[r["code"]] = r["name"]
AREAS = defaultdict(list)  # city code -> [(code, name)]
AREA_CODES = set()
with open(SHARED / "admin-divisions-2023/areas.csv", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        AREA_CODES.add(r["code"])
        if "70" <= r["code"][4:6] <= "79" or r["name"] in ("市辖区", "金门县"):
            continue  # statistical development-zone pseudo counties
        AREAS[r["cityCode"]].append((r["code"], r["name"]))

MUNI = {"北京": "1101", "上海": "3101", "天津": "1201", "重庆": "5001"}


def city_code(short):
    if short in MUNI:
        return MUNI[short]
    for code, name in CITYNAME.items():
        if name in (short + "市", short):
            return code
    raise KeyError(short)


CITIES = [
    "深圳",
    "广州",
    "上海",
    "杭州",
    "武汉",
    "成都",
    "南京",
    "苏州",
    "北京",
    "佛山",
    "长沙",
    "东莞",
    "合肥",
    "宁波",
    "重庆",
    "西安",
    "郑州",
    "青岛",
    "天津",
    "厦门",
    "沈阳",
    "昆明",
    "无锡",
    "济南",
    "福州",
    "南昌",
    "泉州",
    "温州",
    "潍坊",
    "唐山",
    "石家庄",
    "哈尔滨",
    "南宁",
    "贵阳",
    "太原",
    "兰州",
    "烟台",
    "常州",
    "嘉兴",
    "金华",
]
CITY = {}
for c in CITIES:
    cc = city_code(c)
    CITY[c] = dict(name=c, code=cc, prov=cc[:2], areas=AREAS[cc])
    assert CITY[c]["areas"], c


def prov_name(p):
    return PROV[p].replace("省", "").replace("市", "").replace("壮族自治区", "").replace("自治区", "")


JOBS = []
with open(SHARED / "jobs-51job/jobs_51job_2500_diverse.csv", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        JOBS.append(r)

FAMILY_RE = [
    ("k_ecom", r"亚马逊|电商|运营|拼多多|淘宝|天猫|速卖通|[Ss]hopee|直播"),
    ("k_cs", r"客服|呼叫|售后"),
    ("k_design", r"美工|设计"),
    ("k_admin", r"人事|HR|招聘|行政|前台|文员"),
    ("k_dev", r"开发|Java|java|前端|测试|算法"),
    ("k_sales", r"销售|业务员|客户经理|渠道|拓展"),
    ("k_logi", r"采购|物流|仓库|仓储|跟单|供应链"),
]


def job_family(name):
    for k, p in FAMILY_RE:
        if re.search(p, name):
            return k
    return None


# ------------------------------------------------------------------ USCC (GB 32100-2015)
ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W18 = [pow(3, i, 31) for i in range(17)]
W11714 = [3, 7, 9, 10, 5, 8, 4, 2]


def uscc_check(s17):
    return ALPHA[(31 - sum(ALPHA.index(c) * w for c, w in zip(s17, W18, strict=False)) % 31) % 31]


def orgcode(rng):
    body = (
        "MA" + "".join(rng.choice(ALPHA) for _ in range(6))
        if rng.random() < 0.7
        else "".join(rng.choice("0123456789") for _ in range(8))
    )
    v = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, W11714, strict=False))
    c = 11 - v % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def make_uscc(rng, area):
    s17 = "91" + area + orgcode(rng)
    return s17 + uscc_check(s17)


# ------------------------------------------------------------------ text debris
FW = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
FW[" "] = "\u3000"


def to_trad(s):
    for k, v in PHRASES.items():
        s = s.replace(k, v)
    m = dict(zip(S2T[0::2], S2T[1::2], strict=False))
    return "".join(m.get(ch, ch) for ch in s)


def pinyin_debris(s, rng):
    # seed 004: converted characters followed by their pinyin in brackets
    out = []
    for ch in s:
        out.append(ch)
        if ch in PINYIN and rng.random() < 0.8:
            out.append("(" + PINYIN[ch] + ")")
    return "".join(out)


def html_debris(s, rng):
    parts = [p for p in re.split(r"(?<=[。；！])", s) if p]
    k = rng.randrange(4)
    if k == 0:
        return "".join("<p>" + p + "</p>" for p in parts)
    if k == 1:
        return '<div class="content"><span style="font-size:14px;">' + "<br/>".join(parts) + "</span></div>"
    if k == 2:
        return "&nbsp;&nbsp;" + s.replace("，", "，&nbsp;", 1) + "<br>"
    return '<p cms-style="font-L">\u3000\u3000' + s + "</p><!-- 正文下iframe -->"


def fullwidth(s):
    return "".join(FW.get(ch, ch) for ch in s)


# ------------------------------------------------------------------ phrase patterns (two styles)
# style A: main set; style B: held-out set (different wording)
PAT = {
    "A": {
        ("物资", "需"): (
            ["求购{p}", "采购{p}{qty}{unit}", "长期求购{p}（{spec}）", "{p}采购需求", "寻{p}供应商", "需要{p}"],
            [
                "我司主营{biz}，{use}需要{p}，规格{spec}，首批{qty}{unit}，预算{budget}，交货地{city}。",
                "本公司系{biz}企业，因生产需要长期采购{p}（{spec}），月用量约{qty}{unit}。要求质量稳定、可开增值税专用发票、{deadline}到货，送货至{city}{district}。",
                "采购{p}{qty}{unit}，用于{use}。价格{budget}，有意者请联系。",
            ],
        ),
        ("物资", "供"): (
            ["供应{p}", "{p}现货供应", "大量供应{p}", "{p}厂家直供", "出售{p}（{spec}）"],
            [
                "本公司专业从事{biz}，主营{p}，{spec}，产能{cap}，质量稳定，可提供检测报告，{area}。价格：{price}。",
                "现货供应{p}，规格{spec}，适用于{use}，{area}，量大从优。",
                "{p}，{spec}。{price}，可签长期供货合同，{area}。",
            ],
        ),
        ("服务", "需"): (
            ["寻{p}", "需要{p}", "{p}需求", "找一家做{p}的公司", "求{p}（{city}）"],
            [
                "我司位于{city}{district}，{use}需要{p}，要求{spec}，规模约{qty}{unit}，预算{budget}。",
                "{biz}企业，现需{p}，{spec}，地点{city}，请有经验的服务商联系。",
                "因{use}，公司需要{p}服务，{qty}{unit}，{deadline}开始。",
            ],
        ),
        ("服务", "供"): (
            ["提供{p}", "{p}", "专业{p}服务", "承接{p}"],
            [
                "本公司提供{p}，{spec}，{area}。已服务{k}家企业，收费：{price}。",
                "{p}：团队专业，响应快，{area}，价格{price}。",
                "我们是{city}的{biz}机构，主营{p}，{spec}，{area}。",
            ],
        ),
        ("技术", "需"): (
            ["寻求{p}合作", "求{p}技术", "{p}技术需求", "征集{p}解决方案"],
            [
                "企业主营{biz}，目前{use}遇到瓶颈，希望引进{p}，可采用技术转让、许可或联合研发方式，预算{budget}。",
                "需求：{p}。指标要求：{spec}。合作方式：转让/合作开发均可。",
                "我司计划实施{p}项目，寻找有成熟案例的技术团队或高校院所。",
            ],
        ),
        ("技术", "供"): (
            ["{p}", "转让：{p}", "{p}（可许可/合作开发）", "成熟技术推广：{p}"],
            [
                "我单位拥有{p}相关专利{k}项，{spec}，已在多家企业应用，可提供技术转让、许可或联合开发。{price}。",
                "{p}：技术成熟，{spec}，提供工艺包、设备选型和现场调试。",
                "面向{use}企业推广{p}，{spec}，欢迎洽谈。",
            ],
        ),
        ("资金", "需"): (
            ["融资需求：{p}{qty}万元", "申请{p}", "求{p}，{qty}万", "寻{p}渠道"],
            [
                "我司为{sector}企业，成立{yrs}年，年营收约{rev}万元，{use}，需要{p}{qty}万元，期限{term}，{spec}。所在地{city}。",
                "{city}{sector}企业，{use}资金缺口{qty}万元，希望对接{p}，可接受利率{budget}。",
                "融资金额：{qty}万元；方式：{p}；用途：{use}；企业所在地：{city}。",
            ],
        ),
        ("资金", "供"): (
            ["{p}", "{p}，最高{max}万元", "{p}产品推介"],
            [
                "面向{sector_txt}中小微企业（{area}），产品：{p}，额度最高{max}万元，{spec}，利率/费率{price}，审批快。",
                "{p}：单户最高{max}万元，{spec}，{area}，{sector_txt}企业优先。",
                "我行/我司推出{p}，额度{max}万元以内，{price}，服务范围{area}。",
            ],
        ),
        ("业务", "需"): (
            ["寻{p}", "{p}合作", "需要{p}", "找{p}"],
            [
                "我司主营{biz}，因{use}需要{p}，{spec}，规模约{qty}{unit}，长期合作。",
                "寻求{p}合作伙伴，要求{spec}，{qty}{unit}起，地点不限。",
                "{city}企业，{use}，需要{p}，欢迎有实力的企业联系。",
            ],
        ),
        ("业务", "供"): (
            ["{p}", "{p}（可洽谈）", "{p}，欢迎合作"],
            [
                "本公司{p}，{spec}，{area}，可签长期合作协议。",
                "{biz}企业，现有富余产能，{p}，{spec}。",
                "{p}：经验丰富，{spec}，{area}。",
            ],
        ),
        ("项目", "需"): (
            ["{p}寻合作方", "寻{p}合作", "{p}项目需求", "需要{p}"],
            [
                "我司位于{city}，{use}，拟实施{p}，{spec}，规模约{qty}{unit}，寻找有资质的合作方。",
                "{p}：{spec}，地点{city}{district}，{deadline}启动。",
                "{biz}企业计划{p}，请有经验的单位联系洽谈。",
            ],
        ),
        ("项目", "供"): (
            ["{p}", "{p}，诚邀合作", "{p}（资质齐全）"],
            [
                "本公司{p}，{spec}，{area}，已完成同类项目{k}个。",
                "{p}：资质齐全，{spec}，{area}。",
                "{p}，{spec}，欢迎考察洽谈。",
            ],
        ),
    },
    "B": {
        ("物资", "需"): (
            ["急需{p}，量大", "诚征{p}供货商", "【采购】{p} 月需{qty}{unit}", "{use}用{p}找货源", "收{p}"],
            [
                "{city}{biz}厂家，因订单增加，{p}缺口约{qty}{unit}，规格要求{spec}，希望找到稳定货源，付款方式可谈。",
                "我们做{use}，{p}原供应商断供，急寻替代供应商。{spec}；数量{qty}{unit}；预算{budget}。",
                "需求：{p}\n规格：{spec}\n数量：{qty}{unit}\n交货：{city}\n预算：{budget}",
            ],
        ),
        ("物资", "供"): (
            ["本厂生产{p}，欢迎洽谈", "{p}，货源充足", "{p}批量供货", "库存{p}优惠处理", "【供应】{p}"],
            [
                "我们是{city}的{biz}企业，{p}自产自销，{spec}，主要客户为{use}企业，支持小批量试用。{area}。",
                "产品：{p}\n规格：{spec}\n产能：{cap}\n价格：{price}\n{area}",
                "厂家清库存：{p}，{spec}，{price}，先到先得，{area}。",
            ],
        ),
        ("服务", "需"): (
            ["求推荐{p}服务商", "{city}地区{p}，求报价", "征集{p}合作方"],
            [
                "{use}，本企业（{biz}）拟采购{p}，{spec}，约{qty}{unit}，欢迎报价。",
                "地点：{city}{district}\n内容：{p}\n要求：{spec}\n预算：{budget}",
            ],
        ),
        ("服务", "供"): (
            ["{p}，经验丰富", "{city}{p}", "{p}——{area}"],
            ["{biz}专业团队，提供{p}。{spec}。{area}。报价{price}。", "服务内容：{p}\n特点：{spec}\n范围：{area}"],
        ),
        ("技术", "需"): (
            ["我厂想上{p}，找技术方", "难题求解：{p}", "技术攻关需求：{p}"],
            [
                "{biz}企业，{use}方面需要{p}，希望与高校或科技企业合作，{spec}，经费{budget}。",
                "技术需求：{p}\n目标：{spec}\n合作方式：不限",
            ],
        ),
        ("技术", "供"): (
            ["科技成果转化：{p}", "{p}技术输出", "可转让：{p}"],
            [
                "研发团队深耕{p}多年，{spec}，已获授权专利{k}项，可成果转化或共建产线。",
                "成果名称：{p}\n技术特点：{spec}\n合作方式：转让/许可/入股",
            ],
        ),
        ("资金", "需"): (
            ["企业{use}，需{p}约{qty}万元", "{p}{qty}万元，求对接银行/机构", "求助：{p}"],
            [
                "本企业属{sector}行业，{city}注册，{use}，拟申请{p}{qty}万元，{spec}。",
                "金额：{qty}万元\n方式：{p}\n用途：{use}\n地区：{city}",
            ],
        ),
        ("资金", "供"): (
            ["金融纾困产品：{p}", "{p}（最高{max}万元）", "{p}，放款快"],
            [
                "{p}，服务{area}{sector_txt}企业，最高{max}万元，{spec}，{price}。",
                "产品：{p}\n额度：{max}万元以内\n范围：{area}\n对象：{sector_txt}企业",
            ],
        ),
        ("业务", "需"): (
            ["诚寻{p}", "{p}，长期合作", "征集{p}伙伴"],
            ["{city}{biz}企业，拟寻{p}，{spec}，{qty}{unit}起。", "合作内容：{p}\n要求：{spec}\n规模：{qty}{unit}"],
        ),
        ("业务", "供"): (
            ["{p}，产能充足", "{p}（可合作）", "开放合作：{p}"],
            ["{biz}企业：{p}，{spec}，{area}。", "内容：{p}\n优势：{spec}\n范围：{area}"],
        ),
        ("项目", "需"): (
            ["拟建{p}，寻合作", "{p}：诚邀合作伙伴", "招募{p}合作单位"],
            [
                "{city}{biz}企业拟推进{p}，{spec}，约{qty}{unit}，期望{deadline}启动。",
                "项目：{p}\n地点：{city}\n规模：{qty}{unit}\n要求：{spec}",
            ],
        ),
        ("项目", "供"): (
            ["{p}——合作共赢", "专业{p}", "{p}（{area}）"],
            ["{biz}单位：{p}，{spec}，{area}，案例{k}个。", "项目/服务：{p}\n特点：{spec}\n范围：{area}"],
        ),
    },
}
TALENT_PAT = {
    "A": dict(
        need_t=["招聘{job}{n}名", "{job}（{n}人）", "急招{job}", "{job}岗位招聘"],
        need_d=[
            "我司位于{city}{district}，因业务扩张招聘{job}{n}名，要求{exp}，学历{edu}，薪资{salary}，福利：{welf}。",
            "岗位：{job}；人数：{n}；地点：{city}{district}；经验：{exp}；薪资：{salary}。",
            "{biz}企业招{job}，{n}人，{exp}，{salary}。",
        ],
        agency_t=["{city}{fam}人才推荐", "提供{p}", "{p}招聘外包（{city}）", "{fam}岗位人才输送"],
        agency_d=[
            "我们是{city}本地人力资源服务机构，人才库储备{p}{k}00余人，可为企业快速推荐{fam}岗位人选，{area}，按成功入职收费。",
            "专注{fam}类岗位招聘外包与猎头，{area}，3-7天出简历。",
        ],
        train_t=["{fam}实战培训班学员定向输送", "{p}培训及就业推荐", "{fam}订单班合作"],
        train_d=["我校开设{fam}实战课程，每期结业学员{k}0人，可与企业签订订单式培养，定向输送{p}，{area}。"],
        share_t=["共享员工：{fam}人员{k}名", "富余{p}可共享用工", "{fam}团队淡季外借"],
        share_d=["受订单影响，我司（{biz}）{fam}岗位富余员工{k}名，均有{exp2}经验，可按共享员工方式短期借调，{area}。"],
        dispatch_t=["{prov}劳务派遣：{p}", "劳务派遣/灵活用工（{fam}）"],
        dispatch_d=["持有劳务派遣经营许可证，可为{area}企业提供{p}派遣及灵活用工。"],
    ),
    "B": dict(
        need_t=["[招聘] {job}", "诚聘{job}，{n}人", "{city}{job}招人", "人才需求：{job}"],
        need_d=[
            "岗位需求\n职位：{job}\n人数：{n}\n地点：{city}{district}\n学历：{edu}\n经验：{exp}\n薪资：{salary}",
            "公司发展需要，诚聘{job}若干（计划{n}人），{exp}，待遇{salary}，工作地{city}。",
        ],
        agency_t=["{fam}岗位猎头/RPO服务", "人才供给：{p}", "{city}招聘服务（{fam}方向）"],
        agency_d=["人力资源公司，可提供{p}批量招聘、背调与入职管理，服务{area}。"],
        train_t=["职业技能学校：{fam}专业毕业生推荐", "{fam}学员就业输送"],
        train_d=["职业培训学校{fam}方向学员结业，{k}0余人可推荐就业，{area}。"],
        share_t=["员工共享：闲置{fam}人员", "{p}可借调（共享用工）"],
        share_d=["{biz}企业，{fam}员工{k}名阶段性空闲，愿以共享用工形式支援兄弟企业，{area}。"],
        dispatch_t=["灵活用工：{p}", "{fam}劳务外包"],
        dispatch_d=["灵活用工平台，覆盖{area}，提供{p}外包与派遣。"],
    ),
}

BRAND = (
    "华恒盛鑫泰瑞达宏远嘉润丰源信和兴博腾安正德永金新创汇联东海天中辰宇"
    "星光明诚佳顺通凯立森晟昊峰启越昌隆茂锦益富康泽晨曦力航"
)
SUFFIX = ["有限公司", "有限公司", "股份有限公司", "有限责任公司"]
DEADLINES = ["本月底前", "两周内", "下月初", "年前", "30天内"]


class Builder:
    def __init__(self, seed, style, prefix, used_names):
        self.rng = random.Random(seed)
        self.style = style
        self.prefix = prefix
        self.used = used_names
        self.ents = []
        self.needs = []
        self.offers = []
        self.clusters = []

    # ---------------------------------------------------------- enterprises
    def ent(self, city, ind, word, kind="有限公司", trad=False):
        rng = self.rng
        c = CITY[city]
        if rng.random() < 0.12:  # some members post several listings
            same = [e for e in self.ents if e["city"] == city and e["ind"] == ind and e["cluster"] != self.cur_key()]
            if same:
                return rng.choice(same)
        for _ in range(200):
            b = rng.choice(BRAND) + rng.choice(BRAND)
            cname = city if rng.random() < 0.8 else prov_name(c["prov"])
            name = f"{cname}{b}{word}{kind if kind != '有限公司' else rng.choice(SUFFIX)}"
            if name not in self.used:
                break
        self.used.add(name)
        area = rng.choice(c["areas"])
        e = dict(
            name=name,
            uscc=make_uscc(rng, area[0]),
            area=area[0],
            district=area[1],
            city=city,
            prov=c["prov"],
            ind=ind,
            trad=trad,
            cluster=self.cur_key(),
        )
        assert ind in IND, ind
        self.ents.append(e)
        return e

    def cur_key(self):
        c = getattr(self, "cur", None)
        return ("none", id(self)) if c is None else c

    def pick(self, xs):
        return self.rng.choice(xs)

    # ---------------------------------------------------------- text helpers
    def names(self, lst):
        # style A draws from the first n-1 variants, style B from the last n-1
        if len(lst) <= 2:
            return lst
        return lst[:-1] if self.style == "A" else lst[1:]

    def fill(self, pattern, ctx):
        out = pattern.format_map(defaultdict(str, ctx))
        for a, b in (
            ("专业专业", "专业"),
            ("服务服务", "服务"),
            ("提供提供", "提供"),
            ("，，", "，"),
            ("（）", ""),
            ("服务范围服务", "服务范围："),
            ("服务范围覆盖", "服务范围：覆盖"),
            ("技术技术", "技术"),
            ("服务仅对接", "仅对接"),
            ("服务限", "限"),
            ("需求需求", "需求"),
        ):
            out = out.replace(a, b)
        return out

    def debris(self, title, desc, ent):
        rng = self.rng
        flags = []
        if ent["trad"] or rng.random() < 0.03:
            title, desc = to_trad(title), to_trad(desc)
            flags.append("traditional")
            if rng.random() < 0.25:
                desc = pinyin_debris(desc, rng)
                flags.append("pinyin")
        r = rng.random()
        if r < 0.10:
            desc = html_debris(desc, rng)
            flags.append("html")
        elif r < 0.16:
            desc = fullwidth(desc)
            title = fullwidth(title) if rng.random() < 0.5 else title
            flags.append("fullwidth")
        if rng.random() < 0.05:
            title = "【" + ("急" if rng.random() < 0.5 else "资源信息") + "】" + title
        if rng.random() < 0.15:  # long-winded company intro
            desc = (
                f"{ent['name']}成立于{rng.randint(1998, 2021)}年，位于{ent['city']}{ent['district']}，"
                f"是一家从事{IND[ent['ind']]}的企业。" + desc
            )
        return title, desc, flags

    def valid_until(self):
        return f"{self.rng.randint(2027, 2028)}-{self.rng.randint(2, 12):02d}-{self.rng.randint(1, 28):02d}"

    def add(self, direction, cat, ent, title, desc, qty, unit, price, hidden):
        title, desc, flags = self.debris(title, desc, ent)
        ent["n"] = ent.get("n", 0) + 1
        row = {
            "统一社会信用代码": ent["uscc"],
            "企业名称": ent["name"],
            "供需": direction,
            "类别": cat,
            "标题": title,
            "描述": desc,
            "行业代码": ent["ind"],
            "行政区划代码": ent["area"],
            "数量": qty,
            "单位": unit,
            "价格或预算": price,
            "有效期至": self.valid_until(),
            "外部编号": None,
        }
        item = dict(row=row, ent=ent, flags=flags, for_cluster=getattr(self, "cur", None), **hidden)
        (self.needs if direction == "需" else self.offers).append(item)
        return item

    # ---------------------------------------------------------- generic listing makers
    def ctx(self, t, ent, side):
        rng = self.rng
        lo, hi = t["qty"]
        qty = rng.randint(lo, hi)
        if hi >= 1000:
            qty = round(qty, -2)
        elif hi >= 100:
            qty = round(qty, -1)
        return dict(
            p=self.pick(self.names(t["n"] if side == "需" else t["o"])),
            spec=self.pick(t["spec"]),
            use=self.pick(t["use"]),
            qty=qty,
            unit=t["unit"],
            city=ent["city"],
            district=ent["district"],
            prov=PROV[ent["prov"]],
            biz=IND[ent["ind"]],
            budget=self.pick(t["budget"]),
            price=self.pick(t["price"]),
            deadline=self.pick(DEADLINES),
            k=rng.randint(2, 60),
            cap=f"{max(1, round(rng.uniform(0.5, 3) * hi, -1 if hi >= 100 else 0)):g}{t['unit']}/月",
        )

    def area_text(self, t, ent, scope):
        if scope == "city":
            return self.pick([f"仅限{ent['city']}市内", f"服务范围：{ent['city']}本地", f"限{ent['city']}及周边区县"])
        if scope == "prov":
            pv, sub = PROV[ent["prov"]], ("各区" if ent["city"] in MUNI else "各地市")
            if t["cat"] == "物资":
                return self.pick([f"{pv}内可送达", f"限{pv}内配送", f"覆盖{prov_name(ent['prov'])}{sub}"])
            return self.pick([f"服务{pv}全境", f"限{pv}内企业", f"覆盖{prov_name(ent['prov'])}{sub}"])
        if t["cat"] == "物资":
            return self.pick(["全国发货", "物流直达全国", "可送货到厂", "全国可发"])
        return self.pick(["全国可服务", "不限地区", "全国范围", "支持线上办理、不限地区"])

    def scope_of(self, t):
        return {"city": "city", "city_soft": "city", "prov": "prov"}.get(t["local"], "nation")

    def area_set(self, ent, scope):
        if scope == "city":
            return dict(cities={ent["city"]}, provs={ent["prov"]})
        if scope == "prov":
            return dict(cities=None, provs={ent["prov"]})
        return None

    def make_need(self, t, city, cluster, **extra):
        rng = self.rng
        code, word = self.pick(t["bw"]) if t["bw"] else (None, None)
        sector = extra.get("sector")
        if t["cat"] == "资金":
            code, word = self.pick(SECTOR_IND[sector])
        ent = self.ent(city, code, word, trad=rng.random() < 0.06 and CITY[city]["prov"] in ("44", "35", "31"))
        c = self.ctx(t, ent, "需")
        if "qty" in extra:
            c["qty"] = extra["qty"]
        if t["cat"] == "资金":
            c.update(
                sector=sector,
                yrs=rng.randint(2, 20),
                rev=rng.randint(3, 200) * 100,
                term=self.pick(["1年", "6个月", "2年", "3年"]),
            )
        tp, dp = PAT[self.style][(t["cat"], "需")]
        title = self.fill(self.pick(tp), c)
        desc = self.fill(self.pick(dp), c)
        if t["key"] == "e_mask_surgical" and rng.random() < 0.6:
            desc += "须为医用级，提供医疗器械注册证。"
        return self.add(
            "需",
            t["cat"],
            ent,
            title,
            desc,
            c["qty"],
            t["unit"],
            c["budget"],
            dict(
                topic=t["key"],
                city=city,
                prov=CITY[city]["prov"],
                qty=c["qty"],
                cluster=cluster,
                sector=sector,
                amount=c["qty"] if t["cat"] == "资金" else None,
            ),
        )

    def make_offer(
        self,
        t,
        city,
        covers=None,
        scope=None,
        p=None,
        title=None,
        desc=None,
        cat=None,
        ent=None,
        max_amount=None,
        sectors=None,
        capacity=None,
        kind="std",
        mention=None,
        ind=None,
    ):
        rng = self.rng
        scope = scope or self.scope_of(t)
        if ent is None:
            code, word = ind or self.pick(t["sw"])
            ent = self.ent(city, code, word, trad=rng.random() < 0.06 and CITY[city]["prov"] in ("44", "35", "31"))
        c = self.ctx(t, ent, "供")
        if p:
            c["p"] = p
        c["area"] = self.area_text(t, ent, scope)
        if max_amount:
            c["max"] = max_amount
        c["sector_txt"] = "、".join(sorted(sectors)) if sectors else "各行业"
        if capacity:
            c["spec"] = f"日供餐能力{capacity}份，" + c["spec"]
        cat = cat or t["cat"]
        tp, dp = PAT[self.style][(cat, "供")]
        title = title or self.fill(self.pick(tp), c)
        desc = desc or self.fill(self.pick(dp), c)
        if mention:
            desc = desc + mention
        if covers is None:
            covers = {t["key"]: 2}
            for k, tt in T.items():
                if t["key"] in tt["subs"]:
                    covers[k] = tt["subs"][t["key"]]
        qty = capacity or (max_amount if max_amount else c["qty"])
        unit = "万元" if max_amount else t["unit"]
        if cat != t["cat"]:
            qty, unit = {
                "资金": (self.pick([200, 300, 500, 1000]), "万元"),
                "物资": (self.pick([10, 50, 100]), "批"),
                "技术": (1, "项"),
                "服务": (1, "项"),
            }.get(cat, (1, "项"))
            c["price"] = self.pick(["面议", "电议", "欢迎询价"])
        return self.add(
            "供",
            cat,
            ent,
            title,
            desc,
            qty,
            unit,
            c["price"],
            dict(
                topic=t["key"],
                covers=covers,
                area=self.area_set(ent, scope),
                max_amount=max_amount,
                sectors=sectors,
                capacity=capacity,
                kind=kind,
            ),
        )


SECTOR_IND = {
    "智能制造": [("3484", "精密机械"), ("3491", "机器人")],
    "软件信息": [("6513", "软件"), ("6531", "信息")],
    "餐饮连锁": [("6210", "餐饮"), ("6220", "快餐")],
    "服装纺织": [("1819", "服饰"), ("1713", "纺织")],
    "物流运输": [("5431", "物流"), ("5920", "仓储")],
    "新材料": [("2651", "新材料"), ("3073", "特种陶瓷")],
    "生物医药": [("2761", "生物"), ("2720", "药业")],
    "农业": [("0141", "农业"), ("0164", "茶业")],
}

FAMILY_IND = {
    "k_ecom": [("5292", "电子商务"), ("5193", "网络科技")],
    "k_sales": [("5179", "科技"), ("6513", "软件"), ("7030", "置业")],
    "k_cs": [("6591", "信息服务"), ("5292", "电商")],
    "k_admin": [("7212", "投资管理"), ("7224", "供应链")],
    "k_dev": [("6513", "软件"), ("6531", "信息技术")],
    "k_logi": [("7224", "供应链"), ("5431", "物流")],
    "k_design": [("5292", "电商"), ("7492", "设计")],
}
SHARE_IND = {
    "k_ecom": ("5292", "电商"),
    "k_sales": ("7030", "房产经纪"),
    "k_cs": ("6591", "呼叫中心"),
    "k_admin": ("6110", "酒店"),
    "k_dev": ("6513", "软件"),
    "k_logi": ("5431", "物流"),
    "k_design": ("7259", "广告"),
}
TALENT_WRONGCAT = {
    "k_ecom": "电商ERP运营管理系统",
    "k_sales": "销售管理CRM系统",
    "k_cs": "智能客服机器人系统",
    "k_admin": "人事行政OA系统",
    "k_dev": "低代码开发平台",
    "k_logi": "仓储WMS系统",
    "k_design": "AI作图设计软件",
}

# wrong-category offers: topic -> (category, title, description, covered topic or None, industry)
WRONGCAT = {
    "s_catering": (
        "物资",
        "供应一次性餐盒（配餐专用）",
        "可降解一次性餐盒、配餐打包盒，适合团餐配送企业，全国发货。",
        None,
        ("2927", "塑料制品"),
    ),
    "s_disinfect": (
        "物资",
        "消杀用84消毒液批发",
        "含氯消毒液，消杀公司、物业常用，25kg桶装，全国发货。",
        "e_chlorine",
        ("2689", "日化"),
    ),
    "s_legal_labour": (
        "技术",
        "劳动用工合规管理SaaS",
        "员工手册、劳动合同电子化管理系统，自动提示用工风险。",
        None,
        ("6513", "软件"),
    ),
    "s_legal_contract": (
        "技术",
        "合同全生命周期管理系统",
        "合同起草、审批、履约提醒一体化软件。",
        None,
        ("6513", "软件"),
    ),
    "s_legal_ip": ("技术", "商标专利检索软件", "知识产权检索分析工具，年费制。", None, ("6513", "软件")),
    "s_cold_chain": (
        "物资",
        "出售二手冷藏车（4.2米）",
        "冷藏车转让，冷机正常，适合冷链运输创业。",
        None,
        ("5172", "汽车贸易"),
    ),
    "s_hazmat": ("物资", "危化品运输罐车出售", "不锈钢罐式危险品运输车，手续齐全。", None, ("3630", "专用车")),
    "s_crossborder": (
        "资金",
        "跨境电商信用贷",
        "面向跨境电商卖家的信用贷款，凭店铺流水申请，最高200万元。",
        None,
        ("6621", "银行"),
    ),
    "s_warehouse": (
        "物资",
        "仓储货架及电动叉车供应",
        "重型货架、电动叉车，仓库建设一站式采购。",
        "m_forklift",
        ("3433", "叉车"),
    ),
    "s_cert": ("技术", "口罩BFE细菌过滤效率测试仪", "口罩检测设备，企业自建实验室用。", None, ("4014", "仪器")),
    "s_shuttle": ("物资", "二手大巴车出售（45座）", "旅游大巴转让，车况良好。", None, ("5172", "汽车贸易")),
    "s_it_ops": ("物资", "服务器、交换机供应", "品牌服务器、网络设备批发。", None, ("5176", "电脑")),
    "s_tax": ("技术", "财务软件（记账报税一体化）", "适合小微企业的云财务软件，自助记账报税。", None, ("6513", "软件")),
    "s_livestream": ("物资", "直播设备套装（补光灯+声卡）", "直播带货全套设备，批发价。", None, ("3952", "音响")),
    "t_meltblown": ("物资", None, None, "e_meltblown", None),
    "t_vision": ("物资", "工业相机、镜头供应", "工业面阵相机、远心镜头，现货。", None, ("4040", "光学")),
    "t_mes": ("物资", "工控机、工业平板供应", "工业控制计算机、触摸屏批发。", None, ("3914", "工控")),
    "t_wastewater": (
        "物资",
        "污水处理药剂（PAC/PAM）供应",
        "聚合氯化铝、聚丙烯酰胺，水处理药剂。",
        None,
        ("2666", "水处理剂"),
    ),
    "t_battery_recycle": (
        "物资",
        "出售退役锂电池包",
        "退役动力电池包，可用于梯次利用，按吨出售。",
        None,
        ("5191", "再生资源"),
    ),
    "t_antibac": ("物资", "抗菌面料成品供应", "抗菌防螨面料，现货供应。", None, ("1751", "纺织")),
    "t_trace": ("物资", "防伪标签、二维码标签印刷", "防伪溯源标签印刷，起订量低。", None, ("2319", "印刷")),
    "t_tyre_pyro": (
        "物资",
        "出售热裂解炭黑、裂解油",
        "废轮胎热裂解产出的炭黑和燃料油，长期供应。",
        None,
        ("2914", "再生胶"),
    ),
    "t_preclinical": ("物资", "实验动物及实验试剂供应", "SPF级实验鼠、常用生化试剂。", None, ("5151", "医药")),
    "t_energy": ("物资", "永磁变频空压机出售", "节能空压机整机销售。", None, ("3442", "压缩机")),
    "b_oem_garment": ("物资", "服装面料批发", "针织、梭织面料现货批发。", None, ("5131", "纺织")),
    "b_oem_food": ("物资", "食品包装袋定制", "食品级复合包装袋定制印刷。", None, ("2921", "包装")),
    "b_cnc": ("物资", "二手数控机床出售", "二手CNC加工中心转让，可试机。", None, ("5179", "机械")),
    "b_dealer_ev": ("物资", None, None, "m_cell", None),
    "b_inland_sales": ("服务", "外贸转内销法律风险咨询", "内销合同、商标与产品合规咨询。", None, ("7231", "律所")),
    "p_rooftop_pv": ("物资", None, None, "m_pv_module", None),
    "p_cold_storage": ("服务", None, None, "s_cold_chain", None),
    "p_plant": ("资金", "厂房按揭贷款", "购置工业厂房按揭贷款，最高贷款七成。", None, ("6621", "银行")),
    "p_subcontract": ("物资", None, None, "m_rebar", None),
    "p_rural": ("资金", "乡村振兴专项贷款", "支持农业和乡村产业的专项贷款。", None, ("6623", "信用社")),
}
for _k in ["c_loan", "c_guarantee", "c_leasing", "c_scf", "c_ippledge", "c_equity", "c_export"]:
    WRONGCAT[_k] = (
        "服务",
        "融资咨询与贷款代办服务",
        "协助企业准备贷款材料、对接银行，按成功收费。",
        None,
        ("7243", "咨询"),
    )

MULTI = [  # trader-style offers covering several topics
    (
        ["m_br", "m_sbr", "m_nbr"],
        2,
        "物资",
        "合成橡胶（顺丁/丁苯/丁腈）现货",
        "化工贸易公司，常备BR9000、SBR1502、NBR3305等合成橡胶，全国发货。",
        ("5169", "化工贸易"),
    ),
    (
        ["m_tyre_semi", "m_tyre_allsteel"],
        2,
        "物资",
        "轮胎批发（乘用车胎、卡车胎）",
        "多品牌半钢胎、全钢胎批发，规格齐全，全国发货。",
        ("5172", "轮胎贸易"),
    ),
    (
        ["e_mask_surgical", "e_mask_kn95"],
        2,
        "物资",
        "防疫口罩批发（外科/KN95）",
        "医疗器械经营企业，医用外科口罩与KN95现货，资质齐全，全国发货。",
        ("5154", "医疗器械"),
    ),
    (
        ["e_chlorine", "e_alcohol"],
        2,
        "物资",
        "消毒用品批发（含氯/酒精）",
        "84消毒液、75%酒精消毒液批发，现货，全国配送。",
        ("5134", "卫生用品"),
    ),
    (
        ["s_legal_labour", "s_legal_contract", "s_legal_ip"],
        1,
        "服务",
        "常年法律顾问（综合律所）",
        "综合性律师事务所，提供常年法律顾问服务，全国线上服务。",
        ("7231", "律师"),
    ),
]
GROUPS = [
    ["m_br", "m_sbr", "m_nbr"],
    ["m_tyre_semi", "m_tyre_allsteel", "m_tyre_bias", "m_tyre_otr"],
    ["e_mask_surgical", "e_mask_kn95", "e_mask_civil", "e_maskline", "e_meltblown"],
    ["e_gown", "e_isogown"],
    ["e_chlorine", "e_alcohol"],
    ["s_legal_labour", "s_legal_contract", "s_legal_ip"],
    ["s_cold_chain", "s_hazmat", "s_crossborder", "s_warehouse"],
    ["b_oem_garment", "b_oem_food"],
    ["c_loan", "c_guarantee", "c_leasing", "c_scf", "c_ippledge", "c_equity", "c_export"],
    ["t_vision", "t_mes"],
    ["t_battery_recycle", "t_tyre_pyro"],
    ["p_rooftop_pv", "m_pv_module"],
]
SIBLINGS = {k: set(g) - {k} for g in GROUPS for k in g}

ORPHANS = [
    ("物资", "办公家具批发（工位、会议桌）", "办公桌椅、文件柜工厂直销。", ("2110", "家具")),
    ("服务", "会议场地出租（200人报告厅）", "酒店会议室出租，含投影音响。", ("6110", "酒店")),
    ("服务", "宣传册、画册设计印刷", "企业画册、海报设计印刷一条龙。", ("2319", "印刷")),
    ("物资", "茶叶礼盒定制", "高端茶叶礼盒，企业定制LOGO。", ("5127", "茶叶")),
    ("服务", "企业团建拓展活动", "户外拓展、团队建设策划。", ("9030", "文旅")),
    ("服务", "商务翻译（英日韩）", "合同、标书翻译及陪同口译。", ("7294", "翻译")),
    ("技术", "企业官网建设与小程序开发", "官网、小程序定制开发，一年免费维护。", ("6513", "网络")),
    ("物资", "LED照明灯具批发", "工矿灯、面板灯工厂直供。", ("3872", "照明")),
    ("服务", "商标注册代理", "商标查询、注册、续展代理。", ("7520", "知识产权")),
    ("服务", "展会搭建与会展服务", "展台设计搭建、展会策划执行。", ("7281", "会展")),
    ("物资", "工业润滑油供应", "液压油、齿轮油、导轨油批发。", ("5162", "润滑油")),
    ("服务", "安保服务（驻场保安）", "持证保安驻场，门岗巡逻。", ("7271", "保安")),
    ("服务", "绿化养护服务", "厂区、园区绿化养护外包。", ("7840", "园林")),
    ("物资", "劳保用品（工作服、安全鞋）", "劳保工作服、安全鞋、安全帽批发。", ("1819", "劳保")),
    ("技术", "ERP系统实施", "中小企业ERP选型与实施服务。", ("6531", "信息")),
    ("物资", "纯净水桶装水配送", "办公室桶装水、饮水机配送。", ("1529", "饮品")),
    ("项目", "商业综合体招商（铺位出租）", "购物中心铺位招商，餐饮零售均可。", ("7222", "商业管理")),
    ("资金", "个人消费贷", "个人消费信用贷款，最高30万元。", ("6636", "消费金融")),
    ("人才", "家政服务员培训输送", "育婴员、养老护理员培训及家政服务。", ("8010", "家政")),
    ("业务", "广告位招商（户外大屏）", "商圈户外LED大屏广告位出租。", ("7259", "广告")),
]


# ------------------------------------------------------------------ Product.csv leaves as distractors
SERVICE_ROOTS = (
    "商业服务",
    "保险",
    "航空货运与物流",
    "交通基本设施",
    "消费信贷",
    "建筑与工程",
    "调查和咨询服务",
    "公路与铁路运输",
    "特殊消费者服务",
    "信息技术服务",
    "互联网软件与服务",
    "综合金融服务",
    "机动车贸易",
    "工业设备和产品贸易",
    "化工商品贸易",
    "生活消费品贸易",
    "独立电力生产商与能源贸易商",
    "复合型公用事业",
    "赌场与赌博",
    "消闲设施",
    "房地产开发与经营",
)
ROOT_IND = {
    "商品化工": ("2669", "化工"),
    "特种化学制品": ("2661", "精细化工"),
    "农产品": ("5119", "农产品"),
    "建筑、农用机械与重型卡车": ("3514", "机械"),
    "汽车": ("3670", "汽车配件"),
    "机动车零配件与设备": ("3670", "汽车配件"),
    "轮胎与橡胶": ("2913", "橡胶"),
    "石油与天然气": ("5162", "石化"),
    "医疗保健用品": ("2770", "卫材"),
    "医疗保健设备": ("3589", "医疗器械"),
    "服饰、鞋类与奢侈品": ("1954", "鞋业"),
    "电子制造": ("3985", "电子材料"),
    "工业机械": ("3599", "装备"),
    "建筑材料": ("3039", "建材"),
    "个人用品": ("2689", "日化"),
    "消闲用品": ("3761", "车业"),
    "纺织品": ("1731", "麻纺"),
    "居家用品": ("2689", "日用品"),
    "煤与消费用燃料": ("2511", "能源"),
    "化肥与农用药剂": ("2624", "肥业"),
    "工业气体": ("2619", "气体"),
    "家用电器": ("3859", "电器"),
    "多种化学制品": ("2669", "化工"),
    "制药": ("2720", "药业"),
    "容器与包装": ("2231", "包装"),
}
SERVICE_IND = {
    "保险": ("6820", "保险"),
    "航空货运与物流": ("5821", "物流"),
    "交通基本设施": ("5532", "港务"),
    "消费信贷": ("7119", "租赁"),
    "建筑与工程": ("4999", "建设工程"),
    "调查和咨询服务": ("7243", "咨询"),
    "公路与铁路运输": ("5431", "运输"),
    "商业服务": ("7299", "商务服务"),
    "机动车贸易": ("5261", "汽车销售"),
    "工业设备和产品贸易": ("5179", "设备贸易"),
    "化工商品贸易": ("5169", "化工贸易"),
    "信息技术服务": ("6560", "信息技术"),
    "互联网软件与服务": ("6431", "互联网"),
    "综合金融服务": ("6634", "汽车金融"),
}
AVOID = (
    "轮胎",
    "租赁",
    "冷链",
    "仓储",
    "危化品",
    "口罩",
    "消毒",
    "融资",
    "物流",
    "运输",
    "手套",
    "密封条",
    "输送带",
    "收割机",
    "环卫",
    "柴油",
    "叉车",
    "工业车辆",
    "光伏",
    "电池",
    "成品油",
    "石油炼制",
    "油气零售",
    "加油站",
    "蔬菜",
    "果蔬",
    "农业机械",
    "农机",
    "橡胶带",
    "密封",
    "贸易",
    "零配件",
    "经销商",
)


def product_leaves():
    leaves = {}
    with open(SHARED / "kag-supplychain/Product.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            for path in [r["id"], *r["hasSupplyChain"].split(",")]:
                segs = path.split("-")
                leaf = segs[-1].strip()
                if len(segs) < 2 or len(leaf) < 2 or leaf.startswith("其他") or any(a in leaf for a in AVOID):
                    continue
                names = [re.sub(r"[（(].*?[）)]", "", x) for t in T.values() for x in t["n"] + t["o"]]
                if any(leaf in x or x in leaf for x in names):
                    continue
                leaves[leaf] = segs[0]
    return sorted(leaves.items())


LEAVES = product_leaves()


def relevance(need, off):
    if need["ent"] is off["ent"]:
        return 0  # an enterprise is never matched with itself
    g = off["covers"].get(need["topic"], 0)
    if not g:
        return 0
    t = T[need["topic"]]
    area = off["area"]
    if t["local"] and area is not None:
        in_city = area["cities"] is not None and need["city"] in area["cities"]
        in_prov = need["prov"] in area["provs"]
        if t["local"] == "city" and not in_city:
            return 0
        if t["local"] == "prov" and not in_prov:
            return 0
        if t["local"] == "city_soft" and not in_city:
            if not in_prov:
                return 0
            g = min(g, 1)
    if off.get("sectors") is not None and need.get("sector") not in off["sectors"]:
        return 0
    lim = off.get("max_amount") or off.get("capacity")
    if lim and need["qty"] > lim:
        if need["qty"] > 2 * lim:
            return 0
        g = min(g, 1)
    return g


class Run(Builder):
    """Cluster planning: every cluster = one topic at one place, 1-4 needs, its fitting offers and decoys."""

    def other_city(self, city, same_prov=False):
        p = CITY[city]["prov"]
        cands = [c for c in CITIES if c != city and ((CITY[c]["prov"] == p) == same_prov)]
        return self.pick(cands) if cands else None

    def cluster(self, t, city, n_needs, n_offers, far=1, **kw):
        rng = self.rng
        cid = len(self.clusters)
        self.cur = cid
        self.clusters.append(dict(id=cid, topic=t["key"], city=city))
        needs = []
        for _ in range(n_needs):
            extra = {}
            if t["cat"] == "资金":
                extra["sector"] = kw.get("sector") or self.pick(kw.get("sectors", CAPITAL_SECTORS))
                extra["qty"] = self.pick([50, 100, 200, 300, 500, 800, 1000, 1500, 2000])
                if t["key"] == "c_equity":
                    extra["qty"] = self.pick([500, 1000, 2000, 3000, 5000])
            if t["key"] == "s_catering":
                extra["qty"] = rng.randint(8, 60) * 10
            ncity = city
            if t["local"] == "prov" and rng.random() < 0.5:
                ncity = self.other_city(city, same_prov=True) or city
            needs.append(self.make_need(t, ncity, cid, **extra))
        max_need = max(n["qty"] for n in needs)
        scope = self.scope_of(t)
        for i in range(n_offers):
            ocity = city
            if t["local"] is None:
                ocity = self.pick(CITIES)
            elif t["local"] == "prov" and rng.random() < 0.5:
                ocity = self.other_city(city, same_prov=True) or city
            kws = {}
            if t["cat"] == "资金":
                kws["max_amount"] = (
                    self.pick([m for m in (300, 500, 1000, 2000, 3000, 5000) if m >= max_need])
                    if i == 0
                    else self.pick([100, 300, 500, 1000, 2000, 3000])
                )
                kws["sectors"] = kw.get("offer_sectors")
            if t["key"] == "s_catering":
                kws["capacity"] = max_need + rng.randint(1, 10) * 50 if i == 0 else rng.randint(10, 120) * 10
            self.make_offer(t, ocity, scope=scope, **kws)
        # decoys in the wrong place (same topic, far away)
        if t["local"]:
            for _ in range(far):
                fcity = self.other_city(city)
                kws = {}
                if t["cat"] == "资金":
                    kws = dict(max_amount=self.pick([500, 1000, 3000]), sectors=kw.get("offer_sectors"))
                if t["key"] == "s_catering":
                    kws["capacity"] = 2000
                self.make_offer(t, fcity, scope=scope, kind="far", **kws)
        # wrong chain link: up/downstream product that mentions this product
        links = [(u, "down") for u in t["down"]] + [(u, "up") for u in t["up"]]
        if links:
            u, rel = self.pick(links)
            tn = self.pick(t["n"])
            m = f"本产品以优质{tn}为原料。" if rel == "down" else f"专供{tn}生产企业，适用于{tn}制造。"
            self.make_offer(T[u], self.pick(CITIES), kind="chain", mention=m)
        # wrong category
        if t["key"] in WRONGCAT:
            cat, title, desc, cov, ind = WRONGCAT[t["key"]]
            if cov:
                ct = T[cov]
                self.make_offer(ct, city, kind="wrongcat", mention=f"（{self.pick(t['n'])}相关企业可联系）")
            else:
                self.make_offer(
                    t, city, covers={}, cat=cat, title=title, desc=desc, ind=ind, scope="nation", kind="wrongcat"
                )
        elif t["cat"] == "物资":
            pn = self.pick(t["n"])
            if t.get("tech"):
                self.make_offer(T[t["tech"]], self.pick(CITIES), kind="wrongcat", p=f"{pn}生产工艺技术")
            if True:
                self.make_offer(
                    t,
                    self.pick(CITIES),
                    covers={},
                    cat="资金",
                    kind="wrongcat",
                    ind=("6621", "银行"),
                    title=f"{pn}产业链专项贷款",
                    desc=f"面向{pn}生产、经销企业的专项流动资金贷款，支持原料采购与扩产，"
                    f"最高{self.pick([300, 500, 1000])}万元。",
                    sectors={pn + "产业链"},
                    scope="prov",
                )
        return needs

    def talent_cluster(self, fam, city, postings, n_offers=2):
        rng = self.rng
        t = T[fam]
        cid = len(self.clusters)
        self.cur = cid
        self.clusters.append(dict(id=cid, topic=fam, city=city))
        pat = TALENT_PAT[self.style]
        for jp in postings:
            attrs = ast.literal_eval(jp["attribute_text"])
            dist = jp["workarea_text"].split("-")[1] if "-" in jp["workarea_text"] else None
            n = next((int(m.group(1)) for a in attrs if (m := re.match(r"招(\d+)人", a))), None)
            exp = next((a for a in attrs if "经验" in a), "经验不限")
            edu = next(
                (a for a in attrs if a in ("本科", "大专", "中专", "高中", "硕士", "中技", "初中及以下")), "不限"
            )
            code, word = self.pick(FAMILY_IND[fam])
            ent = self.ent(city, code, word, trad=rng.random() < 0.06 and CITY[city]["prov"] in ("44", "35", "31"))
            if dist and not ent.get("n"):  # place a fresh enterprise in the posting's district
                for a in CITY[city]["areas"]:
                    if a[1] == dist:
                        ent["area"], ent["district"] = a
                        ent["uscc"] = make_uscc(rng, a[0])
            job = re.sub(r"\s+", " ", jp["job_name"]).strip()
            c = dict(
                job=job,
                n=n or rng.randint(2, 6),
                city=city,
                district=ent["district"],
                exp=exp,
                edu=edu,
                salary=jp["providesalary_text"] or "面议",
                welf=jp["jobwelf"] or "五险一金",
                biz=IND[ent["ind"]],
            )
            title = self.fill(self.pick(pat["need_t"]), c)
            desc = self.fill(self.pick(pat["need_d"]), c)
            self.add(
                "需",
                "人才",
                ent,
                title,
                desc,
                c["n"],
                "名",
                c["salary"],
                dict(
                    topic=fam,
                    city=city,
                    prov=CITY[city]["prov"],
                    qty=c["n"],
                    cluster=cid,
                    sector=None,
                    amount=None,
                    job=jp["job_name"],
                ),
            )
        kinds = ["agency", self.pick(["train", "share"]), "dispatch"][:n_offers]
        for kind in kinds:
            self.talent_offer(fam, city, kind)
        fc = self.other_city(city)
        self.talent_offer(fam, fc, "agency", tag="far")
        o = self.make_offer(
            t,
            city,
            covers={},
            cat="技术",
            kind="wrongcat",
            ind=("6513", "软件"),
            title=TALENT_WRONGCAT[fam],
            desc=f"面向{t['fam']}团队的{TALENT_WRONGCAT[fam]}，提升{t['fam']}效率，减少人力投入，可免费试用。",
        )
        return o

    def talent_offer(self, fam, city, kind, tag=None):
        t = T[fam]
        pat = TALENT_PAT[self.style]
        rng = self.rng
        ind = {
            "agency": ("7262", "人力资源"),
            "train": ("8391", "职业培训"),
            "dispatch": ("7263", "劳务派遣"),
            "share": SHARE_IND[fam],
        }[kind]
        ent = self.ent(city, ind[0], ind[1], trad=rng.random() < 0.05 and CITY[city]["prov"] in ("44", "35", "31"))
        scope = "prov" if kind == "dispatch" else "city"
        c = dict(
            p=self.pick(t["o"]),
            fam=t["fam"],
            city=city,
            prov=prov_name(CITY[city]["prov"]),
            k=rng.randint(3, 30),
            exp2=self.pick(["1年以上", "2-3年", "多年"]),
            biz=IND[ent["ind"]],
            area=self.talent_area(ent, scope),
        )
        title = self.fill(self.pick(pat[kind + "_t"]), c)
        desc = self.fill(self.pick(pat[kind + "_d"]), c)
        qty = c["k"] if kind == "share" else rng.randint(5, 50)
        return self.add(
            "供",
            "人才",
            ent,
            title,
            desc,
            qty,
            "名",
            self.pick(["面议", "按入职人数收费", "服务费面议"]),
            dict(
                topic=fam,
                covers={fam: 2},
                area=self.area_set(ent, scope),
                max_amount=None,
                sectors=None,
                capacity=None,
                kind=tag or kind,
            ),
        )

    def talent_area(self, ent, scope):
        city, pn = ent["city"], prov_name(ent["prov"])
        if scope == "city":
            return self.pick([f"限{city}本地企业", f"服务{city}及周边区县", f"仅对接{city}用人单位"])
        if city in MUNI:
            return self.pick([f"{city}各区", f"{city}全市"])
        return self.pick([f"{pn}各地市", f"{PROV[ent['prov']]}范围内"])

    def generalist_agency(self, city):
        ent = self.ent(city, "7262", "人力资源")
        fams = "、".join(T[k]["fam"] for k in T if T[k]["cat"] == "人才")
        title = self.pick([f"{city}综合招聘服务", "人力资源外包/招聘流程外包（RPO）", f"{city}各类岗位人才推荐"])
        desc = f"综合性人力资源服务机构，覆盖{fams}等岗位，服务{city}本地企业，按成功推荐收费。"
        return self.add(
            "供",
            "人才",
            ent,
            title,
            desc,
            100,
            "名",
            "面议",
            dict(
                topic="k_any",
                covers={k: 1 for k in T if T[k]["cat"] == "人才"},
                area=dict(cities={city}, provs={CITY[city]["prov"]}),
                max_amount=None,
                sectors=None,
                capacity=None,
                kind="generalist",
            ),
        )

    def multi(self, keys, grade, cat, title, desc, ind):
        ent = self.ent(self.pick(CITIES), ind[0], ind[1])
        return self.add(
            "供",
            cat,
            ent,
            title,
            desc,
            1,
            "批",
            "面议",
            dict(
                topic=keys[0],
                covers={k: grade for k in keys},
                area=None,
                max_amount=None,
                sectors=None,
                capacity=None,
                kind="multi",
            ),
        )

    def fillers(self, n):
        """Offers of other products/services from the kag-supplychain chain table (no need asks for them)."""
        for _ in range(n):
            leaf, root = self.pick(LEAVES)
            if root in SERVICE_ROOTS:
                cat = "服务"
                ind = SERVICE_IND.get(root, ("7299", "商务服务"))
                title = self.pick([f"提供{leaf}", f"{leaf}服务", f"承接{leaf}业务", f"{leaf}（专业团队）"])
                desc = self.pick(
                    [
                        f"本公司主营{leaf}，经验丰富，欢迎咨询。",
                        f"{leaf}：响应快，价格合理，可签年度合同。",
                        f"专业从事{leaf}多年，服务过数百家企业。",
                    ]
                )
            else:
                cat = "物资"
                ind = ROOT_IND.get(root, ("5199", "商贸"))
                title = self.pick([f"供应{leaf}", f"{leaf}现货", f"{leaf}厂家直销", f"出售{leaf}"])
                desc = self.pick(
                    [
                        f"我司生产{leaf}，品质稳定，量大从优，全国发货。",
                        f"{leaf}，规格齐全，可定制，欢迎洽谈。",
                        f"长期供应{leaf}，支持来样加工。",
                    ]
                )
            ent = self.ent(self.pick(CITIES), ind[0], ind[1])
            self.add(
                "供",
                cat,
                ent,
                title,
                desc,
                self.pick([1, 10, 100, 500]) if cat == "物资" else 1,
                "批" if cat == "物资" else "项",
                self.pick(["面议", "电议", "按需报价"]),
                dict(
                    topic="filler",
                    covers={},
                    area=None,
                    max_amount=None,
                    sectors=None,
                    capacity=None,
                    kind="filler",
                    leaf=leaf,
                ),
            )

    def orphan(self, n):
        for _i in range(n):
            cat, title, desc, ind = self.pick(ORPHANS)
            ent = self.ent(self.pick(CITIES), ind[0], ind[1])
            c = self.ctx(
                dict(
                    n=[title], o=[title], qty=(1, 100), unit="批", spec=[""], use=[""], budget=["面议"], price=["面议"]
                ),
                ent,
                "供",
            )
            self.add(
                "供",
                cat,
                ent,
                title,
                desc + self.pick(["", "欢迎来电。", f"地址：{ent['city']}{ent['district']}。"]),
                c["qty"] if cat == "物资" else 1,
                "批" if cat == "物资" else "项",
                "面议",
                dict(topic="orphan", covers={}, area=None, max_amount=None, sectors=None, capacity=None, kind="orphan"),
            )

    # ---------------------------------------------------------- plans
    def plan(self, heldout=False):
        rng = self.rng
        talent_cities_main = {
            "k_ecom": ["深圳", "广州", "上海", "杭州", "武汉", "佛山"],
            "k_sales": ["上海", "深圳", "广州", "杭州", "武汉", "西安"],
            "k_cs": ["深圳", "广州", "上海", "成都", "武汉"],
            "k_admin": ["上海", "深圳", "广州"],
            "k_dev": ["广州", "上海", "深圳"],
            "k_logi": ["深圳", "上海"],
            "k_design": ["广州", "深圳"],
        }
        talent_cities_ho = {
            "k_ecom": ["成都", "长沙", "东莞", "合肥"],
            "k_sales": ["南京", "苏州", "成都"],
            "k_cs": ["杭州"],
            "k_admin": ["杭州"],
            "k_dev": ["杭州"],
            "k_design": ["上海"],
        }
        for key in sorted(T):
            t = T[key]
            if t["cat"] == "人才":
                continue
            self.cur = None
            if key == "c_equity":
                groups = sorted(EQUITY_SECTORS)
                for g in groups if not heldout else [self.pick(groups)]:
                    self.cluster(
                        t,
                        self.pick(CITIES),
                        2 if heldout else 3,
                        2,
                        sectors=EQUITY_SECTORS[g],
                        offer_sectors=set(EQUITY_SECTORS[g]),
                    )
                continue
            if heldout:
                if t["local"] is None and rng.random() < 0.35:
                    continue
                self.cluster(t, self.pick(CITIES[:24]), rng.choice([1, 2, 2]), rng.choice([1, 2]))
                continue
            if t["local"] is None:
                self.cluster(t, self.pick(CITIES), rng.choice([2, 3, 3, 4]), rng.choice([1, 2, 2, 3]))
            else:
                n_cl = {"c_loan": 4, "s_catering": 4}.get(key, 3 if t["local"] == "city" else 2)
                provs_used = set()
                for city in rng.sample(CITIES[:26], 26):
                    if n_cl == 0:
                        break
                    if CITY[city]["prov"] in provs_used:
                        continue
                    provs_used.add(CITY[city]["prov"])
                    self.cluster(t, city, rng.choice([1, 2, 2]), rng.choice([1, 2]), far=rng.choice([1, 2]))
                    n_cl -= 1
        # talent from real 51job postings
        used = self.used_jobs
        tc = talent_cities_ho if heldout else talent_cities_main
        for fam in sorted(tc):
            for city in tc[fam]:
                pool = [
                    j
                    for j in JOBS
                    if job_family(j["job_name"]) == fam
                    and j["workarea_text"].split("-")[0] == city
                    and id(j) not in used
                    and len(j["job_name"]) <= 30
                ]
                k = min(len(pool), rng.choice([1, 2]) if heldout else rng.choice([2, 3, 3]))
                if k == 0:
                    continue
                ps = rng.sample(pool, k)
                used.update(id(j) for j in ps)
                self.talent_cluster(fam, city, ps, n_offers=rng.choice([2, 3]))
        self.cur = None
        for city in ["深圳", "广州", "上海", "杭州"] if not heldout else ["成都", "杭州"]:
            self.generalist_agency(city)
        for m in MULTI:
            self.multi(*m)
        self.orphan(25 if heldout else 60)
        self.fillers(90 if heldout else 320)
        for _ in range(12 if heldout else 40):  # recruiters where nobody asked
            fam = self.pick(sorted(tc))
            asked = {c for cs in tc.values() for c in cs}
            city = self.pick([c for c in CITIES if c not in asked])
            self.talent_offer(fam, city, self.pick(["agency", "train", "dispatch"]), tag="far")

    # ---------------------------------------------------------- relevance, trimming, negatives, folds
    def finalize(self):
        rng = self.rng

        def rels(n):
            return {id(o): relevance(n, o) for o in self.offers if relevance(n, o)}

        for _ in range(2000):
            rr = [(n, rels(n)) for n in self.needs]
            over = [(n, r) for n, r in rr if len(r) > 5]
            if not over:
                break
            n, r = max(over, key=lambda x: len(x[1]))
            counts = defaultdict(int)
            for _n2, r2 in rr:
                for oid in r2:
                    counts[oid] += 1
            byid = {id(o): o for o in self.offers}
            order = {"multi": 0, "generalist": 0, "chain": 1, "wrongcat": 1, "far": 2, "std": 3}
            cands = sorted(r, key=lambda oid: (r[oid], order.get(byid[oid]["kind"], 3), -counts[oid]))
            # never strand another need without relevant offers
            for oid in cands:
                if all(len(r2) > 1 or oid not in r2 for _, r2 in rr):
                    self.offers.remove(byid[oid])
                    break
            else:
                raise RuntimeError("cannot trim")
        for n in self.needs:
            if not rels(n):  # guarantee at least one fitting offer
                self.cur = n["cluster"]
                self.make_offer(
                    T[n["topic"]],
                    n["city"],
                    max_amount=(n["qty"] if T[n["topic"]]["cat"] == "资金" else None),
                    capacity=(n["qty"] + 100 if n["topic"] == "s_catering" else None),
                    sectors=({n["sector"]} if n["topic"] == "c_equity" else None),
                )
        # shuffle and number
        rng.shuffle(self.needs)
        rng.shuffle(self.offers)
        for i, n in enumerate(self.needs, 1):
            n["row"]["外部编号"] = f"{self.prefix}N{i:04d}"
        for i, o in enumerate(self.offers, 1):
            o["row"]["外部编号"] = f"{self.prefix}O{i:04d}"
        # folds by cluster (group k-fold: needs sharing offers stay together)
        sizes = defaultdict(int)
        for n in self.needs:
            sizes[n["cluster"]] += 1
        fold_of, load = {}, [0] * 5
        cl = sorted(sizes, key=lambda c: (-sizes[c], T[self.clusters[c]["topic"]]["cat"], c))
        for c in cl:
            f = min(range(5), key=lambda i: (load[i], i))
            fold_of[c] = f
            load[f] += sizes[c]
        qrels, negs = [], []
        for n in sorted(self.needs, key=lambda x: x["row"]["外部编号"]):
            rel = {o["row"]["外部编号"]: relevance(n, o) for o in self.offers if relevance(n, o)}
            rel = dict(sorted(rel.items(), key=lambda kv: (-kv[1], kv[0])))
            assert 1 <= len(rel) <= 5, (n["row"], rel)
            qrels.append({"need": n["row"]["外部编号"], "relevant": rel, "fold": fold_of[n["cluster"]]})
            hn = {}
            for m in self.needs:
                if (
                    m is not n
                    and m["topic"] == n["topic"]
                    and len([v for v in hn.values() if v.startswith("wrong direction")]) < 3
                ):
                    hn[m["row"]["外部编号"]] = (
                        "wrong direction: another 需 for the same thing (never a match for a need)"
                    )
            t = T[n["topic"]]
            for o in self.offers:
                if relevance(n, o):
                    continue
                oid = o["row"]["外部编号"]
                if o["for_cluster"] == n["cluster"]:
                    if o["kind"] == "chain":
                        up = T[o["topic"]]["n"][0]
                        hn[oid] = f"wrong chain link: up/downstream product ({up}) that mentions the same product words"
                    elif o["kind"] == "wrongcat":
                        hn[oid] = "wrong category: {} listing sharing the words, not a {} offer".format(
                            o["row"]["类别"],
                            t["cat"],
                        )
                    elif o["kind"] == "far":
                        hn[oid] = "wrong region: same {} but {}-only and the need is in {}".format(
                            t["n"][0] if t["cat"] != "人才" else t["fam"],
                            o["ent"]["city"],
                            n["city"],
                        )
                elif n["topic"] in o["covers"]:
                    if o["area"] is not None and t["local"]:
                        where = "city" if t["local"] == "city" else "province"
                        reason = f"wrong region: same offer type, outside the need's {where}"
                        if sum(1 for v in hn.values() if v.startswith("wrong region")) >= 4:
                            reason = None
                        if o.get("sectors") is not None and n.get("sector") not in o["sectors"]:
                            reason = "wrong sector: investor/lender restricted to " + "、".join(sorted(o["sectors"]))
                    elif o.get("sectors") is not None and n.get("sector") not in o["sectors"]:
                        reason = "wrong sector: investor/lender restricted to " + "、".join(sorted(o["sectors"]))
                    else:
                        reason = "constraint: amount/capacity far below what the need asks"
                    if reason and len(hn) < 12:
                        hn.setdefault(oid, reason)
                elif (
                    o["topic"] in SIBLINGS.get(n["topic"], ())
                    and o["kind"] in ("std", "multi")
                    and sum(1 for v in hn.values() if v.startswith("wrong type")) < 2
                ):
                    sib = T[o["topic"]]["n"][0]
                    hn[oid] = f"wrong type: related but different product/service ({sib}) sharing words"
            negs.append({"need": n["row"]["外部编号"], "hard_negatives": hn})
        return qrels, negs, load

    def rows(self):
        rows = [n["row"] for n in sorted(self.needs, key=lambda x: x["row"]["外部编号"])]
        rows += [o["row"] for o in sorted(self.offers, key=lambda x: x["row"]["外部编号"])]
        return rows


def write_set(b, name_prefix):
    qrels, negs, load = b.finalize()
    rows = b.rows()
    # one USCC per enterprise name (and vice versa)
    seen = {}
    for r in rows:
        assert seen.setdefault(r["企业名称"], r["统一社会信用代码"]) == r["统一社会信用代码"]
    wb = openpyxl.Workbook()
    wb.properties.creator = "bench/data/exchange/build.py"
    wb.properties.created = wb.properties.modified = datetime.datetime(2025, 1, 1)
    ws = wb.active
    ws.title = "资源信息"
    ws.append(HEADERS)
    for r in rows:
        ws.append([r[h] for h in HEADERS])
    for col, w in zip("ABCDEFGHIJKLM", [22, 34, 6, 6, 40, 80, 9, 12, 9, 8, 18, 12, 10], strict=False):
        ws.column_dimensions[col].width = w
    wb.save(HERE / f"{name_prefix}listings.xlsx")
    with open(HERE / f"{name_prefix}listings.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({h: r[h] for h in HEADERS}, ensure_ascii=False) + "\n")
    with open(HERE / f"{name_prefix}qrels.jsonl", "w", encoding="utf-8") as f:
        for q in qrels:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    with open(HERE / f"{name_prefix}negatives.jsonl", "w", encoding="utf-8") as f:
        for q in negs:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    # hidden labels for analysis (topic per listing)
    with open(HERE / f"{name_prefix}labels.jsonl", "w", encoding="utf-8") as f:
        for it in sorted(b.needs + b.offers, key=lambda x: x["row"]["外部编号"]):
            f.write(
                json.dumps(
                    {
                        "id": it["row"]["外部编号"],
                        "topic": it["topic"],
                        "kind": it.get("kind", "need"),
                        "covers": it.get("covers"),
                        "debris": it["flags"],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return len(b.needs), len(b.offers), load


def main():
    for t in T.values():
        for code, _ in t["bw"] + t["sw"]:
            assert code in IND, (t["key"], code)
    used_names = set()
    used_jobs = set()
    main_b = Run(20240601, "A", "", used_names)
    main_b.used_jobs = used_jobs
    main_b.plan()
    print("main", write_set(main_b, ""))
    ho = Run(777013, "B", "H", used_names)
    ho.used_jobs = used_jobs
    ho.plan(heldout=True)
    print("heldout", write_set(ho, "heldout_"))


if __name__ == "__main__":
    main()
