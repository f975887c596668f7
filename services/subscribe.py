"""Subscribe: read Articles back off the stream, plainly or as a consumer-group member."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis

from schemas.article import Article
from services.errors import BrokerError


@dataclass(frozen=True)
class Delivery:
    """One stream entry: its id, the raw JSON of `data`, and the Article it holds."""

    entry_id: str
    raw: bytes
    article: Article


def decode(entry_id: bytes | str, fields: dict[bytes, bytes]) -> Delivery:
    raw = fields[b"data"]
    eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return Delivery(eid, raw, Article.model_validate_json(raw))


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
    """
    last = start
    if last == "$":
        # Resolve "now" once, so entries added between two reads are not skipped.
        last = _last_id(client, stream)
    delivered = 0
    while count is None or delivered < count:
        batch = 100 if count is None else min(100, count - delivered)
        try:
            reply: Any = client.xread(
                {stream: last}, count=batch, block=block_ms if follow else None
            )
        except redis.RedisError as exc:
            raise BrokerError(f"XREAD {stream} failed: {exc}") from exc
        if not reply:
            if follow:
                continue
            return
        for entry_id, fields in reply[0][1]:
            last = entry_id.decode()
            delivered += 1
            yield decode(entry_id, fields)


def _last_id(client: redis.Redis, stream: str) -> str:
    try:
        newest: Any = client.xrevrange(stream, count=1)
    except redis.RedisError as exc:
        raise BrokerError(f"XREVRANGE {stream} failed: {exc}") from exc
    return newest[0][0].decode() if newest else "0"


def ensure_group(client: redis.Redis, stream: str, group: str, start: str = "0") -> None:
    """Create the consumer group (and the stream) unless it exists."""
    try:
        client.xgroup_create(stream, group, id=start, mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise BrokerError(f"XGROUP CREATE {stream} {group} failed: {exc}") from exc


def read_group(
    client: redis.Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    count: int | None = None,
    follow: bool = False,
    block_ms: int = 1000,
) -> Iterator[Delivery]:
    """New entries for this group member; the caller acks each with `ack` once handled.

    Entries already delivered to this consumer but not acked come first, so a restarted
    consumer finishes what it had before taking more.
    """
    delivered = 0
    cursor = "0"  # this consumer's own pending entries first (paged by id), then ">" for new
    while count is None or delivered < count:
        batch = 100 if count is None else min(100, count - delivered)
        block = block_ms if (follow and cursor == ">") else None
        try:
            reply: Any = client.xreadgroup(
                group, consumer, {stream: cursor}, count=batch, block=block
            )
        except redis.RedisError as exc:
            raise BrokerError(f"XREADGROUP {stream} {group} failed: {exc}") from exc
        entries = reply[0][1] if reply else []
        if not entries:
            if cursor != ">":
                cursor = ">"
            elif not follow:
                return
            continue
        for entry_id, fields in entries:
            if cursor != ">":
                cursor = entry_id.decode()
            if not fields:
                # Pending but trimmed off the stream: nothing left to deliver, clear it.
                ack(client, stream, group, entry_id.decode())
                continue
            delivered += 1
            yield decode(entry_id, fields)


def ack(client: redis.Redis, stream: str, group: str, entry_id: str) -> None:
    try:
        client.xack(stream, group, entry_id)
    except redis.RedisError as exc:
        raise BrokerError(f"XACK {stream} {group} failed: {exc}") from exc
