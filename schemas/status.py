"""Status report: what `newswire status --json` and the monitor's /api/status return."""

from typing import Literal

from pydantic import BaseModel, Field

# online: consuming tasks; reconnecting: its consumer lost the broker and is getting it back;
# stalled: not consuming for longer than NEWSWIRE_WORKER_STALL_SECONDS, or than
# NEWSWIRE_WORKER_WEDGE_SECONDS while Redis answers (it exits); offline: no
# heartbeat for a while (dead or cut off); stopped: shut down cleanly.
WorkerState = Literal["online", "reconnecting", "stalled", "offline", "stopped"]
FeedHealth = Literal["healthy", "backing_off", "failing", "disabled"]


class WorkerStatus(BaseModel):
    name: str
    state: WorkerState
    online: bool
    active: int = Field(description="Tasks executing now.")
    processed: int = Field(description="Tasks finished since the worker started.")
    pool: int = Field(description="Pool size (concurrency).")
    pid: int | None = None
    started_at: float | None = None
    last_heartbeat: float | None = None
    not_consuming_since: float | None = Field(
        default=None, description="While reconnecting or stalled: since when (unix time)."
    )
    restarts: int = Field(default=0, description="Times `newswire up` restarted this worker.")
    allocator: str | None = Field(
        default=None, description="The memory allocator it runs under: jemalloc, mimalloc, system."
    )


class QueueStatus(BaseModel):
    name: str
    length: int


class SchedulerStatus(BaseModel):
    active_instance: str | None
    last_tick: float | None
    fresh: bool = Field(description="The active scheduler ticked recently.")
    restarts: int = Field(default=0, description="Times `newswire up` restarted it.")


class GroupStatus(BaseModel):
    name: str
    consumers: int
    pending: int
    lag: int | None = Field(description="Entries not yet delivered to the group (None: unknown).")
    last_delivered_id: str


class StreamStatus(BaseModel):
    name: str
    length: int
    first_entry_at: float | None
    last_entry_at: float | None
    groups: list[GroupStatus] = Field(default_factory=list)
    per_minute: list[int] = Field(
        default_factory=list,
        description="Entries added per minute, the last 60 minutes, oldest first.",
    )


class FeedProblem(BaseModel):
    url: str
    health: FeedHealth
    error_count: int
    last_error: str | None
    last_error_kind: str | None = Field(
        default=None, description="The last error's stable kind (timeout, http_5xx, ...)."
    )
    next_attempt: float | None


class FeedsStatus(BaseModel):
    total: int
    healthy: int
    backing_off: int
    failing: int
    disabled: int
    stalest_poll_age: float | None = Field(description="Seconds since the least recent poll.")
    worst: list[FeedProblem] = Field(default_factory=list)
    adaptive: int = Field(default=0, description="Enabled feeds whose interval is learned.")
    websub: dict[str, int] = Field(
        default_factory=dict,
        description="WebSub subscriptions by state (subscribing, active, unsubscribing, refused, "
        "failed); active ones are pushed to us and polled only as a safety net.",
    )
    intervals: dict[str, int] = Field(
        default_factory=dict,
        description="Enabled feeds by poll interval: upper bound in seconds ('+Inf' last) to "
        "how many feeds poll at most that often (not cumulative).",
    )


class LatencyStatus(BaseModel):
    """Quantiles of one latency histogram, since its counters began."""

    name: str = Field(
        description="publication_latency_seconds (a story's own time to the stream) or "
        "entry_latency_seconds (the poll that saw it to the stream)."
    )
    count: int
    p50: float | None = Field(description="Seconds; None without observations.")
    p95: float | None


class SinkStatus(BaseModel):
    """One sink (`newswire sink KIND`): its events so far, and how far behind it is."""

    name: str = Field(description="The sink's kind: postgres, webhook, nats.")
    written: int = Field(description="Events the target confirmed, since the counters began.")
    dead_letter: int = Field(description="Events the target refused for good (dead letters).")
    retried: int = Field(description="Events of batches tried again while the target was away.")
    lag: int | None = Field(
        default=None, description="Entries its group (sink-<name>) has not been given yet."
    )


class Status(BaseModel):
    generated_at: float
    ready: bool
    reasons: list[str] = Field(default_factory=list, description="Why not ready, if not.")
    workers: list[WorkerStatus]
    queues: list[QueueStatus]
    pending_entries: int = Field(
        default=0,
        description="Entries handed on by polls and not yet settled (queued, running or lost "
        "and awaiting redelivery).",
    )
    scheduler: SchedulerStatus
    streams: list[StreamStatus]
    feeds: FeedsStatus
    latency: list[LatencyStatus] = Field(
        default_factory=list, description="How late stories reach the stream (p50, p95)."
    )
    sinks: list[SinkStatus] = Field(
        default_factory=list, description="Sinks that have counted events, with their lag."
    )


class Readiness(BaseModel):
    """The monitor's /readyz answer (HTTP 200 when ready, 503 when not)."""

    ready: bool
    reasons: list[str] = Field(default_factory=list, description="Why not ready, if not.")


class ApiError(BaseModel):
    """The body of the monitor's error answers (401 without credentials, 503 without Redis)."""

    detail: str


class FeedSchedule(BaseModel):
    """One feed's schedule: how often it is polled and why."""

    url: str = Field(description="The feed's URL, credentials masked.")
    health: FeedHealth
    kind: str | None = Field(description="What the last poll found: rss20, atom10, json11...")
    adaptive: bool = Field(description="The interval is learned from the feed's publishing.")
    interval: int = Field(description="Seconds between polls, TTL and max-age applied.")
    expected_gap: float | None = Field(description="Seconds between its stories, as learned.")
    learned_from: str | None = Field(description="What the interval was learned from.")
    hub: str | None = Field(default=None, description="The WebSub hub the feed names, if any.")
    last_polled: float | None
    last_status: str | None
    next_poll: float | None = Field(description="Unix time of the next poll; None: disabled.")


class FeedsPage(BaseModel):
    """A page of the registered feeds, by URL."""

    total: int
    offset: int
    feeds: list[FeedSchedule]
