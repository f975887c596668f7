"""One poll of a registered feed, in process: moves, gone feeds, and validators saved last."""

from collections.abc import Callable

import pytest
import redis
from newswire.schemas.feed import FeedEntry
from newswire.services.errors import BrokerError
from newswire.services.fetch.politeness import HostLimiter
from newswire.services.polling.poller import TIME_LIMIT, poll_feed, record_failure
from newswire.services.polling.registry import Registry
from newswire.workers.runtime import Runtime

from tests.support.pages import item, rss2
from tests.support.site import Route, Site

NOW = 1_800_000_000.0


def poll(
    rt: Runtime,
    registry: Registry,
    url: str,
    sink: "list[FeedEntry] | Callable[[list[FeedEntry]], None]",
) -> None:
    state = registry.get(url)
    assert state is not None
    poll_feed(state, pipeline=rt.pipeline, registry=registry, limiter=HostLimiter(rt.redis, 10, 10),
              enqueue=sink.extend if isinstance(sink, list) else sink, now=NOW)  # fmt: skip


def test_moved_feed_updates_registered_url(
    runtime: Runtime, redis_client: redis.Redis, site: Site
) -> None:
    site.routes["/old.xml"] = Route(status=308, headers={"Location": "/new.xml"})
    new = site.add("/new.xml", rss2([item(site.url("/a.html"), "A")]), "application/rss+xml")
    registry = Registry(redis_client)
    registry.add(site.url("/old.xml"), 60)
    sink: list[FeedEntry] = []

    poll(runtime, registry, site.url("/old.xml"), sink)

    assert [f.url for f in registry.all()] == [new]
    assert len(sink) == 1


def test_gone_feed_is_disabled_with_reason(
    runtime: Runtime, redis_client: redis.Redis, site: Site
) -> None:
    site.routes["/gone.xml"] = Route(status=410)
    registry = Registry(redis_client)
    registry.add(site.url("/gone.xml"), 60)

    poll(runtime, registry, site.url("/gone.xml"), [])

    state = registry.get(site.url("/gone.xml"))
    assert state is not None and not state.enabled and state.disabled_reason == "HTTP 410 gone"
    assert redis_client.zcard(registry.due_key) == 0


def test_validators_are_saved_only_after_entries_are_handed_on(
    runtime: Runtime, redis_client: redis.Redis, site: Site
) -> None:
    body = rss2([item(site.url("/a.html"), "A"), item(site.url("/b.html"), "B")]).encode()
    site.routes["/feed.xml"] = Route(
        body=body, headers={"Content-Type": "application/rss+xml", "ETag": '"v2"'}
    )
    registry = Registry(redis_client)
    registry.add(site.url("/feed.xml"), 60)

    def crash(entry: FeedEntry) -> None:
        raise BrokerError("Redis enqueue failed: the broker went away")

    with pytest.raises(BrokerError):
        poll(runtime, registry, site.url("/feed.xml"), crash)
    state = registry.get(site.url("/feed.xml"))
    assert state is not None and state.etag is None  # next poll is unconditional again

    sink: list[FeedEntry] = []
    poll(runtime, registry, site.url("/feed.xml"), sink)
    assert [e.title for e in sink] == ["A", "B"]
    state = registry.get(site.url("/feed.xml"))
    assert state is not None and state.etag == '"v2"' and state.next_due == NOW + 60


def test_poll_finishing_after_removal_does_not_resurrect_the_feed(
    runtime: Runtime, redis_client: redis.Redis, site: Site
) -> None:
    url = site.add("/feed.xml", rss2([item(site.url("/a.html"), "A")]), "application/rss+xml")
    registry = Registry(redis_client)
    state = registry.add(url, 60)

    def remove_meanwhile(entries: list[FeedEntry]) -> None:
        registry.remove(url)

    poll_feed(state, pipeline=runtime.pipeline, registry=registry, limiter=HostLimiter(runtime.redis, 10, 10),
              enqueue=remove_meanwhile, now=NOW)  # fmt: skip
    assert registry.all() == [] and redis_client.zcard(registry.due_key) == 0


def test_reimport_keeps_a_gone_feed_disabled(redis_client: redis.Redis) -> None:
    registry = Registry(redis_client)
    state = registry.add("https://ex.com/rss", 60)
    registry.save(state.model_copy(update={"enabled": False, "disabled_reason": "HTTP 410 gone"}))
    assert not registry.add("https://ex.com/rss", 60, reenable=False).enabled
    assert registry.add("https://ex.com/rss", 60).enabled  # an explicit `feeds add` does


def test_poll_cut_by_the_time_limit_is_a_recorded_failure_that_backs_off(
    redis_client: redis.Redis,
) -> None:
    registry = Registry(redis_client)
    state = registry.add("https://example.com/slow.xml", 600)
    report = record_failure(
        state, registry=registry, reason="poll time limit exceeded", kind=TIME_LIMIT, now=1000.0
    )
    assert report.error_kind == "time_limit"
    saved = registry.get(state.id)
    assert saved is not None and saved.error_count == 1
    assert saved.last_error_kind == "time_limit" and saved.etag is None
    assert saved.backoff_until is not None and saved.next_due >= 1000.0 + 45  # a minute, ±25%
