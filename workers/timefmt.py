"""Times for people: "3m ago", "in 20s", a UTC clock; used by the CLI and the status page."""

from datetime import UTC, datetime


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
