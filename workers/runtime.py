"""Process wiring: load settings once and build the services a process needs from them."""

import contextlib
import dataclasses
import time
from dataclasses import dataclass

import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.broker import open_redis
from newswire.services.delivery.publish import Publisher
from newswire.services.errors import BrokerError, ConfigError
from newswire.services.fetch.client import Fetcher
from newswire.services.fetch.guard import AllowList
from newswire.services.fetch.politeness import HostLimiter
from newswire.services.fetch.robots import RobotsCache
from newswire.services.identity.revisions import RevisionPolicy
from newswire.services.ingest.archive import LocalArchive
from newswire.services.ingest.pipeline import Pipeline
from newswire.services.ingest.titlehabits import TitleHabits
from newswire.services.metrics import Metrics
from newswire.services.polling.pending import PendingLedger
from newswire.services.polling.registry import Registry, feed_id
from newswire.services.push.subscriber import Hubs, Subscriber
from newswire.services.push.subscriptions import Subscriptions
from newswire.services.settings import Settings
from newswire.services.sources.kinds import SourceOptions
from pydantic import ValidationError

# A feed's options are re-read from the registry this often by a worker (and this many kept).
OPTIONS_TTL = 60.0
OPTIONS_CACHE = 10_000


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
    subscriptions: Subscriptions

    _options: dict[str, tuple[float, FeedOptions | None]] = dataclasses.field(default_factory=dict)

    def feed_options(self, feed_url: str) -> FeedOptions | None:
        """The registered feed's options (None when it has none or is not registered), read
        from the registry at most once a minute per feed in this process."""
        now = time.monotonic()
        cached = self._options.get(feed_url)
        if cached is not None and cached[0] > now:
            return cached[1]
        state = self.registry.get(feed_id(feed_url))
        options = state.options if state is not None and state.options != FeedOptions() else None
        if len(self._options) > OPTIONS_CACHE:
            self._options.clear()
        self._options[feed_url] = (now + OPTIONS_TTL, options)
        return options

    def subscriber(self) -> Subscriber:
        hubs = Hubs(self.settings.websub_public_url, self.settings.websub_lease_seconds)
        return Subscriber(
            self.subscriptions, self.registry, self.pipeline.fetcher, hubs, self.pipeline.metrics
        )

    def close(self) -> None:
        if self.pipeline.titles is not None:
            self.pipeline.titles.flush()  # never raises: Redis away or refusing is handled inside
        if self.pipeline.metrics is not None:
            with contextlib.suppress(BrokerError):
                self.pipeline.metrics.close()
        self.pipeline.fetcher.close()
        self.redis.close()


def build_runtime(settings: Settings) -> Runtime:
    client = open_redis(settings)
    fetcher = Fetcher(settings)
    limiter = HostLimiter(
        client, settings.host_rate, settings.host_burst, settings.key_prefix,
        max_hold=settings.host_max_hold_seconds,
    )  # fmt: skip
    # Built even when NEWSWIRE_ROBOTS_TXT is off: a feed's own option can ask for it.
    robots = RobotsCache(
        client, fetcher, prefix=settings.key_prefix, user_agent=settings.user_agent,
        ttl=int(settings.robots_ttl_hours * 3600), limiter=limiter,
    )  # fmt: skip
    pipeline = Pipeline(
        fetcher,
        Publisher(client, settings),
        metrics=Metrics(client, settings.key_prefix, settings.metrics_flush_seconds),
        sources=SourceOptions.from_settings(settings),
        revisions=RevisionPolicy.from_settings(settings),
        robots=robots,
        robots_default=settings.robots_txt,
        archive=LocalArchive(settings.archive_path, settings.archive_ttl_days)
        if settings.archive
        else None,
        titles=TitleHabits(client, settings.key_prefix),
    )
    registry = Registry(client, settings.key_prefix, settings.poll_interval)
    pending = PendingLedger(client, settings.key_prefix, settings.entry_redeliver_seconds)
    subscriptions = Subscriptions(client, settings.key_prefix)
    return Runtime(settings, client, pipeline, registry, limiter, pending, subscriptions)
