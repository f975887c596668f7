"""Feed entries as parsed from RSS/Atom bytes, before any page is fetched."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class FeedEntry(BaseModel):
    """One item of a feed: what the feed itself says about a story."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feed_url: str
    link: str | None = Field(default=None, description="Absolute link, resolved against xml:base.")
    guid: str | None = None
    title: str = ""
    summary: str = Field(default="", description="Plain text of the entry's summary or content.")
    authors: list[str] = Field(default_factory=list)
    published_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    tags: list[str] = Field(default_factory=list)
    image: str | None = None
    language: str | None = None


class ParsedFeed(BaseModel):
    """A whole feed: its own metadata, its entries, and whether the XML had to be salvaged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    title: str = ""
    site_url: str | None = None
    language: str | None = None
    format: str = Field(default="", description="feedparser's version string, e.g. 'rss20'.")
    ttl_seconds: int | None = Field(default=None, description="RSS <ttl>, in seconds.")
    salvaged: str | None = Field(
        default=None, description="Why the feed was not well-formed, when entries were salvaged."
    )
    cuts: list[str] = Field(
        default_factory=list, description="What was cut to the size limits, and where."
    )
    entries: list[FeedEntry] = Field(default_factory=list)
    sitemaps: list[str] = Field(
        default_factory=list, description="A sitemap index's child sitemaps (recent ones)."
    )


class FeedState(BaseModel):
    """A registered feed and its polling state, as the registry keeps it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    url: str
    interval: int = Field(description="Poll interval in seconds.")
    enabled: bool = True
    disabled_reason: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_due: float = Field(default=0.0, description="Unix time of the next poll.")
    last_polled: float | None = None
    last_status: str | None = Field(default=None, description="e.g. '200', '304', 'HTTP 429'.")
    last_error: str | None = None
    error_count: int = 0
    backoff_until: float | None = None
    min_interval: int | None = Field(default=None, description="Lower bound from <ttl>/max-age.")
    added_at: float = 0.0
