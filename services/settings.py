"""Settings: one validated object, read from NEWSWIRE_* variables at start and passed in.

The fields are grouped by concern, one class each (Redis, streams, identity, fetching,
sources, polling, archive, workers; monitor, WebSub and sinks in settinggroups.py);
`Settings` is all of them at once, so every variable keeps its flat NEWSWIRE_<FIELD> name.
A part that needs one concern can say so in its signature. docs/settings.md is generated
from these classes (services/settingsdoc.py); a test fails when it is stale.
"""

import os
from pathlib import Path
from typing import Any, Literal

from newswire.services.settinggroups import (
    MAX_INTERVAL,
    MonitorSettings,
    SinkSettings,
    WebSubSettings,
    _Group,
)
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_USER_AGENT = "newswire/0.1 (+https://github.com/newswire/newswire; news ingestion bot)"


def default_data_dir() -> str:
    """Where `newswire up` keeps its private Redis: $XDG_DATA_HOME/newswire."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "newswire")


class RedisSettings(_Group):
    """Where Redis is, how to reach it over TLS, and how hard each publish waits for replicas."""

    redis_url: str = "redis://localhost:6379/0"
    """Redis holding the streams and the seen set (with Sentinel: only its password and database
    number are used)."""
    redis_sentinels: str = ""
    """Comma list of Sentinel `host:port`; when set, every part finds the master through them."""
    redis_sentinel_master: str = "mymaster"
    """The master's name in the sentinels' configuration."""
    redis_ca_file: str = ""
    """With a `rediss://` URL: the CA certificates (PEM) that Redis's certificate must chain to;
    empty: the system's. The certificate is always verified, host name included, unless
    `NEWSWIRE_REDIS_TLS_INSECURE` says otherwise."""
    redis_cert_file: str = ""
    """With `rediss://`: a client certificate (PEM), for a Redis that asks for one."""
    redis_key_file: str = ""
    """The client certificate's private key (PEM)."""
    redis_tls_insecure: bool = False
    """Accept a Redis certificate that does not verify (a lab's self-signed one): never the
    default; the connection is still encrypted, but anyone in the path can pose as Redis."""
    redis_wait_replicas: int = Field(default=0, ge=0)
    """After each publish, wait until this many replicas have it (`WAIT`); 0 = do not wait."""
    redis_wait_timeout_ms: int = Field(default=1000, ge=1)
    """Longest such wait; fewer replicas in time is logged, not an error."""
    key_prefix: str = "newswire"
    """Prefix of the registry, scheduler and rate-limit keys."""

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        """NEWSWIRE_REDIS_SENTINELS as (host, port) pairs; empty when Sentinel is not used."""
        pairs = []
        for part in self.redis_sentinels.split(","):
            host, _, port = part.strip().rpartition(":")
            if part.strip():
                pairs.append((host.strip("[]"), int(port)))
        return pairs

    @property
    def redis_tls(self) -> dict[str, Any]:
        """redis-py's TLS options for a `rediss://` URL (empty for plain redis://)."""
        if not self.redis_url.startswith("rediss://"):
            return {}
        options: dict[str, Any] = {
            "ssl_cert_reqs": "none" if self.redis_tls_insecure else "required",
            "ssl_check_hostname": not self.redis_tls_insecure,
        }
        if self.redis_ca_file:
            options["ssl_ca_certs"] = self.redis_ca_file
        if self.redis_cert_file:
            options |= {"ssl_certfile": self.redis_cert_file, "ssl_keyfile": self.redis_key_file}
        return options

    @model_validator(mode="after")
    def _tls_files(self) -> "RedisSettings":
        if bool(self.redis_cert_file) != bool(self.redis_key_file):
            raise ValueError(
                "NEWSWIRE_REDIS_CERT_FILE and NEWSWIRE_REDIS_KEY_FILE go together: set both"
            )
        for name in ("redis_ca_file", "redis_cert_file", "redis_key_file"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise ValueError(f"NEWSWIRE_{name.upper()}={path!r}: no such file")
        return self

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinel_list(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            host, _, port = part.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(
                    f"{part!r} is not host:port (e.g. sentinel1:26379,sentinel2:26379)"
                )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class StreamSettings(_Group):
    """The streams articles and rejected links go to, and how long they and identity last."""

    stream: str = "newswire:articles"
    """Stream that receives one entry per Article."""
    rejected_stream: str = "newswire:rejected"
    """Stream of refused links, with the reason."""
    stream_maxlen: int = Field(default=1_000_000, ge=1000)
    """Approximate cap on stream length (`XADD MAXLEN ~`)."""
    stream_max_age_hours: float = Field(default=0, ge=0)
    """Also trim entries older than this (`XTRIM MINID`); 0 = off."""
    stream_entry_max_bytes: int = Field(default=1_000_000, ge=64 * 1024, le=64 * 1024 * 1024)
    """No stream entry (Article or rejected link) is larger: fields are cut to fit, each cut listed
    in the Article's `truncated`."""
    seen_ttl_days: int = Field(default=90, ge=1)
    """How long a story stays known (its links, body hash and version), whatever the stream's
    trimming."""
    article_schema_version: Literal[1, 2] = 2
    """`1` writes version-1 Articles for consumers not migrated yet (see
    [compatibility](delivery.md#compatibility-policy))."""


class IdentitySettings(_Group):
    """Story identity: clusters and versions (docs/identity.md)."""

    cluster_window_days: int = Field(default=3, ge=1, le=30)
    """How long a story's near-duplicate bands stay, i.e. how far back a copy finds its cluster."""
    update_window_hours: float = Field(default=48, ge=0)
    """A story is re-fetched for a new version only this long after it was first published; 0 =
    never."""
    updates_per_poll: int = Field(default=10, ge=0)
    """Known stories one poll of a feed re-fetches at most."""
    max_versions: int = Field(default=20, ge=1)
    """No version beyond this one is published."""


class FetchSettings(_Group):
    """HTTP fetching: time and size limits, the SSRF allow-list, robots.txt, host politeness."""

    fetch_connect_timeout: float = Field(default=5.0, gt=0)
    """Seconds to establish a connection."""
    fetch_read_timeout: float = Field(default=10.0, gt=0)
    """Seconds a single read may wait."""
    fetch_deadline: float = Field(default=20.0, gt=0, le=120)
    """Total seconds for one fetch, redirects included, held by the clock whatever the server
    does."""
    fetch_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Body cap (decoded); over it the page counts as failed."""
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    """Redirect hops followed."""
    fetch_allow_hosts: str = ""
    """Comma list of `host:port` or CIDR the SSRF guard lets through."""
    user_agent: str = DEFAULT_USER_AGENT
    """Sent with every request."""
    robots_txt: bool = True
    """Obey robots.txt for article and sitemap fetches (a feed's option overrides it)."""
    robots_ttl_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    """How long a site's robots.txt is cached (in Redis, for all workers)."""
    host_rate: float = Field(default=2.0, gt=0)
    """Article fetches per second per host, shared by all workers."""
    host_burst: int = Field(default=5, ge=1)
    """Burst allowed above that rate."""
    host_max_hold_seconds: float = Field(default=3600.0, ge=1, le=86400)
    """The longest a `Retry-After` holds all fetches to one server (host and port)."""
    host_connections: int = Field(default=4, ge=1, le=64)
    """Requests in flight at once to one server (host and port) from one worker process; the
    rest of a batch waits its turn (5 s at most, then goes anyway)."""

    @property
    def allow_hosts(self) -> list[str]:
        """The allow-list as entries, blanks dropped."""
        return [part.strip() for part in self.fetch_allow_hosts.split(",") if part.strip()]


class SourceSettings(_Group):
    """What one feed may put into the pipeline; every cut is recorded."""

    feed_max_entries: int = Field(default=500, ge=1)
    """Entries taken from one feed; the rest are cut (recorded)."""
    feed_max_title_chars: int = Field(default=1000, ge=10)
    """Longest entry title kept."""
    feed_max_summary_chars: int = Field(default=100_000, ge=100)
    """Longest entry text kept."""
    feed_max_authors: int = Field(default=20, ge=1)
    """Authors kept per entry (200 characters each)."""
    feed_max_tags: int = Field(default=50, ge=1)
    """Tags kept per entry (200 characters each)."""
    sitemap_window_days: float = Field(default=2.0, gt=0, le=365)
    """Sitemap URLs (and child sitemaps) older than this are not entries."""
    env_secret_prefixes: str = "FEED_"
    """Comma list: `env:NAME` in feed options reads only names with these prefixes, never
    `NEWSWIRE_*`."""

    @property
    def secret_prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.env_secret_prefixes.split(",") if p.strip())


class PollingSettings(_Group):
    """When feeds are polled, and how the scheduler claims them."""

    poll_interval: int = Field(default=900, ge=1, le=MAX_INTERVAL)
    """Seconds between polls of a feed registered with no interval, until its first poll; from
    then on the interval is learned from the feed's own publishing (docs/sources.md)."""
    poll_min_interval: int = Field(default=25, ge=1, le=MAX_INTERVAL)
    """The shortest interval a feed learns: no feed registered without an interval is asked more
    often (a story of the busiest feed then waits ~14 s for its poll on average)."""
    poll_max_interval: int = Field(default=21600, ge=60, le=MAX_INTERVAL)
    """The longest interval a feed learns: a feed silent for weeks is still asked this often."""
    poll_gap_fraction: float = Field(default=0.5, gt=0, le=1)
    """A learned interval aims at this share of the feed's expected gap between stories."""
    feed_max_wait_seconds: float = Field(default=86400.0, ge=60, le=30 * 86400)
    """The furthest a server's `Retry-After`, `Cache-Control: max-age` or `<ttl>` can push one
    feed's next poll (see [Caps](sources.md#caps-on-what-servers-and-feeds-say))."""
    poll_claim_seconds: float = Field(default=120.0, ge=10)
    """A feed claimed for polling is not claimed again for this long unless its poll reschedules it
    first."""
    scheduler_tick: float = Field(default=1.0, gt=0)
    """Seconds between scheduler ticks."""
    scheduler_batch: int = Field(default=500, ge=1)
    """Most feeds claimed per tick."""
    poll_batch: int = Field(default=16, ge=1, le=100)
    """Due feeds polled by one task, their fetches concurrent (8 at a time): an unchanged poll then
    costs a share of one task's overhead, and a slow server holds only its own feed."""
    feeds_file: str | None = None
    """OPML or YAML feed list imported when the scheduler starts."""


class ArchiveSettings(_Group):
    """The page archive (zstd) kept for replay, and where `newswire up` keeps its data."""

    archive: bool = True
    """Keep every fetched page (zstd) for `newswire replay`."""
    archive_dir: str = ""
    """Where the page archive lives."""
    archive_ttl_days: int = Field(default=7, ge=1)
    """Archived pages older than this are removed."""
    data_dir: str = Field(default_factory=default_data_dir)
    """Where `newswire up` keeps its private Redis, and the page archive by default."""

    @property
    def archive_path(self) -> Path:
        return Path(self.archive_dir) if self.archive_dir else Path(self.data_dir) / "archive"


class WorkerSettings(_Group):
    """Celery workers: retries, redelivery, stalls, counters."""

    entry_retries: int = Field(default=3, ge=0)
    """Transient page failures retried before falling back to the feed's text."""
    entry_batch: int = Field(default=8, ge=1, le=64)
    """New entries of one poll that travel as one task: fetched concurrently, extracted in turn
    (one task's overhead and a few Redis round trips shared). A page that must wait or retry is
    split off to go alone."""
    visibility_timeout: int = Field(default=50, ge=5)
    """Seconds before a dead worker's unacked task is handed out again; must exceed the task time
    limit (`NEWSWIRE_FETCH_DEADLINE` + 20)."""
    entry_redeliver_seconds: float = Field(default=600.0, ge=10)
    """An entry handed on by a poll and not settled this long after (retries push it back) is
    enqueued again."""
    worker_stall_seconds: float = Field(default=90.0, ge=5)
    """A worker whose task consumer has not consumed for this long is `stalled`: it says so for 5
    s, then exits (code 70) for its supervisor to replace it."""
    worker_wedge_seconds: float = Field(default=45.0, ge=5)
    """Sooner, a worker whose consumer has not consumed for this long while Redis answers its
    heartbeats is `stalled` too: the broker is there, the consumer does not use it (Celery
    reconnects within 30 s of Redis's return, so an outage alone never ends a worker before
    NEWSWIRE_WORKER_STALL_SECONDS)."""
    metrics_flush_seconds: float = Field(default=1.0, ge=0)
    """Workers write their counters to Redis at most this often (0: after every entry)."""
    task_events: bool = False
    """Send Celery task events from the start (Flower turns them on by itself)."""
    worker_allocator: str = "auto"
    """The memory allocator a worker runs under: `auto` (jemalloc, else mimalloc, where
    installed: Debian's `libjemalloc2`), `jemalloc`, `mimalloc`, `system` (the C library's) or
    a library file's path. Under jemalloc, extraction takes ~10% less CPU (docs/benchmarks.md);
    a choice named but not in effect stops the worker with an error."""

    @field_validator("worker_allocator")
    @classmethod
    def _known_allocator(cls, value: str) -> str:
        value = value.strip()
        if value not in ("auto", "jemalloc", "mimalloc", "system") and not value.startswith("/"):
            raise ValueError(
                f"{value!r} is no allocator: choose auto, jemalloc, mimalloc, system or the "
                "absolute path of a malloc library"
            )
        return value


GROUPS: tuple[type[_Group], ...] = (
    RedisSettings,
    StreamSettings,
    IdentitySettings,
    FetchSettings,
    SourceSettings,
    PollingSettings,
    ArchiveSettings,
    WorkerSettings,
    MonitorSettings,
    WebSubSettings,
    SinkSettings,
)


class Settings(
    SinkSettings,
    WebSubSettings,
    MonitorSettings,
    WorkerSettings,
    ArchiveSettings,
    PollingSettings,
    SourceSettings,
    FetchSettings,
    IdentitySettings,
    StreamSettings,
    RedisSettings,
    BaseSettings,
):
    """Everything the services need to know about their environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", extra="ignore", frozen=True)

    @property
    def task_time_limit(self) -> int:
        """Hard limit per task: above the fetch deadline, below the visibility timeout."""
        return int(self.fetch_deadline + 20)

    @property
    def task_soft_time_limit(self) -> int:
        return int(self.fetch_deadline + 10)

    @property
    def broker_patience(self) -> float:
        """Seconds a task waits out a Redis outage before giving its message back: what the
        soft time limit leaves beside a whole fetch."""
        return max(1.0, self.task_soft_time_limit - self.fetch_deadline - 2)

    @model_validator(mode="after")
    def _limits_fit(self) -> "Settings":
        if self.poll_min_interval > self.poll_max_interval:
            raise ValueError(
                f"poll_min_interval ({self.poll_min_interval}s) is above poll_max_interval "
                f"({self.poll_max_interval}s): lower NEWSWIRE_POLL_MIN_INTERVAL"
            )
        if self.visibility_timeout <= self.task_time_limit:
            raise ValueError(
                f"visibility_timeout ({self.visibility_timeout}s) must exceed the task time limit "
                f"({self.task_time_limit}s = fetch_deadline + 20): raise "
                "NEWSWIRE_VISIBILITY_TIMEOUT or lower NEWSWIRE_FETCH_DEADLINE"
            )
        return self


def default(name: str) -> Any:
    """A setting's default, for a stage's own policy object: each default is written once."""
    return Settings.model_fields[name].get_default(call_default_factory=True)
