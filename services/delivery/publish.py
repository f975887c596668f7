"""Dedup + publish: story identity (links, body, cluster, version) and the stream append,
checked and written in one atomic Redis script per event."""

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from newswire.schemas.article import Article
from newswire.schemas.rejected import RejectedLink
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.delivery.entrysize import fit_article, fit_rejected
from newswire.services.errors import BrokerError
from newswire.services.identity.clusters import bands as cluster_bands
from newswire.services.identity.revisions import Known
from newswire.services.identity.urls import (
    clean_url,
    identity_site,
    legacy_story_id,
    site_of,
    story_id,
)
from newswire.services.settings import Settings
from pydantic import BaseModel
from redis.commands.core import Script

STORY_ID = re.compile(r"[0-9a-f]{32}")

EVENT_ARTICLE = "article.published"
EVENT_UPDATED = "article.updated"
EVENT_REJECTED = "link.rejected"

# Identity state per story (all with the seen TTL):
#   {stream}:seen:{url id}   -> story id          every link the story is known under
#   {stream}:story:{id}      -> hash v h c e u t  version, content hash, cluster, last entry,
#                                                 feed entry's updated time, first published
#   {stream}:content:{key}   -> story id          site + content hash of a full body
#   {stream}:aliases:{id}    -> set of links      links found later to carry the same body
#   {stream}:lsh:{day}       -> hash band -> cluster id   (cluster window TTL)
# A Lua script runs atomically and reaches the AOF as one unit: the checks, the XADD and the
# state written after it happen together or not at all, so a crash in between can neither
# lose a story nor publish it twice, and two workers never both publish one story.

# Shared tail of the scripts: the XADD with trimming and the per-minute counter.
# ARGV[1] = TTL (s), ARGV[2] = approximate MAXLEN, ARGV[3] = oldest id kept by age ("0": none)
# The last KEYS element of every script is the current minute's counter (`keys.per_minute`).
_APPEND = """
local minute = KEYS[#KEYS]
local function append(stream, first_field)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, first_field))
  if ARGV[3] ~= '0' then redis.call('XTRIM', stream, 'MINID', ARGV[3]) end
  redis.call('INCR', minute)
  redis.call('EXPIRE', minute, 7200)
  return id
end
"""

# KEYS[1] = stream, KEYS[2..#KEYS-1] = seen keys (story id and its URL aliases)
# ARGV[4..] = entry field/value pairs. Used for rejected links: the seen value is the entry id.
PUBLISH_ONCE = (
    _APPEND
    + """
for i = 2, #KEYS - 1 do
  local seen = redis.call('GET', KEYS[i])
  if seen then return {0, seen} end
end
local id = append(KEYS[1], 4)
for i = 2, #KEYS - 1 do redis.call('SET', KEYS[i], id, 'EX', ARGV[1]) end
return {1, id}
"""
)

