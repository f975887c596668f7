"""Adaptive polling: each feed's interval learned from its own publishing, within bounds, and
never below what the server asked; an identical feed body costs no parse."""

import itertools
import json
import re
import statistics
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
import redis
from newswire.schemas.feed import FeedEntry, FeedOptions, FeedState
from newswire.services.fetch.politeness import HostLimiter
from newswire.services.metrics import FRESHNESS_SECONDS, LATENCY_SECONDS, Metrics
from newswire.services.ops.latency import quantile
from newswire.services.polling.adaptive import Learning, Observation, dated_gap
from newswire.services.polling.poller import poll_feed
from newswire.services.polling.registry import Registry
from newswire.services.polling.schedule import PollResult, after_poll
from newswire.workers.runtime import Runtime

from tests.support.pages import item, rss2
from tests.support.pipeline import stream
from tests.support.processes import Processes, newswire, stack_env, wait_for
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site

NOW = 1_800_000_000.0
POLICY = Learning(minimum=10, maximum=21600, fraction=0.5)


def adaptive(**kw: object) -> FeedState:
    return FeedState.model_validate(
        {"id": "f", "url": "https://ex.com/rss", "interval": 900, "adaptive": True, **kw}
    )


def ok(seen: Observation, **kw: object) -> PollResult:
    return PollResult("200", seen=seen, **kw)  # type: ignore[arg-type]


def run_feed(
    every: float, polls: int, shown: int = 10, policy: Learning = POLICY, jitter: float = 0.5
) -> list[FeedState]:
    """A feed publishing a story every `every` seconds, polled when it is due; its last
    `shown` stories are in the feed. The states after each poll."""
    state, now, states = adaptive(), NOW, []
    for _ in range(polls):
        start = NOW - shown * every  # the feed already has its `shown` stories at the start
        published = [start + k * every for k in range(int((now - start) / every) + 1)]
        visible = published[-shown:]
        new = [t for t in visible if t > (state.newest_entry_at or 0)]
        seen = Observation(visible, len(visible), len(new))
        state = after_poll(state, ok(seen), now, lambda: jitter, learning=policy)
        state = state.model_copy(update={"last_polled": now})
        states.append(state)
        now = state.next_due
    return states


def test_a_feed_publishing_every_20_s_is_asked_every_10_to_30_s() -> None:
    states = run_feed(20, 30)
    assert all(10 <= s.interval <= 30 for s in states[3:]), [s.interval for s in states]
    assert states[-1].expected_gap == pytest.approx(20, rel=0.2)
    assert any("gaps between its newest stories" in (s.learned_from or "") for s in states)


@pytest.mark.parametrize("jitter", [0.0, 0.999])
def test_on_default_settings_a_20_s_feed_is_asked_every_25_to_30_s(jitter: float) -> None:
    """The default minimum (25 s) holds a busy feed, jitter included: polled every 10-30 s,
    never more often than the minimum."""
    states = run_feed(20, 30, policy=Learning(), jitter=jitter)
    gaps = [b.last_polled - a.last_polled for a, b in itertools.pairwise(states[3:])]  # type: ignore[operator]
    assert all(25 <= g <= 30 for g in gaps), gaps


def test_a_daily_feed_is_asked_every_few_hours() -> None:
    states = run_feed(86400, 12)
    assert all(3 * 3600 <= s.interval <= 21600 for s in states[2:]), [s.interval for s in states]


def test_a_feed_silent_for_days_slows_to_hours_between_polls() -> None:
    state = adaptive(expected_gap=60.0, newest_entry_at=NOW - 3 * 86400, last_polled=NOW - 60)
    intervals = []
    now = NOW
    for _ in range(8):
        state = after_poll(state, ok(Observation()), now, lambda: 0.5, learning=POLICY)
        intervals.append(state.interval)
        now = state.next_due
    assert intervals == sorted(intervals) and intervals[-1] >= 3600, intervals
    assert "silence" in (state.learned_from or "")


def test_no_feed_learns_an_interval_below_the_minimum() -> None:
    states = run_feed(1, 10, shown=50)
    assert min(s.interval for s in states) == POLICY.minimum
    assert all(s.next_due - s.last_polled >= POLICY.minimum for s in states if s.last_polled)


