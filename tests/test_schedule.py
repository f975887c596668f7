"""Polling policy (pure, by tables) and the Redis pieces under it: claims, leases, rate limits."""

import time

import pytest
import redis
from newswire.schemas.feed import FeedState
from newswire.services.fetch.politeness import HostLimiter, reserve_for
from newswire.services.polling.registry import Registry
from newswire.services.polling.schedule import (
    DueQueue,
    PollResult,
    after_poll,
    backoff_seconds,
    max_age,
)

NOW = 1_800_000_000.0


def state(**kw: object) -> FeedState:
    return FeedState.model_validate({"id": "f", "url": "https://ex.com/rss", "interval": 600, **kw})


@pytest.mark.parametrize(
    ("errors", "low", "high"),
    [(1, 45, 75), (2, 90, 150), (5, 720, 1200), (20, 64800, 86400), (200, 64800, 86400)],
)
def test_backoff_grows_with_jitter_and_is_capped(errors: int, low: float, high: float) -> None:
    for r in (0.0, 0.5, 0.999):
        assert low <= backoff_seconds(errors, lambda r=r: r) <= high


@pytest.mark.parametrize(
    ("interval", "errors", "low", "high"),
    [
        (10, 1, 45, 75),  # never below the first minute
        (10, 5, 60, 80),  # a feed read every 10 s: at most 8 of its intervals
        (600, 20, 3600, 4800),
        (21600, 20, 64800, 86400),  # a feed read every 6 hours: still up to the day
    ],
)
def test_backoff_is_capped_at_eight_of_the_feeds_intervals(
    interval: int, errors: int, low: float, high: float
) -> None:
    for r in (0.0, 0.5, 0.999):
        assert low <= backoff_seconds(errors, lambda r=r: r, interval) <= high


def test_a_busy_feed_is_asked_again_within_minutes_after_errors_in_a_row() -> None:
    """Four retries that each met the site's hiccups must not leave it unread for ten
    minutes once the site is fine (make soak saw 531 s)."""
    failing = after_poll(
        state(interval=10, error_count=4),
        PollResult("timeout", error="timeout", transient=True),
        NOW,
        lambda: 0.999,
    )
    assert failing.error_count == 5 and failing.next_due <= NOW + 80


def test_success_resets_errors_and_stores_validators() -> None:
    before = state(error_count=3, last_error="HTTP 500", backoff_until=NOW - 1)
    after = after_poll(before, PollResult("200", etag='"x"', last_modified="lm"), NOW)
    assert (after.error_count, after.last_error, after.backoff_until) == (0, None, None)
    assert (after.etag, after.last_modified, after.next_due) == ('"x"', "lm", NOW + 600)


def test_304_keeps_validators() -> None:
    after = after_poll(state(etag='"x"', last_modified="lm"), PollResult("304"), NOW)
    assert (after.etag, after.last_modified, after.last_status) == ('"x"', "lm", "304")


@pytest.mark.parametrize(
    ("result", "interval"),
    [
        (PollResult("200", ttl_seconds=3600), 3600),  # RSS <ttl> 60 minutes
        (PollResult("200", cache_control="public, max-age=1800"), 1800),
        (PollResult("200", ttl_seconds=60, cache_control="max-age=30"), 600),  # lower bounds only
    ],
)
def test_ttl_and_max_age_are_lower_bounds(result: PollResult, interval: int) -> None:
    assert after_poll(state(), result, NOW).next_due == NOW + interval


def test_retry_after_and_errors_back_off() -> None:
    limited = after_poll(
        state(), PollResult("HTTP 429", error="HTTP 429", transient=True, retry_after=7200), NOW
    )
    assert limited.next_due == NOW + 7200 and limited.error_count == 1
    failing = after_poll(
        state(error_count=2),
        PollResult("HTTP 500", error="HTTP 500", transient=True),
        NOW,
        lambda: 0.5,
    )
    assert failing.next_due == NOW + 240 and failing.error_count == 3


def test_gone_disables_and_moved_updates_url() -> None:
    gone = after_poll(state(), PollResult("HTTP 410 gone", error="HTTP 410 gone", gone=True), NOW)
    assert not gone.enabled and gone.disabled_reason == "HTTP 410 gone"
    moved = after_poll(state(), PollResult("200", moved_to="https://ex.com/new-rss"), NOW)
    assert moved.url == "https://ex.com/new-rss"


