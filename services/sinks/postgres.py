"""Postgres archive: its schema from versioned SQL files, batched idempotent writes of stream
events, and ranked full-text search in each article's language."""

import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from newswire.services.delivery.subscribe import Delivery
from newswire.services.errors import NewswireError
from newswire.services.sinks.runner import TargetDown
from psycopg.types.json import Jsonb

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "sql"
MIGRATION_FILE = re.compile(r"(\d{3})_[a-z0-9_]+\.sql")
# Taken by whoever migrates, so two sinks starting at once apply each file once.
MIGRATION_LOCK = 0x6E657773  # "news"
# Postgres' own text search configurations by language code; a language without one (or a
# server without it) is searched word for word ('simple').
CONFIGS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip


class ArchiveError(NewswireError):
    """Postgres refused or could not be reached; the message says which and what to do."""


@dataclass(frozen=True)
class Hit:
    """One search result: the story, its rank and a snippet with the matches in [brackets]."""

    id: str
    version: int
    title: str
    url: str | None
    source: str | None
    language: str | None
    published_at: datetime | None
    rank: float
    snippet: str


def migrations() -> list[tuple[int, str]]:
    """(version, file name) of every migration, in order."""
    found = []
    for path in MIGRATIONS.glob("*.sql"):
        if match := MIGRATION_FILE.fullmatch(path.name):
            found.append((int(match[1]), path.name))
    return sorted(found)


class Archive:
    """The archive in one Postgres database: `migrate` once at start, then `write` batches."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._configs: set[str] = set()

    @classmethod
    def connect(cls, dsn: str) -> "Archive":
        try:
            return cls(psycopg.connect(dsn, connect_timeout=10))
        except psycopg.Error as exc:
            raise ArchiveError(f"cannot reach Postgres ({exc}); check the DSN and that the "
                               "server runs") from None  # fmt: skip

    def close(self) -> None:
        self.conn.close()

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet, each in its own transaction; their names."""
        applied = []
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in self.conn.execute("SELECT version FROM schema_migrations")}
            for version, name in migrations():
                if version in done:
                    continue
                self.conn.execute((MIGRATIONS / name).read_text(encoding="utf-8").encode())
                self.conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (version, name),
                )
                applied.append(name)
        self._configs = {
            r[0] for r in self.conn.execute("SELECT cfgname FROM pg_ts_config").fetchall()
        }
        self.conn.commit()
        return applied

    def config_for(self, language: str | None) -> str:
        code = (language or "").lower().replace("_", "-").split("-")[0]
        name = CONFIGS.get(code, "simple")
        return name if name in self._configs else "simple"

    def write(self, deliveries: list[Delivery]) -> int:
        """Write a batch in one transaction: every version once, each story's latest version,
        its cluster's row. Writing the same batch again changes nothing (by id and version),
        so a sink that dies before its ack and reads the batch again doubles nothing."""
        if not deliveries:
            return 0
        versions, latest = [], []
        for d in deliveries:
            a = d.article
            data = Jsonb(a.model_dump(mode="json"))
            versions.append((a.id, a.version, d.event, d.entry_id, a.content_hash, data))
            latest.append((
                a.id, a.version, d.event, d.entry_id, a.cluster_id or a.id, a.url,
                a.canonical_url, a.feed_url, a.source, a.title, a.language,
                self.config_for(a.language), a.authors, a.published_at, a.fetched_at, a.body,
                data,
            ))  # fmt: skip
        clusters = sorted({row[4] for row in latest})
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO versions (id, version, event, stream_id, content_hash, data) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id, version) DO NOTHING",
                versions,
            )
            cur.executemany(UPSERT_ARTICLE, latest)
            cur.execute(CLUSTERS, (clusters,))
        return len(deliveries)

    def search(
        self, query: str, *, since: datetime | None = None, language: str | None = None,
        source: str | None = None, limit: int = 20,
    ) -> list[Hit]:  # fmt: skip
        """Stories matching `query` (web search syntax: words, "phrases", -not, or), title
        matches ranked above body matches, newest first among equals. The query is read in
        the language's configuration when `language` is given, else in every configuration
        the archive uses, so each story is matched by its own language's stemming."""
        configs = [self.config_for(language)] if language else self._used_configs()
        tsquery = " || ".join(["websearch_to_tsquery(%s::regconfig, %s)"] * len(configs))
        params: list[Any] = [x for c in configs for x in (c, query)]
        where = ["tsv @@ query"]
        if since is not None:
            where.append("published_at >= %s")
            params.append(since)
        if language:
            where.append("lower(split_part(replace(language, '_', '-'), '-', 1)) = %s")
            params.append(language.lower().split("-")[0])
        if source:
            where.append("(source ILIKE %s OR url ILIKE %s)")
            params += [f"%{source}%", f"%{source}%"]
        params.append(limit)
        sql = SEARCH.format(query=tsquery, where=" AND ".join(where))
        try:
            rows = self.conn.execute(sql.encode(), params).fetchall()
        finally:
            self.conn.rollback()  # a read: nothing to keep, and no transaction left open
        return [Hit(*row) for row in rows]

    def _used_configs(self) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT ts_config::text FROM articles").fetchall()
        return sorted({r[0] for r in rows} | {"simple"})