def test_all_entries_new_polls_sooner() -> None:
    state = adaptive(expected_gap=600.0, last_polled=NOW - 300, newest_entry_at=NOW - 3000)
    times = [NOW - 200 * k for k in range(5)]  # a burst: every entry is new
    burst = after_poll(state, ok(Observation(times, 5, 5)), NOW, lambda: 0.5, learning=POLICY)
    calm = after_poll(state, ok(Observation(times, 5, 4)), NOW, lambda: 0.5, learning=POLICY)
    assert burst.interval < calm.interval
    assert "all entries new" in (burst.learned_from or "")


def test_ttl_max_age_retry_after_and_backoff_still_win() -> None:
    busy = Observation([NOW - 20 * k for k in range(10)], 10, 10)
    state = adaptive(last_polled=NOW - 20)
    ttl = after_poll(state, ok(busy, ttl_seconds=3600), NOW, lambda: 0.5, learning=POLICY)
    assert ttl.interval == 10 and ttl.next_due >= NOW + 3600  # learned, but the TTL holds
    aged = after_poll(state, ok(busy, cache_control="max-age=1200"), NOW, lambda: 0.5,
                      learning=POLICY)  # fmt: skip
    assert aged.next_due >= NOW + 1200
    limited = PollResult("HTTP 429", error="HTTP 429", transient=True, retry_after=900)
    held = after_poll(state, limited, NOW, lambda: 0.5, learning=POLICY)
    assert held.next_due >= NOW + 900 and held.error_count == 1
    failing = PollResult("HTTP 500", error="HTTP 500", transient=True)
    backed = after_poll(state.model_copy(update={"error_count": 3}), failing, NOW, lambda: 0.5,
                        learning=POLICY)  # fmt: skip
    assert backed.next_due - NOW >= 180  # 4th error: 60 * 2^3 = 480 s, -25% at worst


def test_a_fixed_interval_is_kept() -> None:
    fixed = adaptive(adaptive=False, interval=600)
    busy = Observation([NOW - 20 * k for k in range(10)], 10, 10)
    after = after_poll(fixed, ok(busy), NOW, lambda: 0.5, learning=POLICY)
    assert after.interval == 600 and after.next_due == NOW + 600 and after.expected_gap is None


def test_dates_from_the_future_are_not_believed() -> None:
    assert dated_gap([NOW + 86400, NOW, NOW - 60, NOW - 120], NOW) == 60


def test_registering_without_an_interval_learns_one(redis_client: redis.Redis) -> None:
    registry = Registry(redis_client, default_interval=900)
    learned = registry.add("https://a.example/rss")
    fixed = registry.add("https://b.example/rss", 120)
    assert (learned.adaptive, learned.interval) == (True, 900)
    assert (fixed.adaptive, fixed.interval) == (False, 120)
    assert registry.add("https://a.example/rss").adaptive  # re-added: still learning
    assert not registry.add("https://a.example/rss", 300).adaptive  # an interval fixes it
    stored = registry.get("https://a.example/rss")
    assert stored is not None and stored.interval == 300
    assert not registry.add("https://a.example/rss").adaptive  # and it stays fixed
    assert registry.add("https://a.example/rss", learn=True).adaptive  # until asked to learn


