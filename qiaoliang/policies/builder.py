"""The rule builder: conditions as form rows (group, field, relation, value as written, time window) instead of
JSON. Rows of one group are alternatives (或); every group must hold (且). Values are read the way staff write
them: 2000万元, 北京市、上海市, 制造业, 国家高新技术企业, 规模以上工业企业; the engine then checks every
condition as it checks JSON (`rules.parse_expression`), so both editors give the same errors.

A rule with tiers is edited as JSON only (the builder does not show tiers).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.industries import resolver as industry_resolver
from qiaoliang.core.models import Region
from qiaoliang.core.regions import resolver as region_resolver
from qiaoliang.policies import honour_rules
from qiaoliang.policies.facts import FIELDS, Kind
from qiaoliang.policies.rules import MAX_WINDOW_YEARS, OP_WORDS, WINDOW_MODES, Op, ThresholdBook
from qiaoliang.policies.units import UnitError, parse_quantity

MAX_ROWS = 40
MAX_GROUP = 20
_LIST = re.compile(r"[、,，;；/]+")

# The relations offered per kind of field (the engine accepts these words).
RELATIONS: dict[Kind, tuple[Op, ...]] = {
    Kind.NUMBER: (Op.GTE, Op.GT, Op.LTE, Op.LT, Op.EQ, Op.NE),
    Kind.REGION: (Op.IN, Op.NOT_IN),
    Kind.INDUSTRY: (Op.IN, Op.NOT_IN),
    Kind.CHOICE: (Op.IN, Op.NOT_IN),
    Kind.HONOUR: (Op.HAS, Op.NOT_HAS),
    Kind.THRESHOLD: (Op.EQ, Op.NE),
    Kind.DECLARATION: (Op.EQ, Op.NE),
}
ALL_RELATIONS = tuple(dict.fromkeys(op for ops in RELATIONS.values() for op in ops))


@dataclass
class Row:
    """One condition as the form shows it."""

    group: int = 1
    field: str = ""
    op: str = ""
    value: str = ""
    key: str = ""  # a declared figure's name (设备投资额)
    years: int | None = None
    mode: str = "each"
    clause: int | None = None
    code: str = ""  # the stored value the shown text stands for (an honour requirement such as etc.provincial+)
    label: str = ""  # the condition in the policy's words, kept while the row is unchanged
    was: str = ""  # the row as shown (signature): a posted row equal to it keeps its label

    def signature(self) -> str:
        return "|".join((self.field, self.op, " ".join(self.value.split()), self.key.strip(),
                         str(self.years or ""), self.mode if self.years else ""))  # fmt: skip


YEARS = list(range(1, MAX_WINDOW_YEARS + 1))


def field_choices() -> list[tuple[str, str]]:
    return [(code, str(spec.label)) for code, spec in FIELDS.items()]


def relation_choices() -> list[tuple[str, str]]:
    return [(str(op), OP_WORDS[op]) for op in ALL_RELATIONS]


def _fail(number: int, message: str) -> DomainError:
    return DomainError(_("Line %(line)d: %(message)s") % {"line": number, "message": message}, code="builder")


def _items(value: str) -> list[str]:
    parts = (part.strip() for part in _LIST.split(unicodedata.normalize("NFKC", value)))
    return list(dict.fromkeys(part for part in parts if part))


def _region_codes(number: int, value: str) -> list[str]:
    codes = []
    for part in _items(value):
        if part.isdigit() and len(part) in (2, 4, 6):
            codes.append(part)
            continue
        match = region_resolver().resolve(part)
        if match.error or not match.code:
            raise _fail(number, match.error or _("%(value)s is not a region.") % {"value": part})
        codes.append(match.code)
    return codes


def _region_prefix(code: str) -> str:
    """A province or city code as the prefix the engine matches (11, 3301); a county keeps its six digits."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def _industry_codes(number: int, value: str) -> list[str]:
    whole = industry_resolver().resolve(value.strip())  # a class name may hold 、 (农、林、牧、渔业)
    if whole.code and not whole.error:
        return [whole.code]
    codes = []
    for part in _items(value):
        match = industry_resolver().resolve(part)
        if match.error or not match.code:
            raise _fail(number, match.error or _("%(value)s is not an industry.") % {"value": part})
        codes.append(match.code)
    return codes


