"""Registry: the feeds newswire polls and their state, in Redis (a hash each, a due-time index)."""

import hashlib
import json
import time
from typing import Any

import redis
from newswire.schemas.feed import FeedOptions, FeedState
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.errors import ConfigError
from newswire.services.fetch.guard import check_url
from newswire.services.settinggroups import MAX_INTERVAL
from newswire.services.settings import default
from newswire.services.sources.feedlist import option_problems
from pydantic import ValidationError

# Fields stored as strings in the feed's hash; None is stored as "" and read back as None.
# Read off the model, so that a field added to FeedState cannot be forgotten here.
_NULLABLE = tuple(name for name, f in FeedState.model_fields.items() if f.default is None)


def feed_id(url: str) -> str:
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


class Registry:
    """Feeds keyed by id; `<prefix>:feeds:due` orders enabled feeds by next due time."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = default("key_prefix"),
        default_interval: int = default("poll_interval"),
    ):
        self._redis = client
        self.prefix = prefix
        self.default_interval = default_interval
        self.due_key = keys.feeds_due(prefix)
        self.all_key = keys.feeds(prefix)

    def key(self, fid: str) -> str:
        return keys.feed(self.prefix, fid)

    def add(
        self,
        url: str,
        interval: int | None = None,
        *,
        now: float | None = None,
        reenable: bool = True,
        options: FeedOptions | None = None,
        learn: bool = False,
    ) -> FeedState:
        """Register a feed (due at once). Re-adding updates the interval (and the options, when
        given) and, with `reenable`, turns a disabled feed back on (a user's `feeds add`; not
        a file re-imported at start). Without an interval a new feed learns its own, a known
        one keeps its way; `learn` makes a known fixed feed learn too."""
        check_url(url)
        if interval is not None and not 1 <= interval <= MAX_INTERVAL:
            raise ConfigError(
                f"interval {interval}: a poll interval is 1 to {MAX_INTERVAL} seconds (30 days)"
            )
        now = time.time() if now is None else now
        fid = feed_id(url)
        existing = self.get(fid)
        if existing is not None and not existing.enabled and not reenable:
            return existing
        adaptive = interval is None and (learn or existing is None or existing.adaptive)
        state = (existing or FeedState(id=fid, url=url, interval=0, added_at=now)).model_copy(
            update={
                "interval": interval or (existing.interval if existing else self.default_interval),
                "adaptive": adaptive,
                "enabled": True,
                "disabled_reason": None,
                "next_due": existing.next_due if existing and existing.enabled else now,
                "options": options or (existing.options if existing else FeedOptions()),
            }
        )
        self.save(state)
        return state

    def remove(self, url_or_id: str) -> bool:
        fid = self.resolve(url_or_id)
        with redis_errors("removing feed"):
            pipe = self._redis.pipeline()
            pipe.delete(self.key(fid))
            pipe.zrem(self.due_key, fid)
            pipe.srem(self.all_key, fid)
            removed = pipe.execute()
        return bool(removed[0])

    def poll_now(self, fid: str, now: float) -> bool:
        """Make a registered, enabled feed due at once (a hub said it changed); False when
        it is not in the due index."""
        with redis_errors("scheduling a poll"):
            return bool(self._redis.zadd(self.due_key, {fid: now}, xx=True, ch=True))

    def release_claims(self, held: set[str], now: float) -> int:
        """Make due at once every feed claimed for a poll (its due time pushed past its real
        next poll by the claim) unless its poll is in `held`; how many. After a Redis restart
        lost the poll task, the feed is not left waiting for its claim to run out."""
        with redis_errors("releasing claims"):
            ahead: Any = self._redis.zrangebyscore(self.due_key, now, "+inf", withscores=True)
            candidates = [(fid.decode(), score) for fid, score in ahead if fid.decode() not in held]
            pipe = self._redis.pipeline(transaction=False)
            for fid, _score in candidates:
                pipe.hget(self.key(fid), "next_due")
            scheduled = pipe.execute()
            claimed = [
                fid for (fid, score), due in zip(candidates, scheduled, strict=True)
                if due is not None and float(due or 0) < score - 1
            ]  # fmt: skip
            if claimed:
                self._redis.zadd(self.due_key, dict.fromkeys(claimed, now), xx=True)
        return len(claimed)

    def get(self, url_or_id: str) -> FeedState | None:
        fid = self.resolve(url_or_id)
        with redis_errors("reading feed"):
            raw: Any = self._redis.hgetall(self.key(fid))
        return _decode(raw) if raw else None

    def get_many(self, ids: list[str]) -> list[FeedState | None]:
        """The states of `ids`, in order (None for one not registered), in one round trip."""
        with redis_errors("reading feeds"):
            pipe = self._redis.pipeline(transaction=False)
            for fid in ids:
                pipe.hgetall(self.key(fid))
            rows = pipe.execute()
        return [_decode(r) if r else None for r in rows]

    def all(self) -> list[FeedState]:
        with redis_errors("listing feeds"):
            ids: Any = self._redis.smembers(self.all_key)
            pipe = self._redis.pipeline()
            for fid in sorted(ids):
                pipe.hgetall(self.key(fid.decode()))
            rows = pipe.execute()
        return sorted((_decode(r) for r in rows if r), key=lambda s: s.url)

    def save(self, state: FeedState, *, old_id: str | None = None) -> None:
        """Write the whole state and keep the due index in step (disabled feeds leave it)."""
        mapping = {k: _encode(v) for k, v in state.model_dump(mode="json").items()}
        # Only the options that differ from the defaults: a value over 64 bytes would turn
        # the feed's compact hash into a full hash table (636 bytes a feed become ~1.9 KB).
        mapping["options"] = state.options.model_dump_json(exclude_defaults=True)
        with redis_errors("saving feed"):
            pipe = self._redis.pipeline(transaction=True)
            if old_id and old_id != state.id:
                pipe.delete(self.key(old_id))
                pipe.zrem(self.due_key, old_id)
                pipe.srem(self.all_key, old_id)
            pipe.hset(self.key(state.id), mapping=mapping)
            pipe.sadd(self.all_key, state.id)
            if state.enabled:
                pipe.zadd(self.due_key, {state.id: state.next_due})
            else:
                pipe.zrem(self.due_key, state.id)
            pipe.execute()

    def resolve(self, url_or_id: str) -> str:
        if "://" in url_or_id:
            return feed_id(url_or_id)
        return url_or_id


def _encode(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _decode(raw: dict[bytes, bytes]) -> FeedState:
    data: dict[str, object] = {k.decode(): v.decode() for k, v in raw.items()}
    for name in _NULLABLE:
        if data.get(name) == "":
            data[name] = None
    data["enabled"] = data.get("enabled") == "1"
    options = data.get("options")
    data["options"] = json.loads(str(options)) if options else {}
    try:
        FeedOptions.model_validate(data["options"])
    except ValidationError as exc:
        # Stored before options were checked: the feed is shown, disabled, until re-added.
        reason = f"stored options are invalid ({option_problems(exc)}): re-add the feed"
        data |= {"options": {}, "enabled": False, "disabled_reason": reason}
    return FeedState.model_validate(data)
