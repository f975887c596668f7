"""Reconcile: after Redis restarts or a worker dies, entries the broker lost are enqueued again.

Celery's Redis transport takes a task off its queue (BRPOP) before it records it as unacked;
a Redis crash in between loses the task. The pending ledger would bring it back after
NEWSWIRE_ENTRY_REDELIVER_SECONDS (10 minutes), and a shorter fixed wait cannot tell an entry
lost from one waiting its turn behind thousands. So the active scheduler compares the
server's run_id with the one it saw last (kept in Redis, so a restarted or standby scheduler
knows it too). When it changed, it waits for the workers to reconnect and give back what
they hold, then looks at every pending entry: one that is neither in an articles queue nor
held unacked by a worker is lost, and is enqueued again at once. A feed claimed for a poll
whose task the broker no longer holds is made due at once, instead of after its claim.
Nothing waiting is doubled. A worker that stops consuming (stalled, killed, restarted: its
heartbeat says) triggers the same look two seconds later: one that dies between BRPOP and
its unacked record loses the task just as a Redis crash there does.
"""

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import redis
from celery import Celery
from kombu.transport.redis import PRIORITY_STEPS, Channel
from newswire.schemas.feed import FeedEntry
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.ops.status import WORKER_STALE
from newswire.services.polling.pending import PendingLedger, entry_key
from newswire.services.polling.registry import Registry
from newswire.workers.celery_app import ENTRIES_TASK, ENTRY_TASK, POLL_BATCH_TASK, POLL_TASK

log = logging.getLogger(__name__)

SETTLE = 15.0  # seconds after a restart is seen before looking: workers reconnect, restore
# After a worker stops consuming, its unacked tasks are already recorded: a short wait suffices.
WORKER_SETTLE = 2.0
GRACE = 10.0  # an entry added this recently may be between the ledger and its enqueue
CHUNK = 1000  # queue messages read per round trip


def task_args(message: dict[str, Any]) -> tuple[str, list[Any]] | None:
    """The task name and arguments a Celery message carries (None: unreadable)."""
    try:
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        return str(message["headers"]["task"]), list(args)
    except (KeyError, TypeError, ValueError):
        return None


def task_entry_keys(message: dict[str, Any]) -> list[str]:
    """The pending-ledger keys of the entries a Celery message carries (none: not an entry
    task, or unreadable)."""
    found = task_args(message)
    if found is None or not found[1]:
        return []
    name, args = found
    carried = args[0] if name == ENTRIES_TASK else [args[0]] if name == ENTRY_TASK else []
    try:
        return [entry_key(FeedEntry.model_validate(e)) for e in carried]
    except (TypeError, ValueError):
        return []


def task_feed_ids(message: dict[str, Any]) -> list[str]:
    """The feeds a poll task's message is for (none for any other task)."""
    found = task_args(message)
    if found is None or not found[1]:
        return []
    name, args = found
    if name == POLL_BATCH_TASK and isinstance(args[0], list):
        return [str(f) for f in args[0]]
    return [str(args[0])] if name == POLL_TASK else []


def readable(raw: bytes, *, unwrap: bool = False) -> dict[str, Any] | None:
    """A broker message as a dict (from an unacked record with `unwrap`); None for anything
    unreadable, which the reconciliation passes over rather than stopping at."""
    try:
        message = json.loads(raw)
        if unwrap:
            message = message[0]
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    return message if isinstance(message, dict) else None


def queue_names(queue: str) -> list[str]:
    """The lists kombu keeps one queue in (one per priority step)."""
    return [queue if p == 0 else f"{queue}{Channel.sep}{p}" for p in PRIORITY_STEPS]


