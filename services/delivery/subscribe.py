"""Subscribe: read Articles back off the stream, plainly or as a consumer-group member."""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import redis
from newswire.schemas.article import Article, parse_article
from newswire.services import keys
from newswire.services.backoff import Backoff
from newswire.services.broker import redis_errors
from newswire.services.errors import BrokerError, CommandRefused, NewswireError
from newswire.services.outage import Outage

log = logging.getLogger(__name__)
# Pauses between reconnect attempts while following: a quarter second, up to five.
FOLLOW_BACKOFF = Backoff(first=0.25, cap=5.0)


class NotAnArticle(NewswireError):
    """A stream entry that holds no Article (no `data`, or something else in it)."""


class Patience:
    """How a following reader rides out a Redis outage: one warning when it starts, a line
    when it ends, growing pauses in between, and never an exception."""

    def __init__(self) -> None:
        self.outage = Outage(log)
        self._waits = FOLLOW_BACKOFF.waits()

    def failed(self, exc: Exception) -> None:
        self.outage.failed(exc)
        time.sleep(next(self._waits))

    def ok(self) -> None:
        self.outage.ok()
        self._waits = FOLLOW_BACKOFF.waits()


@dataclass(frozen=True)
class Delivery:
    """One stream entry: its id, the raw JSON of `data`, the Article it holds, and its event
    (`article.published`, or `article.updated` for a later version of the story)."""

    entry_id: str
    raw: bytes
    article: Article
    event: str = "article.published"
    fields: dict[bytes, bytes] = field(default_factory=dict, repr=False)  # the whole entry


def decode(entry_id: bytes | str, fields: dict[bytes, bytes]) -> Delivery:
    """The Delivery of one entry; NotAnArticle when it holds none (no `data`, or JSON that is
    no Article: written by something other than newswire)."""
    eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    raw = fields.get(b"data")
    if raw is None:
        raise NotAnArticle(f"stream entry {eid} has no data field")
    try:
        article = parse_article(raw)
    except ValueError as exc:  # invalid JSON, or pydantic's ValidationError
        detail = (str(exc).splitlines() or [""])[0][:200]
        raise NotAnArticle(f"stream entry {eid} holds no Article ({detail})") from None
    event = fields.get(b"event", b"article.published").decode(errors="replace")
    return Delivery(eid, raw, article, event, fields)


def read(
    client: redis.Redis,
    stream: str,
    *,
    start: str = "$",
    count: int | None = None,
    follow: bool = False,
    block_ms: int = 1000,
) -> Iterator[Delivery]:
    """Entries after `start` ("0" for the beginning, "$" for new ones only), oldest first.

    Without `follow` it stops when the stream has nothing more; `count` caps the total.
    With `follow` a Redis outage is waited out.
    """
    last = start
    if last == "$":
        # Resolve "now" once, so entries added between two reads are not skipped.
        last = _last_id(client, stream)
    delivered = 0
    patience = Patience()
    while count is None or delivered < count:
        batch = 100 if count is None else min(100, count - delivered)
        try:
            reply: Any = client.xread(
                {stream: last}, count=batch, block=block_ms if follow else None
            )
        except redis.RedisError as exc:
            if follow:  # ride it out and go on after the last entry seen
                patience.failed(exc)
                continue
            raise BrokerError(f"XREAD {stream} failed: {exc}") from exc
        patience.ok()
        if not reply:
            if follow:
                continue
            return
        for entry_id, fields in reply[0][1]:
            last = entry_id.decode()
            delivered += 1
            try:
                yield decode(entry_id, fields)
            except NotAnArticle as exc:
                log.warning("skipped: %s", exc)  # a plain reader has no dead letters


def _last_id(client: redis.Redis, stream: str) -> str:
    with redis_errors(f"XREVRANGE {stream}"):
        newest: Any = client.xrevrange(stream, count=1)
    return newest[0][0].decode() if newest else "0"


