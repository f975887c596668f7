"""Status: one consistent picture of workers, queues, scheduler, streams and feeds from Redis."""

import json
import time
from typing import Any

import redis
from newswire.schemas.feed import FeedState
from newswire.schemas.status import (
    FeedHealth,
    FeedProblem,
    FeedSchedule,
    FeedsPage,
    FeedsStatus,
    GroupStatus,
    QueueStatus,
    SchedulerStatus,
    Status,
    StreamStatus,
    WorkerState,
    WorkerStatus,
)
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.metrics import Metrics
from newswire.services.ops.latency import latencies, sinks
from newswire.services.polling.pending import PendingLedger
from newswire.services.polling.registry import Registry
from newswire.services.push.subscriptions import Subscriptions
from newswire.services.redact import redact_url
from newswire.services.settings import Settings

WORKER_STALE = 10.0  # seconds without a heartbeat before a worker counts as offline
FAILING_AFTER = 3  # consecutive errors before a backing-off feed counts as failing
WORST = 10


def feed_health(feed: FeedState) -> FeedHealth:
    if not feed.enabled:
        return "disabled"
    if feed.error_count == 0:
        return "healthy"
    return "failing" if feed.error_count >= FAILING_AFTER else "backing_off"


def _id_time(entry_id: bytes | str | None) -> float | None:
    if not entry_id:
        return None
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-")[0]) / 1000


def not_ready_reasons(
    workers: list[WorkerStatus], scheduler: SchedulerStatus, now: float
) -> list[str]:
    """Ready means at least one worker online, none stalled, and a scheduler ticking."""
    reasons = []
    if not any(w.online for w in workers):
        reasons.append("no worker online")
    for w in workers:
        if w.state == "stalled":
            since = now - (w.not_consuming_since or now)
            reasons.append(
                f"worker {w.name} stalled: its consumer has not consumed for {since:.0f}s"
            )
    if not scheduler.fresh:
        reasons.append("no scheduler heartbeat in the last ticks")
    return reasons


INTERVAL_BUCKETS = (30, 60, 300, 900, 3600, 21600)  # seconds


def interval_buckets(intervals: list[int]) -> dict[str, int]:
    """How many feeds poll within each bound (each counted once, in the first that holds it)."""
    counts = dict.fromkeys([*map(str, INTERVAL_BUCKETS), "+Inf"], 0)
    for interval in intervals:
        bound = next((b for b in INTERVAL_BUCKETS if interval <= b), None)
        counts[str(bound) if bound is not None else "+Inf"] += 1
    return counts


