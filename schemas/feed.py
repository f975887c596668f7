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


class FeedOptions(BaseModel):
    """How one feed is fetched and what its stories carry: set per feed with `feeds add` flags,
    or in a YAML/OPML feed list. Secrets (password, headers, cookies, a proxy's credentials)
    are kept for fetching and shown nowhere: see `redacted()`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra request headers, e.g. Authorization."
    )
    username: str | None = Field(default=None, description="HTTP basic auth user.")
    password: str | None = Field(default=None, description="HTTP basic auth password.")
    cookies: dict[str, str] = Field(default_factory=dict)
    user_agent: str | None = Field(default=None, description="Instead of NEWSWIRE_USER_AGENT.")
    proxy: str | None = Field(
        default=None, description="http://, https:// or socks5:// proxy for this feed's fetches."
    )
    fetch_pages: bool = Field(
        default=True, description="False: trust the feed's own full text, fetch no page."
    )
    language: str | None = Field(
        default=None, description="ISO 639-1 code for stories whose page and feed say none."
    )
    tags: list[str] = Field(default_factory=list, description="Copied to every Article.")
    robots_txt: bool | None = Field(
        default=None, description="Obey robots.txt for this feed; None: NEWSWIRE_ROBOTS_TXT."
    )

    def redacted(self) -> "FeedOptions":
        """The options with every secret value replaced by `***` (names kept)."""
        masked = "***"
        proxy = self.proxy
        if proxy and "@" in proxy.split("://", 1)[-1]:
            scheme, rest = proxy.split("://", 1) if "://" in proxy else ("", proxy)
            proxy = f"{scheme}://{masked}@{rest.rsplit('@', 1)[1]}"
        return self.model_copy(
            update={
                "headers": dict.fromkeys(self.headers, masked),
                "password": masked if self.password else None,
                "cookies": dict.fromkeys(self.cookies, masked),
                "proxy": proxy,
            }
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
    options: FeedOptions = Field(default_factory=FeedOptions)
    format: str | None = Field(
        default=None, description="The kind the last poll found: rss20, atom10, json11, sitemap..."
    )
