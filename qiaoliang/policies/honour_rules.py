"""How rules name honours, on top of the vocabulary in `honours.py`.

A rule's honour condition holds a requirement key (`honours.HonourMatch.key`): a vocabulary code
(``hnte.national``), a minimum level (``etc.provincial+``: 省级以上企业技术中心), any level (``tsme.any``), or an
award with its grade (``sta.provincial:first``). An enterprise holds vocabulary codes (an award's grade after a
colon); `satisfied_by` answers whether one held code meets a requirement (implied honours included).
"""

from __future__ import annotations

from functools import lru_cache

from qiaoliang.policies import honours


@lru_cache(maxsize=4096)
def _requirement(key: str) -> honours.HonourMatch | None:
    try:
        return honours.requirement_from_key(key)
    except ValueError:
        return None


def known(key: str) -> bool:
    return bool(key) and _requirement(key) is not None


@lru_cache(maxsize=65536)
def satisfied_by(held_code: str, key: str) -> bool:
    requirement = _requirement(key)
    return requirement is not None and honours.satisfies([held_code], requirement)


def name(key: str) -> str:
    """What a reader sees for a requirement or a held code: 省级企业技术中心（含以上）, 省科学技术奖 一等奖."""
    base = key.partition(":")[0]
    honour = honours.honour_by_code(base.rstrip("+"))
    requirement = _requirement(key)
    text = honour.name if honour is not None else (requirement.name if requirement is not None else key)
    if base.endswith("+"):
        text += "（含以上）"
    if requirement is not None and requirement.grade:
        text += f" {requirement.grade}" + ("及以上" if requirement.grade_or_better else "")
    return text


def requirement_from_text(text: str, region_hint: str | None = None) -> str | None:
    """The requirement a policy's wording states ("省级以上企业技术中心" → "etc.provincial+"), or None."""
    match = honours.normalise_honour(text, region_hint=region_hint)
    if match is None or not match.exact:
        return None
    return match.key if known(match.key) else None


def choices() -> list[tuple[str, str]]:
    """(code, name) of the vocabulary, for pickers."""
    return [(h.code, h.name) for h in honours.honour_vocabulary()]