# KEYS[1] = stream, KEYS[2] = story, KEYS[3] = content key, KEYS[4] = today's LSH hash,
# KEYS[5 .. 4+n] = the LSH hashes of the cluster window (today first), then the seen keys,
# then the minute counter.
# ARGV[4] = story id, ARGV[5] = content hash, ARGV[6] = use the content key ('1'/'0'),
# ARGV[7] = the cluster the caller expects, ARGV[8] = n, ARGV[9] = number of bands b,
# ARGV[10] = feed entry's updated time, ARGV[11] = now, ARGV[12] = LSH TTL,
# ARGV[13 .. 12+b] = band keys, then the entry's field/value pairs.
# Returns {1, entry id} published; {0, why, story id} known ('story', 'seen' or 'alias': the
# same body on the same site, the links now recorded as its aliases); {2, cluster} when the
# caller's expected cluster is wrong (its data would carry the wrong cluster_id: rebuild).
PUBLISH_NEW = (
    _APPEND
    + """
local ttl = ARGV[1]
local n, b = tonumber(ARGV[8]), tonumber(ARGV[9])
local first_seen, last_seen = 5 + n, #KEYS - 1
if redis.call('EXISTS', KEYS[2]) == 1 then return {0, 'story', ARGV[4]} end
for i = first_seen, last_seen do
  local seen = redis.call('GET', KEYS[i])
  if seen then return {0, 'seen', seen} end
end
if ARGV[6] == '1' then
  local other = redis.call('GET', KEYS[3])
  if other then
    for i = first_seen, last_seen do redis.call('SET', KEYS[i], other, 'EX', ttl) end
    return {0, 'alias', other}
  end
end
local cluster, best_n = ARGV[4], 0
if b > 0 then
  local votes = {}
  for k = 5, 4 + n do
    for _, c in ipairs(redis.call('HMGET', KEYS[k], unpack(ARGV, 13, 12 + b))) do
      if c then
        votes[c] = (votes[c] or 0) + 1
        local v = votes[c]
        if v > best_n or (v == best_n and c < cluster) then cluster, best_n = c, v end
      end
    end
  end
end
if cluster ~= ARGV[7] then return {2, cluster} end
local id = append(KEYS[1], 13 + b)
redis.call('HSET', KEYS[2], 'v', 1, 'h', ARGV[5], 'c', cluster, 'e', id, 'u', ARGV[10],
  't', ARGV[11])
redis.call('EXPIRE', KEYS[2], ttl)
for i = first_seen, last_seen do redis.call('SET', KEYS[i], ARGV[4], 'EX', ttl) end
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[4], 'EX', ttl) end
for i = 13, 12 + b do redis.call('HSETNX', KEYS[4], ARGV[i], cluster) end
if b > 0 then redis.call('EXPIRE', KEYS[4], ARGV[12]) end
return {1, id}
"""
)

# KEYS[1] = stream, KEYS[2] = story, KEYS[3] = content key of the new body, KEYS[4] = minute.
# ARGV[4] = expected version, ARGV[5] = new content hash, ARGV[6] = use the content key,
# ARGV[7] = feed entry's updated time, ARGV[8] = story id, ARGV[9..] = field/value pairs.
# Returns {1, entry id}; {0, 'unchanged'} when the stored body is this one already (also when
# an earlier run of this very update published it before dying); {3, version, hash} when
# the story moved on since the caller read it (rebuild on top of it); {0, 'gone'} when the
# story's state expired.
PUBLISH_UPDATE = (
    _APPEND
    + """
local state = redis.call('HMGET', KEYS[2], 'v', 'h', 'u')
if not state[1] then return {0, 'gone'} end
if state[2] == ARGV[5] then
  if tonumber(ARGV[7]) > tonumber(state[3] or '0') then
    redis.call('HSET', KEYS[2], 'u', ARGV[7])
  end
  return {0, 'unchanged'}
end
if state[1] ~= ARGV[4] then return {3, state[1], state[2]} end
local id = append(KEYS[1], 9)
redis.call('HSET', KEYS[2], 'v', tonumber(state[1]) + 1, 'h', ARGV[5], 'e', id, 'u', ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[1])
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[8], 'EX', ARGV[1]) end
return {1, id}
"""
)

