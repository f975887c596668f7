"""Dedup + publish: story identity (links, body, cluster, version) and the stream append,
checked and written in one atomic Redis script per event."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from newswire.schemas.article import Article
from newswire.schemas.rejected import RejectedLink
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.delivery.calls import (
    EVENT_REJECTED,
    Arg,
    Reply,
    ScriptCalls,
)
from newswire.services.delivery.entrysize import fit_article, fit_rejected
from newswire.services.delivery.stories import Stories, StoryRecord
from newswire.services.errors import BrokerError
from newswire.services.identity.clusters import bands as cluster_bands
from newswire.services.identity.revisions import Known
from newswire.services.identity.urls import clean_url, story_id
from newswire.services.scripts import register
from newswire.services.settings import Settings
from redis.commands.core import Script

# Identity state per story (all with the seen TTL):
#   {stream}:seen:{url id}   -> story id          every link the story is known under
#   {stream}:story:{id}      -> hash v h c e u t  version, content hash, cluster, last entry,
#                                                 feed entry's updated time, first published
#   {stream}:content:{key}   -> story id          site + content hash of a full body
#   {stream}:aliases:{id}    -> set of links      links found later to carry the same body
#   {stream}:lsh:{day}       -> hash band -> cluster id   (cluster window TTL)
# A Lua script runs atomically and reaches the AOF as one unit: the checks, the XADD and the
# state written after it happen together or not at all, so a crash in between can neither
# lose a story nor publish it twice, and two workers never both publish one story. The
# scripts are services/lua/publish_*.lua; each one's KEYS/ARGV are built by one method below.

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
        self._once = register(client, "publish_once")
        self._new = register(client, "publish_new")
        self._update = register(client, "publish_update")
        self._stream = settings.stream
        self._calls = ScriptCalls(settings, clock)
        self.stories = Stories(client, settings.stream)

    def _keys(self, ids: list[str]) -> list[str]:
        return list(dict.fromkeys(keys.seen(self._stream, i) for i in ids))

    def lookup(self, clean_urls: list[str]) -> list[Known | None]:
        """For each (cleaned) link, the story it belongs to, if known (see Stories.lookup)."""
        return self.stories.lookup(clean_urls)

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
        today = _day(now)
        lsh = [keys.lsh(self._stream, today - d) for d in range(self._settings.cluster_window_days)]
        seen = self._keys([article.id, *(story_id(u) for u in aliases)])
        expected = article.id
        for _ in range(MAX_REBUILDS):
            article = article.model_copy(update={"cluster_id": expected})
            script_keys, args = self._calls.new(
                article, use_content=use_content, expected=expected, lsh=lsh, bands=bands,
                seen=seen, entry_updated=entry_updated, now=now,
            )  # fmt: skip
            reply = self._run(self._new, script_keys, args)
            if reply.status == "recluster":
                expected = reply.cluster
                continue
            if reply.status == "published":
                if reply.cluster and reply.cluster != expected:  # set by the script itself
                    article = article.model_copy(update={"cluster_id": reply.cluster})
                return PublishResult(True, reply.entry_id, story_id=article.id, article=article)
            if reply.why == "alias":
                self._record_aliases(reply.matched, [article.url, *aliases])
            return PublishResult(False, "", reply.why, reply.matched)
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
            script_keys, args = self._calls.update(article, known, use_content, entry_updated)
            reply = self._run(self._update, script_keys, args)
            if reply.status == "moved":
                known = Known(
                    known.story_id, reply.version, reply.content_hash, known.cluster_id,
                    known.updated, known.first_published,
                )  # fmt: skip
                continue
            if reply.status == "published":
                return PublishResult(True, reply.entry_id, story_id=known.story_id, article=article)
            return PublishResult(False, "", reply.why, known.story_id)
        raise BrokerError("story version did not settle")  # pragma: no cover

    def describe(self, link_or_id: str) -> StoryRecord | None:
        return self.stories.describe(link_or_id)

    def aliases_of(self, sid: str) -> list[str]:
        return self.stories.aliases_of(sid)

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
        seen = self._keys([story_id(u) for u in aliases])
        reply = self._run(
            self._once, *self._calls.once(self._settings.rejected_stream, seen, fields)
        )
        if reply.status == "published":
            return PublishResult(True, reply.entry_id)
        return PublishResult(False, reply.matched)

    def _run(self, script: Script, script_keys: list[str], args: list[Arg]) -> Reply:
        """Run a publish script, waiting for replicas if NEWSWIRE_REDIS_WAIT_REPLICAS is set."""
        wanted = self._settings.redis_wait_replicas
        with redis_errors("publish"):
            if not wanted:
                return Reply.parse(script(keys=script_keys, args=args))
            # WAIT counts the writes of its own connection: one pipeline, one connection.
            pipe = self._redis.pipeline(transaction=False)
            script(keys=script_keys, args=args, client=pipe)
            pipe.execute_command(  # type: ignore[no-untyped-call]
                "WAIT", wanted, self._settings.redis_wait_timeout_ms
            )
            raw, replicas = pipe.execute()
        reply = Reply.parse(raw)
        if reply.status == "published" and int(replicas) < wanted:
            log.warning(
                "published, but only %s of %d replicas confirmed it within %d ms",
                replicas, wanted, self._settings.redis_wait_timeout_ms,
            )  # fmt: skip
        return reply
