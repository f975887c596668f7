"""URL identity: canonical form of a story link (tracking parameters and fragments removed)."""

import hashlib
import re
from functools import lru_cache
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

from newswire.services.identity.clearurls import bundled_rules

# Parameters that news links carry for attribution and that ClearURLs' global rules leave in
# (they are site-specific there, or not listed): never part of a story's identity. Everything
# else is kept: `story.php?id=101` and `?id=102` are different stories.
NEWS_TRACKING = re.compile(
    r"source|src|xtor|at_[a-z0-9_]+|cmp|ito|ns_[a-z_]+|ocid|ncid|smid|sr_share|feature|via|rss"
    r"|partner|traffic_source|guccounter|guce_[a-z_]+|igshid|gclsrc|gbraid|wbraid|ttclid"
    r"|li_fat_id|_hsmi|pk_[a-z_]+|hsa_[a-z_]+|wt\.mc_[a-z]+|dicbo|share|shared|sh|social",
    re.IGNORECASE,
)
# Parameters that only select the AMP rendering of the same story.
AMP_PARAMS = re.compile(
    r"(?:outputtype|output)=amp|_?amp(?:=(?:1|true|yes|amp)?)?|usqp=[^&]*", re.I
)
# Host labels that name another rendering of the same site: www2.example.com, m., amp.
RENDERING_HOST = re.compile(r"^(?:www\d?|m|mobile|amp)\.(?=[^.]+\.)")
INDEX_PAGE = re.compile(r"/(?:index|default)\.(?:html?|shtml|php|aspx?)$", re.IGNORECASE)
AMP_SUFFIX = re.compile(r"\.amp(?=\.html?$)|\.amp$", re.IGNORECASE)
ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
DEFAULT_PORTS = {"http": 80, "https": 443}
WWW = re.compile(r"^www\d?\.")


def _escape(match: re.Match[str]) -> str:
    char = chr(int(match.group()[1:], 16))
    return char if char in UNRESERVED else match.group().upper()


def normalize_escapes(text: str) -> str:
    """RFC 3986 normalization: escaped unreserved characters decoded (`%7E` is `~`), other
    escapes in upper case, raw non-ASCII characters escaped as UTF-8."""
    text = ESCAPE.sub(_escape, text)
    if text.isascii():
        return text
    return quote(text, safe="".join(chr(c) for c in range(33, 127)))


def tracking_flags(names: list[str], url: str, host: str) -> list[bool]:
    """For each parameter name of `url`, whether it never identifies content: ClearURLs' rules
    (global and the site's own), then the news parameters they leave in."""
    decoded = [unquote_plus(n) for n in names]
    flags = bundled_rules().is_tracking(decoded, url, host)
    return [f or bool(NEWS_TRACKING.fullmatch(n)) for f, n in zip(flags, decoded, strict=True)]


@lru_cache(maxsize=8192)
def clean_url(url: str) -> str:
    """The link without tracking parameters or fragment: scheme and host lower-cased, default
    port dropped, percent-escapes normalized. Still the address to fetch.

    Pure string work: the story identity of a link before anything is fetched.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()  # a bracketed host that is no address: an identity, never fetched
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    try:
        port = parts.port
    except ValueError:
        # Out of range (`host:99999`): kept as written. The link still names one story, and
        # the SSRF guard refuses it before any fetch; identity must never raise.
        port = None
        host = parts.netloc.rsplit("@", 1)[-1].lower()
    if port and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    # Raw pairs are kept as written (escapes normalized): re-encoding could change what the
    # server sees.
    pairs = [pair for pair in parts.query.split("&") if pair]
    names = [pair.split("=", 1)[0] for pair in pairs]
    flags = tracking_flags(names, url, host) if pairs else []
    kept = [normalize_escapes(p) for p, drop in zip(pairs, flags, strict=True) if not drop]
    return urlunsplit((scheme, host, normalize_escapes(parts.path) or "/", "&".join(kept), ""))


def identity_site(host: str) -> str:
    """A host without the label that only names a rendering (www., m., amp.)."""
    return RENDERING_HOST.sub("", host.lower())


@lru_cache(maxsize=8192)
def identity_key(url: str) -> str:
    """What makes two links the same story: the cleaned link without scheme, without the
    www./m./amp. host label, AMP path segments and parameters, index page or trailing slash,
    with its parameters sorted. Not an address (nothing is fetched from it), a key."""
    cleaned = clean_url(url)
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return cleaned
    host = identity_site(parts.netloc)
    segments = [s for s in parts.path.split("/") if s.lower() != "amp"]
    path = INDEX_PAGE.sub("/", AMP_SUFFIX.sub("", "/".join(segments))).rstrip("/")
    pairs = sorted(p for p in parts.query.split("&") if p and not AMP_PARAMS.fullmatch(p))
    return f"{host}{path or '/'}" + (f"?{'&'.join(pairs)}" if pairs else "")


def site_of(url: str) -> str:
    """Host without a leading www., the unit 'same site' compares."""
    return WWW.sub("", (urlsplit(url).hostname or "").lower())


def origin(url: str) -> str | None:
    """The URL's origin (RFC 6454): `scheme://host:port`, scheme and host lower-cased, the
    port always written (80/443 by default), an IPv6 host in brackets; None when the URL has
    no http(s) origin (another scheme, no host, a port out of range)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or DEFAULT_PORTS[scheme]}"


def same_site(a: str, b: str) -> bool:
    """True when the hosts are equal or one is a subdomain of the other (www. ignored)."""
    site_a, site_b = site_of(a), site_of(b)
    if not site_a or not site_b:
        return False
    return site_a == site_b or site_a.endswith("." + site_b) or site_b.endswith("." + site_a)


def canonical_url(fetched_url: str, page_canonical: str | None) -> str:
    """The page's rel=canonical when it is http(s) on the same site, else the fetched URL; cleaned.

    A canonical pointing at another site is ignored: a stranger's page must not be able to
    claim (and so suppress, by dedup) another publisher's story.
    """
    if page_canonical:
        try:
            candidate = urljoin(fetched_url, page_canonical)
            if urlsplit(candidate).scheme in DEFAULT_PORTS and same_site(candidate, fetched_url):
                return clean_url(candidate)
        except ValueError:
            pass  # a canonical the URL parser refuses (http://[zz]/): the page's claim is void
    return clean_url(fetched_url)


def web_url(link: str | None, base: str | None) -> str | None:
    """`link` resolved against `base` when it is an http(s) URL the parser accepts, else None
    (a page's og:image is a stranger's words too)."""
    if not link:
        return None
    try:
        resolved = urljoin(base or "", link.strip())
        return resolved if urlsplit(resolved).scheme in DEFAULT_PORTS else None
    except ValueError:
        return None


def story_id(url: str) -> str:
    """Stable story id: the first 32 hex digits of sha256 of the link's identity key."""
    return hashlib.sha256(identity_key(url).encode("utf-8")).hexdigest()[:32]


def legacy_story_id(url: str) -> str:
    """The id newswire 0.2 gave a link (sha256 of the cleaned URL itself). Only read, never
    written: a story seen before the upgrade stays seen until its keys expire."""
    return hashlib.sha256(clean_url(url).encode("utf-8")).hexdigest()[:32]