def _choice_codes(number: int, field: str, value: str) -> list[str]:
    spec = FIELDS[field]
    by_word: dict[str, str] = {}
    for language in ("zh-hans", "en"):  # the labels as either interface writes them
        with translation.override(language):
            for choice, label in spec.choices:
                by_word[choice] = choice
                by_word[str(label).lower()] = choice
    words = {"大型": "large", "大型企业": "large", "中型": "medium", "中型企业": "medium", "小型": "small",
             "小型企业": "small", "微型": "micro", "微型企业": "micro", "国有": "state", "民营": "private",
             "外资": "foreign", "港澳台": "hk_mo_tw", "集体": "collective", "混合所有制": "mixed"}  # fmt: skip
    whole = value.strip()
    if whole.lower() in by_word or whole in words:  # a label may hold commas (Hong Kong, Macao or Taiwan invested)
        return [by_word.get(whole.lower()) or words[whole]]
    codes = []
    for part in _items(value):
        found = by_word.get(part.lower()) or words.get(part)
        if found is None or found not in dict(spec.choices):
            names = "、".join(str(label) for _code, label in spec.choices)
            raise _fail(number, _("%(value)s is not one of: %(names)s.") % {"value": part, "names": names})
        codes.append(found)
    return codes


def _threshold_code(number: int, value: str, book: ThresholdBook) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    if text in book.raw:
        return text
    for code, name in book.names().items():
        if text == unicodedata.normalize("NFKC", name).strip():
            return code
    names = "、".join(book.names().values())
    raise _fail(
        number, _("%(value)s is not a named threshold; use one of: %(names)s.") % {"value": text, "names": names}
    )


def condition_of(number: int, row: Row, book: ThresholdBook) -> dict[str, Any]:
    """One row as the engine's JSON condition; raise DomainError naming the line."""
    spec = FIELDS.get(row.field)
    if spec is None or (spec.kind == Kind.THRESHOLD and not book.raw):
        raise _fail(number, _("choose a field."))
    try:
        op = Op(row.op)
    except ValueError:
        raise _fail(number, _("choose a relation.")) from None
    if op not in RELATIONS[spec.kind]:
        raise _fail(number, _("%(op)s does not apply to %(field)s.") % {"op": OP_WORDS[op], "field": spec.label})
    value = " ".join(row.value.split())
    if not value:
        raise _fail(number, _("write the value."))
    if len(value) > 200:
        raise _fail(number, _("the value is longer than 200 characters."))
    data: dict[str, Any] = {"field": spec.code, "op": str(op)}
    if spec.kind == Kind.NUMBER:
        try:
            parse_quantity(value, spec.dimension)
        except UnitError as exc:
            raise _fail(number, exc.message) from exc
        data["text"] = value
        if spec.keyed:
            data["key"] = row.key.strip()
        if row.years:
            if row.mode not in WINDOW_MODES:
                raise _fail(number, _("choose how the years count."))
            data["window"] = {"years": row.years, "mode": row.mode}
    elif spec.kind == Kind.REGION:
        data["value"] = [_region_prefix(code) if len(code) == 6 else code for code in _region_codes(number, value)]
    elif spec.kind == Kind.INDUSTRY:
        data["value"] = _industry_codes(number, value)
    elif spec.kind == Kind.CHOICE:
        data["value"] = _choice_codes(number, spec.code, value)
    elif spec.kind == Kind.HONOUR:
        if row.code and honour_rules.known(row.code) and value == honour_rules.name(row.code):
            code: str | None = row.code  # shown as stored, unchanged
        else:
            code = value if honour_rules.known(value) else honour_rules.requirement_from_text(value)
        if not code or not honour_rules.known(code):
            raise _fail(number, _("%(value)s is not an honour of the vocabulary.") % {"value": value})
        data["value"] = code
    elif spec.kind == Kind.THRESHOLD:
        data["value"] = _threshold_code(number, value, book)
    else:
        data["value"] = value
    if row.label.strip() and row.was and row.was == row.signature():
        data["label"] = row.label.strip()[:300]  # unchanged: the policy's own words stay
    else:
        with translation.override("zh-hans"):  # labels are read by everyone, in the policy's language
            data["label"] = _label(spec.kind, str(spec.label), op, value, row.key.strip(), data.get("window"))
    if row.clause:
        data["clause"] = row.clause
    return data


WINDOW_WORDS = {"each": "每年", "any": "任一年", "sum": "合计", "avg": "平均"}


