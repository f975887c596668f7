"""Feed entries as parsed from RSS/Atom bytes, before any page is fetched."""

import re
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# RFC 9110 field names (tokens) and values (visible ASCII, space and tab: no CR, LF or NUL,
# so no header can be smuggled in); RFC 6265 cookie values.
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")
FIELD_VALUE = re.compile(r"[\x20-\x7e\t]*")
COOKIE_VALUE = re.compile(r'"?[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"?')
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,6}")
# Framing and hop-by-hop headers are the HTTP client's to write: set per feed they would
# desynchronize the connection (Content-Length, Transfer-Encoding) or redirect it (Host).
FORBIDDEN_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
    "te", "trailer", "proxy-connection", "expect",
})  # fmt: skip
PROXY_SCHEMES = frozenset({"http", "https", "socks5", "socks5h"})
MAX_OPTION_ITEMS = 32
MAX_VALUE_CHARS = 8192


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


class SkippedItem(BaseModel):
    """An item of a feed that could not become an entry (a field of the wrong type, say), and
    why: the item's recorded outcome, while the feed's other items go on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    link: str | None = None
    guid: str | None = None
    title: str = ""
    reason: str
    kind: str = Field(description="Why, for programs: e.g. 'malformed_item'.")


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
    skipped: list[SkippedItem] = Field(
        default_factory=list, description="Items that could not become entries, with why."
    )
    sitemaps: list[str] = Field(
        default_factory=list, description="A sitemap index's child sitemaps (recent ones)."
    )
    hubs: list[str] = Field(
        default_factory=list, description="WebSub hubs the feed names (rel=hub links, `hubs`)."
    )
    self_url: str | None = Field(
        default=None, description="The feed's own address as it states it (rel=self, `feed_url`)."
    )


class FeedOptions(BaseModel):
    """How one feed is fetched and what its stories carry: set per feed with `feeds add` flags,
    or in a YAML/OPML feed list. Secrets (password, headers, cookies, a proxy's credentials)
    are kept for fetching and shown nowhere: see `redacted()`."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra request headers, e.g. Authorization."
    )
    username: str | None = Field(default=None, description="HTTP basic auth user.")
    password: str | None = Field(default=None, description="HTTP basic auth password.")
    cookies: dict[str, str] = Field(default_factory=dict)
    credential_origins: list[str] = Field(
        default_factory=list,
        description="Other origins (https://host[:port]) that get the credentials too; the "
        "feed's own origin always does.",
    )
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

    # Messages name the problem, never the value: a value may be a secret.
    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_OPTION_ITEMS:
            raise ValueError(f"at most {MAX_OPTION_ITEMS} headers")
        for name, text in value.items():
            if not TOKEN.fullmatch(name):
                raise ValueError("a header name must be an RFC 9110 token (letters, digits, -)")
            if name.lower() in FORBIDDEN_HEADERS:
                raise ValueError(f"header {name} is the HTTP client's own and cannot be set")
            _field_value(text, f"header {name}")
        return value

    @field_validator("cookies")
    @classmethod
    def _cookies(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_OPTION_ITEMS:
            raise ValueError(f"at most {MAX_OPTION_ITEMS} cookies")
        for name, text in value.items():
            if not TOKEN.fullmatch(name):
                raise ValueError("a cookie name must be an RFC 6265 token (letters, digits, -)")
            if len(text) > MAX_VALUE_CHARS or not COOKIE_VALUE.fullmatch(text):
                raise ValueError(
                    f"cookie {name}: the value must be printable ASCII without spaces, quotes, "
                    "commas, semicolons or backslashes (RFC 6265)"
                )
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is not None and ":" in value:
            raise ValueError("a basic-auth user name cannot contain ':'")
        return value if value is None else _no_controls(value, "the basic-auth user name")

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        return value if value is None else _no_controls(value, "the basic-auth password")

    @field_validator("user_agent")
    @classmethod
    def _user_agent(cls, value: str | None) -> str | None:
        return value if value is None else _field_value(value, "the user agent")

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _no_controls(value, "the proxy")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 -- raises ValueError on a port out of range
        except ValueError:
            raise ValueError("the proxy URL is malformed (a port is 1-65535)") from None
        if parts.scheme.lower() not in PROXY_SCHEMES:
            raise ValueError("a proxy is http://, https://, socks5:// or socks5h://host:port")
        if not parts.hostname:
            raise ValueError("the proxy URL has no host")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and not LANGUAGE_TAG.fullmatch(value):
            raise ValueError("a language is a code such as en, de or pt-BR")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if len(value) > 50 or any(len(t) > 200 for t in value):
            raise ValueError("at most 50 tags of at most 200 characters")
        return value

    @field_validator("credential_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_OPTION_ITEMS:
            raise ValueError(f"at most {MAX_OPTION_ITEMS} credential origins")
        for item in value:
            try:
                parts = urlsplit(item)
                parts.port  # noqa: B018 -- raises ValueError on a port out of range
            except ValueError:
                raise ValueError(f"{item[:100]!r} is not an origin") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{item[:100]!r} is not an origin such as https://host:8443")
            if parts.path not in ("", "/") or parts.query or parts.username:
                raise ValueError(f"{item[:100]!r}: an origin is scheme://host[:port], no path")
        return value

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


def _no_controls(value: str, what: str) -> str:
    if len(value) > MAX_VALUE_CHARS or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"{what} must not contain control characters (CR, LF, NUL...)")
    return value


def _field_value(value: str, what: str) -> str:
    if len(value) > MAX_VALUE_CHARS or not FIELD_VALUE.fullmatch(value):
        raise ValueError(
            f"{what}: the value must be printable ASCII, no control characters (RFC 9110)"
        )
    return value


class FeedState(BaseModel):
    """A registered feed and its polling state, as the registry keeps it."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    id: str
    url: str
    interval: int = Field(
        ge=0, description="Poll interval in seconds (for an adaptive feed: the learned one)."
    )
    adaptive: bool = Field(
        default=False,
        description="The interval is learned from the feed's own publishing (registered "
        "without an interval).",
    )
    expected_gap: float | None = Field(
        default=None, description="Seconds between the feed's stories, as learned (smoothed)."
    )
    newest_entry_at: float | None = Field(
        default=None, description="Unix time of the newest story the feed has shown."
    )
    learned_from: str | None = Field(
        default=None, description="What the learned interval came from, for people."
    )
    body_hash: str | None = Field(
        default=None, description="Digest of the last feed body read: the same body is not parsed."
    )
    enabled: bool = True
    disabled_reason: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_due: float = Field(default=0.0, description="Unix time of the next poll.")
    last_polled: float | None = None
    last_status: str | None = Field(default=None, description="e.g. '200', '304', 'HTTP 429'.")
    last_error: str | None = None
    last_error_kind: str | None = Field(
        default=None,
        description="Why the last poll failed, for programs: a fetch kind (timeout, http_5xx, "
        "refused...), time_limit or internal_error.",
    )
    error_count: int = 0
    backoff_until: float | None = None
    min_interval: int | None = Field(default=None, description="Lower bound from <ttl>/max-age.")
    note: str | None = Field(
        default=None, description="What the last poll's server asked beyond a cap, if it did."
    )
    added_at: float = 0.0
    options: FeedOptions = Field(default_factory=FeedOptions)
    format: str | None = Field(
        default=None, description="The kind the last poll found: rss20, atom10, json11, sitemap..."
    )
    hub: str | None = Field(default=None, description="The WebSub hub the feed names, if any.")
    topic: str | None = Field(
        default=None, description="The feed's WebSub topic (its rel=self), with a hub."
    )
    site_url: str | None = Field(default=None, description="The site the feed says it is of.")

    @property
    def polled_every(self) -> int:
        """Seconds between polls as scheduled: the interval, or the server's TTL/max-age
        when that is longer."""
        return max(self.interval, self.min_interval or 0)
