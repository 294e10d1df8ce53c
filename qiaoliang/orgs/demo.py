"""Build a believable, deterministic demo federation: organisations, zones, members, posts and accounts.

The city is Beijing (real district names and GB/T 2260 codes from the Region table); the enterprises,
people and numbers are made up by `random.Random(seed)` only, so the same seed gives the same data.
Organisations, zones, departments and partnerships go through the services (a few dozen rows,
audited); enterprises, people, memberships and posts are bulk-inserted in batches because the
benchmarks need 100,000 of them in well under two minutes.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connections, router, transaction
from django.db.models import Model, Q
from django.utils.translation import gettext as _

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.core import audit
from qiaoliang.core.codes import uscc_check_character
from qiaoliang.core.models import Industry, Region
from qiaoliang.core.text import (
    compact_name_search_keys,
    compact_text,
    name_grams,
    pinyin_initials,
    pinyin_items,
    pinyin_key,
)
from qiaoliang.orgs import services
from qiaoliang.orgs.models import (
    Department,
    Enterprise,
    Membership,
    Organization,
    Partnership,
    Person,
    Position,
    Zone,
)
from qiaoliang.orgs.scope import invalidate_scopes

DEMO_PASSWORD = "qiaoliang-demo-2026"  # noqa: S105 - published on purpose: demo accounts only
FEDERATION_CODE = "BJGSL"
CITY_CODE = "110000"
TODAY = datetime.date(2026, 1, 1)  # every date is relative to this, never to the clock
BATCH_SIZE = 2000
STAFF_GROUP = "Federation staff"

# (code, name, weight): the ten districts with a district federation come first.
DISTRICTS = [
    ("110101", "东城区", 6), ("110102", "西城区", 7), ("110105", "朝阳区", 18), ("110106", "丰台区", 8),
    ("110108", "海淀区", 18), ("110112", "通州区", 7), ("110113", "顺义区", 6), ("110114", "昌平区", 7),
    ("110115", "大兴区", 7), ("110111", "房山区", 4), ("110107", "石景山区", 3), ("110109", "门头沟区", 2),
    ("110116", "怀柔区", 2), ("110117", "平谷区", 1), ("110118", "密云区", 1), ("110119", "延庆区", 1),
]  # fmt: skip
FEDERATED_DISTRICTS = [code for code, _name, _weight in DISTRICTS[:10]]

# City-level industry chambers: (name, short name, industry code prefixes their members come from).
INDUSTRY_CHAMBERS = [
    ("北京市餐饮商会", "餐饮商会", ["62"]),
    ("北京市建材商会", "建材商会", ["30", "516", "5264"]),
    ("北京电子商务商会", "电商商会", ["5193", "5292", "643"]),
    ("北京市汽车商会", "汽车商会", ["36", "526", "811"]),
    ("北京市医药商会", "医药商会", ["27", "515", "525"]),
    ("北京市文化创意产业商会", "文创商会", ["86", "87", "88", "89", "90"]),
    ("北京市房地产商会", "房地产商会", ["70"]),
    ("北京市物流商会", "物流商会", ["54", "58", "59", "60"]),
    ("北京市科技商会", "科技商会", ["65", "73", "75"]),
    ("北京市农业商会", "农业商会", ["01", "02", "03", "05"]),
    ("北京市服装商会", "服装商会", ["17", "18", "513", "523"]),
    ("北京市家具商会", "家具商会", ["21"]),
    ("北京市新能源商会", "新能源商会", ["44", "45", "384"]),
    ("北京市建筑业商会", "建筑商会", ["47", "48", "49", "50"]),
    ("北京市人力资源服务商会", "人力资源商会", ["726"]),
    ("北京市教育培训商会", "教育商会", ["83"]),
    ("北京市环保产业商会", "环保商会", ["77", "46"]),
    ("北京市食品商会", "食品商会", ["13", "14", "15", "512", "522"]),
    ("北京市金融服务商会", "金融商会", ["66", "67", "68", "69"]),
    ("北京市旅游商会", "旅游商会", ["61", "7291"]),
    ("北京市居民服务业商会", "居民服务商会", ["80", "81"]),
]
HOMETOWN_CHAMBERS = [
    ("北京温州商会", "温州商会"), ("北京福建商会", "福建商会"), ("北京浙江商会", "浙江商会"),
    ("北京河南商会", "河南商会"), ("北京湖南商会", "湖南商会"), ("北京江西商会", "江西商会"),
    ("北京安徽商会", "安徽商会"), ("北京四川商会", "四川商会"), ("北京广东商会", "广东商会"),
    ("北京山东商会", "山东商会"), ("北京湖北商会", "湖北商会"), ("北京潮汕商会", "潮汕商会"),
]  # fmt: skip
ASSOCIATIONS = [
    ("北京市软件和信息服务业协会", "软件协会", ["651", "652", "653", "654", "655", "656", "657", "659"]),
    ("北京市物业管理行业协会", "物业协会", ["702"]),
    ("北京市连锁经营协会", "连锁经营协会", ["521", "522", "523"]),
    ("北京市广告协会", "广告协会", ["725"]),
    ("北京市人工智能产业协会", "人工智能协会", ["6513", "7517"]),
    ("北京市会展业协会", "会展协会", ["7281", "7282", "7283", "7284"]),
    ("北京市中小企业服务协会", "中小企业协会", ["721", "723", "724"]),
    ("北京市进出口企业协会", "进出口协会", ["5181", "5182"]),
]
# District chambers under a district federation: (district code, name, short name, prefixes).
DISTRICT_CHAMBERS = [
    ("110105", "北京市朝阳区餐饮商会", "朝阳餐饮商会", ["62"]),
    ("110108", "北京市海淀区科技商会", "海淀科技商会", ["65", "73", "75"]),
    ("110106", "北京市丰台区建材商会", "丰台建材商会", ["30", "516"]),
    ("110112", "北京市通州区物流商会", "通州物流商会", ["54", "58", "59", "60"]),
    ("110113", "北京市顺义区汽车商会", "顺义汽车商会", ["36", "526"]),
    ("110115", "北京市大兴区医药商会", "大兴医药商会", ["27", "515", "525"]),
]
STREET_CHAMBERS = [
    ("110101", "东华门街道"), ("110101", "和平里街道"), ("110102", "金融街街道"), ("110102", "德胜街道"),
    ("110105", "望京街道"), ("110105", "三里屯街道"), ("110105", "建外街道"), ("110106", "卢沟桥街道"),
    ("110106", "方庄街道"), ("110108", "中关村街道"), ("110108", "学院路街道"), ("110112", "新华街道"),
    ("110113", "胜利街道"), ("110114", "回龙观街道"), ("110115", "兴丰街道"), ("110111", "拱辰街道"),
]  # fmt: skip
ZONES = [
    ("BJGSL-Z1", "东部片区", ["110101", "110105", "110112", "110113"]),
    ("BJGSL-Z2", "西部片区", ["110102", "110108"]),
    ("BJGSL-Z3", "南部片区", ["110106", "110115", "110111"]),
    ("BJGSL-Z4", "北部片区", ["110114"]),
]
DEPARTMENTS = [
    ("BJ-FGW", "北京市发展和改革委员会", "市发改委"),
    ("BJ-SCJGJ", "北京市市场监督管理局", "市市场监管局"),
    ("BJ-RSJ", "北京市人力资源和社会保障局", "市人社局"),
    ("BJ-SWJ", "国家税务总局北京市税务局", "市税务局"),
    ("BJ-JXJ", "北京市经济和信息化局", "市经信局"),
    ("BJ-SWUJ", "北京市商务局", "市商务局"),
    ("BJ-ZJW", "北京市住房和城乡建设委员会", "市住建委"),
    ("BJ-JRJ", "北京市地方金融管理局", "市金融局"),
    ("BJ-GHZRZYW", "北京市规划和自然资源委员会", "市规划自然资源委"),
    ("BJ-SFJ", "北京市司法局", "市司法局"),
]
PARTNERSHIPS = [
    ("天津市工商业联合会", "partner_city", "中国", "京津冀民营经济协同发展、商会互访"),
    ("河北省保定市工商业联合会", "partner_city", "中国", "产业转移对接、园区招商合作"),
    ("新加坡中华总商会", "overseas_chamber", "新加坡", "经贸交流、企业出海咨询"),
    ("德国中国商会", "overseas_chamber", "德国", "中德中小企业合作、展会对接"),
    ("香港中华总商会", "overseas_chamber", "中国香港", "京港经贸合作、青年创业交流"),
    ("中国工商银行北京市分行", "bank", "中国", "民营小微企业融资服务、金融纾困产品"),
    ("北京银行", "bank", "中国", "会员企业专属信贷、供应链金融"),
    ("北京产权交易所", "strategic_partner", "中国", "产权交易、企业并购撮合"),
]

# Enterprise names: region prefix + brand word + industry word + legal form.
BRAND_CHARACTERS = (
    "华盛瑞鑫泰恒达信博远中天金宏创新嘉和联富安康隆源通正德晟峰宇智云辉明海东方佳优美汇星腾飞龙凯祥"
    "润丰茂兴旺昌广利合众亿誉诚卓越鼎立弘毅睿思启航铭泽悦晨曦光耀科森"
)
# Section weights: which kinds of business private members of a city federation run.
SECTION_WEIGHTS = {
    "F": 25, "I": 15, "L": 12, "M": 10, "C": 10, "E": 6, "H": 5, "K": 4, "G": 4, "R": 4,
    "O": 2, "P": 1, "Q": 1, "A": 1,
}  # fmt: skip
SECTION_WORDS = {
    "A": ["农业科技", "生态农业", "农业发展", "种植"],
    "C": ["机械制造", "电子", "新材料", "精密仪器", "食品", "实业", "智能装备", "包装"],
    "E": ["建设工程", "建筑工程", "装饰工程", "市政工程", "安装工程"],
    "F": ["商贸", "贸易", "供应链管理", "商业", "电子商务", "进出口"],
    "G": ["物流", "运输", "快递服务", "供应链", "仓储服务"],
    "H": ["餐饮管理", "酒店管理", "餐饮", "食品配送"],
    "I": ["科技", "信息技术", "网络科技", "软件", "数据科技", "智能科技"],
    "K": ["房地产开发", "物业管理", "置业", "房地产经纪"],
    "L": ["企业管理咨询", "商务服务", "人力资源", "文化传播", "会展服务", "广告"],
    "M": ["技术服务", "工程设计", "检测技术", "科技发展", "环境技术"],
    "O": ["家政服务", "保洁服务", "汽车服务", "美容美发"],
    "P": ["教育科技", "培训学校", "教育咨询"],
    "Q": ["健康管理", "医疗科技", "康复医疗"],
    "R": ["文化传媒", "文化发展", "影视", "体育发展"],
}
SECTION_BUSINESS = {
    "A": "种植、养殖技术推广；农产品销售；农业观光",
    "C": "产品研发、生产与销售；技术开发与转让；售后服务",
    "E": "工程施工总承包；专业承包；工程劳务；建筑材料销售",
    "F": "批发零售；进出口业务；供应链管理；线上线下销售",
    "G": "道路货物运输；仓储服务；城市配送；货运代理",
    "H": "餐饮服务；团餐配送；酒店管理；食品经营",
    "I": "软件开发；信息系统集成；数据处理和存储；技术咨询与服务",
    "K": "房地产开发经营；物业管理；房地产经纪；停车场服务",
    "L": "企业管理咨询；人力资源服务；会议及展览服务；市场营销策划",
    "M": "技术开发、技术咨询、技术转让；检验检测；工程设计",
    "O": "家政服务；保洁服务；机动车维修；生活美容服务",
    "P": "职业技能培训；教育咨询；文化艺术培训",
    "Q": "健康管理咨询；医疗器械销售；康复服务",
    "R": "文艺创作；影视策划；体育赛事组织；广告设计制作",
}
LEGAL_FORMS = [("有限公司", 70), ("有限责任公司", 12), ("股份有限公司", 8), ("集团有限公司", 4), ("科技有限公司", 6)]
ROADS = {
    "110101": ["东直门内大街", "东长安街", "王府井大街", "和平里东街"],
    "110102": ["金融大街", "德胜门外大街", "西直门内大街", "广安门内大街"],
    "110105": ["建国路", "东三环中路", "朝阳北路", "望京街", "酒仙桥路", "通惠河北路"],
    "110106": ["丰台北路", "西四环南路", "丽泽路", "南三环西路"],
    "110107": ["石景山路", "鲁谷路"],
    "110108": ["中关村大街", "学院路", "知春路", "北清路", "西直门外大街"],
    "110109": ["新桥大街", "滨河路"],
    "110111": ["京良路", "拱辰大街"],
    "110112": ["新华大街", "运河东大街", "通胡大街"],
    "110113": ["府前街", "顺平路", "仁和路"],
    "110114": ["回龙观西大街", "科技园路", "府学路"],
    "110115": ["兴华大街", "科创十三街", "黄村西大街"],
    "110116": ["青春路", "雁栖大街"],
    "110117": ["府前街", "平翔路"],
    "110118": ["鼓楼东大街", "阳光街"],
    "110119": ["妫水北街", "高塔街"],
}
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟"
    "汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN_CHARACTERS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛"
    "建国志红海波宇浩然子涵欣怡晨阳佳琪文博思远俊杰天佑雨萱梓轩一诺嘉怡宏伟永生德胜立新晓东振华"
)
PRIMARY_TITLES = ["董事长", "总经理", "执行董事", "董事长兼总经理", "创始人"]
SECOND_TITLES = ["办公室主任", "行政经理", "副总经理", "财务总监", "综合部经理", "董事会秘书"]
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "150", "151", "152", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "185", "186", "187", "188", "189",
]  # fmt: skip
ACCOUNT_MOBILE_PREFIX = "1390000"  # demo accounts; people get other prefixes, so no clash
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


@dataclass
class DemoAccount:
    """One demo login, for the table printed at the end of `seed_demo`."""

    username: str
    mobile: str
    role: str
    scope: str


@dataclass
class SeedResult:
    """What `seed` built (or found), with the counts written to the audit entry."""

    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)


# --- codes --------------------------------------------------------------------------------


def organization_code_check(body: str) -> str:
    """Return the GB 11714 check character for an 8-character organisation code body."""
    remainder = 11 - sum(int(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True)) % 11
    return "0" if remainder == 11 else "X" if remainder == 10 else str(remainder)


def build_uscc(region_code: str, serial: int, kind: str = "91") -> str:
    """Return a valid USCC: registration kind, region code, organisation code and check character."""
    body = f"{serial % 100_000_000:08d}"
    first17 = f"{kind}{region_code}{body}{organization_code_check(body)}"
    return first17 + uscc_check_character(first17)


def scramble(index: int, offset: int, multiplier: int = 48_271_093) -> int:
    """Map 0..10^8-1 onto itself one to one, so serials look random but never repeat."""
    return (index * multiplier + offset) % 100_000_000


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Callable[[], Any]:
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    cumulative: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)

    def pick() -> Any:
        return rng.choices(values, cum_weights=cumulative, k=1)[0]

    return pick


def _keys(text: str) -> tuple[str, str, str]:
    return compact_text(text), pinyin_key(text), pinyin_initials(text)


def _batched(items: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(model: type[Model], objects: list[Any], batch_size: int = BATCH_SIZE) -> None:
    """Insert new rows with one prepared statement per batch (executemany), leaving their pks unset.

    `bulk_create` spends most of its time compiling SQL for 45-row chunks (SQLite's 999-parameter
    limit); executemany is several times faster for the 100,000-enterprise benchmark data.
    """
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(table, columns, ", ".join(["%s"] * len(fields)))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: psycopg's executemany still sends one statement per row
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for obj in objects:
                    copy.write_row([f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields])
            return
        for batch in _batched(objects, batch_size):
            rows = [[f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields] for obj in batch]
            cursor.executemany(sql, rows)


def _random_date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def _add_years(day: datetime.date, years: int) -> datetime.date:
    return day.replace(year=day.year + years) - datetime.timedelta(days=1)


# --- the generator ---------------------------------------------------------------------------


class DemoBuilder:
    """Build the demo federation from one seed; call `build()` inside a transaction."""

    def __init__(self, *, enterprises: int, seed: int, log: Callable[[str], None] = lambda message: None) -> None:
        self.enterprise_count = enterprises
        self.seed = seed
        self.rng = random.Random(seed)
        self.log = log
        self.organizations: dict[str, Organization] = {}
        self.affinity: list[tuple[Organization, list[str], str | None]] = []  # (chamber, prefixes, district)
        self.street_by_district: dict[str, list[Organization]] = defaultdict(list)
        self.hometown: list[Organization] = []
        self.person_serial = 0
        self.used_names: set[str] = set()
        self.part_cache: dict[str, tuple[str, str, str]] = {}
        self.part_items_cache: dict[str, list[str]] = {}
        self.affinity_cache: dict[tuple[str, str], list[Organization]] = {}
        self.district_names = {code: name for code, name, _weight in DISTRICTS}

    # organisations ---------------------------------------------------------------------------
    def _org(self, code: str, name: str, kind: str, parent: Organization | None, **fields: Any) -> Organization:
        rng = self.rng
        region_code = fields.pop("region_code", CITY_CODE)
        organization = services.create_organization(
            actor=None,
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            region_id=region_code,
            founded_on=_random_date(rng, datetime.date(1988, 1, 1), datetime.date(2019, 12, 31)),
            address=self._address(region_code, 199),
            contact_name=self._person_name(),
            contact_phone=f"010-{rng.randint(5000_0000, 8999_9999)}",
            **fields,
        )
        self.organizations[code] = organization
        return organization

    def build_organizations(self) -> None:
        federation = self._org(
            FEDERATION_CODE,
            "北京市工商业联合会",
            Organization.Kind.FEDERATION,
            None,
            short_name="北京市工商联",
            website="https://www.bjgsl.org.cn",
            description="北京市工商业联合会（北京市总商会）是中国共产党领导的以非公有制企业和非公有制经济人士为主体的人民团体和商会组织。",
        )
        self.federation = federation
        districts: dict[str, Organization] = {}
        for code in FEDERATED_DISTRICTS:
            name = self.district_names[code]
            districts[code] = self._org(
                f"{FEDERATION_CODE}-{code}",
                f"北京市{name}工商业联合会",
                Organization.Kind.DISTRICT_FEDERATION,
                federation,
                short_name=f"{name}工商联",
                region_code=code,
            )
        self.districts = districts
        for number, (name, short, prefixes) in enumerate(INDUSTRY_CHAMBERS, start=1):
            chamber = self._org(
                f"{FEDERATION_CODE}-C{number:02d}", name, Organization.Kind.CHAMBER, federation,
                chamber_kind=Organization.ChamberKind.INDUSTRY, short_name=short,
            )  # fmt: skip
            self.affinity.append((chamber, prefixes, None))
        for number, (name, short) in enumerate(HOMETOWN_CHAMBERS, start=1):
            self.hometown.append(
                self._org(
                    f"{FEDERATION_CODE}-H{number:02d}",
                    name,
                    Organization.Kind.CHAMBER,
                    federation,
                    chamber_kind=Organization.ChamberKind.HOMETOWN,
                    short_name=short,
                )
            )
        for number, (name, short, prefixes) in enumerate(ASSOCIATIONS, start=1):
            association = self._org(
                f"{FEDERATION_CODE}-A{number:02d}", name, Organization.Kind.ASSOCIATION, federation, short_name=short
            )
            self.affinity.append((association, prefixes, None))
        for number, (district, name, short, prefixes) in enumerate(DISTRICT_CHAMBERS, start=1):
            chamber = self._org(
                f"{FEDERATION_CODE}-DC{number:02d}", name, Organization.Kind.CHAMBER, districts[district],
                chamber_kind=Organization.ChamberKind.INDUSTRY, short_name=short, region_code=district,
            )  # fmt: skip
            self.affinity.append((chamber, prefixes, district))
        for number, (district, street) in enumerate(STREET_CHAMBERS, start=1):
            district_name = self.district_names[district]
            chamber = self._org(
                f"{FEDERATION_CODE}-S{number:02d}", f"北京市{district_name}{street}商会", Organization.Kind.CHAMBER,
                districts[district], chamber_kind=Organization.ChamberKind.STREET, short_name=f"{street}商会",
                region_code=district,
            )  # fmt: skip
            self.street_by_district[district].append(chamber)

    def build_departments_and_partnerships(self) -> None:
        self.departments = [
            services.create_department(
                actor=None,
                code=code,
                name=name,
                short_name=short,
                contact_name=self._person_name(),
                contact_phone=f"010-{self.rng.randint(5000_0000, 8999_9999)}",
            )
            for code, name, short in DEPARTMENTS
        ]
        for partner, kind, country, scope in PARTNERSHIPS:
            services.create_partnership(
                actor=None,
                organization=self.federation,
                partner_name=partner,
                kind=kind,
                country_or_region=country,
                agreement_date=_random_date(self.rng, datetime.date(2015, 1, 1), datetime.date(2025, 6, 30)),
                scope=scope,
            )

    def _address(self, region_code: str, highest_number: int) -> str:
        district = region_code if region_code in ROADS else "110101"
        road = self.rng.choice(ROADS[district])
        return f"北京市{self.district_names[district]}{road}{self.rng.randint(1, highest_number)}号"

    # people and enterprises ---------------------------------------------------------------------
    def _person_name(self) -> str:
        rng = self.rng
        given = rng.choice(GIVEN_CHARACTERS)
        if rng.random() < 0.7:
            given += rng.choice(GIVEN_CHARACTERS)
        return rng.choice(SURNAMES) + given

    def _mobile(self) -> str:
        self.person_serial += 1
        serial = self.person_serial
        prefix = MOBILE_PREFIXES[serial % len(MOBILE_PREFIXES)]
        return prefix + f"{scramble(serial // len(MOBILE_PREFIXES), self.mobile_offset, 7_919_357):08d}"

    def _new_person(self, *, enterprise_id: int | None, job_title: str, is_primary: bool) -> Person:
        name = self._person_name()
        return Person(
            name=name,
            name_pinyin=pinyin_key(name),
            mobile=self._mobile(),
            enterprise_id=enterprise_id,
            job_title=job_title,
            is_primary_contact=is_primary,
        )

    def _enterprise_name(self, region_name: str, word: str) -> tuple[str, str, str]:
        """Return an unused name as (head, brand, tail), so the search keys of head and tail can be cached."""
        rng = self.rng
        for attempt in range(50):
            length = 2 if attempt < 3 and rng.random() < 0.8 else 3
            brand = "".join(rng.choice(BRAND_CHARACTERS) for _ in range(length))
            form = self.pick_form()
            if form == "科技有限公司" and word.endswith("科技"):
                form = "有限公司"
            if rng.random() < 0.85:
                head, tail = "北京", f"{word}{form}"
            elif rng.random() < 0.5:
                head, tail = "", f"（北京）{word}{form}"
            else:
                head, tail = f"北京市{region_name.removesuffix('区')}", f"{word}{form}"
            name = head + brand + tail
            if name not in self.used_names:
                self.used_names.add(name)
                return head, brand, tail
        raise RuntimeError("could not find an unused enterprise name")  # pragma: no cover - 50 draws never all clash

    def _search_fields(self, head: str, brand: str, tail: str) -> dict[str, Any]:
        """Return enterprise_search_fields(head + brand + tail), computing the fixed parts once.

        pypinyin costs ~150 µs a name, a third of the time for 100,000 enterprises; the parts are
        plain Simplified Chinese, so the keys of the whole are the keys of the parts joined.
        """
        brand_text = compact_text(brand)
        brand_items = pinyin_items(brand_text)  # one pypinyin pass for the brand: its keys and the trade-name keys
        brand_keys = (brand_text, "".join(brand_items), "".join(item[:1] for item in brand_items))
        parts = [self._part_keys(head), brand_keys, self._part_keys(tail)]
        text = "".join(p[0] for p in parts)
        items = [*self._part_items(head), *brand_items, *self._part_items(tail)]
        return {
            "name_search": text[:200],
            "name_pinyin": "".join(p[1] for p in parts)[:255],
            "name_initials": "".join(p[2] for p in parts)[:120],
            "name_grams": " ".join(name_grams(text[:200])),
            "name_keys": " ".join(compact_name_search_keys(text, items)),
        }

    def _part_keys(self, part: str) -> tuple[str, str, str]:
        keys = self.part_cache.get(part)
        if keys is None:
            keys = self.part_cache[part] = _keys(part)
        return keys

    def _part_items(self, part: str) -> list[str]:
        items = self.part_items_cache.get(part)
        if items is None:
            items = self.part_items_cache[part] = pinyin_items(compact_text(part))
        return items

    def build_enterprises(self) -> None:
        rng = self.rng
        self.mobile_offset = rng.randrange(100_000_000)
        uscc_offset = rng.randrange(100_000_000)
        classes: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for code, name, section in Industry.objects.filter(level=Industry.Level.CLASS).values_list(
            "code", "name", "section"
        ):
            classes[section].append((code, name))
        sections = [(section, weight) for section, weight in SECTION_WEIGHTS.items() if classes[section]]
        pick_section = _weighted(rng, sections)
        pick_district = _weighted(rng, [((code, name), weight) for code, name, weight in DISTRICTS])
        pick_size = _weighted(rng, [("micro", 45), ("small", 35), ("medium", 15), ("large", 5)])
        pick_ownership = _weighted(
            rng,
            [("private", 80), ("mixed", 5), ("state", 4), ("foreign", 4), ("hk_mo_tw", 3), ("collective", 2),
             ("other", 2)],
        )  # fmt: skip
        self.pick_form = _weighted(rng, LEGAL_FORMS)
        employees_by_size = {"micro": (1, 19), "small": (20, 299), "medium": (300, 999), "large": (1000, 20000)}
        district_codes = [code for code, _name, _weight in DISTRICTS]
        known_regions = set(Region.objects.filter(code__in=district_codes).values_list("code", flat=True))

        enterprises: list[Enterprise] = []
        for index in range(self.enterprise_count):
            section = pick_section()
            industry_code, industry_name = rng.choice(classes[section])
            region_code, region_name = pick_district()
            if region_code not in known_regions:
                region_code = CITY_CODE
            word = rng.choice(SECTION_WORDS.get(section, ["实业"]))
            head, brand, tail = self._enterprise_name(region_name, word)
            name = head + brand + tail
            size = pick_size()
            low, high = employees_by_size[size]
            founded = _random_date(rng, datetime.date(1992, 1, 1), datetime.date(2025, 9, 30))
            if rng.random() < 0.5:  # most members are young companies
                founded = _random_date(rng, datetime.date(2012, 1, 1), datetime.date(2025, 9, 30))
            website = ""
            if rng.random() < 0.3:
                website = f"https://www.{pinyin_initials(name[2:6])}{index % 1000}.com.cn"
            enterprises.append(
                Enterprise(
                    uscc=build_uscc(region_code, scramble(index, uscc_offset)),
                    name=name,
                    industry_id=industry_code,
                    region_id=region_code,
                    size=size,
                    ownership=pick_ownership(),
                    founded_on=founded,
                    employees=rng.randint(low, high),
                    main_business=f"{industry_name}；{SECTION_BUSINESS.get(section, '')}",
                    website=website,
                    address=self._address(region_code, 399),
                    **self._search_fields(head, brand, tail),
                )
            )
        self.log(f"enterprises generated: {len(enterprises)}")
        insert_rows(Enterprise, enterprises)
        if enterprises:
            ids: dict[str, int] = {}
            for batch in _batched([e.uscc for e in enterprises], 500):
                ids.update(Enterprise.objects.filter(uscc__in=batch).values_list("uscc", "pk"))
            for enterprise in enterprises:
                enterprise.pk = ids[enterprise.uscc]
        self.enterprises = enterprises
        self.log("enterprises inserted")

        people: list[Person] = []
        for enterprise in enterprises:
            people.append(
                self._new_person(enterprise_id=enterprise.pk, job_title=rng.choice(PRIMARY_TITLES), is_primary=True)
            )
            if rng.random() < 0.45:
                people.append(
                    self._new_person(enterprise_id=enterprise.pk, job_title=rng.choice(SECOND_TITLES), is_primary=False)
                )
        insert_rows(Person, people)
        if people:
            person_ids: dict[str | None, int] = {}
            for batch in _batched([p.mobile for p in people], 500):
                person_ids.update(Person.objects.filter(mobile__in=batch).values_list("mobile", "pk"))
            for person in people:
                person.pk = person_ids[person.mobile]
        self.primary_person_id: dict[int, int] = {
            person.enterprise_id: person.pk for person in people if person.is_primary_contact and person.enterprise_id
        }
        self.people_count = len(people)
        self.log(f"people inserted: {len(people)}")

    def _primary_org(self, enterprise: Enterprise) -> Organization:
        rng = self.rng
        code = enterprise.industry_id or ""
        region = enterprise.region_id or ""
        matching = self.affinity_cache.get((code, region))
        if matching is None:
            matching = self.affinity_cache[(code, region)] = [
                organization
                for organization, prefixes, district in self.affinity
                if (district is None or district == region) and any(code.startswith(prefix) for prefix in prefixes)
            ]
        draw = rng.random()
        if matching and draw < 0.6:
            return rng.choice(matching)
        if self.street_by_district.get(region) and draw < 0.8:
            return rng.choice(self.street_by_district[region])
        if draw < 0.9:
            return rng.choice(self.hometown)
        return rng.choice(self.affinity)[0] if not matching else rng.choice(matching)

    def build_memberships(self) -> None:
        rng = self.rng
        by_org: dict[int, list[Membership]] = defaultdict(list)
        memberships: list[Membership] = []
        for enterprise in self.enterprises:
            chosen = [self._primary_org(enterprise)]
            if enterprise.size == "large" or rng.random() < 0.1:
                chosen.append(self.federation)
            elif rng.random() < 0.35:
                chosen.append(self.districts.get(enterprise.region_id or "", self.federation))
            start = max(enterprise.founded_on or datetime.date(2005, 1, 1), datetime.date(2005, 1, 1))
            for organization in chosen:
                membership = Membership(
                    enterprise_id=enterprise.pk,
                    organization_id=organization.pk,
                    level=Membership.Level.MEMBER,
                    joined_on=_random_date(rng, start, datetime.date(2025, 12, 31)),
                    status=Membership.Status.ACTIVE if rng.random() < 0.97 else Membership.Status.SUSPENDED,
                )
                memberships.append(membership)
                by_org[organization.pk].append(membership)
        # The demo secretary's chamber (C01) needs an active member for the demo enterprise account, whatever the size
        # (with few enterprises none may have drawn it).
        chamber = self.organizations[f"{FEDERATION_CODE}-C01"]
        if self.enterprises and not any(m.status == Membership.Status.ACTIVE for m in by_org[chamber.pk]):
            enterprise = self.enterprises[0]
            for membership in by_org[chamber.pk]:
                if membership.enterprise_id == enterprise.pk:
                    membership.status = Membership.Status.ACTIVE
                    break
            else:
                membership = Membership(
                    enterprise_id=enterprise.pk, organization_id=chamber.pk, level=Membership.Level.MEMBER,
                    joined_on=datetime.date(2020, 1, 6), status=Membership.Status.ACTIVE,
                )  # fmt: skip
                memberships.append(membership)
                by_org[chamber.pk].append(membership)
        # Levels per organisation: one 会长单位, a handful of 副会长单位, about 8 % 理事单位, the rest 会员单位.
        self.members_by_org: dict[int, list[Membership]] = {}
        for org_id in sorted(by_org):
            members = by_org[org_id]
            rng.shuffle(members)
            vice = min(8, 2 + len(members) // 40)
            council = max(2, len(members) * 8 // 100)
            for position, membership in enumerate(members):
                if membership.status != Membership.Status.ACTIVE:
                    continue
                if position == 0:
                    membership.level = Membership.Level.PRESIDENT
                elif position <= vice:
                    membership.level = Membership.Level.VICE_PRESIDENT
                elif position <= vice + council:
                    membership.level = Membership.Level.COUNCIL
            self.members_by_org[org_id] = members
        insert_rows(Membership, memberships)
        self.membership_count = len(memberships)
        self.log(f"memberships inserted: {len(memberships)}")

    # posts and zones ------------------------------------------------------------------------------
    def _standalone_person(self, job_title: str) -> Person:
        person = self._new_person(enterprise_id=None, job_title=job_title, is_primary=False)
        person.save()
        return person

    def build_posts(self) -> None:
        rng = self.rng
        positions: list[Position] = []
        self.secretary_general: dict[int, Person] = {}
        self.chair_person_id: dict[int, int] = {}
        for organization in sorted(self.organizations.values(), key=lambda o: o.pk):
            term_start = datetime.date(rng.randint(2021, 2024), rng.choice([3, 6, 9, 12]), 1)
            term_end = _add_years(term_start, 5)
            members = self.members_by_org.get(organization.pk, [])
            by_level: dict[str, list[int]] = defaultdict(list)
            for membership in members:
                person_id = self.primary_person_id.get(membership.enterprise_id)
                if person_id and membership.status == Membership.Status.ACTIVE:
                    by_level[membership.level].append(person_id)
            council = by_level[Membership.Level.COUNCIL]
            is_federation = organization.kind in {Organization.Kind.FEDERATION, Organization.Kind.DISTRICT_FEDERATION}
            plan: list[tuple[str, list[int]]] = [
                (Position.Title.CHAIR, by_level[Membership.Level.PRESIDENT][:1]),
                (Position.Title.VICE_CHAIR, by_level[Membership.Level.VICE_PRESIDENT][:6]),
                (Position.Title.STANDING, council[0:4] if is_federation else []),
                (Position.Title.EXECUTIVE, council[4:10] if is_federation else council[0:2]),
                (Position.Title.DIRECTOR, council[10:18] if is_federation else council[2:8]),
                (Position.Title.CHIEF_SUPERVISOR, council[18:19] if is_federation else council[8:9]),
            ]
            for title, person_ids in plan:
                for person_id in person_ids:
                    positions.append(
                        Position(
                            person_id=person_id,
                            organization=organization,
                            title=title,
                            term_start=term_start,
                            term_end=term_end,
                        )
                    )
            if by_level[Membership.Level.PRESIDENT]:
                self.chair_person_id[organization.pk] = by_level[Membership.Level.PRESIDENT][0]
            secretary = self._standalone_person("秘书长")
            self.secretary_general[organization.pk] = secretary
            positions.append(
                Position(
                    person=secretary,
                    organization=organization,
                    title=Position.Title.SECRETARY_GENERAL,
                    term_start=term_start,
                    term_end=term_end,
                )
            )
            for _expert in range(rng.choice([0, 0, 1, 2])):
                expert = self._standalone_person(rng.choice(["教授", "律师", "注册会计师", "研究员"]))
                positions.append(
                    Position(
                        person=expert,
                        organization=organization,
                        title=Position.Title.EXPERT,
                        term_start=term_start,
                        term_end=term_end,
                    )
                )
        self.zones: list[Zone] = []
        city_level = [
            o
            for o in self.organizations.values()
            if o.parent_id == self.federation.pk and o.kind != Organization.Kind.DISTRICT_FEDERATION
        ]
        for zone_number, (code, name, district_codes) in enumerate(ZONES):
            zone_members: list[Organization] = [self.districts[d] for d in district_codes]
            zone_members += [o for d in district_codes for o in self.street_by_district.get(d, [])]
            zone_members += [o for o, _p, district in self.affinity if district in district_codes]
            # City-level chambers and associations are shared out among the zones in turn.
            zone_members += city_level[zone_number :: len(ZONES)]
            zone = services.create_zone(
                actor=None, code=code, name=name, federation=self.federation, organizations=zone_members,
                description=f"{name}由{'、'.join(self.district_names[d] for d in district_codes)}的工商联和商会组成。",
            )  # fmt: skip
            self.zones.append(zone)
            term_start = datetime.date(2024, 3, 1)
            term_end = _add_years(term_start, 3)
            chairs = [self.chair_person_id[o.pk] for o in zone_members if o.pk in self.chair_person_id]
            secretaries = [self.secretary_general[o.pk].pk for o in zone_members]
            for title, person_ids in [
                (Position.Title.CHIEF_CONVENOR, chairs[:1]),
                (Position.Title.CONVENOR, chairs[1:4]),
                (Position.Title.SECRETARIAT, secretaries[:3]),
            ]:
                for person_id in person_ids:
                    positions.append(
                        Position(person_id=person_id, zone=zone, title=title, term_start=term_start, term_end=term_end)
                    )
        for batch in _batched(positions):
            Position.objects.bulk_create(batch)
        self.position_count = len(positions)

    # accounts -----------------------------------------------------------------------------------
    def build_accounts(self) -> None:
        password = make_password(DEMO_PASSWORD)
        group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
        group.permissions.set(
            Permission.objects.filter(
                Q(content_type__app_label="orgs") | Q(content_type__app_label="core", codename__startswith="view_")
            ).exclude(codename__startswith="delete_")
        )
        chamber = self.organizations[f"{FEDERATION_CODE}-C01"]
        zone = self.zones[0]
        member = min(
            (m for m in self.members_by_org.get(chamber.pk, []) if m.status == Membership.Status.ACTIVE),
            key=lambda m: m.enterprise_id,
        )
        contact = Person.objects.get(pk=self.primary_person_id[member.enterprise_id])
        # Each account has its own person: with few enterprises the zone's chief convenor can be the demo contact.
        taken = {contact.pk, self.secretary_general[chamber.pk].pk}
        convenor = (
            Position.objects.filter(zone=zone, title__in=[Position.Title.CHIEF_CONVENOR, Position.Title.CONVENOR])
            .exclude(person_id__in=taken)
            .order_by("title", "id")
            .select_related("person")
            .first()
        )

        def account(username: str, display: str, mobile: str | None, **fields: Any) -> User:
            return User.objects.create(
                username=username, display_name=display, mobile=mobile, password=password, **fields
            )

        account("admin", "系统管理员", None, is_staff=True, is_superuser=True)
        staff = account("staff", "市工商联工作人员", f"{ACCOUNT_MOBILE_PREFIX}0001", is_staff=True)
        staff.groups.add(group)
        secretary = account(
            "secretary", self.secretary_general[chamber.pk].name, f"{ACCOUNT_MOBILE_PREFIX}0002",
            person=self.secretary_general[chamber.pk],
        )  # fmt: skip
        convenor_user = account(
            "convenor", convenor.person.name if convenor else "片区召集人", f"{ACCOUNT_MOBILE_PREFIX}0003",
            person=convenor.person if convenor else None,
        )  # fmt: skip
        enterprise_user = account("enterprise", contact.name, contact.mobile, person=contact)
        liaison = account("liaison", "发改委联络员", f"{ACCOUNT_MOBILE_PREFIX}0005")
        provider = account("provider", "法律服务律师", None)
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(user=staff, role=Role.FEDERATION_STAFF, organization=self.federation),
                RoleAssignment(user=secretary, role=Role.CHAMBER_SECRETARY, organization=chamber),
                RoleAssignment(user=convenor_user, role=Role.ZONE_CONVENOR, zone=zone),
                RoleAssignment(user=enterprise_user, role=Role.ENTERPRISE_CONTACT, enterprise_id=member.enterprise_id),
                RoleAssignment(user=liaison, role=Role.DEPARTMENT_LIAISON, department=self.departments[0]),
                RoleAssignment(user=provider, role=Role.SERVICE_PROVIDER),
            ]
        )
        invalidate_scopes()  # bulk inserts (these roles, the memberships) send no signal

    def build(self) -> SeedResult:
        """Create everything; return the counts."""
        self.build_organizations()
        self.build_departments_and_partnerships()
        self.build_enterprises()
        self.build_memberships()
        self.build_posts()
        self.build_accounts()
        counts = {
            "organizations": len(self.organizations),
            "zones": len(self.zones),
            "departments": len(self.departments),
            "partnerships": len(PARTNERSHIPS),
            "enterprises": len(self.enterprises),
            "people": Person.objects.count(),
            "memberships": self.membership_count,
            "positions": self.position_count,
            "accounts": len(DEMO_USERNAMES),
        }
        audit.record(
            "orgs.demo.seeded",
            target=self.federation,
            organization_id=self.federation.pk,
            data={"seed": self.seed, **counts},
        )
        return SeedResult(created=True, counts=counts)


DEMO_USERNAMES = ["admin", "staff", "secretary", "convenor", "enterprise", "liaison", "provider"]


def demo_exists() -> bool:
    """Tell whether the demo federation is already in the database."""
    return Organization.objects.filter(code=FEDERATION_CODE).exists()


def demo_accounts() -> list[DemoAccount]:
    """Return the demo logins that exist, with their role and scope, in a fixed order."""
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    assignments = RoleAssignment.objects.filter(user__in=users.values()).select_related(
        "organization", "zone", "enterprise", "department"
    )
    by_user: dict[int, list[RoleAssignment]] = defaultdict(list)
    for assignment in assignments:
        by_user[assignment.user_id].append(assignment)
    accounts: list[DemoAccount] = []
    for username in DEMO_USERNAMES:
        user = users.get(username)
        if user is None:
            continue
        roles = by_user.get(user.pk, [])
        if user.is_superuser:
            role, scope = str(_("Superuser")), "—"
        elif roles:
            first = roles[0]
            role = str(Role(first.role).label)
            target = first.organization or first.zone or first.enterprise or first.department
            scope = str(target) if target else "—"
        else:
            role, scope = "—", "—"
        accounts.append(DemoAccount(username=username, mobile=user.mobile or "", role=role, scope=scope))
    return accounts


@transaction.atomic
def reset_demo() -> None:
    """Delete the demo federation and everything `seed` created under it (audit entries stay)."""
    federation = Organization.objects.filter(code=FEDERATION_CODE).first()
    User.objects.filter(username__in=DEMO_USERNAMES).delete()
    if federation is None:
        return
    organizations = Organization.objects.filter(path__startswith=federation.path)
    zones = Zone.objects.filter(federation=federation)
    enterprise_ids = Membership.objects.filter(organization__in=organizations).values("enterprise_id")
    demo_enterprises = Enterprise.objects.filter(pk__in=enterprise_ids)
    Person.objects.filter(
        Q(enterprise__in=demo_enterprises) | Q(positions__organization__in=organizations) | Q(positions__zone__in=zones)
    ).distinct().delete()
    ids = list(demo_enterprises.values_list("pk", flat=True))
    Membership.objects.filter(organization__in=organizations).delete()
    for batch in _batched(ids, 900):
        Enterprise.objects.filter(pk__in=batch).delete()
    zones.delete()
    Partnership.objects.filter(organization__in=organizations).delete()
    for organization in Organization.objects.filter(path__startswith=federation.path).order_by("-depth"):
        organization.delete()
    Department.objects.filter(code__in=[code for code, _name, _short in DEPARTMENTS]).delete()
    audit.record("orgs.demo.reset", data={"enterprises": len(ids)})


@transaction.atomic
def seed(*, enterprises: int = 5000, seed: int = 2026, log: Callable[[str], None] = lambda message: None) -> SeedResult:
    """Build the demo federation unless it exists; return what was built or found."""
    if demo_exists():
        return SeedResult(created=False, accounts=demo_accounts())
    result = DemoBuilder(enterprises=enterprises, seed=seed, log=log).build()
    result.accounts = demo_accounts()
    analyze_tables()
    return result


def analyze_tables() -> None:
    """Refresh the planner's statistics after a bulk load.

    Without them PostgreSQL guesses a handful of rows for a LIKE on 100,000 fresh enterprises and
    picks poor plans until autovacuum catches up; SQLite uses them to choose between indexes.
    """
    connection = connections[router.db_for_write(Enterprise)]
    tables = [model._meta.db_table for model in (Enterprise, Person, Membership, Position, Organization)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
