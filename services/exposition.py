"""Exposition: the counters and the status as Prometheus text format (version 0.0.4)."""

from collections import defaultdict

from schemas.status import Status
from services.metrics import ENTRIES, ROBOTS, parse_field

HELP = {
    "fetches": "HTTP fetches by kind (feed, page) and result class.",
    "entries": "Feed entries processed, by outcome (new, fell_back, updated, duplicate, rejected, "
    "failed).",
    "extractions": "Page extractions by result (full, too_short, failed).",
    ROBOTS: "Page and sitemap fetches robots.txt ruled out, by kind (page, sitemap).",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def sample_value(value: float) -> str:
    """A sample as Prometheus text: integers exactly (a counter of 12,345,678 is not
    `1.23457e+07`), other numbers in full precision."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 2**53):
        return str(int(value))
    return repr(float(value))


def render(counters: dict[str, int], status: Status) -> str:
    lines: list[str] = []
    families: dict[str, list[tuple[dict[str, str], int]]] = defaultdict(list)
    for raw, value in sorted(counters.items()):
        name, labels = parse_field(raw)
        families[name].append((labels, value))
    published = sum(
        v
        for labels, v in families.get(ENTRIES, [])
        if labels.get("outcome") in ("new", "fell_back")
    )

    def family(
        name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]
    ) -> None:
        lines.append(f"# HELP newswire_{name} {help_text}")
        lines.append(f"# TYPE newswire_{name} {kind}")
        suffix = "_total" if kind == "counter" else ""
        lines.extend(
            f"newswire_{name}{suffix}{_labels(labels)} {sample_value(value)}"
            for labels, value in samples
        )

    for name in ("fetches", "entries", "extractions", ROBOTS):
        family(name, "counter", HELP[name], list(families.get(name, [])))
    family(
        "articles_published",
        "counter",
        "Articles published (full or from the feed's text).",
        [({}, published)],
    )
    family(
        "workers_up",
        "gauge",
        "Workers with a fresh heartbeat.",
        [({}, sum(w.online for w in status.workers))],
    )
    family(
        "workers",
        "gauge",
        "Workers by state (online, reconnecting, stalled, offline, stopped).",
        [
            ({"state": state}, sum(w.state == state for w in status.workers))
            for state in ("online", "reconnecting", "stalled", "offline", "stopped")
        ],
    )
    family(
        "worker_restarts",
        "gauge",
        "Times `newswire up` restarted each worker.",
        [({"worker": w.name}, w.restarts) for w in status.workers],
    )
    family(
        "scheduler_restarts",
        "gauge",
        "Times `newswire up` restarted the scheduler.",
        [({}, status.scheduler.restarts)],
    )
    family(
        "worker_active_tasks",
        "gauge",
        "Tasks executing per worker.",
        [({"worker": w.name}, w.active) for w in status.workers if w.online],
    )
    family(
        "queue_length",
        "gauge",
        "Tasks waiting per queue.",
        [({"queue": q.name}, q.length) for q in status.queues],
    )
    family(
        "entries_pending",
        "gauge",
        "Entries handed on by polls and not yet settled.",
        [({}, status.pending_entries)],
    )
    family(
        "scheduler_up",
        "gauge",
        "1 when the active scheduler ticked recently.",
        [({}, int(status.scheduler.fresh))],
    )
    family(
        "stream_length",
        "gauge",
        "Entries in the stream.",
        [({"stream": s.name}, s.length) for s in status.streams],
    )
    family(
        "consumer_pending",
        "gauge",
        "Entries delivered to a group but not acked.",
        [
            ({"stream": s.name, "group": g.name}, g.pending)
            for s in status.streams
            for g in s.groups
        ],
    )
    family(
        "consumer_lag",
        "gauge",
        "Entries not yet delivered to a group.",
        [
            ({"stream": s.name, "group": g.name}, g.lag)
            for s in status.streams
            for g in s.groups
            if g.lag is not None
        ],
    )
    f = status.feeds
    family(
        "feeds",
        "gauge",
        "Registered feeds by health.",
        [({"health": h}, getattr(f, h)) for h in ("healthy", "backing_off", "failing", "disabled")],
    )
    family(
        "feed_staleness_seconds",
        "gauge",
        "Seconds since the least recently polled feed was polled.",
        [({}, f.stalest_poll_age)] if f.stalest_poll_age is not None else [],
    )
    family(
        "ready",
        "gauge",
        "1 when newswire is ready (Redis, a worker and the scheduler up).",
        [({}, int(status.ready))],
    )
    return "\n".join(lines) + "\n"