def test_max_age() -> None:
    assert max_age("no-cache, max-age=120") == 120
    assert max_age(None) is None


def test_claims_are_exclusive_and_leases_single(redis_client: redis.Redis) -> None:
    registry = Registry(redis_client)
    for n in range(10):
        registry.add(f"https://ex.com/{n}.xml", 60, now=NOW)
    queue = DueQueue(redis_client, registry.due_key, "newswire:scheduler:leader")

    first = queue.claim(NOW + 1, 6, 300)
    second = queue.claim(NOW + 1, 6, 300)
    assert len(first) == 6 and len(second) == 4 and not set(first) & set(second)
    assert queue.claim(NOW + 2, 100, 300) == []
    assert len(queue.claim(NOW + 301, 100, 300)) == 10  # leases ran out: due again

    assert queue.lead("a", 5000) and not queue.lead("b", 5000)
    assert queue.lead("a", 5000)  # renewal
    queue.resign("a")
    assert queue.lead("b", 5000)


def test_registry_round_trip_and_disable(redis_client: redis.Redis) -> None:
    registry = Registry(redis_client)
    added = registry.add("https://ex.com/rss", 300, now=NOW)
    assert registry.get("https://ex.com/rss") == added
    registry.save(added.model_copy(update={"enabled": False, "disabled_reason": "HTTP 410 gone"}))
    assert redis_client.zscore(registry.due_key, added.id) is None
    again = registry.add("https://ex.com/rss")
    assert again.enabled and again.interval == 300
    assert redis_client.zscore(registry.due_key, added.id) is not None
    assert registry.remove("https://ex.com/rss") and registry.all() == []


@pytest.mark.parametrize(
    ("age", "reserve"),
    [(None, 0), (0, 0), (599, 0), (600, 1), (3599, 1), (3600, 2), (86399, 2), (86400, 3),
     (10 * 86400, 3), (-3600, 0)],
)  # fmt: skip
def test_older_stories_leave_more_of_a_hosts_tokens(age: float | None, reserve: int) -> None:
    now = 1_800_000_000.0
    assert reserve_for(None if age is None else now - age, now) == reserve


def test_fresh_stories_go_before_a_backlog_on_the_same_host(redis_client: redis.Redis) -> None:
    """A backlog of old stories takes a host's tokens only while fresh ones are left some;
    refused, each old one is told to come back after the line ahead of it, not all at once."""
    limiter = HostLimiter(redis_client, rate=2.0, burst=4)
    old = [limiter.wait_seconds(f"https://ex.com/old{n}", 3) for n in range(4)]
    assert old[0] == 0  # a full bucket: the first old one goes
    assert all(w > 0 for w in old[1:])  # the rest wait for the reserve
    assert old[1] < old[2] < old[3]  # in line, half a second apart at 2 a second
    assert old[3] - old[2] == pytest.approx(0.5, abs=0.02)
    fresh = [limiter.wait_seconds(f"https://ex.com/new{n}", 0) for n in range(3)]
    assert fresh == [0, 0, 0]  # the three tokens the old ones had to leave
    assert limiter.wait_seconds("https://ex.com/new3", 0) <= 0.5  # not behind the old line


def test_host_limiter_shares_a_bucket_and_honours_backoff(redis_client: redis.Redis) -> None:
    one = HostLimiter(redis_client, rate=2.0, burst=2)
    other = HostLimiter(redis_client, rate=2.0, burst=2)  # another worker, same Redis
    assert one.wait_seconds("https://ex.com/a") == 0
    assert other.wait_seconds("https://ex.com/b") == 0
    wait = one.wait_seconds("https://ex.com/c")
    assert 0 < wait <= 0.5
    assert other.wait_seconds("https://other.org/x") == 0  # hosts are independent
    time.sleep(wait)
    assert other.wait_seconds("https://ex.com/d") == 0
    one.back_off("https://slow.org/feed", 120)
    assert 119 < other.wait_seconds("https://slow.org/article") <= 120
