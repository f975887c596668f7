"""Latency: freshness histogram quantiles and sinks' progress, as `newswire status` and
/api/status show them, from the metrics hash."""

from newswire.schemas.status import GroupStatus, LatencyStatus, SinkStatus
from newswire.services.metrics import (
    FRESHNESS_SECONDS,
    HISTOGRAM_PREFIX,
    LATENCY_SECONDS,
    SINK_EVENTS,
    Histogram,
    parse_field,
)


def quantile(h: Histogram, counts: dict[str, int], q: float) -> float | None:
    """The `q` quantile of `h` from its per-bucket counts (keyed by the bucket's `le`), by
    linear interpolation inside the bucket, as Prometheus' histogram_quantile does; the
    largest finite bound when it falls in +Inf; None without observations."""
    bounds = list(h.buckets)
    per_bucket = [counts.get(repr(b), 0) for b in bounds] + [counts.get("+Inf", 0)]
    total = sum(per_bucket)
    if not total:
        return None
    rank, seen, lower = q * total, 0, 0.0
    for upper, n in zip([*bounds, float("inf")], per_bucket, strict=True):
        if n and seen + n >= rank:
            if upper == float("inf"):
                return bounds[-1]
            return lower + (upper - lower) * (rank - seen) / n
        seen += n
        lower = upper
    return bounds[-1]


def latencies(raw: dict[str, int]) -> list[LatencyStatus]:
    """p50/p95 of publication-to-stream and poll-to-stream latency, from the metrics hash
    (cumulative since its counters began)."""
    result = []
    for h in (FRESHNESS_SECONDS, LATENCY_SECONDS):
        prefix = f"{HISTOGRAM_PREFIX}{h.name}:bucket|le="
        counts = {k.removeprefix(prefix): v for k, v in raw.items() if k.startswith(prefix)}
        result.append(
            LatencyStatus(
                name=h.name,
                count=sum(counts.values()),
                p50=quantile(h, counts, 0.5),
                p95=quantile(h, counts, 0.95),
            )
        )
    return result


def sinks(raw: dict[str, int], groups: list[GroupStatus]) -> list[SinkStatus]:
    """Each sink's written, refused and retried events, with its group's lag."""
    counts: dict[str, dict[str, int]] = {}
    for key, value in raw.items():
        if not key.startswith(f"{SINK_EVENTS}|"):
            continue
        _name, labels = parse_field(key)
        found = dict(labels)
        counts.setdefault(found.get("sink", "?"), {})[found.get("outcome", "?")] = value
    lags = {g.name: g.lag for g in groups}
    return [
        SinkStatus(name=name, written=c.get("written", 0), dead_letter=c.get("dead_letter", 0),
                   retried=c.get("retried", 0), lag=lags.get(f"sink-{name}"))
        for name, c in sorted(counts.items())
    ]  # fmt: skip
