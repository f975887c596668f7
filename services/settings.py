"""Settings: one validated object, read from NEWSWIRE_* variables at start and passed in."""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_INTERVAL = 30 * 86400  # the longest poll interval: a month
DEFAULT_USER_AGENT = "newswire/0.1 (+https://github.com/newswire/newswire; news ingestion bot)"


def default_data_dir() -> str:
    """Where `newswire up` keeps its private Redis: $XDG_DATA_HOME/newswire."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "newswire")


class Settings(BaseSettings):
    """Everything the services need to know about their environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", extra="ignore", frozen=True)

    redis_url: str = "redis://localhost:6379/0"
    # Redis Sentinel: comma list of host:port; when set, the master named below is found
    # through them (for every part: broker, streams, registry, scheduler, monitor, consumers)
    # and redis_url only supplies the password and database number.
    redis_sentinels: str = ""
    redis_sentinel_master: str = "mymaster"
    # After each publish, wait until this many replicas have it (Redis WAIT), at most the
    # timeout: narrows what an asynchronous-replication failover can lose. 0: do not wait.
    redis_wait_replicas: int = Field(default=0, ge=0)
    redis_wait_timeout_ms: int = Field(default=1000, ge=1)
    stream: str = "newswire:articles"
    rejected_stream: str = "newswire:rejected"
    stream_maxlen: int = Field(default=1_000_000, ge=1000)
    stream_max_age_hours: float = Field(default=0, ge=0, description="0: trim by length only")
    seen_ttl_days: int = Field(default=90, ge=1)
    # Story identity (see the README's "Story identity" section).
    article_schema_version: Literal[1, 2] = 2
    cluster_window_days: int = Field(default=3, ge=1, le=30)
    update_window_hours: float = Field(default=48, ge=0, description="0: no updates")
    updates_per_poll: int = Field(default=10, ge=0)
    max_versions: int = Field(default=20, ge=1)

    fetch_connect_timeout: float = Field(default=5.0, gt=0)
    fetch_read_timeout: float = Field(default=10.0, gt=0)
    fetch_deadline: float = Field(default=20.0, gt=0, le=120)
    fetch_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    # Hard caps on what one feed may put into the pipeline; every cut is recorded.
    feed_max_entries: int = Field(default=500, ge=1)
    feed_max_title_chars: int = Field(default=1000, ge=10)
    feed_max_summary_chars: int = Field(default=100_000, ge=100)
    feed_max_authors: int = Field(default=20, ge=1)
    feed_max_tags: int = Field(default=50, ge=1)
    # Keep every fetched page (zstd) for replay: in archive_dir, or <data_dir>/archive.
    archive: bool = True
    archive_dir: str = ""
    archive_ttl_days: int = Field(default=7, ge=1)
    # Obey robots.txt for page and sitemap fetches (RFC 9309), cached per origin this long.
    robots_txt: bool = True
    robots_ttl_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    # Sitemap URLs (and child sitemaps) older than this are not entries.
    sitemap_window_days: float = Field(default=2.0, gt=0, le=365)
    user_agent: str = DEFAULT_USER_AGENT
    # Comma list of host:port or CIDR that the SSRF guard lets through (e.g. a local test site).
    fetch_allow_hosts: str = ""

    # What a server may ask (README "Caps"): Retry-After, <ttl> and max-age push one feed's
    # next poll at most this far; a Retry-After holds a whole host at most this long.
    feed_max_wait_seconds: float = Field(default=86400.0, ge=60, le=30 * 86400)
    host_max_hold_seconds: float = Field(default=3600.0, ge=1, le=86400)
    # No stream entry (Article or rejected link) is larger than this: fields are cut to fit,
    # each cut recorded on the Article (`truncated`).
    stream_entry_max_bytes: int = Field(default=1_000_000, ge=64 * 1024, le=64 * 1024 * 1024)
    # `env:NAME` in feed options reads only variables whose name starts with one of these
    # (comma list), never NEWSWIRE_*: a feed list from elsewhere cannot read our own settings.
    env_secret_prefixes: str = "FEED_"

    key_prefix: str = "newswire"
    poll_interval: int = Field(
        default=900, ge=1, le=MAX_INTERVAL, description="default seconds between polls"
    )
    host_rate: float = Field(default=2.0, gt=0, description="article fetches/s per host")
    host_burst: int = Field(default=5, ge=1)
    entry_retries: int = Field(default=3, ge=0, description="transient failures before fallback")
    visibility_timeout: int = Field(default=50, ge=5)
    # An entry handed on by a poll and not settled this long after (retries push it back) is
    # enqueued again by the scheduler: the safety net under the broker's own delivery.
    entry_redeliver_seconds: float = Field(default=600.0, ge=10)
    # A worker whose consumer has not been able to take tasks for this long is stalled: it is
    # shown so, fails its health checks and exits for its supervisor to replace it. Above the
    # 60 s Redis outage that everything is meant to ride out.
    worker_stall_seconds: float = Field(default=90.0, ge=5)
    # Set by `newswire up` on a child it restarted: how many times it did (shown in status).
    restarts: int = Field(default=0, ge=0)
    # Tests and the chaos soak only: SIGUSR2 makes a worker's task consumer crash (as kombu's
    # bug does) or wedge (hang for good while the process lives on).
    fault_injection: Literal["", "wedge", "crash"] = ""
    # A claimed feed is not claimed again for this long unless its poll reschedules it first
    # (a finished poll always does): how late a poll task lost outright is retried.
    poll_claim_seconds: float = Field(default=120.0, ge=10)
    scheduler_tick: float = Field(default=1.0, gt=0)
    scheduler_batch: int = Field(default=500, ge=1)
    feeds_file: str | None = None
    # Workers write their counters to Redis at most this often (0: after every entry).
    metrics_flush_seconds: float = Field(default=1.0, ge=0)
    # Celery task events (3 publishes per task) for Flower; Flower turns them on by itself.
    task_events: bool = False
    monitor_host: str = "127.0.0.1"
    # Host headers the monitor answers (comma list; `*` for any) besides localhost,
    # 127.0.0.1, [::1], `newswire-monitor`/`monitor` (compose) and NEWSWIRE_MONITOR_HOST:
    # a DNS-rebinding page gets 400, not the status.
    monitor_allowed_hosts: str = ""
    monitor_port: int = Field(default=8787, ge=0, le=65535)
    # Access to the monitor (all but /livez and /healthz): a bearer token, a basic-auth
    # password (user `monitor_user`), or both; neither set means open (loopback by default).
    monitor_token: SecretStr | None = None
    monitor_user: str = "newswire"
    monitor_password: SecretStr | None = None
    data_dir: str = Field(default_factory=default_data_dir)

    @property
    def archive_path(self) -> Path:
        return Path(self.archive_dir) if self.archive_dir else Path(self.data_dir) / "archive"

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

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        """NEWSWIRE_REDIS_SENTINELS as (host, port) pairs; empty when Sentinel is not used."""
        pairs = []
        for part in self.redis_sentinels.split(","):
            host, _, port = part.strip().rpartition(":")
            if part.strip():
                pairs.append((host.strip("[]"), int(port)))
        return pairs

    @model_validator(mode="after")
    def _limits_fit(self) -> "Settings":
        if self.visibility_timeout <= self.task_time_limit:
            raise ValueError(
                f"visibility_timeout ({self.visibility_timeout}s) must exceed the task time limit "
                f"({self.task_time_limit}s = fetch_deadline + 20): raise "
                "NEWSWIRE_VISIBILITY_TIMEOUT or lower NEWSWIRE_FETCH_DEADLINE"
            )
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

    @property
    def secret_prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.env_secret_prefixes.split(",") if p.strip())

    @property
    def allow_hosts(self) -> list[str]:
        """The allow-list as entries, blanks dropped."""
        return [part.strip() for part in self.fetch_allow_hosts.split(",") if part.strip()]
