"""Numbers a server sends are read without overflow and capped by the settings, the cap
recorded; a Redis refusal is never taken for an outage (nor the other way round)."""

import pytest
import redis
from newswire.services.broker import redis_errors
from newswire.services.errors import BrokerError, CommandRefused
from newswire.services.fetch.politeness import HostLimiter
from newswire.services.hints import CEILING, bounded_int, max_age, retry_after, ttl_seconds
from newswire.services.polling.poller import poll_feed
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime

from tests.support.fleet import register
from tests.support.pages import rss2
from tests.support.processes import Processes, wait_for
from tests.support.site import Route, Site

DAY, HOUR = 86400, 3600
ABSURD = ["99999999999", "9999999999999999999", "9" * 400]


def test_absurd_retry_after_is_capped_and_asked_once_in_real_workers(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    busy = []
    for n, value in enumerate(ABSURD):
        site.routes[f"/busy{n}.xml"] = Route(status=429, headers={"Retry-After": value})
        busy.append(site.url(f"/busy{n}.xml"))
    site.add("/ok.xml", rss2([]), "application/rss+xml")
    registry = register(redis_client, [*busy, site.url("/ok.xml")], interval=1)
    procs.worker("w1")
    procs.scheduler()

    # The healthy feed keeps its 1 s rhythm meanwhile: a clock for the test.
    wait_for(lambda: site.paths_hit().count("/ok.xml") >= 5, 40, "five polls of the healthy feed")

    for n, url in enumerate(busy):
        assert site.paths_hit().count(f"/busy{n}.xml") == 1, "asked once, not retried as an outage"
        state = registry.get(url)
        assert state is not None and state.last_status == "HTTP 429" and state.error_count == 1
        wait = state.next_due - (state.last_polled or 0)
        assert DAY - 1 <= wait <= DAY + 1, wait  # NEWSWIRE_FEED_MAX_WAIT_SECONDS
        assert state.note is not None and "capped to 86400s" in state.note
    hold = redis_client.pttl(f"newswire:host:{site.host_port}:until")
    assert 0 < hold <= HOUR * 1000 + 1000, hold  # NEWSWIRE_HOST_MAX_HOLD_SECONDS
    assert redis_client.exists(f"newswire:host:{site.host_port.split(':')[0]}:until") == 0


def test_max_age_and_ttl_are_capped(
    settings: Settings, redis_client: redis.Redis, site: Site
) -> None:
    now = 1_800_000_000.0
    feed = rss2([]).replace("<description>d</description>", "<ttl>99999999999999</ttl>")
    site.add("/ttl.xml", feed, "application/rss+xml")
    site.add("/age.xml", rss2([]), "application/rss+xml",
             headers={"Cache-Control": "public, max-age=" + "9" * 400})  # fmt: skip
    registry = Registry(redis_client)
    runtime = build_runtime(settings)
    try:
        for path in ("/ttl.xml", "/age.xml"):
            state = registry.add(site.url(path), 60, now=now)
            poll_feed(state, pipeline=runtime.pipeline, registry=registry,
                      limiter=HostLimiter(redis_client, 10, 10), enqueue=lambda _entries: None, now=now,
                      max_wait=settings.feed_max_wait_seconds)  # fmt: skip
            saved = registry.get(site.url(path))
            assert saved is not None and saved.last_error is None, saved
            assert saved.next_due == now + DAY and saved.min_interval == DAY
            assert saved.note is not None and "capped to 86400s" in saved.note
    finally:
        runtime.close()


def test_hints_are_parsed_without_overflow() -> None:
    assert retry_after("9" * 400) == CEILING
    assert retry_after("120") == 120
    assert retry_after("²") is None and bounded_int("١٢") is None  # Unicode digits
    assert retry_after("Fri, 31 Dec 9999 23:59:59 GMT") == CEILING
    assert max_age("max-age=" + "9" * 5000) == CEILING
    assert ttl_seconds("9" * 30) == CEILING and ttl_seconds("²") is None
    assert ttl_seconds("15") == 900


def test_host_hold_is_capped(redis_client: redis.Redis) -> None:
    limiter = HostLimiter(redis_client, 1, 1, max_hold=60)
    note = limiter.back_off("https://a.example:8443/x", 1e12)
    assert note is not None and "capped to 60s" in note
    assert 0 < redis_client.pttl("newswire:host:a.example:8443:until") <= 61_000
    assert limiter.wait_seconds("https://a.example:8443/y") > 50
    assert limiter.wait_seconds("https://a.example/other-port") == 0


def test_a_refused_command_is_no_outage(redis_client: redis.Redis) -> None:
    with pytest.raises(CommandRefused), redis_errors("SET"):
        redis_client.set("k", "v", px=10**19)
    with pytest.raises(BrokerError), redis_errors("GET"):
        redis.Redis(port=1, socket_connect_timeout=0.5).get("k")
