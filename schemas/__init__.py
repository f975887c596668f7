"""The wire contract: pydantic models that cross process and language boundaries."""

from schemas.article import SCHEMA_VERSION, Article, Extraction
from schemas.feed import FeedEntry, FeedState, ParsedFeed
from schemas.rejected import RejectedLink
from schemas.status import Status

__all__ = [
    "SCHEMA_VERSION",
    "Article",
    "Extraction",
    "FeedEntry",
    "FeedState",
    "ParsedFeed",
    "RejectedLink",
    "Status",
]