class Reconciler:
    def __init__(
        self, client: redis.Redis, prefix: str, pending: PendingLedger, registry: Registry
    ) -> None:
        self._redis = client
        self.registry = registry
        self._key = keys.scheduler_run_id(prefix)
        self.pending = pending
        self.look_at: float | None = None
        self._workers_key = keys.workers(prefix)
        self._consuming: dict[str, float | None] = {}  # worker name -> its start time

    def tick(self, app: Celery, now: float) -> int:
        """Note a restart, and once it has settled, enqueue what it lost; how many."""
        with redis_errors("server run_id"):
            info: Any = self._redis.info("server")
            run_id = str(info["run_id"])
            seen: Any = self._redis.getset(self._key, run_id)
        if seen is not None and seen.decode() != run_id:
            log.warning("Redis restarted (new run_id): looking for lost entries in %.0fs", SETTLE)
            self.look_at = now + SETTLE
        if (gone := self._workers_gone(now)) and self.look_at is None:
            log.warning("worker %s stopped consuming (stalled, killed or restarted): looking for "
                        "entries it took off the queue in %.0fs", gone, WORKER_SETTLE)  # fmt: skip
            self.look_at = now + WORKER_SETTLE
        if self.look_at is None or now < self.look_at:
            return 0
        found = self.reconcile(app, now)  # Redis away again: the next tick looks again
        self.look_at = None
        return found

    def _workers_gone(self, now: float) -> str | None:
        """A worker that was consuming at the last tick and is not now (stalled, silent,
        stopped, or started again): the name of one, else None. A worker that dies between
        taking a task off its queue (BRPOP) and recording it unacked loses it, as a Redis
        crash there does, and the same look finds it."""
        with redis_errors("HGETALL workers"):
            raw: Any = self._redis.hgetall(self._workers_key)
        consuming: dict[str, float | None] = {}
        for value in raw.values():
            try:
                info = json.loads(value)
                beat = float(info.get("last_heartbeat") or 0)
            except (ValueError, TypeError):
                continue
            if now - beat < WORKER_STALE and info.get("state", "online") == "online":
                consuming[str(info.get("name"))] = info.get("started_at")
        gone = next(
            (name for name, started in self._consuming.items()
             if name not in consuming or consuming[name] != started),
            None,
        )  # fmt: skip
        self._consuming = consuming
        return gone

    def messages(self, queue: str) -> Iterator[dict[str, Any]]:
        """Every message the broker holds for `queue`'s tasks: queued (all priorities, read
        a thousand at a time) and unacked by a worker (of any queue)."""
        for name in queue_names(queue):
            start = 0
            while True:
                with redis_errors("reading a queue"):
                    chunk: Any = self._redis.lrange(name, start, start + CHUNK - 1)
                yield from filter(None, (readable(raw) for raw in chunk))
                if len(chunk) < CHUNK:
                    break
                start += CHUNK
        with redis_errors("reading unacked"):
            unacked: Any = self._redis.hvals("unacked")
        for raw in unacked:  # [message, exchange, routing key]
            held = readable(raw, unwrap=True)
            if held:
                yield held

    def reconcile(self, app: Celery, now: float) -> int:
        """Enqueue again every pending entry the broker does not hold, and make due at once
        every feed claimed for a poll whose task it does not hold; how many entries."""
        held = {k for m in self.messages(keys.ARTICLES_QUEUE) for k in task_entry_keys(m)}
        polls = {f for m in self.messages(keys.FEEDS_QUEUE) for f in task_feed_ids(m)}
        repolled = self.registry.release_claims(polls, now)
        if repolled:
            log.warning("%d feeds whose polls Redis lost in its restart are due again", repolled)
        lost = self.pending.unaccounted(held, now - GRACE)
        if lost:
            with app.producer_or_acquire() as producer:
                for entry in lost:
                    app.send_task(ENTRY_TASK, args=[entry.model_dump(mode="json"), 0],
                                  queue=keys.ARTICLES_QUEUE, producer=producer)  # fmt: skip
            log.warning("enqueued %d entries again that Redis lost in its restart", len(lost))
        else:
            log.info("Redis restarted: no entry was lost")
        return len(lost)