def ensure_group(client: redis.Redis, stream: str, group: str, start: str = "0") -> None:
    """Create the consumer group (and the stream) unless it exists."""
    try:
        with redis_errors(f"XGROUP CREATE {stream} {group}"):
            client.xgroup_create(stream, group, id=start, mkstream=True)
    except CommandRefused as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def ack(client: redis.Redis, stream: str, group: str, entry_id: str) -> None:
    with redis_errors(f"XACK {stream} {group}"):
        client.xack(stream, group, entry_id)


REDELIVERY_FOR = b"redelivery_for"


class Consumer:
    """A consumer-group member that survives crashes: typed Articles, ack after success,
    pending entries of dead consumers claimed after `claim_idle_ms`, poison entries moved to a
    dead-letter stream after `max_deliveries` tries.

        consumer = Consumer(client, "newswire:articles", "search-index", "indexer-1")
        consumer.run(lambda article: index(article))
    """

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        name: str,
        *,
        start: str = "$",
        claim_idle_ms: int = 60_000,
        max_deliveries: int = 5,
        batch: int = 50,
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.name = name
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.dead_stream = keys.dead_letters(stream)
        self._errors_key = keys.delivery_errors(stream, group)
        ensure_group(client, stream, group, start)

    def run(
        self,
        handler: Callable[[Article], object],
        *,
        count: int | None = None,
        block_ms: int = 1000,
        stop: Callable[[], bool] = lambda: False,
        until_idle: bool = False,
    ) -> int:
        """Handle entries until `stop()`, `count` handled or (with `until_idle`) nothing is
        left; returns how many were acked.

        A Redis outage is waited out (one warning, one line when it ends); entries handled
        but not acked when it began stay pending and come back to this consumer first. With
        `until_idle` (a script's one pass) an outage raises BrokerError instead.
        """
        return self.run_deliveries(
            lambda delivery: handler(delivery.article),
            count=count, block_ms=block_ms, stop=stop, until_idle=until_idle,
        )  # fmt: skip

    def run_deliveries(
        self,
        handler: Callable[[Delivery], object],
        *,
        count: int | None = None,
        block_ms: int = 1000,
        stop: Callable[[], bool] = lambda: False,
        until_idle: bool = False,
    ) -> int:
        """`run`, with the whole Delivery (entry id, event, raw JSON) for the handler."""
        handled = 0
        patience = Patience()
        while not stop() and (count is None or handled < count):
            try:
                # Redeliveries first (claimed from dead consumers, then our own pending), then
                # new ones.
                entries = self._claim() or self._read("0")
                redelivered = bool(entries)
                if not redelivered:
                    entries = self._read(">", None if until_idle else block_ms)
                    if not entries and until_idle:
                        break
                for entry_id, fields in entries:
                    if self._settle(entry_id, fields, handler, redelivered):
                        handled += 1
                    if count is not None and handled >= count:
                        break
            except BrokerError as exc:
                if until_idle:
                    raise BrokerError(f"reading {self.stream} as {self.group}: {exc}") from exc
                patience.failed(exc)
                continue
            patience.ok()
        return handled

    def take(self, block_ms: int | None = None) -> list[Delivery]:
        """The next batch for a member that writes whole batches (a sink): its own and dead
        members' pending entries first, else new ones (waiting up to `block_ms`). Entries that
        hold no Article, or were delivered more than `max_deliveries` times, go to the dead
        letters instead; a requeue meant for another group is acked."""
        entries = self._claim() or self._read("0")
        redelivered = bool(entries)
        if not redelivered:
            entries = self._read(">", block_ms)
        batch = []
        for entry_id, fields in entries:
            eid = as_text(entry_id)
            target = fields.get(REDELIVERY_FOR)
            if target is not None and target.decode() != self.group:
                ack(self.client, self.stream, self.group, eid)
            elif redelivered and self._deliveries(entry_id) > self.max_deliveries:
                self._dead_letter(eid, fields, "too many deliveries")
            else:
                try:
                    batch.append(decode(entry_id, fields))
                except NotAnArticle as exc:
                    self._dead_letter(eid, fields, str(exc))
        return batch

    def ack_all(self, deliveries: list[Delivery]) -> None:
        """Ack a written batch: one round trip."""
        if not deliveries:
            return
        ids = [d.entry_id for d in deliveries]
        with redis_errors("XACK"):
            pipe = self.client.pipeline(transaction=False)
            pipe.xack(self.stream, self.group, *ids)
            pipe.hdel(self._errors_key, *ids)
            pipe.execute()

    def give_up(self, delivery: Delivery, reason: str) -> None:
        """Move one entry its target refused for good to the dead letters, with why."""
        self._dead_letter(delivery.entry_id, delivery.fields, reason)

    def _claim(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Entries another (dead) consumer left pending for longer than claim_idle_ms."""
        with redis_errors(f"XAUTOCLAIM {self.stream}"):
            reply: Any = self.client.xautoclaim(
                self.stream, self.group, self.name, self.claim_idle_ms, "0-0", count=self.batch
            )
        claimed = [(eid, f) for eid, f in reply[1] if f]
        for deleted in reply[2] if len(reply) > 2 else []:
            ack(self.client, self.stream, self.group, as_text(deleted))
        return claimed

    def _read(
        self, cursor: str, block_ms: int | None = None
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        with redis_errors(f"XREADGROUP {self.stream}"):
            reply: Any = self.client.xreadgroup(
                self.group, self.name, {self.stream: cursor}, count=self.batch, block=block_ms
            )
        return [(eid, f) for eid, f in (reply[0][1] if reply else []) if f]

    def _deliveries(self, entry_id: bytes) -> int:
        with redis_errors(f"XPENDING {self.stream}"):
            info: Any = self.client.xpending_range(
                self.stream, self.group, min=entry_id, max=entry_id, count=1
            )
        return int(info[0]["times_delivered"]) if info else 1

    def _settle(
        self,
        entry_id: bytes,
        fields: dict[bytes, bytes],
        handler: Callable[[Delivery], object],
        redelivered: bool,
    ) -> bool:
        eid = as_text(entry_id)
        target = fields.get(REDELIVERY_FOR)
        if target is not None and target.decode() != self.group:
            ack(self.client, self.stream, self.group, eid)  # a requeue meant for another group
            return False
        if redelivered and self._deliveries(entry_id) > self.max_deliveries:
            with redis_errors("HGET delivery errors"):
                reason: Any = self.client.hget(self._errors_key, eid)
            self._dead_letter(eid, fields, as_text(reason) if reason else "too many deliveries")
            return False
        try:
            handler(decode(entry_id, fields))
        except Exception as exc:
            with redis_errors("HSET delivery errors"):
                self.client.hset(self._errors_key, eid, f"{type(exc).__name__}: {exc}"[:1000])
            return False
        ack(self.client, self.stream, self.group, eid)
        with redis_errors("HDEL delivery errors"):
            self.client.hdel(self._errors_key, eid)
        return True

    def _dead_letter(self, eid: str, fields: dict[bytes, bytes], reason: str) -> None:
        """Copy the entry to the dead-letter stream with why, then ack it, in one transaction."""
        dead = {**fields, b"original_id": eid.encode(), b"group": self.group.encode()}
        dead[b"reason"] = reason.encode()
        with redis_errors("dead letter"):
            pipe = self.client.pipeline(transaction=True)
            pipe.xadd(self.dead_stream, dead, maxlen=100_000, approximate=True)  # type: ignore[arg-type]
            pipe.xack(self.stream, self.group, eid)
            pipe.hdel(self._errors_key, eid)
            pipe.execute()


def as_text(value: bytes | str) -> str:
    """A stream id or field as text (redis-py gives bytes unless told to decode)."""
    return value.decode() if isinstance(value, bytes) else value
