"""Latency: freshness histogram quantiles, as `newswire status` and /api/status show them."""

from newswire.schemas.status import LatencyStatus
from newswire.services.metrics import (
    FRESHNESS_SECONDS,
    HISTOGRAM_PREFIX,
    LATENCY_SECONDS,
    Histogram,
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