class StatusReader:
    """Reads everything `newswire status` shows; no broadcast to workers, Redis only."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings

    def readiness(self, now: float | None = None) -> list[str]:
        """Why newswire is not ready (empty when it is): cheap enough for a health probe."""
        now = time.time() if now is None else now
        with redis_errors("status read"):
            return not_ready_reasons(self.workers(now), self.scheduler(now), now)

    def collect(self, now: float | None = None) -> Status:
        now = time.time() if now is None else now
        with redis_errors("status read"):
            workers = self.workers(now)
            scheduler = self.scheduler(now)
            stream = self.stream(self._settings.stream, now)
            raw = Metrics(self._redis, self._settings.key_prefix).read()
            status = Status(
                generated_at=now,
                ready=False,
                workers=workers,
                queues=self.queues(),
                pending_entries=PendingLedger(
                    self._redis, self._settings.key_prefix, self._settings.entry_redeliver_seconds
                ).size(),
                scheduler=scheduler,
                streams=[stream],
                feeds=self.feeds(now),
                latency=latencies(raw),
                sinks=sinks(raw, stream.groups),
            )
        reasons = not_ready_reasons(workers, scheduler, now)
        return status.model_copy(update={"ready": not reasons, "reasons": reasons})

    def workers(self, now: float) -> list[WorkerStatus]:
        with redis_errors("HGETALL workers"):
            raw: Any = self._redis.hgetall(keys.workers(self._settings.key_prefix))
        result = []
        for value in raw.values():
            info = json.loads(value)
            beat = info.get("last_heartbeat")
            reported = info.get("state", "online")
            fresh = beat is not None and now - beat < WORKER_STALE
            state: WorkerState = "offline"
            if reported == "stopped":
                state = "stopped"
            elif fresh and reported in ("online", "reconnecting", "stalled"):
                state = reported
            online = state == "online"
            result.append(
                WorkerStatus(
                    name=info["name"],
                    state=state,
                    online=online,
                    active=info.get("active", 0) if online else 0,
                    processed=info.get("processed", 0),
                    pool=info.get("pool", 0),
                    pid=info.get("pid"),
                    started_at=info.get("started_at"),
                    last_heartbeat=beat,
                    not_consuming_since=info.get("not_consuming_since") if fresh else None,
                    restarts=info.get("restarts", 0),
                    allocator=info.get("allocator"),
                )
            )
        return sorted(result, key=lambda w: w.name)

    def queues(self) -> list[QueueStatus]:
        with redis_errors("LLEN queues"):
            pipe = self._redis.pipeline(transaction=False)
            for name in keys.QUEUES:
                pipe.llen(name)
            lengths = pipe.execute()
        return [
            QueueStatus(name=n, length=int(v)) for n, v in zip(keys.QUEUES, lengths, strict=True)
        ]

    def scheduler(self, now: float) -> SchedulerStatus:
        prefix = self._settings.key_prefix
        with redis_errors("scheduler read"):
            leader: Any = self._redis.get(keys.scheduler_leader(prefix))
            beat: Any = self._redis.hgetall(keys.scheduler_heartbeat(prefix))
        last_tick = float(beat[b"last_tick"]) if beat.get(b"last_tick") else None
        fresh_within = max(10.0, self._settings.scheduler_tick * 5)
        return SchedulerStatus(
            active_instance=leader.decode() if leader else None,
            last_tick=last_tick,
            restarts=int(beat.get(b"restarts") or 0),
            fresh=leader is not None and last_tick is not None and now - last_tick < fresh_within,
        )

    def stream(self, name: str, now: float) -> StreamStatus:
        with redis_errors(f"XINFO {name}"):
            try:
                info: Any = self._redis.xinfo_stream(name)
            except redis.ResponseError:  # no such stream yet
                return StreamStatus(name=name, length=0, first_entry_at=None, last_entry_at=None)
            groups: Any = self._redis.xinfo_groups(name)
            minute = int(now // 60)
            counts: Any = self._redis.mget(
                [keys.per_minute(name, m) for m in range(minute - 59, minute + 1)]
            )
        first, last = info.get("first-entry"), info.get("last-entry")
        return StreamStatus(
            name=name,
            length=int(info["length"]),
            first_entry_at=_id_time(first[0]) if first else None,
            last_entry_at=_id_time(last[0]) if last else None,
            groups=[
                GroupStatus(
                    name=g["name"].decode(),
                    consumers=int(g["consumers"]),
                    pending=int(g["pending"]),
                    lag=int(g["lag"]) if g.get("lag") is not None else None,
                    last_delivered_id=g["last-delivered-id"].decode(),
                )
                for g in groups
            ],
            per_minute=[int(c or 0) for c in counts],
        )

    def feeds(self, now: float) -> FeedsStatus:
        feeds = Registry(self._redis, self._settings.key_prefix).all()
        health = {f.id: feed_health(f) for f in feeds}
        counts = {
            h: sum(1 for v in health.values() if v == h)
            for h in ("healthy", "backing_off", "failing", "disabled")
        }
        polled = [now - f.last_polled for f in feeds if f.enabled and f.last_polled]
        intervals = [f.polled_every for f in feeds if f.enabled]
        worst = sorted(
            (f for f in feeds if health[f.id] != "healthy"), key=lambda f: (-f.error_count, f.url)
        )
        return FeedsStatus(
            total=len(feeds),
            stalest_poll_age=max(polled) if polled else None,
            worst=[
                FeedProblem(
                    url=redact_url(f.url),
                    health=health[f.id],
                    error_count=f.error_count,
                    last_error=f.disabled_reason or f.last_error,
                    last_error_kind=f.last_error_kind,
                    next_attempt=f.next_due if f.enabled else None,
                )
                for f in worst[:WORST]
            ],
            healthy=counts["healthy"],
            backing_off=counts["backing_off"],
            failing=counts["failing"],
            disabled=counts["disabled"],
            adaptive=sum(1 for f in feeds if f.enabled and f.adaptive),
            intervals=interval_buckets(intervals),
            websub={
                state: n
                for state, n in Subscriptions(self._redis, self._settings.key_prefix)
                .states()
                .items()
                if n
            },
        )

    def schedules(self, offset: int, limit: int) -> FeedsPage:
        """Every feed's schedule, `limit` of them from `offset` (by URL)."""
        feeds = Registry(self._redis, self._settings.key_prefix).all()
        return FeedsPage(
            total=len(feeds),
            offset=offset,
            feeds=[
                FeedSchedule(
                    url=redact_url(f.url),
                    health=feed_health(f),
                    kind=f.format,
                    adaptive=f.adaptive,
                    interval=f.polled_every,
                    expected_gap=f.expected_gap,
                    learned_from=f.learned_from,
                    hub=redact_url(f.hub) if f.hub else None,
                    last_polled=f.last_polled,
                    last_status=f.last_status,
                    next_poll=f.next_due if f.enabled else None,
                )
                for f in feeds[offset : offset + limit]
            ],
        )
