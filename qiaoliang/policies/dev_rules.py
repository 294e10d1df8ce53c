"""Turn the annotated rules of the Zhejiang policies (data/zj) into engine expressions, or say why not.

An annotated rule is ``logic`` over entries: ``6_1&6_2`` (and), ``,`` ``、`` ``;`` (or between and-terms):
a disjunction of conjunctions. The engine takes a conjunction of disjunctions, so the logic is distributed
(and absorbed: a group that contains another group is dropped). Each entry (var, relation, field) becomes
one typed condition:

- numeric vars (当年销售额 大于 5亿元) → the enterprise fact they name (`VAR_FIELDS`), or a declared figure of
  the application (设备投资额 → ``declared_money`` with key 设备投资额); the value converted exactly;
- 荣誉 and honour-like 企业类型 → an honour requirement of the vocabulary;
- 注册地 → a region code (本市/区内 read as the policy's own region);
- 企业类型 小微企业 / 规上 / 限上 → size, or a named threshold;
- 业务领域 → an industry code when the resolver is sure of one;
- everything else (标准 符合…, 法人资格, 项目类型 …) → a declaration the enterprise makes and staff review.

A rule is refused (with its reason) when an entry it names does not exist, its logic cannot be read, a value
has a unit that does not convert (万元/亩), or the distribution grows past the engine's limits.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from qiaoliang.core.industries import resolver as industry_resolver
from qiaoliang.core.regions import RegionResolver
from qiaoliang.core.regions import resolver as current_region_resolver
from qiaoliang.policies import honour_rules
from qiaoliang.policies.facts import FIELDS
from qiaoliang.policies.rules import CHINESE_OPS, MAX_GROUPS, Op, RuleError, ThresholdBook, parse_expression
from qiaoliang.policies.units import Dimension, UnitError, parse_quantity

DATA = Path(__file__).resolve().parent / "data" / "zj"

VAR_FIELDS = {
    "revenue": ("当年销售额", "年销售额", "年销售收入", "当年营业收入", "销售收入", "主营业务收入", "年营业额",
                "主营业务年销售额", "年营业收入", "收入", "营业收入", "上年度总销售收入", "年度内实际收入"),
    "tax": ("税收", "年实缴税收", "当年实缴税费", "年纳税", "年纳税总额", "当年度入库税收"),
    "rd_expense": ("研发投入额", "研发投入", "研发经费"),
    "paid_in_capital": ("实到注册资本",),
    "share_capital": ("股本总额",),
    "age_years": ("运营时间",),
    "net_profit": ("当年净利润",),
    "trade_volume": ("年贸易额", "年交易额", "当年交易额", "当年度交易额"),
    "output_value": ("年建筑业产值",),
}  # fmt: skip
FIELD_OF_VAR = {var: code for code, names in VAR_FIELDS.items() for var in names}

SIZE_WORDS = {"小微企业": ["small", "micro"], "中小企业": ["medium", "small", "micro"],
              "小型微利企业": ["small", "micro"], "中小微企业": ["medium", "small", "micro"],
              "大型企业": ["large"], "微型企业": ["micro"], "小型企业": ["small"]}  # fmt: skip
THRESHOLD_WORDS = {"规上企业": "above_scale_industry", "规模以上": "above_scale_industry",
                   "规模以上工业企业": "above_scale_industry", "规上工业企业": "above_scale_industry",
                   "限额以上": "above_quota_trade", "限上企业": "above_quota_trade",
                   "新增限额以上": "above_quota_trade",
                   "规上（限上）企业": "above_scale_or_quota", "规上(限上)企业": "above_scale_or_quota",
                   "限上标准": "above_quota_trade"}  # fmt: skip
LOCAL_WORDS = ("本市", "本区", "本县", "区内", "市内", "县内", "市区", "辖区内", "我市", "我区", "我县", "全市", "全区")
HONOUR_VARS = ("荣誉", "企业类型", "支持对象类型", "企业", "经营要求", "标准")


@dataclass
class Loaded:
    uid: str
    name: str
    logic: str
    expression: dict[str, Any] | None = None
    reason: str = ""
    declarations: int = 0  # conditions checked by the enterprise's declaration
    typed: int = 0  # conditions computed from facts, honours, region, industry, size, thresholds
    notes: list[str] = field(default_factory=list)


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def policy_regions() -> dict[str, str]:
    """uid → the policy's own region code (from its 发布地区 entity, the issuer's name, its title or its first
    sentence), when one resolves. 中共玉环市委　玉环市人民政府 is read as 玉环市."""
    regions: dict[str, str] = {}
    for kinds in (("发布地区", "制定部门"), ("政策名称",)):
        for row in _rows("policy_entities.csv"):
            uid = row["sid"].split("_")[0]
            if row["entity_type"] in kinds and uid not in regions:
                code = _issuer_region(row["entity"])
                if code:
                    regions[uid] = code
    for row in _rows("policies.csv"):
        if row["uid"] not in regions:
            code = _issuer_region(row["policy_name"])
            if code:
                regions[row["uid"]] = code
    for row in _rows("policy_sentences_dev.csv"):
        uid = row["uid"]
        if uid not in regions and row["sid"] == f"{uid}_1":
            code = _region_code(row["sentence"][:30], ())
            if code:
                regions[uid] = code
    return regions


PROVINCE = "330000"  # every policy of the data set is a Zhejiang one (SOURCE.md)


def policy_jurisdiction(uid: str) -> str:
    """The region a dev policy applies to: its own, else the province of the whole data set."""
    return policy_regions().get(uid, PROVINCE)


def _issuer_region(text: str) -> str:
    """The region of an issuer or a title: the first of its parts that names one (中共 and 关于… left aside)."""
    for part in re.split(r"[\s\u3000]+", text.strip()):
        before, _about, after = part.partition("关于")
        for candidate in (before, after.split("《", 1)[1] if "《" in after else ""):
            candidate = re.sub(r"^(?:中共|中国共产党)", "", candidate.lstrip("《"))
            if len(candidate) >= 2:
                code = _region_code(candidate, (PROVINCE,))
                if code:
                    return code
    return ""


@lru_cache(maxsize=1)
def region_resolver() -> RegionResolver:
    """One resolver for a whole load (each `core.regions.resolver()` call counts the table twice)."""
    return current_region_resolver()


def _region_code(text: str, context: Iterable[str]) -> str:
    text = re.sub(r"(区内|市内|县内|范围内|境内|内)$", "", text.strip())
    match = region_resolver().resolve(text, list(context))
    if match.place is not None and not match.error:
        return str(match.place.code)
    # the leading division of a longer text (嘉兴市科学技术局 → 嘉兴市)
    for length in range(min(len(text), 12), 1, -1):
        match = region_resolver().resolve(text[:length], list(context))
        if match.place is not None and not match.error:
            return str(match.place.code)
    return ""


def _op(relation: str) -> Op | None:
    relation = relation.strip()
    value = CHINESE_OPS.get(relation)
    return Op(value) if value else None


def _declaration(var: str, relation: str, value: str) -> dict[str, Any]:
    statement = (
        value if (value.startswith(var) or var in ("标准", "经营要求", "风险", "企业风险", "")) else f"{var}：{value}"
    )
    negative = relation.strip() in ("否", "不包含")
    return {"field": "declaration", "op": "ne" if negative else "eq", "value": statement[:120],
            "label": ("无" if negative else "") + statement[:120]}  # fmt: skip


def condition_for(entry: dict[str, str], uid: str) -> tuple[dict[str, Any] | None, str, bool]:
    """(condition json, refusal reason, typed?) of one annotated entry."""
    var, relation, value = entry["var"].strip(), entry["relation"].strip(), entry["field"].strip()
    label = f"{var}{relation}{value}" if var not in ("荣誉", "标准") else value
    if not value:
        return None, f"entry {entry['eid']}: no value", False
    op = _op(relation)
    clean = re.sub(r"[“”\"「」]", "", value)
    if clean in THRESHOLD_WORDS:
        return {"field": "threshold", "op": "ne" if relation == "否" else "eq", "value": THRESHOLD_WORDS[clean],
                "label": label}, "", True  # fmt: skip
    if var in FIELD_OF_VAR or (op in (Op.GT, Op.GTE, Op.LT, Op.LTE) and re.search(r"\d", value)):
        if op is None or op not in (Op.GT, Op.GTE, Op.LT, Op.LTE, Op.EQ):
            return _declaration(var, relation, value), "", False
        if "～" in value or "~" in value or "/" in value:
            if "/" in value:
                return None, f"entry {entry['eid']}: {value} is a compound unit (per area) that does not convert", False
            return _declaration(var, relation, value), "", False
        code = FIELD_OF_VAR.get(var)
        if code:
            dimension = FIELDS[code].dimension
            try:
                parse_quantity(value, dimension)
            except UnitError as exc:
                if not re.search(r"\d", value):  # "连续两年": a statement, not a figure
                    return _declaration(var, relation, value), "", False
                return None, f"entry {entry['eid']}: {exc.message}", False
            return {"field": code, "op": str(op), "text": value, "label": label}, "", True
        try:
            parse_quantity(value, Dimension.MONEY)
            return {"field": "declared_money", "key": var[:60], "op": str(op), "text": value, "label": label}, "", True
        except UnitError:
            try:
                parse_quantity(value, Dimension.NUMBER)
                return ({"field": "declared_number", "key": var[:60], "op": str(op), "text": value, "label": label},
                        "", True)  # fmt: skip
            except UnitError as exc:
                return None, f"entry {entry['eid']}: {exc.message}", False
    if var == "注册地" or var in ("纳税地", "注册部门"):
        if any(word in value for word in LOCAL_WORDS) and uid in policy_regions():
            return {"field": "region", "op": "in", "value": [policy_regions()[uid]], "label": label}, "", True
        code = _region_code(value, [policy_regions().get(uid, "")] if uid in policy_regions() else [])
        if code:
            return (
                {"field": "region", "op": "ne" if relation == "否" else "in", "value": [code], "label": label},
                "",
                True,
            )
        return _declaration(var, relation, value), "", False
    if clean in SIZE_WORDS:
        return {"field": "size", "op": "ne" if relation == "否" else "in", "value": SIZE_WORDS[clean],
                "label": label}, "", True  # fmt: skip
    if var in HONOUR_VARS or var == "业务领域":
        requirement = honour_rules.requirement_from_text(value)
        if requirement and honour_rules.known(requirement):
            return {"field": "honour", "op": "not_has" if relation in ("否", "不包含") else "has", "value": requirement,
                    "label": label}, "", True  # fmt: skip
    if var == "业务领域":
        match = industry_resolver().resolve(clean)
        if match.code and not match.error:
            return {"field": "industry", "op": "not_in" if relation == "否" else "in", "value": [match.code],
                    "label": label}, "", True  # fmt: skip
    return _declaration(var, relation, value), "", False


_TERM_SEPARATORS = re.compile(r"[,，、;；]")


def parse_logic(logic: str) -> list[list[str]] | None:
    """``a&b,c`` → [[a, b], [c]] (or of and-terms); None when it cannot be read."""
    logic = logic.strip()
    if not logic or not re.fullmatch(r"[0-9_&,，、;；\s]+", logic):
        return None
    terms = []
    for term in _TERM_SEPARATORS.split(logic):
        ids = [part.strip() for part in term.split("&") if part.strip()]
        if not ids or any(not re.fullmatch(r"\d+_\d+", i) for i in ids):
            return None
        terms.append(ids)
    return terms


def to_cnf(terms: list[list[str]], limit: int = MAX_GROUPS) -> list[list[str]] | None:
    """Distribute an or of and-terms into an and of or-groups, dropping groups that contain another."""
    groups: list[frozenset[str]] = [frozenset()]
    for term in terms:
        groups = [g | {atom} for g in groups for atom in term]
        groups = _absorb(groups)
        if len(groups) > limit:
            return None
    order = [atom for term in terms for atom in term]
    return [sorted(g, key=order.index) for g in groups]


def _absorb(groups: list[frozenset[str]]) -> list[frozenset[str]]:
    unique = sorted(set(groups), key=len)
    kept: list[frozenset[str]] = []
    for group in unique:
        if not any(other <= group for other in kept):
            kept.append(group)
    return kept


def load_all(book: ThresholdBook) -> list[Loaded]:
    """Every annotated rule of the dev split: its expression, or the reason it cannot load."""
    entries: dict[tuple[str, str], dict[str, str]] = {}
    for entry in _rows("policy_eligibility_entries_dev.csv"):
        entries[(entry["sid"].split("_")[0], entry["eid"])] = entry
    loaded = []
    for row in _rows("policy_entry_logic_dev.csv"):
        result = Loaded(row["uid"], row["logic_name"] or f"支持事项 {row['logic']}", row["logic"])
        loaded.append(result)
        terms = parse_logic(row["logic"])
        if terms is None:
            result.reason = f"the logic {row['logic']!r} cannot be read"
            continue
        missing = [i for term in terms for i in term if (row["uid"], i) not in entries]
        if missing:
            result.reason = f"entries {', '.join(missing)} are not in the annotations"
            continue
        conditions: dict[str, dict[str, Any]] = {}
        for atom in {i for term in terms for i in term}:
            condition, reason, typed = condition_for(entries[(row["uid"], atom)], row["uid"])
            if condition is None:
                result.reason = reason
                break
            conditions[atom] = condition
            result.typed += typed
            result.declarations += not typed
        if result.reason:
            continue
        groups = to_cnf(terms)
        if groups is None:
            result.reason = f"the logic grows past {MAX_GROUPS} groups when distributed"
            continue
        expression = {"all": [[conditions[atom] for atom in group] for group in groups]}
        try:
            parse_expression(expression, thresholds=book)
        except RuleError as exc:
            result.reason = exc.message
            continue
        result.expression = expression
    return loaded


def reason_kind(reason: str) -> str:
    if "not in the annotations" in reason:
        return "the logic names entries the annotations do not have"
    if "cannot be read" in reason:
        return "the logic cannot be read"
    if "compound unit" in reason:
        return "a value per area (万元/亩) does not convert to an enterprise figure"
    return reason.split(": ", 1)[-1]


def summary(loaded: list[Loaded]) -> dict[str, Any]:
    reasons: dict[str, int] = defaultdict(int)
    for item in loaded:
        if item.reason:
            reasons[reason_kind(item.reason)] += 1
    ok = [item for item in loaded if item.expression]
    return {
        "rules": len(loaded),
        "loaded": len(ok),
        "fully_typed": sum(1 for item in ok if item.declarations == 0),
        "with_declarations": sum(1 for item in ok if item.declarations),
        "conditions_typed": sum(item.typed for item in ok),
        "conditions_declared": sum(item.declarations for item in ok),
        "refused": len(loaded) - len(ok),
        "reasons": dict(reasons),
    }


def decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")
