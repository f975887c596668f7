"""Dead letters: the entries a consumer group gave up on, listed and put back on the stream."""

import re
from dataclasses import dataclass
from typing import Any

import redis
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.delivery.subscribe import REDELIVERY_FOR, as_text

ENTRY_ID = re.compile(r"[0-9]{1,20}(?:-[0-9]{1,20})?")


@dataclass(frozen=True)
class DeadLetter:
    entry_id: str
    original_id: str
    group: str
    reason: str
    article_id: str


DEAD_PAGE = 1000  # dead letters read per round trip when all are asked for


def dead_letters(client: redis.Redis, stream: str, count: int | None = 100) -> list[DeadLetter]:
    """The newest `count` dead letters (all of them with None), newest first."""
    rows: list[Any] = []
    newest = "+"
    while count is None or len(rows) < count:
        page = DEAD_PAGE if count is None else min(DEAD_PAGE, count - len(rows))
        with redis_errors("XREVRANGE dead letters"):
            got: Any = client.xrevrange(keys.dead_letters(stream), max=newest, count=page)
        rows += got
        if len(got) < page:
            break
        newest = "(" + as_text(got[-1][0])  # exclusive: the page after the last one read
    return [
        DeadLetter(
            as_text(eid),
            as_text(f.get(b"original_id", b"")),
            as_text(f.get(b"group", b"")),
            as_text(f.get(b"reason", b"")),
            as_text(f.get(b"id", b"")),
        )
        for eid, f in rows
    ]


def requeue(client: redis.Redis, stream: str, dead_id: str) -> str | None:
    """Put a dead letter back on the stream for its group only; returns the new entry id.

    Other groups skip the copy (the Consumer API checks `redelivery_for`), so they do not see
    the story twice.
    """
    if not ENTRY_ID.fullmatch(dead_id):
        raise ValueError(f"{dead_id[:100]!r} is not a stream entry id (e.g. 1764950400000-0)")
    with redis_errors("XRANGE dead letters"):
        rows: Any = client.xrange(keys.dead_letters(stream), min=dead_id, max=dead_id)
    if not rows:
        return None
    fields = dict(rows[0][1])
    group = fields.pop(b"group", b"")
    for name in (b"original_id", b"reason"):
        fields.pop(name, None)
    fields[REDELIVERY_FOR] = group
    with redis_errors("requeue"):
        pipe = client.pipeline(transaction=True)
        pipe.xadd(stream, fields)
        pipe.xdel(keys.dead_letters(stream), dead_id)
        new_id, _ = pipe.execute()
    return as_text(new_id)