def test_an_identical_body_without_validators_costs_no_parse(
    runtime: Runtime, redis_client: redis.Redis, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many servers send no ETag or Last-Modified: a body byte for byte the last one is
    treated as a 304 (no parse, nothing handed on); a changed body is parsed again."""
    import newswire.services.ingest.reader as reader  # noqa: PLC0415

    parsed: list[str] = []
    real = reader.parse_source

    def counting(content: bytes, url: str, *args: object, **kw: object) -> object:
        parsed.append(url)
        return real(content, url, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "parse_source", counting)
    when = format_datetime(datetime.fromtimestamp(NOW, UTC), usegmt=True)
    feed = site.add("/rss.xml", rss2([item(site.url("/a.html"), "A", pub=when)]),
                    "application/rss+xml")  # fmt: skip
    registry = Registry(redis_client)
    registry.add(feed)
    handed: list[FeedEntry] = []

    def poll(now: float) -> FeedState:
        state = registry.get(feed)
        assert state is not None
        poll_feed(state, pipeline=runtime.pipeline, registry=registry, now=now,
                  limiter=HostLimiter(runtime.redis, 10, 10), enqueue=handed.extend)  # fmt: skip
        saved = registry.get(feed)
        assert saved is not None
        return saved

    first = poll(NOW)
    again = poll(NOW + 60)
    assert len(parsed) == 1 and len(handed) == 1
    assert again.last_status == "200" and again.body_hash == first.body_hash is not None
    site.add("/rss.xml", rss2([item(site.url("/b.html"), "B", pub=when),
                               item(site.url("/a.html"), "A", pub=when)]),
             "application/rss+xml")  # fmt: skip
    changed = poll(NOW + 120)
    assert len(parsed) == 2 and [e.title for e in handed[1:]] == ["B", "A"]  # parsed again
    assert changed.body_hash != first.body_hash


def test_feeds_list_explains_a_learned_interval() -> None:
    from newswire.workers.timefmt import every  # noqa: PLC0415

    assert every(adaptive(adaptive=False, interval=600)) == "600s"
    assert every(adaptive()) == "900s (learning)"
    learned = adaptive(interval=10, expected_gap=21.0)
    assert every(learned) == "10s (learned, a story every ~21s)"
    held = adaptive(interval=10, expected_gap=21.0, min_interval=3600)  # a TTL holds it
    assert every(held).startswith("60m (learned")


def test_intervals_are_counted_by_bucket() -> None:
    from newswire.services.ops.status import interval_buckets  # noqa: PLC0415

    counts = interval_buckets([10, 30, 31, 900, 901, 86400])
    assert counts == {"30": 2, "60": 1, "300": 0, "900": 1, "3600": 1, "21600": 0, "+Inf": 1}


def test_latency_from_publication_is_measured_when_plausible(redis_client: redis.Redis) -> None:
    from newswire.services.ingest.meter import Meter  # noqa: PLC0415
    from newswire.services.ingest.outcomes import EntryResult, Outcome  # noqa: PLC0415
    from newswire.services.metrics import Metrics  # noqa: PLC0415

    metrics = Metrics(redis_client)
    meter = Meter(metrics)
    now = time.time()
    meter.entry(EntryResult(Outcome.NEW, "https://a.example/1", published_at=now - 40), now - 5)
    meter.entry(EntryResult(Outcome.NEW, "https://a.example/2", published_at=now + 9000), now)
    meter.entry(EntryResult(Outcome.NEW, "https://a.example/3", published_at=now - 30 * 86400), now)
    meter.entry(EntryResult(Outcome.DUPLICATE, "https://a.example/4", published_at=now - 40), now)
    meter.flush()
    fields = metrics.read()
    count = "h:publication_latency_seconds:count"
    assert fields[count] == 1  # only the plausible one that reached the stream
    assert fields["h:entry_latency_seconds:count"] == 3
    buckets = {k: v for k, v in fields.items() if k.startswith("h:publication_latency_seconds:b")}
    assert list(buckets.values()) == [1] and "le=60.0" in next(iter(buckets))


def test_a_fast_feed_is_learned_and_followed_by_real_workers(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    """Registered without an interval (as `feeds add` does), a feed that publishes every 2 s
    is soon polled every few seconds instead of every 900 s, and its stories reach the stream
    seconds after their publication. (The minimum is 1 s here; 25 s by default.)"""
    started = time.time() - 20  # ten stories already out when it is registered

    def live(_headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        now = time.time()
        stories = [started + 2 * k for k in range(int((now - started) / 2) + 1)][-10:]
        items = [
            item(site.url(f"/live/story?k={int(t)}"), f"Live {int(t)}",
                 f"Story published at {int(t)}, with enough words to be its own text.",
                 pub=format_datetime(datetime.fromtimestamp(t, UTC), usegmt=True))
            for t in reversed(stories)
        ]  # fmt: skip
        return 200, {"Content-Type": "application/rss+xml"}, rss2(items).encode()

    site.routes["/live.xml"] = Route(dynamic=live)
    Registry(redis_client).add(site.url("/live.xml"), options=FeedOptions(fetch_pages=False))
    procs = Processes(stack_env(redis_server.url, site, NEWSWIRE_POLL_MIN_INTERVAL="1"), tmp_path)
    try:
        procs.worker("w1")
        procs.scheduler()

        def learned() -> bool:
            state = Registry(redis_client).get(site.url("/live.xml"))
            return state is not None and state.expected_gap is not None and state.interval <= 3

        wait_for(learned, 60, "the feed's interval learned")
        time.sleep(8)
        polls = [h.at for h in site.hits if h.path == "/live.xml"]
        gaps = [b - a for a, b in itertools.pairwise(polls[-5:])]
        assert gaps and statistics.median(gaps) <= 4, gaps
        state = Registry(redis_client).get(site.url("/live.xml"))
        assert state is not None and state.adaptive
        assert state.expected_gap == pytest.approx(2, abs=1)
        newest = max(float(a.title.split()[1]) for a in stream(redis_client))
        assert time.time() - newest < 10  # the newest story is on the stream within seconds
    finally:
        procs.stop_all()
        print(procs.logs())
    listed = newswire("feeds", "list", env={"NEWSWIRE_REDIS_URL": redis_server.url})
    # The learned gap is a smoothed measure of polls a second or so apart: 2 s, give or take
    # one (as asserted on the state above), shown rounded.
    shown = re.search(r"\(learned, a story every ~(\d+)s\)", listed.stdout)
    assert shown is not None and 1 <= int(shown[1]) <= 3, listed.stdout


def test_a_feed_whose_stories_are_all_known_learns_from_their_dates() -> None:
    """A feed re-registered, or learning for the first time with nothing new: its entries'
    own dates say its pace, instead of waiting for the next story."""
    hourly = [NOW - 3600 * k for k in range(1, 21)]
    state = after_poll(adaptive(), ok(Observation(hourly, 20, 0)), NOW, lambda: 0.5,
                       learning=POLICY)  # fmt: skip
    assert state.expected_gap == pytest.approx(3600)
    assert state.interval == 1800 and "gaps between" in (state.learned_from or "")


def test_api_feeds_shows_each_schedule(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    import json  # noqa: PLC0415

    from tests.support.monitor import get, running_monitor  # noqa: PLC0415

    registry = Registry(redis_client)
    registry.add("https://a.example/rss", 600)
    learned = registry.add("https://b.example/rss?token=secret")
    registry.save(learned.model_copy(update={"interval": 10, "expected_gap": 20.0,
                                             "learned_from": "the gaps between its newest stories"}))  # fmt: skip
    with running_monitor(redis_server.url) as base:
        code, _headers, body = get(base + "/api/feeds?limit=1&offset=1")
        assert code == 200, body
        page = json.loads(body)
        assert page["total"] == 2 and page["offset"] == 1 and len(page["feeds"]) == 1
        [feed] = page["feeds"]
        assert feed["url"] == "https://b.example/rss?token=***"
        assert (feed["adaptive"], feed["interval"], feed["expected_gap"]) == (True, 10, 20.0)
        assert feed["learned_from"] == "the gaps between its newest stories"
        code, _headers, body = get(base + "/api/feeds?limit=0")
        assert code == 422


def test_status_shows_how_often_feeds_are_polled(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    registry = Registry(redis_client)
    registry.add("https://a.example/rss", 600)
    learned = registry.add("https://b.example/rss")
    registry.save(learned.model_copy(update={"interval": 10, "expected_gap": 20.0}))
    shown = newswire("status", env={"NEWSWIRE_REDIS_URL": redis_server.url})
    assert "polled every: ≤30s 1, ≤15m 1 (1 learning their interval)" in shown.stdout, shown.stdout


def test_latency_quantiles_interpolate_inside_buckets() -> None:
    h = FRESHNESS_SECONDS  # buckets 5, 10, 30, 60, ...
    assert quantile(h, {}, 0.5) is None
    # 10 stories between 10 and 30 s, 10 between 30 and 60: p50 at 30, p95 at 57.
    counts = {"30.0": 10, "60.0": 10}
    assert quantile(h, counts, 0.5) == pytest.approx(30.0)
    assert quantile(h, counts, 0.95) == pytest.approx(30 + 30 * 9 / 10)
    assert quantile(h, {"+Inf": 3}, 0.5) == h.buckets[-1]


def test_status_shows_how_late_stories_are(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    metrics = Metrics(redis_client)
    for seconds in [8.0] * 19 + [100.0]:
        metrics.observe(FRESHNESS_SECONDS, seconds)
        metrics.observe(LATENCY_SECONDS, seconds / 4)
    metrics.flush(force=True)
    shown = newswire("status", env={"NEWSWIRE_REDIS_URL": redis_server.url})
    assert "from publication: p50 8s, p95 10s (20 stories)" in shown.stdout, shown.stdout
    assert "from the poll that saw them: p50 2s" in shown.stdout, shown.stdout
    as_json = newswire("status", "--json", env={"NEWSWIRE_REDIS_URL": redis_server.url})
    latency = json.loads(as_json.stdout)["latency"]
    assert latency[0]["name"] == "publication_latency_seconds" and latency[0]["count"] == 20
