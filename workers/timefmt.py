"""Times for people: "3m ago", "in 20s", a UTC clock; used by the CLI and the status page."""

from datetime import UTC, datetime

from newswire.schemas.feed import FeedState


def ago(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    seconds = now - ts
    if seconds < 0:
        return f"in {-seconds:.0f}s" if seconds > -120 else f"in {-seconds / 60:.0f}m"
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


def utc_clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def span(seconds: float) -> str:
    """A duration: 45s, 12m, 6.0h, 3.5d."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def every(feed: FeedState) -> str:
    """How often a feed is polled: '900s', or for a learned interval '10s (learned, a story
    every ~20s)'."""
    interval = feed.polled_every
    if not feed.adaptive:
        return f"{interval}s"
    if feed.expected_gap is None:
        return f"{interval}s (learning)"
    return f"{span(interval)} (learned, a story every ~{span(feed.expected_gap)})"
