"""The engine's view of a listing and of a match: plain frozen dataclasses, no Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Direction = Literal["offer", "need"]
Category = Literal["project", "business", "technology", "service", "talent", "capital", "material"]

DIRECTIONS: tuple[str, ...] = ("offer", "need")
CATEGORIES: tuple[str, ...] = ("project", "business", "technology", "service", "talent", "capital", "material")

DIRECTION_ZH = {"offer": "供", "need": "需"}
CATEGORY_ZH = {
    "project": "项目",
    "business": "业务",
    "technology": "技术",
    "service": "服务",
    "talent": "人才",
    "capital": "资金",
    "material": "物资",
}


@dataclass(frozen=True, slots=True)
class ListingDoc:
    """Describe one listing as the matching engine sees it (fed by a selector)."""

    id: int | str
    direction: Direction
    category: Category
    title: str
    description: str = ""
    industry_code: str = ""
    region_code: str = ""
    quantity: float | None = None
    unit: str = ""
    price_min: float | None = None
    price_max: float | None = None
    valid_until: date | None = None
    enterprise_id: int | str | None = None
    is_open: bool = True
    service_area: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be offer or need, not {self.direction!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")

    @property
    def opposite(self) -> str:
        """Return the direction this listing is matched against."""
        return "need" if self.direction == "offer" else "offer"

    def is_active(self, today: date) -> bool:
        """Tell whether the listing may appear in matches on the given day."""
        return self.is_open and (self.valid_until is None or self.valid_until >= today)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (dates as ISO strings)."""
        return {
            "id": self.id,
            "direction": self.direction,
            "category": self.category,
            "title": self.title,
            "description": self.description,
            "industry_code": self.industry_code,
            "region_code": self.region_code,
            "quantity": self.quantity,
            "unit": self.unit,
            "price_min": self.price_min,
            "price_max": self.price_max,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "enterprise_id": self.enterprise_id,
            "is_open": self.is_open,
            "service_area": self.service_area,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ListingDoc:
        """Build a listing from `to_json` output."""
        values = dict(data)
        if values.get("valid_until"):
            values["valid_until"] = date.fromisoformat(values["valid_until"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Reason:
    """Say why a listing matched, as a code plus parameters; the Django layer translates it."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Hold one ranked match: the other listing's id, a 0..1 score and the reasons."""

    listing_id: int | str
    score: float
    reasons: list[Reason] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "listing": self.listing_id,
            "score": round(self.score, 4),
            "reasons": [{"code": reason.code, **reason.params} for reason in self.reasons],
        }
