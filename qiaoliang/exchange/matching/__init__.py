"""Matching engine core: pure Python + numpy, no Django models, no database (see README.md)."""

from .documents import CATEGORIES, DIRECTIONS, ListingDoc, MatchResult, Reason
from .engine import RANKERS, MatchingEngine, MatchParams
from .tokenizer import Tokenizer, default_tokenizer, tokenize
from .vectors import E5Embedder, Embedder, HashEmbedder, VectorIndex

__all__ = [
    "CATEGORIES",
    "DIRECTIONS",
    "RANKERS",
    "E5Embedder",
    "Embedder",
    "HashEmbedder",
    "ListingDoc",
    "MatchParams",
    "MatchResult",
    "MatchingEngine",
    "Reason",
    "Tokenizer",
    "VectorIndex",
    "default_tokenizer",
    "tokenize",
]