def _label(kind: Kind, field: str, op: Op, value: str, key: str, window: dict[str, Any] | None = None) -> str:
    """The condition as the page says it, in the words staff wrote (近3年每年营业收入大于等于2000万元)."""
    if kind == Kind.HONOUR:
        return value if op == Op.HAS else _("not %(value)s") % {"value": value}
    if kind == Kind.DECLARATION:
        return value if op == Op.EQ else _("not: %(value)s") % {"value": value}
    if kind == Kind.THRESHOLD:
        return value if op == Op.EQ else _("not %(value)s") % {"value": value}
    span = f"近{window['years']}年{WINDOW_WORDS.get(window['mode'], '')}" if window else ""
    return f"{span}{key or field}{OP_WORDS[op]}{value}"[:300]


def expression_of(rows: list[Row], book: ThresholdBook) -> dict[str, Any]:
    """The rows as the engine's JSON: one group per group number, in order; empty rows are skipped."""
    used = [(number, row) for number, row in enumerate(rows, start=1) if row.field or row.value.strip()]
    if not used:
        raise DomainError(_("Add at least one condition."), code="builder")
    if len(used) > MAX_ROWS:
        raise DomainError(_("At most %(max)d conditions.") % {"max": MAX_ROWS}, code="builder")
    groups: dict[int, list[dict[str, Any]]] = {}
    for number, row in used:
        if not 1 <= row.group <= MAX_GROUP:
            raise _fail(number, _("the group is a number from 1 to %(max)d.") % {"max": MAX_GROUP})
        groups.setdefault(row.group, []).append(condition_of(number, row, book))
    return {"all": [groups[key] for key in sorted(groups)]}


def rows_of(expression: dict[str, Any] | None, book: ThresholdBook) -> list[Row] | None:
    """A stored expression as builder rows (values written back as staff write them); None when it has tiers."""
    if not expression:
        return []
    if expression.get("tiers"):
        return None
    names = book.names()
    rows = []
    for index, group in enumerate(expression.get("all", []), start=1):
        for cond in group:
            field, value, code = cond.get("field", ""), cond.get("value"), ""
            spec = FIELDS.get(field)
            if spec is None:
                return None
            if spec.kind == Kind.NUMBER:
                text = str(cond.get("text") or value or "")
            elif spec.kind == Kind.HONOUR:
                text = honour_rules.name(str(value))
                code = str(value)
            elif spec.kind == Kind.THRESHOLD:
                text = names.get(str(value), str(value))
            elif spec.kind == Kind.CHOICE and isinstance(value, list):
                with translation.override("zh-hans"):  # Chinese labels hold no list separator
                    labels = {choice: str(label) for choice, label in spec.choices}
                text = "、".join(labels.get(str(v), str(v)) for v in value)
            elif spec.kind == Kind.REGION and isinstance(value, list):
                text = "、".join(_region_names([str(v) for v in value]))
            elif spec.kind == Kind.INDUSTRY and isinstance(value, list):
                text = "、".join(_industry_name(str(v)) for v in value)
            elif isinstance(value, list):
                text = "、".join(str(v) for v in value)
            else:
                text = str(value or "")
            window = cond.get("window") or {}
            op = str(cond.get("op", ""))
            rows.append(Row(group=index, field=field, op=_canonical(spec.kind, op), value=text, key=cond.get("key", ""),
                            years=window.get("years"), mode=window.get("mode", "each"),
                            clause=cond.get("clause"), code=code, label=str(cond.get("label") or "")))  # fmt: skip
            rows[-1].was = rows[-1].signature()
    return rows


def _industry_name(code: str) -> str:
    """An industry as staff read it and the builder reads it back: 662 货币金融服务, 制造业 (a section); the code
    alone where neither reads back (a name holding a list separator, as 农、林、牧、渔业 does)."""
    item = industry_resolver().by_code.get(code)
    if item is None:
        return code
    for text in (f"{item.code} {item.name}", item.name):  # the first that reads back as this very class
        if len(_items(text)) == 1 and industry_resolver().resolve(text).code == code:
            return text
    return code


def _region_names(codes: list[str]) -> list[str]:
    """Prefixes as staff write them (11 → 北京市, 3301 → 浙江省杭州市); a code without a division stays a code."""
    padded = {code: code.ljust(6, "0") for code in codes}
    names = dict(Region.objects.filter(code__in=set(padded.values())).values_list("code", "full_name"))
    return [names.get(padded[code]) or code for code in codes]


def _canonical(kind: Kind, op: str) -> str:
    """The builder's word for an operator the JSON may write otherwise (eq on a set is 属于, on an honour 包含)."""
    if kind in (Kind.REGION, Kind.INDUSTRY, Kind.CHOICE):
        return {"eq": "in", "ne": "not_in"}.get(op, op)
    if kind == Kind.HONOUR:
        return {"eq": "has", "ne": "not_has"}.get(op, op)
    return op
