"""Turn the matching engine's structured reasons into translated sentences.

The engine (exchange/matching/engine.py `_reasons`) explains a match with `Reason(code, params)`;
stored Match rows keep them as `{"code": ..., **params}`. Each code has one translatable sentence
with named placeholders, so translators see whole sentences and word order stays theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from qiaoliang.exchange.models import Category

# Codes in the order they are shown (the strongest evidence first).
ORDER = [
    "introduced",
    "shared_terms",
    "industry_chain",
    "same_industry",
    "serves_area",
    "same_category",
    "compatible_category",
    "same_region",
    "same_city",
    "same_province",
    "price_fit",
    "semantic",
]


@dataclass(frozen=True)
class ReasonText:
    """One reason ready for a template: its code (for styling and tests) and its sentence."""

    code: str
    text: str


def _category(value: Any) -> str:
    try:
        return str(Category(value).label)
    except ValueError:
        return str(value)


def _join(items: Iterable[Any]) -> str:
    # Translators choose the separator of a list (、 in Chinese); no sentence is built here.
    return pgettext("list separator", ", ").join(str(item) for item in items if str(item))


def _money(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return f"¥{number:,.0f}"


def _range(low: Any, high: Any) -> str:
    low_text, high_text = _money(low), _money(high)
    if low_text and high_text and low_text != high_text:
        return f"{low_text}–{high_text}"
    return low_text or high_text


def describe(code: str, params: Mapping[str, Any]) -> str:
    """Return the sentence for one reason, or "" for a code this version does not know."""
    if code == "shared_terms":
        terms = params.get("terms") or []
        return _("Shared key words: %(terms)s") % {"terms": _join(terms[:6])} if terms else ""
    if code == "same_category":
        return _("Same category: %(category)s") % {"category": _category(params.get("category"))}
    if code == "compatible_category":
        names = {"need": _category(params.get("need_category")), "offer": _category(params.get("offer_category"))}
        if params.get("lift"):
            return _("%(offer)s offers often answer %(need)s needs (%(lift)s× as often as chance)") % {
                **names,
                "lift": params["lift"],
            }
        return _("Related categories: need %(need)s, offer %(offer)s") % names
    if code == "serves_area":
        area = params.get("area") or ""
        if params.get("name"):
            return _("Serves %(area)s, which includes %(place)s") % {"area": area, "place": params["name"]}
        return _("Serves %(area)s") % {"area": area}
    if code == "industry_chain":
        return _("Supply chain: %(upstream)s → %(downstream)s") % {
            "upstream": params.get("upstream") or params.get("upstream_code") or "?",
            "downstream": params.get("downstream") or params.get("downstream_code") or "?",
        }
    if code == "same_industry":
        return _("Same industry: %(name)s") % {"name": params.get("name") or params.get("industry_code") or "?"}
    if code == "same_region":
        return _("Same district or county: %(name)s") % {"name": params.get("name") or ""}
    if code == "same_city":
        return _("Same city: %(name)s") % {"name": params.get("name") or ""}
    if code == "same_province":
        return _("Same province: %(name)s") % {"name": params.get("name") or ""}
    if code == "price_fit":
        budget = _range(params.get("budget_min"), params.get("budget_max"))
        price = _range(params.get("price_min"), params.get("price_max"))
        if budget and price:
            return _("The budget (%(budget)s) covers the price (%(price)s)") % {"budget": budget, "price": price}
        return _("The budget covers the price")
    if code == "semantic":
        return _("Similar description")
    if code == "introduced":
        return _("Introduced by the federation")
    return ""


def _as_pair(reason: Any) -> tuple[str, Mapping[str, Any]]:
    if isinstance(reason, Mapping):
        return str(reason.get("code", "")), {k: v for k, v in reason.items() if k != "code"}
    return str(getattr(reason, "code", "")), getattr(reason, "params", None) or {}


def describe_all(reasons: Iterable[Any] | None) -> list[ReasonText]:
    """Return the sentences of a list of reasons (engine `Reason`s or stored dicts), strongest first."""
    texts: list[ReasonText] = []
    seen: set[str] = set()
    for reason in reasons or []:
        code, params = _as_pair(reason)
        text = describe(code, params)
        if text and code not in seen:
            seen.add(code)
            texts.append(ReasonText(code, text))
    rank = {code: index for index, code in enumerate(ORDER)}
    return sorted(texts, key=lambda item: rank.get(item.code, len(ORDER)))
