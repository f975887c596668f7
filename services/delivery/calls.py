"""Script calls: the KEYS and ARGV of each publish script, built in the order its .lua file
states, and the script's reply read back by name."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newswire.schemas.article import Article
from newswire.services import keys
from newswire.services.delivery.stories import text
from newswire.services.errors import BrokerError
from newswire.services.identity.revisions import Known
from newswire.services.identity.urls import identity_site, site_of
from newswire.services.settings import Settings
from pydantic import BaseModel

EVENT_ARTICLE = "article.published"
EVENT_UPDATED = "article.updated"
EVENT_REJECTED = "link.rejected"


Arg = str | int | float | bytes


@dataclass(frozen=True)
class Reply:
    """A publish script's answer, by name (services/lua/publish_*.lua state each shape)."""

    status: str  # 'published', 'known', 'recluster' or 'moved'
    entry_id: str = ""  # published: the new stream entry
    why: str = ""  # known: 'story', 'seen', 'alias', 'unchanged' or 'gone'
    matched: str = ""  # known: the story it matched (rejected links: the entry)
    cluster: str = ""  # recluster: the cluster the entry must carry; published: its cluster
    version: int = 0  # moved: the story's version now
    content_hash: str = ""  # moved: the story's body hash now

    @classmethod
    def parse(cls, raw: list[Any]) -> "Reply":
        status, *rest = (text(v) for v in raw)
        if status == "published":
            return cls(status, entry_id=rest[0], cluster=rest[1] if len(rest) > 1 else "")
        if status == "known":
            return cls(status, why=rest[0], matched=rest[1])
        if status == "recluster":
            return cls(status, cluster=rest[0])
        if status == "moved":
            return cls(status, version=int(rest[0]), content_hash=rest[1])
        raise BrokerError(f"publish script answered {status!r}")


class ScriptCalls:
    """One builder per script (services/lua/publish_*.lua)."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._stream = settings.stream

    def content_key(self, article: Article) -> str:
        site = site_of(article.canonical_url or article.url or "")
        basis = f"{identity_site(site)}\n{article.content_hash}"
        return keys.content(self._stream, hashlib.sha256(basis.encode()).hexdigest()[:32])

    def fields(self, event: str, article: Article) -> dict[str, str]:
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

    def common(self, stream: str, script_keys: list[str], args: list[Arg], fields: dict[str, str]
                ) -> tuple[list[str], list[Arg]]:  # fmt: skip
        """append.lua's part: the minute counter last in KEYS; TTL, MAXLEN and the oldest id
        kept first in ARGV; the entry's field/value pairs last."""
        max_age = self._settings.stream_max_age_hours
        min_id = f"{int((self._clock() - max_age * 3600) * 1000)}-0" if max_age else "0"
        head: list[Arg] = [
            self._settings.seen_ttl_days * 86400,
            self._settings.stream_maxlen,
            min_id,
        ]
        pairs = [x for pair in fields.items() for x in pair]
        minute = keys.per_minute(stream, int(self._clock() // 60))
        return [stream, *script_keys, minute], [*head, *args, *pairs]

    def once(self, stream: str, seen: list[str], fields: dict[str, str]
                   ) -> tuple[list[str], list[Arg]]:  # fmt: skip
        return self.common(stream, seen, [], fields)

    def new(
        self, article: Article, *, use_content: bool, expected: str, lsh: list[str],
        bands: list[bytes], seen: list[str], entry_updated: float, now: float,
    ) -> tuple[list[str], list[Arg]]:  # fmt: skip
        script_keys = [keys.story(self._stream, article.id), self.content_key(article), lsh[0],
                       *lsh, *seen]  # fmt: skip
        args: list[Arg] = [
            article.id, article.content_hash, "1" if use_content else "0", expected, len(lsh),
            len(bands), entry_updated, now, self._settings.cluster_window_days * 86400, *bands,
        ]  # fmt: skip
        fields = self.fields(EVENT_ARTICLE, article)
        return self.common(self._settings.stream, script_keys, args, fields)

    def update(self, article: Article, known: Known, use_content: bool,
                     entry_updated: float) -> tuple[list[str], list[Arg]]:  # fmt: skip
        script_keys = [keys.story(self._stream, known.story_id), self.content_key(article)]
        args: list[Arg] = [
            known.version, article.content_hash, "1" if use_content else "0", entry_updated,
            known.story_id,
        ]  # fmt: skip
        fields = self.fields(EVENT_UPDATED, article)
        return self.common(self._settings.stream, script_keys, args, fields)
