"""Dedup + publish: mark a story seen and append it to the stream in one atomic Redis script."""

import logging
import time
from dataclasses import dataclass

import redis

from schemas.article import SCHEMA_VERSION, Article
from schemas.rejected import RejectedLink
from services.errors import BrokerError
from services.settings import Settings
from services.urls import story_id

EVENT_ARTICLE = "article.published"
EVENT_REJECTED = "link.rejected"

# KEYS[1] = stream, KEYS[2..] = seen keys (story id and its URL aliases)
# ARGV[1] = seen TTL (s), ARGV[2] = approximate MAXLEN, ARGV[3] = oldest id to keep by age
# ("0": no age limit), ARGV[4..] = entry field/value pairs
# A Lua script runs atomically and reaches the AOF as one unit: either the story is marked
# seen AND on the stream, or neither, so a crash in between cannot lose or double it.
PUBLISH_ONCE = """
for i = 2, #KEYS do
  local seen = redis.call('GET', KEYS[i])
  if seen then return {0, seen} end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4))
if ARGV[3] ~= '0' then redis.call('XTRIM', KEYS[1], 'MINID', ARGV[3]) end
local minute = KEYS[1] .. ':minute:' .. math.floor(tonumber(string.match(id, '^(%d+)')) / 60000)
redis.call('INCR', minute)
redis.call('EXPIRE', minute, 7200)
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], id, 'EX', ARGV[1])
end
return {1, id}
"""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    """Whether this call added the entry (`new`), and the stream entry id it is under."""

    new: bool
    entry_id: str


class Publisher:
    """Writes Articles and rejected links to their streams, each story exactly once."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings
        self._script = client.register_script(PUBLISH_ONCE)
        self._seen_prefix = f"{settings.stream}:seen:"

    def _keys(self, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(self._seen_prefix + i for i in ids))

    def is_seen(self, clean_urls: list[str]) -> bool:
        """True when any of these (cleaned) links was published or rejected before."""
        return any(self.seen_flags(clean_urls))

    def seen_flags(self, clean_urls: list[str]) -> list[bool]:
        """For each (cleaned) link, whether it is already known: one round trip for a batch."""
        if not clean_urls:
            return []
        try:
            pipe = self._redis.pipeline(transaction=False)
            for url in clean_urls:
                pipe.exists(self._seen_prefix + story_id(url))
            return [bool(n) for n in pipe.execute()]
        except redis.RedisError as exc:
            raise BrokerError(f"Redis EXISTS failed: {exc}") from exc

    def publish(self, article: Article, aliases: list[str]) -> PublishResult:
        """Publish `article` unless its id or any (cleaned) alias URL is already seen."""
        fields = {
            "event": EVENT_ARTICLE,
            "schema_version": str(SCHEMA_VERSION),
            "id": article.id,
            "data": article.model_dump_json(),
        }
        ids = [article.id, *(story_id(u) for u in aliases)]
        return self._publish_once(self._settings.stream, ids, fields)

    def reject(self, rejected: RejectedLink, aliases: list[str]) -> PublishResult:
        """Record a refused link once, on the rejected-links stream."""
        fields = {
            "event": EVENT_REJECTED,
            "schema_version": str(rejected.schema_version),
            "data": rejected.model_dump_json(),
        }
        return self._publish_once(
            self._settings.rejected_stream, [story_id(u) for u in aliases], fields
        )

    def _publish_once(self, stream: str, ids: list[str], fields: dict[str, str]) -> PublishResult:
        keys = [stream, *self._keys(ids)]
        max_age = self._settings.stream_max_age_hours
        min_id = f"{int((time.time() - max_age * 3600) * 1000)}-0" if max_age else "0"
        args: list[str | int] = [
            self._settings.seen_ttl_days * 86400,
            self._settings.stream_maxlen,
            min_id,
        ]
        for name, value in fields.items():
            args += [name, value]
        wanted = self._settings.redis_wait_replicas
        try:
            if not wanted:
                new, entry_id = self._script(keys=keys, args=args)
            else:
                # WAIT counts the writes of its own connection: one pipeline, one connection.
                pipe = self._redis.pipeline(transaction=False)
                self._script(keys=keys, args=args, client=pipe)
                pipe.execute_command(  # type: ignore[no-untyped-call]
                    "WAIT", wanted, self._settings.redis_wait_timeout_ms
                )
                (new, entry_id), replicas = pipe.execute()
                if new and int(replicas) < wanted:
                    log.warning(
                        "published, but only %s of %d replicas confirmed it within %d ms",
                        replicas, wanted, self._settings.redis_wait_timeout_ms,
                    )  # fmt: skip
        except redis.RedisError as exc:
            raise BrokerError(f"Redis publish failed: {exc}") from exc
        return PublishResult(
            bool(new), entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        )
