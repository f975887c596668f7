"""Reconcile: after Redis restarts (a new run_id), entries the broker lost are enqueued again.

Celery's Redis transport takes a task off its queue (BRPOP) before it records it as unacked;
a Redis crash in between loses the task. The pending ledger would bring it back after
NEWSWIRE_ENTRY_REDELIVER_SECONDS (10 minutes), and a shorter fixed wait cannot tell an entry
lost from one waiting its turn behind thousands. So the active scheduler compares the
server's run_id with the one it saw last (kept in Redis, so a restarted or standby scheduler
knows it too). When it changed, it waits for the workers to reconnect and give back what
they hold, then looks at every pending entry: one that is neither in an articles queue nor
held unacked by a worker is lost, and is enqueued again at once. Nothing waiting is doubled.
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
from newswire.services.polling.pending import PendingLedger, entry_key
from newswire.workers.celery_app import ENTRY_TASK

log = logging.getLogger(__name__)

SETTLE = 15.0  # seconds after a restart is seen before looking: workers reconnect, restore
GRACE = 10.0  # an entry added this recently may be between the ledger and its enqueue
CHUNK = 1000  # queue messages read per round trip


def task_entry_key(message: dict[str, Any]) -> str | None:
    """The pending-ledger key of the entry a Celery message carries (None: not an entry task,
    or unreadable)."""
    try:
        if message.get("headers", {}).get("task") != ENTRY_TASK:
            return None
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        return entry_key(FeedEntry.model_validate(args[0]))
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def queue_names(queue: str) -> list[str]:
    """The lists kombu keeps one queue in (one per priority step)."""
    return [queue if p == 0 else f"{queue}{Channel.sep}{p}" for p in PRIORITY_STEPS]


class Reconciler:
    def __init__(self, client: redis.Redis, prefix: str, pending: PendingLedger) -> None:
        self._redis = client
        self._key = keys.scheduler_run_id(prefix)
        self.pending = pending
        self.look_at: float | None = None

    def tick(self, app: Celery, now: float) -> int:
        """Note a restart, and once it has settled, enqueue what it lost; how many."""
        with redis_errors("server run_id"):
            info: Any = self._redis.info("server")
            run_id = str(info["run_id"])
            seen: Any = self._redis.getset(self._key, run_id)
        if seen is not None and seen.decode() != run_id:
            log.warning("Redis restarted (new run_id): looking for lost entries in %.0fs", SETTLE)
            self.look_at = now + SETTLE
        if self.look_at is None or now < self.look_at:
            return 0
        self.look_at = None
        return self.reconcile(app, now)

    def held(self) -> Iterator[str]:
        """Keys of the entries the broker holds: queued, or unacked by a worker."""
        for name in queue_names(keys.ARTICLES_QUEUE):
            start = 0
            while True:
                with redis_errors("reading a queue"):
                    chunk: Any = self._redis.lrange(name, start, start + CHUNK - 1)
                for raw in chunk:
                    key = task_entry_key(json.loads(raw))
                    if key:
                        yield key
                if len(chunk) < CHUNK:
                    break
                start += CHUNK
        with redis_errors("reading unacked"):
            unacked: Any = self._redis.hvals("unacked")
        for raw in unacked:
            key = task_entry_key(json.loads(raw)[0])
            if key:
                yield key

    def reconcile(self, app: Celery, now: float) -> int:
        """Enqueue again every pending entry the broker does not hold; how many."""
        lost = self.pending.unaccounted(set(self.held()), now - GRACE)
        if lost:
            with app.producer_or_acquire() as producer:
                for entry in lost:
                    app.send_task(ENTRY_TASK, args=[entry.model_dump(mode="json"), 0],
                                  queue=keys.ARTICLES_QUEUE, producer=producer)  # fmt: skip
            log.warning("enqueued %d entries again that Redis lost in its restart", len(lost))
        else:
            log.info("Redis restarted: no entry was lost")
        return len(lost)
