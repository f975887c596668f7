"""Process wiring: load settings once and build the services a process needs from them."""

from dataclasses import dataclass
from datetime import timedelta

import redis
from pydantic import ValidationError

from services.broker import open_redis
from services.errors import ConfigError
from services.feeds import FeedLimits
from services.fetch import Fetcher
from services.guard import AllowList
from services.ingest import Pipeline
from services.metrics import Metrics
from services.pending import PendingLedger
from services.politeness import HostLimiter
from services.publish import Publisher
from services.registry import Registry
from services.revisions import RevisionPolicy
from services.robots import RobotsCache
from services.settings import Settings
from services.sources import SourceOptions


def load_settings() -> Settings:
    """Settings from the environment, or a ConfigError that names the bad variable."""
    try:
        settings = Settings()
        AllowList.parse(settings.allow_hosts)  # fail at start, not at the first fetch
    except ValidationError as exc:
        problems = "; ".join(
            (f"NEWSWIRE_{'_'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "")
            + err["msg"]
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
    return settings


@dataclass
class Runtime:
    """The services of one process, sharing one Redis client and one HTTP pool."""

    settings: Settings
    redis: redis.Redis
    pipeline: Pipeline
    registry: Registry
    limiter: HostLimiter
    pending: PendingLedger

    def close(self) -> None:
        self.pipeline.fetcher.close()
        self.redis.close()


def build_runtime(settings: Settings) -> Runtime:
    client = open_redis(settings)
    limits = FeedLimits(
        entries=settings.feed_max_entries,
        title_chars=settings.feed_max_title_chars,
        summary_chars=settings.feed_max_summary_chars,
        authors=settings.feed_max_authors,
        tags=settings.feed_max_tags,
    )
    fetcher = Fetcher(settings)
    limiter = HostLimiter(client, settings.host_rate, settings.host_burst, settings.key_prefix)
    robots = None
    if settings.robots_txt:
        robots = RobotsCache(
            client, fetcher, prefix=settings.key_prefix, user_agent=settings.user_agent,
            ttl=int(settings.robots_ttl_hours * 3600), limiter=limiter,
        )  # fmt: skip
    pipeline = Pipeline(
        fetcher,
        Publisher(client, settings),
        metrics=Metrics(client, settings.key_prefix),
        sources=SourceOptions(limits, timedelta(days=settings.sitemap_window_days)),
        revisions=RevisionPolicy.from_settings(settings),
        robots=robots,
    )
    registry = Registry(client, settings.key_prefix, settings.poll_interval)
    pending = PendingLedger(client, settings.key_prefix, settings.entry_redeliver_seconds)
    return Runtime(settings, client, pipeline, registry, limiter, pending)
