"""Background work of the exchange (django-tasks: in-process in tests and the demo, database queue in production)."""

from __future__ import annotations

from qiaoliang.core.background import background
from qiaoliang.exchange import matching_service


@background("exchange.index_listing")
def index_listing(listing_id: int) -> int:
    """Embed and index a changed listing, then refresh its suggested matches (idempotent)."""
    return matching_service.refresh_listing(listing_id)


@background("exchange.suggest_matches")
def suggest_matches(listing_ids: list[int]) -> int:
    """Store the suggestions of a chunk of listings (an import's `--suggest`; one task per chunk)."""
    return matching_service.refresh_listings(listing_ids)
