"""Pending ledger: every entry a poll hands on stays recorded in Redis until its story is
settled (published, fallen back, duplicate, rejected or failed); overdue ones are enqueued again.

Why: Celery's Redis transport takes a task off its queue (BRPOP) before it records it as
unacked, so a Redis crash in between loses the task; Celery also drops a task it cannot
requeue in some paths. The ledger does not depend on the broker's delivery: the scheduler
sweeps entries that stayed pending past their deadline and enqueues them again. A second run
of an entry is harmless (the seen set makes publishing idempotent, and checks before fetching).
"""

import hashlib
import json
from typing import Any

import redis
from newswire.schemas.feed import FeedEntry
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.polling.schedule import claim_due
from newswire.services.scripts import register

HANDED_TTL = 86400  # a message handed out again is long done or given up within a day


def entry_key(entry: FeedEntry) -> str:
    """A stable name for an entry: its link, else its guid, else its feed and title."""
    basis = entry.link or entry.guid or f"{entry.feed_url}\n{entry.title}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


class PendingLedger:
    """`add` before enqueueing, `settle` when done, `extend` on a retry, `overdue` to sweep."""

    def __init__(self, client: redis.Redis, prefix: str, redeliver_after: float) -> None:
        self._redis = client
        self.prefix = prefix
        self.entries_key = keys.pending_entries(prefix)
        self.due_key = keys.pending_due(prefix)
        self.redeliver_after = redeliver_after
        # The same claim as the schedule's: overdue entries get a new deadline as they are taken.
        self._claim = register(client, "claim_due")

    def add(self, entries: list[FeedEntry], now: float) -> None:
        if not entries:
            return
        due = now + self.redeliver_after
        with redis_errors("pending ledger write"):
            pipe = self._redis.pipeline(transaction=True)
            for entry in entries:
                key = entry_key(entry)
                pipe.hset(self.entries_key, key, entry.model_dump_json())
                pipe.zadd(self.due_key, {key: due})
            pipe.execute()

    def extend(self, entry: FeedEntry, until: float) -> None:
        """The entry is retried later on purpose: not overdue before `until` + the usual wait."""
        self.extend_many([(entry, until)])

    def extend_many(self, retries: list[tuple[FeedEntry, float]]) -> None:
        """`extend` for several entries, one round trip."""
        if not retries:
            return
        with redis_errors("pending ledger write"):
            pipe = self._redis.pipeline(transaction=False)
            for entry, until in retries:
                pipe.zadd(self.due_key, {entry_key(entry): until + self.redeliver_after}, xx=True)
            pipe.execute()

    def handed_again(self, task_id: str) -> int:
        """Count one more hand-out of a task's message the broker gave back (its worker was
        killed or timed out, Redis restarted): how many times it has been handed out, the
        first included. One round trip, and only for messages that came back."""
        key = keys.handed_out(self.prefix, task_id)
        with redis_errors("pending ledger write"):
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, HANDED_TTL)
            count, _ = pipe.execute()
        return int(count) + 1

    def settle(self, *entries: FeedEntry) -> None:
        """The entries are done (one round trip for all)."""
        if not entries:
            return
        names = [entry_key(entry) for entry in entries]
        with redis_errors("pending ledger write"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.zrem(self.due_key, *names)
            pipe.hdel(self.entries_key, *names)
            pipe.execute()

    def overdue(self, now: float, batch: int) -> list[FeedEntry]:
        """Take up to `batch` overdue entries (each is not overdue again for a while)."""
        with redis_errors("pending ledger sweep"):
            keys = claim_due(self._claim, self.due_key, now, batch, now + self.redeliver_after)
            if not keys:
                return []
            raw: Any = self._redis.hmget(self.entries_key, keys)
            settled = [key for key, value in zip(keys, raw, strict=True) if value is None]
            if settled:  # settled meanwhile: nothing left to redeliver
                self._redis.zrem(self.due_key, *settled)
        return [FeedEntry.model_validate(json.loads(v)) for v in raw if v is not None]

    def unaccounted(self, held: set[str], added_before: float) -> list[FeedEntry]:
        """The pending entries added before `added_before` whose keys are not in `held` (what
        the broker holds): the ones it lost. Each gets a fresh deadline, as a sweep gives."""
        cutoff = added_before + self.redeliver_after  # a deadline is its add (or retry) + this
        with redis_errors("pending ledger read"):
            due: Any = self._redis.zrangebyscore(self.due_key, "-inf", cutoff)
            lost = [k.decode() for k in due if k.decode() not in held]
            if not lost:
                return []
            raw: Any = self._redis.hmget(self.entries_key, lost)
            pipe = self._redis.pipeline(transaction=False)
            for key in lost:
                pipe.zadd(self.due_key, {key: added_before + 2 * self.redeliver_after}, xx=True)
            pipe.execute()
        return [FeedEntry.model_validate(json.loads(v)) for v in raw if v is not None]

    def size(self) -> int:
        with redis_errors("pending ledger read"):
            return int(self._redis.zcard(self.due_key))  # type: ignore[arg-type]
