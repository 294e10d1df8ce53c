"""Full-text search of listings: one Chinese tokeniser, the same results on SQLite and PostgreSQL.

Title and description are cut by the matching tokeniser (Traditional folded, HTML and full-width noise
removed, 2-character words such as 融资 and 口罩 kept, synonyms added in canonical form) and stored as
space-separated tokens in `Listing.search_tokens`. A query matches a listing when every query token is
one of its tokens:

- SQLite (embedded default): an FTS5 table with the `ascii` tokenizer (tokens only contain letters and
  digits, so a space is the only separator), kept in step by triggers;
- PostgreSQL: a GIN index on `string_to_array(search_tokens, ' ')` queried with `@>`.

Neither database parses Chinese itself, so both see exactly the same tokens.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from qiaoliang.exchange.matching.tokenizer import default_tokenizer


def query_tokens(query: str) -> list[str]:
    """Return the distinct canonical tokens of a search query."""
    tokenizer = default_tokenizer()
    tokens = []
    for term in tokenizer.query_terms(query):
        tokens.append(getattr(tokenizer, "synonyms", {}).get(term, term))
    return list(dict.fromkeys(tokens))[:12]


def index_tokens(text: str) -> str:
    """Return the stored token string of a text (every token and its canonical synonym, once)."""
    tokenizer = default_tokenizer()
    return " ".join(dict.fromkeys(tokenizer.tokenize(text)))


def search_listings(queryset: QuerySet, query: str) -> QuerySet:
    """Filter listings to those containing every token of the query."""
    tokens = query_tokens(query)
    if not tokens:
        return queryset if not query.strip() else queryset.none()
    if connection.vendor == "postgresql":
        return queryset.filter(
            pk__in=RawSQL(
                "SELECT id FROM exchange_listing WHERE string_to_array(search_tokens, ' ') @> %s::text[]",
                (tokens,),
            )
        )
    if connection.vendor == "sqlite":
        match = " AND ".join('"' + token.replace('"', '""') + '"' for token in tokens)
        return queryset.filter(
            pk__in=RawSQL("SELECT rowid FROM exchange_listing_fts WHERE exchange_listing_fts MATCH %s", (match,))
        )
    for token in tokens:  # any other database: correct, unindexed
        queryset = queryset.filter(search_tokens__regex=rf"(^| ){token}( |$)")
    return queryset