# Fewer words than this and two pages of one site may share a body without being one story
# (a stub, a video page's caption): content identity is only used above it.
MIN_CONTENT_WORDS = 50
# An expected value that Redis corrects (cluster, version) is retried this often at most.
MAX_REBUILDS = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    """Whether this call added the entry (`new`), and the stream entry id it is under; when
    not, `why` ('seen', 'story', 'alias', 'unchanged', 'gone') and the story it matched."""

    new: bool
    entry_id: str
    why: str = ""
    story_id: str = ""
    article: Article | None = None


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


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def _day(ts: float) -> int:
    return int(ts // 86400)


class Publisher:
    """Writes Articles and rejected links to their streams: each story once, then once per
    real change; near-duplicates share a cluster."""

    def __init__(
        self, client: redis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._settings = settings
        self._clock = clock
        self._once = client.register_script(PUBLISH_ONCE)
        self._new = client.register_script(PUBLISH_NEW)
        self._update = client.register_script(PUBLISH_UPDATE)
        self._stream = settings.stream

    def _keys(self, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(keys.seen(self._stream, i) for i in ids))

    def content_key(self, article: Article) -> str:
        site = site_of(article.canonical_url or article.url or "")
        basis = f"{identity_site(site)}\n{article.content_hash}"
        return keys.content(self._stream, hashlib.sha256(basis.encode()).hexdigest()[:32])

    def lookup(self, clean_urls: list[str]) -> list[Known | None]:
        """For each (cleaned) link, the story it belongs to, if known: two round trips for a
        batch at most (the links, then the state of the stories found)."""
        if not clean_urls:
            return []
        with redis_errors("lookup"):
            pipe = self._redis.pipeline(transaction=False)
            for url in clean_urls:
                pipe.get(keys.seen(self._stream, story_id(url)))
                # Read, never written: links seen before identity keys existed stay seen.
                pipe.exists(keys.seen(self._stream, legacy_story_id(url)))
            replies = pipe.execute()
            found: list[str | None] = []
            for value, legacy in zip(replies[::2], replies[1::2], strict=True):
                found.append(_text(value) if value is not None else ("" if legacy else None))
            stories = [f for f in found if f and STORY_ID.fullmatch(f)]
            states: dict[str, list[Any]] = {}
            if stories:
                pipe = self._redis.pipeline(transaction=False)
                for sid in stories:
                    pipe.hmget(keys.story(self._stream, sid), ["v", "h", "c", "u", "t"])
                states = dict(zip(stories, pipe.execute(), strict=True))
        return [None if f is None else self._known(f, states.get(f)) for f in found]

    @staticmethod
    def _known(sid: str, state: list[Any] | None) -> Known:
        if not state or state[0] is None:
            return Known(sid)
        v, h, c, u, t = (_text(x) for x in state)
        return Known(sid, int(v), h, c, float(u or 0), float(t or 0))

    def fit(self, article: Article) -> Article:
        """`article` within NEWSWIRE_STREAM_ENTRY_MAX_BYTES, every cut listed in `truncated`."""
        return fit_article(article, self._settings.stream_entry_max_bytes)

    def publish(
        self, article: Article, aliases: list[str], entry_updated: float = 0.0
    ) -> PublishResult:
        """Publish `article` unless its id, any (cleaned) alias link, or (for a full body) the
        same body on the same site is already known; the Article gets its `cluster_id`."""
        article = self.fit(article)
        now = self._clock()
        bands = cluster_bands(article.body)
        use_content = article.extraction == "full" and article.word_count >= MIN_CONTENT_WORDS
        window = self._settings.cluster_window_days
        today = _day(now)
        lsh = [keys.lsh(self._stream, today - d) for d in range(window)]
        seen = self._keys([article.id, *(story_id(u) for u in aliases)])
        script_keys = [
            self._settings.stream,
            keys.story(self._stream, article.id),
            self.content_key(article),
            lsh[0],
            *lsh,
            *seen,
        ]
        expected = article.id
        for _ in range(MAX_REBUILDS):
            article = article.model_copy(update={"cluster_id": expected})
            args: list[str | int | float | bytes] = [
                article.id,
                article.content_hash,
                "1" if use_content else "0",
                expected,
                len(lsh),
                len(bands),
                entry_updated,
                now,
                window * 86400,
                *bands,
            ]
            reply = self._run(self._new, script_keys, args, self._fields(EVENT_ARTICLE, article))
            if reply[0] == 2:
                expected = _text(reply[1])
                continue
            if reply[0] == 1:
                return PublishResult(True, _text(reply[1]), story_id=article.id, article=article)
            why, other = _text(reply[1]), _text(reply[2])
            if why == "alias":
                self._record_aliases(other, [article.url, *aliases])
            return PublishResult(False, "", why, other)
        raise BrokerError("cluster assignment did not settle")  # pragma: no cover

    def update(self, article: Article, known: Known, entry_updated: float = 0.0) -> PublishResult:
        """Publish `article` as the next version of the `known` story when its body differs
        from the stored one: once per version, whoever else tries the same."""
        article = self.fit(article)
        use_content = article.extraction == "full" and article.word_count >= MIN_CONTENT_WORDS
        for _ in range(MAX_REBUILDS):
            article = article.model_copy(
                update={
                    "id": known.story_id,
                    "version": known.version + 1,
                    "previous_content_hash": known.content_hash,
                    "cluster_id": known.cluster_id or known.story_id,
                }
            )
            script_keys = [
                self._settings.stream,
                keys.story(self._stream, known.story_id),
                self.content_key(article),
            ]
            args: list[str | int | float | bytes] = [
                known.version,
                article.content_hash,
                "1" if use_content else "0",
                entry_updated,
                known.story_id,
            ]
            reply = self._run(self._update, script_keys, args, self._fields(EVENT_UPDATED, article))
            if reply[0] == 3:
                version, content = int(_text(reply[1])), _text(reply[2])
                known = Known(
                    known.story_id, version, content, known.cluster_id, known.updated,
                    known.first_published,
                )  # fmt: skip
                continue
            if reply[0] == 1:
                return PublishResult(
                    True, _text(reply[1]), story_id=known.story_id, article=article
                )
            return PublishResult(False, "", _text(reply[1]), known.story_id)
        raise BrokerError("story version did not settle")  # pragma: no cover

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
        fields = {_text(k): _text(v) for k, v in state.items()}
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
            return sorted(_text(m) for m in self._redis.smembers(keys.aliases(self._stream, sid)))  # type: ignore[union-attr]

    def _record_aliases(self, sid: str, links: list[str | None]) -> None:
        # Outside the publish script (the story's key is only known once it answered): if this
        # is lost, the links are already marked seen by the script, only the listing lacks them.
        kept = sorted({clean_url(u) for u in links if u})
        if not kept:
            return
        with redis_errors("SADD"):
            pipe = self._redis.pipeline(transaction=False)
            pipe.sadd(keys.aliases(self._stream, sid), *kept)
            pipe.expire(keys.aliases(self._stream, sid), self._settings.seen_ttl_days * 86400)
            pipe.execute()

    def _fields(self, event: str, article: Article) -> dict[str, str]:
        payload: BaseModel = article
        if self._settings.article_schema_version == 1:
            payload = article.to_v1()
        return {
            "event": event,
            "schema_version": str(self._settings.article_schema_version),
            "id": article.id,
            "version": str(article.version),
            "data": payload.model_dump_json(),
        }

    def reject(
        self, rejected: RejectedLink, aliases: list[str], kind: str | None = None
    ) -> PublishResult:
        """Record a refused link once, on the rejected-links stream; `kind` (why, for
        programs) is an entry field beside `data`."""
        fields = {
            "event": EVENT_REJECTED,
            "schema_version": str(rejected.schema_version),
            "data": fit_rejected(rejected).model_dump_json(),
        }
        if kind:
            fields["kind"] = kind
        script_keys = [self._settings.rejected_stream, *self._keys([story_id(u) for u in aliases])]
        new, entry_id = self._run(self._once, script_keys, [], fields)
        return PublishResult(bool(new), _text(entry_id))

    def _run(
        self,
        script: Script,
        script_keys: list[str],
        args: list[str | int | float | bytes],
        fields: dict[str, str],
    ) -> list[Any]:
        """Run a publish script with the common arguments, waiting for replicas if set."""
        max_age = self._settings.stream_max_age_hours
        min_id = f"{int((self._clock() - max_age * 3600) * 1000)}-0" if max_age else "0"
        full: list[str | int | float | bytes] = [
            self._settings.seen_ttl_days * 86400,
            self._settings.stream_maxlen,
            min_id,
            *args,
        ]
        for name, value in fields.items():
            full += [name, value]
        script_keys = [*script_keys, keys.per_minute(script_keys[0], int(self._clock() // 60))]
        wanted = self._settings.redis_wait_replicas
        with redis_errors("publish"):
            if not wanted:
                reply: list[Any] = script(keys=script_keys, args=full)
                return reply
            # WAIT counts the writes of its own connection: one pipeline, one connection.
            pipe = self._redis.pipeline(transaction=False)
            script(keys=script_keys, args=full, client=pipe)
            pipe.execute_command(  # type: ignore[no-untyped-call]
                "WAIT", wanted, self._settings.redis_wait_timeout_ms
            )
            reply, replicas = pipe.execute()
            if reply[0] == 1 and int(replicas) < wanted:
                log.warning(
                    "published, but only %s of %d replicas confirmed it within %d ms",
                    replicas, wanted, self._settings.redis_wait_timeout_ms,
                )  # fmt: skip
            return reply
