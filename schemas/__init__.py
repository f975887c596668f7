"""The wire contract: pydantic models that cross process and language boundaries."""

from newswire.schemas.article import SCHEMA_VERSION, Article, Extraction
from newswire.schemas.feed import FeedEntry, FeedState, ParsedFeed
from newswire.schemas.rejected import RejectedLink
from newswire.schemas.status import Status

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
