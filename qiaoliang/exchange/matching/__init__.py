"""Matching engine core: pure Python + numpy, no Django models, no database (see README.md)."""

from .documents import CATEGORIES, DIRECTIONS, ListingDoc, MatchResult, Reason
from .engine import RANKERS, MatchingEngine, MatchParams
from .model import FEATURES, RankModel, default_model
from .tokenizer import Tokenizer, default_tokenizer, tokenize
from .vectors import E5Embedder, Embedder, HashEmbedder, VectorIndex

__all__ = [
    "CATEGORIES",
    "DIRECTIONS",
    "FEATURES",
    "RANKERS",
    "E5Embedder",
    "Embedder",
    "HashEmbedder",
    "ListingDoc",
    "MatchParams",
    "MatchResult",
    "MatchingEngine",
    "RankModel",
    "Reason",
    "Tokenizer",
    "VectorIndex",
    "default_model",
    "default_tokenizer",
    "tokenize",
]
