"""URL identity: canonical form of a story link (tracking parameters and fragments removed)."""

import hashlib
import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Parameters that identify a click or campaign, never a story. Anything else is kept:
# `story.php?id=101` and `?id=102` are different stories.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "twclid", "ttclid", "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "ncid", "ocid",
        "cmpid", "sr_share", "__twitter_impression", "wt.mc_id", "at_medium", "at_campaign",
        "ito", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        "feature", "smid", "spm",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
WWW = re.compile(r"^www\d?\.")


def is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def clean_url(url: str) -> str:
    """The link without tracking parameters or fragment, scheme and host lower-cased.

    Pure string work: the story identity of a link before anything is fetched.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    # Raw pairs are kept as written: re-encoding could change what the server sees.
    kept = [pair for pair in parts.query.split("&") if pair and not is_tracking(_name(pair))]
    return urlunsplit((scheme, host, parts.path or "/", "&".join(kept), ""))


def _name(pair: str) -> str:
    return unquote_plus(pair.split("=", 1)[0])


def site_of(url: str) -> str:
    """Host without a leading www., the unit 'same site' compares."""
    return WWW.sub("", (urlsplit(url).hostname or "").lower())


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
        candidate = urljoin(fetched_url, page_canonical)
        if urlsplit(candidate).scheme in DEFAULT_PORTS and same_site(candidate, fetched_url):
            return clean_url(candidate)
    return clean_url(fetched_url)


def story_id(canonical: str) -> str:
    """Stable story id: the first 32 hex digits of sha256 of the canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