class PostgresSink:
    """`write` for the sink runner: the archive, connected (and migrated) on first use and
    again after a lost connection; a connection failure is TargetDown (the batch is tried
    again), anything else Postgres refuses is raised as it is (the event is refused)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.archive: Archive | None = None

    def write(self, batch: list[Delivery]) -> int:
        try:
            if self.archive is None or self.archive.conn.closed:
                self.archive = Archive.connect(self.dsn)
                self.archive.migrate()
            return self.archive.write(batch)
        except (ArchiveError, psycopg.OperationalError) as exc:
            self.close()
            raise TargetDown(f"Postgres: {exc}") from None

    def close(self) -> None:
        if self.archive is not None:
            with contextlib.suppress(psycopg.Error):
                self.archive.close()
        self.archive = None


UPSERT_ARTICLE = """
INSERT INTO articles (id, version, event, stream_id, cluster_id, url, canonical_url, feed_url,
    source, title, language, ts_config, authors, published_at, fetched_at, body, data, tsv)
SELECT v.*,
    setweight(to_tsvector(v.cfg, v.title), 'A') || setweight(to_tsvector(v.cfg, v.body), 'B')
FROM (VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::regconfig, %s::text[],
              %s::timestamptz, %s::timestamptz, %s, %s::jsonb))
    AS v(id, version, event, stream_id, cluster_id, url, canonical_url, feed_url, source,
         title, language, cfg, authors, published_at, fetched_at, body, data)
ON CONFLICT (id) DO UPDATE SET
    version = EXCLUDED.version, event = EXCLUDED.event, stream_id = EXCLUDED.stream_id,
    cluster_id = EXCLUDED.cluster_id, url = EXCLUDED.url,
    canonical_url = EXCLUDED.canonical_url, feed_url = EXCLUDED.feed_url,
    source = EXCLUDED.source, title = EXCLUDED.title, language = EXCLUDED.language,
    ts_config = EXCLUDED.ts_config, authors = EXCLUDED.authors,
    published_at = EXCLUDED.published_at, fetched_at = EXCLUDED.fetched_at,
    body = EXCLUDED.body, data = EXCLUDED.data, tsv = EXCLUDED.tsv
WHERE articles.version < EXCLUDED.version
"""

CLUSTERS = """
INSERT INTO clusters (cluster_id, stories, first_published, last_published)
SELECT cluster_id, count(*), min(published_at), max(published_at)
FROM articles WHERE cluster_id = ANY(%s) GROUP BY cluster_id
ON CONFLICT (cluster_id) DO UPDATE SET
    stories = EXCLUDED.stories, first_published = EXCLUDED.first_published,
    last_published = EXCLUDED.last_published
"""

SEARCH = """
SELECT id, version, title, url, source, language, published_at, ts_rank(tsv, query),
       ts_headline(ts_config, body, query,
                   'StartSel=[, StopSel=], MaxWords=30, MinWords=12, MaxFragments=2')
FROM articles, (SELECT {query}) AS q(query)
WHERE {where}
ORDER BY 8 DESC, published_at DESC NULLS LAST
LIMIT %s
"""
