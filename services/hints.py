"""Server hints: Retry-After, Cache-Control max-age and RSS <ttl>, read without overflow, capped."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Any number a server sends is clamped to this before a setting caps it: ten years of seconds
# fit every later sum, float, millisecond product and Redis expiry.
CEILING = 10 * 365 * 86400
# More digits than this is beyond the ceiling anyway; int() of thousands of digits is slow
# (and refused above 4,300).
MAX_DIGITS = 12
DIGITS = re.compile(r"[0-9]+")
MAX_AGE = re.compile(r"max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)


def bounded_int(text: str) -> int | None:
    """The ASCII digits `text` is, clamped to CEILING; None for anything else (Unicode digits
    such as '²' included, which str.isdigit accepts and int refuses)."""
    text = text.strip()
    if not DIGITS.fullmatch(text):
        return None
    if len(text.lstrip("0")) > MAX_DIGITS:
        return CEILING
    return min(int(text), CEILING)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), clamped to
    CEILING; None when absent or unreadable."""
    if not value:
        return None
    seconds = bounded_int(value)
    if seconds is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, wait), float(CEILING))


def max_age(cache_control: str | None) -> int | None:
    """Cache-Control's max-age in seconds, clamped to CEILING."""
    match = MAX_AGE.search(cache_control or "")
    return bounded_int(match.group(1)) if match else None


def ttl_seconds(ttl: object) -> int | None:
    """RSS <ttl> (minutes) in seconds, clamped to CEILING."""
    minutes = bounded_int(str(ttl)) if ttl is not None else None
    return None if minutes is None else min(minutes * 60, CEILING)


@dataclass(frozen=True)
class Capped:
    """A server's number after its cap; `note` says what was asked when the cap applied."""

    seconds: float
    note: str | None = None


def cap(seconds: float, limit: float, what: str) -> Capped:
    """`seconds` at most `limit`, with a note naming `what` asked for more."""
    if seconds <= limit:
        return Capped(seconds)
    return Capped(limit, f"{what} {seconds:.0f}s capped to {limit:.0f}s")
