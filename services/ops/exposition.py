"""Exposition: Redis-kept counters, histograms and the status as a prometheus_client collector."""

from collections import defaultdict
from collections.abc import Callable, Iterator

from newswire.schemas.status import Status
from newswire.services.metrics import (
    CAPPED,
    CUTS,
    ENTRIES,
    EXTRACT_CPU,
    EXTRACTIONS,
    FETCHES,
    GIVEN_UP,
    HISTOGRAM_PREFIX,
    HISTOGRAMS,
    HUB_REQUESTS,
    INTENTS,
    INTERNAL_ERRORS,
    PUSHES,
    ROBOTS,
    SINK_EVENTS,
    Histogram,
    parse_field,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

COUNTERS = {
    FETCHES: ("HTTP fetches by kind (feed, page) and result class.", ("kind", "result")),
    ENTRIES: (
        "Feed entries processed, by outcome (new, fell_back, updated, duplicate, rejected, "
        "failed).",
        ("outcome",),
    ),
    EXTRACTIONS: (
        "Page extractions by result (full, too_short, wall, failed).",
        ("result",),
    ),
    ROBOTS: ("Page and sitemap fetches robots.txt ruled out, by kind (page, sitemap).", ("kind",)),
    INTERNAL_ERRORS: (
        "Failures no rule expected (a bug on odd input), recorded at the poll boundary, by "
        "where and the exception's type.",
        ("where", "kind"),
    ),
    CUTS: ("Fields cut to fit the stream entry size limits, by field.", ("field",)),
    CAPPED: (
        "Server hints (Retry-After, max-age, ttl) capped by the settings, by hint.",
        ("hint",),
    ),
    PUSHES: (
        "WebSub pushes received, by outcome (fat, light; refused: unsigned, bad_signature, "
        "too_large, rate_limited, unknown, inactive).",
        ("outcome",),
    ),
    INTENTS: (
        "WebSub verifications of intent, by mode and result (confirmed, refused).",
        ("mode", "result"),
    ),
    HUB_REQUESTS: (
        "Subscription requests sent to WebSub hubs, by mode and result (accepted, refused, "
        "failed).",
        ("mode", "result"),
    ),
    GIVEN_UP: (
        "Task messages the broker handed out more than 3 times without them finishing (a page "
        "that kills or outruns its worker), by what: a batch, split into single entries; an "
        "entry, published from the feed's own text without its page.",
        ("what",),
    ),
    SINK_EVENTS: (
        "Stream events a sink handled, by sink and outcome (written: confirmed by the target; "
        "dead_letter: refused by it for good; retried: a batch tried again, the target away).",
        ("sink", "outcome"),
    ),
}
WORKER_STATES = ("online", "reconnecting", "stalled", "offline", "stopped")
FEED_HEALTH = ("healthy", "backing_off", "failing", "disabled")

Labels = tuple[tuple[str, str], ...]


def _histogram(h: Histogram, fields: dict[str, dict[Labels, int]]) -> HistogramMetricFamily:
    """Cumulative buckets from the per-bucket counts; every bucket is exported, also empty ones
    (`histogram_quantile` needs them all)."""
    family = HistogramMetricFamily(f"newswire_{h.name}", h.help, labels=list(h.labels))
    base = f"{HISTOGRAM_PREFIX}{h.name}"
    buckets = fields.get(f"{base}:bucket", {})
    for labels, count in sorted(fields.get(f"{base}:count", {}).items()):
        cumulative, rows = 0, []
        for bound in [*map(repr, h.buckets), "+Inf"]:
            cumulative += buckets.get(tuple(sorted([*labels, ("le", bound)])), 0)
            rows.append((bound, float(cumulative)))
        rows[-1] = ("+Inf", float(count))  # the count is the truth if a bucket flush was lost
        label_values = [dict(labels).get(name, "") for name in h.labels]
        sum_us = fields.get(f"{base}:sum_us", {}).get(labels, 0)
        family.add_metric(label_values, rows, sum_us / 1e6)
    return family


def gauge(name: str, help_text: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"newswire_{name}", help_text, labels=labels)


class NewswireCollector(Collector):
    """Reads everything at scrape time: counters and histograms from the metrics hash (exact
    integers: prometheus_client writes 12345678 as 1.2345678e+07, which parses back exactly),
    gauges from the status. `read_counters` and `read_status` are the Redis seams; the trim
    length is exported so an alert can compare a group's lag with it."""

    def __init__(
        self,
        read_counters: Callable[[], dict[str, int]],
        read_status: Callable[[], Status],
        stream_maxlen: int,
    ) -> None:
        self.read_counters = read_counters
        self.read_status = read_status
        self.stream_maxlen = stream_maxlen

    def collect(self) -> Iterator[Metric]:
        raw = self.read_counters()
        status = self.read_status()
        fields: dict[str, dict[Labels, int]] = defaultdict(dict)
        for key, value in raw.items():
            name, labels = parse_field(key)
            fields[name][tuple(sorted(labels.items()))] = value
        yield from self._counters(fields)
        for h in HISTOGRAMS:
            yield _histogram(h, fields)
        yield from self._gauges(status)

    def _counters(self, fields: dict[str, dict[Labels, int]]) -> Iterator[Metric]:
        for name, (help_text, label_names) in COUNTERS.items():
            family = CounterMetricFamily(f"newswire_{name}", help_text, labels=list(label_names))
            for labels, value in sorted(fields.get(name, {}).items()):
                family.add_metric([dict(labels).get(n, "") for n in label_names], value)
            yield family
        published = sum(
            v
            for labels, v in fields.get(ENTRIES, {}).items()
            if dict(labels).get("outcome") in ("new", "fell_back")
        )
        yield CounterMetricFamily(
            "newswire_articles_published",
            "Articles published (full or from the feed's text).",
            value=published,
        )
        yield CounterMetricFamily(
            "newswire_extraction_cpu_seconds",
            "CPU seconds the extracting threads spent decoding and extracting pages. Beside "
            "newswire_extraction_duration_seconds_sum (the clock, which also counts waiting for "
            "a core) it shows how oversubscribed the workers are; beside the workers' own CPU, "
            "what share of it extraction takes.",
            value=fields.get(EXTRACT_CPU, {}).get((), 0) / 1e6,
        )

    def _gauges(self, status: Status) -> Iterator[Metric]:
        g = gauge("workers_up", "Workers with a fresh heartbeat.")
        g.add_metric([], sum(w.online for w in status.workers))
        yield g
        g = gauge("workers", f"Workers by state ({', '.join(WORKER_STATES)}).", ["state"])
        for state in WORKER_STATES:
            g.add_metric([state], sum(w.state == state for w in status.workers))
        yield g
        g = gauge("worker_restarts", "Times `newswire up` restarted each worker.", ["worker"])
        for w in status.workers:
            g.add_metric([w.name], w.restarts)
        yield g
        g = gauge("scheduler_restarts", "Times `newswire up` restarted the scheduler.")
        g.add_metric([], status.scheduler.restarts)
        yield g
        g = gauge("worker_active_tasks", "Tasks executing per worker.", ["worker"])
        for w in status.workers:
            if w.online:
                g.add_metric([w.name], w.active)
        yield g
        g = gauge("queue_length", "Tasks waiting per queue.", ["queue"])
        for q in status.queues:
            g.add_metric([q.name], q.length)
        yield g
        g = gauge("entries_pending", "Entries handed on by polls and not yet settled.")
        g.add_metric([], status.pending_entries)
        yield g
        g = gauge("scheduler_up", "1 when the active scheduler ticked recently.")
        g.add_metric([], int(status.scheduler.fresh))
        yield g
        g = gauge("stream_length", "Entries in the stream.", ["stream"])
        for s in status.streams:
            g.add_metric([s.name], s.length)
        yield g
        g = gauge("stream_max_length", "The stream's trim length (NEWSWIRE_STREAM_MAXLEN).")
        g.add_metric([], self.stream_maxlen)
        yield g
        g = gauge(
            "consumer_pending", "Entries delivered to a group but not acked.", ["stream", "group"]
        )
        for s in status.streams:
            for grp in s.groups:
                g.add_metric([s.name, grp.name], grp.pending)
        yield g
        g = gauge("consumer_lag", "Entries not yet delivered to a group.", ["stream", "group"])
        for s in status.streams:
            for grp in s.groups:
                if grp.lag is not None:
                    g.add_metric([s.name, grp.name], grp.lag)
        yield g
        yield from self._feed_gauges(status)
        g = gauge("ready", "1 when newswire is ready (Redis, a worker and the scheduler up).")
        g.add_metric([], int(status.ready))
        yield g

    def _feed_gauges(self, status: Status) -> Iterator[Metric]:
        f = status.feeds
        g = gauge("feeds", "Registered feeds by health.", ["health"])
        for health in FEED_HEALTH:
            g.add_metric([health], getattr(f, health))
        yield g
        g = gauge(
            "feeds_by_interval",
            "Enabled feeds by poll interval (learned or fixed, TTL applied): seconds, upper bound.",
            ["le"],
        )
        for bound, n in f.intervals.items():
            g.add_metric([bound], n)
        yield g
        g = gauge("feeds_adaptive", "Enabled feeds whose interval is learned from their stories.")
        g.add_metric([], f.adaptive)
        yield g
        g = gauge("websub_subscriptions", "WebSub subscriptions by state.", ["state"])
        for state in ("subscribing", "active", "unsubscribing", "refused", "failed"):
            g.add_metric([state], f.websub.get(state, 0))
        yield g
        g = gauge(
            "feed_staleness_seconds", "Seconds since the least recently polled feed was polled."
        )
        if f.stalest_poll_age is not None:
            g.add_metric([], f.stalest_poll_age)
        yield g
