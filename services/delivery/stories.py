"""Stories: the read side of identity state: which story a link belongs to, and what is known
of it (the state the publish scripts write; see publish.py for the keys)."""

import re
from dataclasses import dataclass, field
from typing import Any

import redis
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.identity.revisions import Known
from newswire.services.identity.urls import clean_url, legacy_story_id, story_id
from newswire.services.roundtrip import RoundTrip

STORY_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class StoryRecord:
    """A story's identity state, for `newswire story`. `version` 0: known, but without state."""

    story_id: str
    version: int = 0
    content_hash: str = ""
    cluster_id: str = ""
    last_entry: str = ""  # stream entry id of the latest version
    first_published: float = 0.0
    aliases: list[str] = field(default_factory=list)
    ttl_seconds: int = -1


def text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Asked:
    """Where a lookup's replies are in a RoundTrip: two per link (its id, its legacy id)."""

    first: int
    count: int


class Stories:
    """Identity state, read: each lookup is one round trip, or two when stories were found
    (their state is read in a second)."""

    def __init__(self, client: redis.Redis, stream: str) -> None:
        self._redis = client
        self._stream = stream

    def ask(self, trip: RoundTrip, clean_urls: list[str]) -> Asked:
        """Queue the seen checks of `clean_urls` in `trip` (with other stages' commands)."""
        first = len(trip)
        for url in clean_urls:
            trip.command("GET", keys.seen(self._stream, story_id(url)))
            # Read, never written: links seen before identity keys existed stay seen.
            trip.command("EXISTS", keys.seen(self._stream, legacy_story_id(url)))
        return Asked(first, len(clean_urls))

    def answer(self, trip: RoundTrip, asked: Asked) -> list[Known | None]:
        """For each link `ask` queued (once `trip` ran), the story it belongs to, if known."""
        found: list[str | None] = []
        for n in range(asked.count):
            value, legacy = trip.reply(asked.first + 2 * n), trip.reply(asked.first + 2 * n + 1)
            found.append(text(value) if value is not None else ("" if legacy else None))
        stories = [f for f in found if f and STORY_ID.fullmatch(f)]
        states: dict[str, list[Any]] = {}
        if stories:
            with redis_errors("lookup"):
                pipe = self._redis.pipeline(transaction=False)
                for sid in stories:
                    pipe.hmget(keys.story(self._stream, sid), ["v", "h", "c", "u", "t"])
                states = dict(zip(stories, pipe.execute(), strict=True))
        return [None if f is None else self._known(f, states.get(f)) for f in found]

    def lookup(self, clean_urls: list[str]) -> list[Known | None]:
        """For each (cleaned) link, the story it belongs to, if known."""
        if not clean_urls:
            return []
        trip = RoundTrip(self._redis, "lookup")
        asked = self.ask(trip, clean_urls)
        trip.run()
        return self.answer(trip, asked)

    @staticmethod
    def _known(sid: str, state: list[Any] | None) -> Known:
        if not state or state[0] is None:
            return Known(sid)
        v, h, c, u, t = (text(x) for x in state)
        return Known(sid, int(v), h, c, float(u or 0), float(t or 0))

    def describe(self, link_or_id: str) -> StoryRecord | None:
        """What identity state says about a story, found by its id or any link it is known by."""
        sid = link_or_id if STORY_ID.fullmatch(link_or_id) else ""
        if not sid:
            [known] = self.lookup([clean_url(link_or_id)])
            if known is None:
                return None
            sid = known.story_id
        with redis_errors("HGETALL"):
            pipe = self._redis.pipeline(transaction=False)
            pipe.hgetall(keys.story(self._stream, sid))
            pipe.ttl(keys.story(self._stream, sid))
            state, ttl = pipe.execute()
        if not state:
            return StoryRecord(sid) if not STORY_ID.fullmatch(link_or_id) else None
        fields = {text(k): text(v) for k, v in state.items()}
        return StoryRecord(
            sid,
            int(fields.get("v", 0)),
            fields.get("h", ""),
            fields.get("c", ""),
            fields.get("e", ""),
            float(fields.get("t", 0) or 0),
            self.aliases_of(sid),
            int(ttl),
        )

    def aliases_of(self, sid: str) -> list[str]:
        """Links found after publication to carry the story's body."""
        with redis_errors("SMEMBERS"):
            return sorted(text(m) for m in self._redis.smembers(keys.aliases(self._stream, sid)))  # type: ignore[union-attr]
