"""Background work for the exchange (django-tasks: in-process in tests and the demo, database queue in production)."""

from __future__ import annotations

from django_tasks import task


@task()
def index_listing(listing_id: int) -> int:
    """Embed and index a changed listing, then refresh its suggested matches (idempotent)."""
    from qiaoliang.exchange import matching_service

    return matching_service.refresh_listing(listing_id)


@task()
def notify_new_match(match_id: int) -> int:
    """Notify both sides of a strong new match (idempotent: once per match)."""
    from qiaoliang.exchange.notifications import notify_match

    return notify_match(match_id)
