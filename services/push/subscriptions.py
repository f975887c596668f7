"""Subscriptions: each feed's WebSub subscription in Redis (a hash each, a due-time index)."""

import dataclasses
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.polling.schedule import claim_due
from newswire.services.scripts import register


class State(StrEnum):
    SUBSCRIBING = "subscribing"  # asked; the hub has not verified yet
    ACTIVE = "active"  # verified: the hub pushes until `expires_at`
    UNSUBSCRIBING = "unsubscribing"  # asked to end it; forgotten once the hub verifies
    REFUSED = "refused"  # the hub said no (an error status, or `denied`): polling only
    FAILED = "failed"  # the hub could not be reached: polling only, asked again later


class Mode(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Subscription:
    """One feed's subscription. `secret` signs the hub's pushes; `token` makes the callback
    URL unguessable, so nobody but the hub can even reach the verification of intent."""

    feed_id: str
    hub: str
    topic: str
    secret: str
    token: str
    state: State = State.SUBSCRIBING
    pending: Mode = Mode.SUBSCRIBE  # what we last asked the hub: only that is verified
    expires_at: float = 0.0  # the lease's end (active only)
    requested_at: float = 0.0
    attempts: int = 0  # requests in a row that the hub refused, failed or never verified
    error: str = ""

    @classmethod
    def new(cls, feed_id: str, hub: str, topic: str) -> "Subscription":
        return cls(feed_id, hub, topic, secrets.token_hex(32), secrets.token_urlsafe(18))

    def pushed_until(self, now: float) -> float | None:
        """The lease's end while the hub pushes; None when polling is all there is."""
        return self.expires_at if self.state == State.ACTIVE and self.expires_at > now else None


class Subscriptions:
    """Subscriptions keyed by feed id; `<prefix>:websub:due` orders what to do next."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self.prefix = prefix
        self.due_key = keys.websub_due(prefix)
        self._claim = register(client, "claim_due")

    def get(self, feed_id: str) -> Subscription | None:
        with redis_errors("reading a subscription"):
            raw: Any = self._redis.hgetall(keys.websub(self.prefix, feed_id))
        if not raw:
            return None
        data = {k.decode(): v.decode() for k, v in raw.items()}
        return Subscription(
            feed_id, data["hub"], data["topic"], data["secret"], data["token"],
            State(data["state"]), Mode(data["pending"]), float(data["expires_at"]),
            float(data["requested_at"]), int(data["attempts"]), data.get("error", ""),
        )  # fmt: skip

    def save(self, sub: Subscription, act_at: float) -> None:
        """Write `sub` whole; it is acted on again (renewed, retried, forgotten) at `act_at`."""
        mapping = {k: str(v) for k, v in dataclasses.asdict(sub).items()}
        with redis_errors("saving a subscription"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(keys.websub(self.prefix, sub.feed_id), mapping=mapping)
            pipe.zadd(self.due_key, {sub.feed_id: act_at})
            pipe.execute()

    def act_soon(self, feed_id: str, at: float) -> None:
        """Have the feed's subscription looked at by `at` (a feed found a hub, or was removed)."""
        with redis_errors("scheduling a subscription"):
            self._redis.zadd(self.due_key, {feed_id: at}, lt=True)

    def forget(self, feed_id: str) -> None:
        with redis_errors("forgetting a subscription"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(keys.websub(self.prefix, feed_id))
            pipe.zrem(self.due_key, feed_id)
            pipe.execute()

    def claim(self, now: float, batch: int, lease_seconds: float) -> list[str]:
        """Up to `batch` feeds whose subscription is due; none is due again for the lease."""
        with redis_errors("claiming subscriptions"):
            ids = claim_due(self._claim, self.due_key, now, batch, now + lease_seconds)
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    def count_rate(self, feed_id: str, now: float) -> int:
        """Pushes for this feed in the current minute, this one included."""
        key = keys.websub_rate(self.prefix, feed_id, int(now // 60))
        with redis_errors("counting pushes"):
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = pipe.execute()
        return int(count)

    def states(self) -> dict[str, int]:
        """How many subscriptions are in each state (for status and /metrics)."""
        counts = dict.fromkeys([s.value for s in State], 0)
        with redis_errors("counting subscriptions"):
            ids: Any = self._redis.zrange(self.due_key, 0, -1)
            pipe = self._redis.pipeline(transaction=False)
            for fid in ids:
                pipe.hget(keys.websub(self.prefix, fid.decode()), "state")
            for state in pipe.execute():
                if state is not None and state.decode() in counts:
                    counts[state.decode()] += 1
        return counts
