"""WebSub: discovery, signatures, the receiver's rules, and push end to end against a hub the
tests run (tests/support/hub.py), with real worker, scheduler and receiver processes."""

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from newswire.schemas.feed import FeedEntry, FeedOptions, ParsedFeed
from newswire.services.metrics import PUSHES, Metrics
from newswire.services.polling.registry import Registry, feed_id
from newswire.services.push.intake import Intake, Push
from newswire.services.push.pushed import take_push
from newswire.services.push.signature import Verdict, sign, verify
from newswire.services.push.subscriber import renew_at
from newswire.services.push.subscriptions import Mode, State, Subscription, Subscriptions
from newswire.services.sources.hubs import discover
from newswire.workers.runtime import Runtime

from tests.support.hub import Hub, post
from tests.support.hub import get as hub_get
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import Processes, newswire, stack_env, wait_for
from tests.support.proxy import closed_port
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site

FEED = ParsedFeed(url="https://news.example/feed", hubs=["https://hub.example/"],
                  self_url="https://news.example/feed?self")  # fmt: skip


@pytest.mark.parametrize(
    ("link", "feed", "expected"),
    [
        # The Link header wins over the feed's own links.
        ('<https://push.example/h>; rel="hub", </f>; rel="self"', FEED,
         ("https://push.example/h", "https://news.example/f")),
        ("", FEED, ("https://hub.example/", "https://news.example/feed?self")),
        # A hub without a self link: the topic is the address fetched.
        ("<https://push.example/h>; rel=hub", ParsedFeed(url="u"),
         ("https://push.example/h", "https://news.example/feed")),
        ('<https://a.example/>; rel="alternate hub"', ParsedFeed(url="u"),
         ("https://a.example/", "https://news.example/feed")),
        ("", ParsedFeed(url="u"), None),
        ('<javascript:alert(1)>; rel="hub"', ParsedFeed(url="u"), None),
        ("", ParsedFeed(url="u", hubs=["file:///etc/passwd"]), None),
    ],
)  # fmt: skip
def test_hub_and_topic_are_discovered(
    link: str, feed: ParsedFeed, expected: tuple[str, str] | None
) -> None:
    found = discover({"link": link} if link else {}, feed, "https://news.example/feed")
    assert (found and (found.hub, found.topic)) == expected


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_every_algorithm_of_the_recommendation_verifies(method: str) -> None:
    body = b"<rss>new</rss>"
    assert verify("s3cret", body, sign("s3cret", body, method)) == Verdict.VALID
    assert verify("s3cret", body + b" ", sign("s3cret", body, method)) == Verdict.BAD_SIGNATURE
    assert verify("other", body, sign("s3cret", body, method)) == Verdict.BAD_SIGNATURE


@pytest.mark.parametrize("header", [None, "", "md5=abc", "sha256=", "sha256", "é=1"])
def test_a_missing_or_unknown_signature_is_unsigned(header: str | None) -> None:
    assert verify("s3cret", b"x", header) == Verdict.UNSIGNED


def test_a_non_ascii_signature_is_bad_not_a_crash() -> None:
    assert verify("s3cret", b"x", "sha256=ü" * 10) == Verdict.BAD_SIGNATURE


def test_a_renewal_comes_before_the_lease_ends() -> None:
    assert renew_at(0, 864000) == 864000 - 86400
    assert renew_at(0, 3600) == 3600 - 360
    assert renew_at(0, 600) == 600 - 60
    assert renew_at(0, 20) == 10  # a short lease is renewed half-way, never at once


@pytest.fixture
def intake(redis_client: redis.Redis) -> Iterator[tuple[Intake, Subscriptions, Subscription]]:
    subs = Subscriptions(redis_client, "newswire")
    registry = Registry(redis_client)
    registry.add("https://news.example/feed")
    sub = Subscription.new(feed_id("https://news.example/feed"), "https://hub.example/",
                           "https://news.example/feed")  # fmt: skip
    subs.save(sub, 1e12)
    metrics = Metrics(redis_client)
    yield Intake(subs, registry, metrics, max_body=1024, per_minute=3), subs, sub


def test_intent_is_verified_only_for_what_was_asked(
    intake: tuple[Intake, Subscriptions, Subscription],
) -> None:
    take, subs, sub = intake
    name = f"{sub.feed_id}.{sub.token}"
    ask = {"hub.mode": "subscribe", "hub.topic": sub.topic, "hub.challenge": "c1",
           "hub.lease_seconds": "600"}  # fmt: skip
    assert take.verify_intent(f"{sub.feed_id}.wrong", ask, 100).status == 404
    assert take.verify_intent(name, ask | {"hub.topic": "https://x/"}, 100).status == 404
    assert take.verify_intent(name, ask | {"hub.mode": "unsubscribe"}, 100).status == 404
    assert take.verify_intent(name, ask | {"hub.lease_seconds": "-5"}, 100).status == 404
    assert take.verify_intent(name, ask | {"hub.challenge": ""}, 100).status == 404
    assert subs.get(sub.feed_id).state == State.SUBSCRIBING  # type: ignore[union-attr]
    answer = take.verify_intent(name, ask, 100)
    assert (answer.status, answer.body) == (200, "c1")
    active = subs.get(sub.feed_id)
    assert active is not None and active.state == State.ACTIVE and active.expires_at == 700
    assert active.pushed_until(200) == 700 and active.pushed_until(701) is None
    # A lease of 10**30 seconds is not believed past the longest interval.
    take.verify_intent(name, ask | {"hub.lease_seconds": "9" * 30}, 100)
    assert subs.get(sub.feed_id).expires_at <= 100 + 30 * 86400  # type: ignore[union-attr]


def test_denied_and_unsubscribe(intake: tuple[Intake, Subscriptions, Subscription]) -> None:
    take, subs, sub = intake
    name = f"{sub.feed_id}.{sub.token}"
    denied = {"hub.mode": "denied", "hub.topic": sub.topic, "hub.reason": "no"}
    assert take.verify_intent(name, denied, 100).status == 200
    refused = subs.get(sub.feed_id)
    assert refused is not None and refused.state == State.REFUSED and "no" in refused.error
    subs.save(Subscription.new(sub.feed_id, sub.hub, sub.topic), 0)  # new token and secret
    again = subs.get(sub.feed_id)
    assert again is not None
    leave = {"hub.mode": "unsubscribe", "hub.topic": sub.topic, "hub.challenge": "bye"}
    other = f"{sub.feed_id}.{again.token}"
    assert take.verify_intent(other, leave, 100).status == 404  # we asked to subscribe
    subs.save(again.__class__(**{**again.__dict__, "pending": Mode.UNSUBSCRIBE}), 0)
    assert take.verify_intent(other, leave, 100).body == "bye"
    assert subs.get(sub.feed_id) is None


def test_pushes_are_refused_unless_active_signed_small_and_within_rate(
    intake: tuple[Intake, Subscriptions, Subscription], redis_client: redis.Redis
) -> None:
    take, subs, sub = intake
    name = f"{sub.feed_id}.{sub.token}"
    body = b"<rss/>"
    good = sign(sub.secret, body)
    assert take.receive(name, body, good, 100)[0] == Push.INACTIVE  # not verified yet
    subs.save(sub.__class__(**{**sub.__dict__, "state": State.ACTIVE, "expires_at": 1e12}), 0)
    assert take.receive(f"{sub.feed_id}.nope", body, good, 100)[0] == Push.UNKNOWN
    assert take.receive(name, None, good, 100)[0] == Push.TOO_LARGE
    assert take.receive(name, body, None, 160)[0] == Push.UNSIGNED
    assert take.receive(name, body, sign("guess", body), 160)[0] == Push.BAD_SIGNATURE
    outcome, came_for = take.receive(name, body, good, 160)
    assert outcome == Push.FAT and came_for is not None and came_for.feed_id == sub.feed_id
    assert take.receive(name, body, good, 160)[0] == Push.RATE_LIMITED  # 4th this minute
    registry = Registry(redis_client)
    redis_client.zadd(registry.due_key, {sub.feed_id: 5e9})
    assert take.receive(name, b"", sign(sub.secret, b""), 240)[0] == Push.LIGHT
    assert redis_client.zscore(registry.due_key, sub.feed_id) == 240  # polled at once
    counts = {k: v for k, v in Metrics(redis_client).read().items() if k.startswith(PUSHES)}
    assert counts == {f"{PUSHES}|outcome={o}": 1 for o in
                      ("inactive", "unknown", "too_large", "unsigned", "bad_signature", "fat",
                       "rate_limited", "light")}  # fmt: skip


def test_a_fat_ping_takes_only_entries_of_the_feeds_own_sites(
    runtime: Runtime, redis_client: redis.Redis, site: Site
) -> None:
    """A hub is not the publisher: an entry linking elsewhere is not fetched on its word; the
    feed is polled at once instead, and the poll decides."""
    url = site.url("/feed.xml")
    state = runtime.registry.add(url, options=FeedOptions(fetch_pages=False))
    redis_client.zadd(runtime.registry.due_key, {state.id: 5e9})
    content = rss2([
        item(site.url("/ours"), "Ours", "Our own story."),
        item("http://elsewhere.invalid/theirs", "Theirs", "Somebody else's."),
    ]).encode()  # fmt: skip
    handed: list[FeedEntry] = []
    report = take_push(
        state, content, "application/rss+xml", pipeline=runtime.pipeline,
        registry=runtime.registry, pending=runtime.pending, enqueue=handed.extend, now=1000.0,
    )  # fmt: skip
    assert [e.link for e in handed] == [site.url("/ours")]
    assert all(e.feed_url == url for e in handed)
    assert (report.foreign, report.polled) == (1, True)
    assert redis_client.zscore(runtime.registry.due_key, state.id) == 1000.0
    not_a_feed = take_push(
        state, b"\x00garbage", None, pipeline=runtime.pipeline, registry=runtime.registry,
        pending=runtime.pending, enqueue=handed.extend, now=2000.0,
    )  # fmt: skip
    assert not_a_feed.polled and not_a_feed.error and len(handed) == 1


# -- end to end -------------------------------------------------------------------------------


class LiveFeed:
    """A feed on the site whose stories the test adds, naming `hub` in its Link header."""

    def __init__(self, site: Site, hub: str, path: str = "/push.xml") -> None:
        self.site, self.path, self.stories = site, path, []
        self.url = site.url(path)
        self.hub = hub
        site.routes[path] = Route(dynamic=lambda _h: (200, self.headers(), self.body()))

    def headers(self) -> dict[str, str]:
        link = f'<{self.hub}>; rel="hub", <{self.url}>; rel="self"'
        return {"Content-Type": "application/rss+xml", "Link": link}

    def body(self) -> bytes:
        return rss2([item(self.site.url(f"/s/{s}"), s, f"{s} in brief.")
                     for s in reversed(self.stories)]).encode()  # fmt: skip

    def add(self, slug: str) -> None:
        self.site.add(f"/s/{slug}", article_page(slug, paragraphs(slug)))
        self.stories.append(slug)

    def polls(self) -> int:
        return sum(h.path == self.path for h in self.site.hits)


def titles(client: redis.Redis) -> set[str]:
    return {a.title for a in stream(client)}


def websub_env(redis_url: str, site: Site, hubs: list[str], port: int) -> dict[str, str]:
    return stack_env(
        redis_url, site,
        NEWSWIRE_FETCH_ALLOW_HOSTS=",".join([site.host_port, *hubs]),
        NEWSWIRE_WEBSUB_PUBLIC_URL=f"http://127.0.0.1:{port}",
        NEWSWIRE_WEBSUB_MAX_BODY_BYTES="65536",
    )  # fmt: skip


def test_push_end_to_end_subscribe_fat_light_refusals_unsubscribe(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    hub = Hub()
    port = closed_port()
    live = LiveFeed(site, hub.base + "/")
    live.add("first-story")
    Registry(redis_client).add(live.url)
    procs = Processes(websub_env(redis_server.url, site, [hub.host_port], port), tmp_path)
    try:
        procs.worker("w1")
        procs.scheduler()
        procs.websub(port)
        wait_for(lambda: bool(hub.subscribers(live.url)), 30, "the hub's verified subscription")
        fid = feed_id(live.url)
        subs = Subscriptions(redis_client, "newswire")
        wait_for(lambda: getattr(subs.get(fid), "state", None) == State.ACTIVE, 10, "active")
        wait_for(lambda: "first-story" in titles(redis_client), 30, "the first story")
        assert hub.log.requests[0]["hub.callback"].startswith(f"http://127.0.0.1:{port}/websub/")
        assert len(hub.log.requests[0]["hub.secret"]) >= 32

        # A fat ping: the story arrives from the pushed content, the feed is not fetched.
        live.add("pushed-fat")
        polls, pushed_at = live.polls(), time.time()
        assert hub.publish(live.url, live.body()) == [202]
        wait_for(lambda: "pushed-fat" in titles(redis_client), 10, "the fat-pinged story", 0.02)
        assert time.time() - pushed_at < 2
        assert live.polls() == polls

        # A light ping: the feed is polled at once.
        live.add("pushed-light")
        pushed_at = time.time()
        assert hub.publish(live.url, b"") == [202]
        wait_for(lambda: "pushed-light" in titles(redis_client), 10, "the light-pinged story",
                 0.02)  # fmt: skip
        assert time.time() - pushed_at < 2
        assert live.polls() > polls
        # Polled as a safety net only, now that the hub pushes.
        state = Registry(redis_client).get(fid)
        assert state is not None and state.last_polled is not None
        assert state.next_due - state.last_polled >= 3600 * 0.9

        # Refused: unsigned, wrongly signed, oversized; each counted, nothing published.
        live.add("forged")
        assert hub.publish(live.url, live.body(), method=None) == [403]
        assert hub.publish(live.url, live.body(), secret="guessed") == [403]
        assert hub.publish(live.url, live.body() + b" " * 70_000) == [413]
        sha1 = hub.publish(live.url, rss2([item(site.url("/s/x"), "x")]).encode(), method="sha1")
        assert sha1 == [202]
        callback = hub.subscribers(live.url)[0].callback
        assert hub_get(f"{callback}x?hub.mode=subscribe&hub.challenge=c")[0] == 404
        assert post(f"http://127.0.0.1:{port}/websub/{fid}.guess", b"", {}) == 404
        time.sleep(1.5)
        assert "forged" not in titles(redis_client)
        counts = Metrics(redis_client).read()
        for outcome in ("unsigned", "bad_signature", "too_large", "unknown"):
            assert counts[f"{PUSHES}|outcome={outcome}"] == 1, outcome

        # Removed: the hub is asked to unsubscribe, verifies, and the subscription is gone.
        removed = newswire("feeds", "remove", live.url, env=procs.env)
        assert removed.returncode == 0, removed.stderr
        wait_for(lambda: not hub.subscribers(live.url), 20, "the unsubscription")
        wait_for(lambda: subs.get(fid) is None, 10, "the subscription forgotten")
        assert hub.log.requests[-1]["hub.mode"] == "unsubscribe"
    finally:
        procs.stop_all()
        print(procs.logs())
        hub.close()
    metrics = newswire("status", env=procs.env)
    assert metrics.returncode == 0


def test_a_refusing_denying_or_absent_hub_leaves_the_feed_polled(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    refusing, denying, absent = Hub(), Hub(), closed_port()
    refusing.refuse, denying.deny = True, True
    feeds = {
        "refused": LiveFeed(site, refusing.base + "/", "/a.xml"),
        "denied": LiveFeed(site, denying.base + "/", "/b.xml"),
        "unreachable": LiveFeed(site, f"http://127.0.0.1:{absent}/", "/c.xml"),
    }
    for name, feed in feeds.items():
        feed.add(f"{name}-story")
        Registry(redis_client).add(feed.url, 2)  # polled every 2 s whatever the hub does
    port = closed_port()
    hosts = [refusing.host_port, denying.host_port, f"127.0.0.1:{absent}"]
    procs = Processes(websub_env(redis_server.url, site, hosts, port), tmp_path)
    subs = Subscriptions(redis_client, "newswire")
    try:
        procs.worker("w1")
        procs.scheduler()
        procs.websub(port)

        def settled() -> bool:
            states = {n: getattr(subs.get(feed_id(f.url)), "state", None) for n, f in feeds.items()}
            return states == {"refused": State.REFUSED, "denied": State.REFUSED,
                              "unreachable": State.FAILED}  # fmt: skip

        wait_for(settled, 30, "every subscription settled")
        errors = {n: subs.get(feed_id(f.url)).error for n, f in feeds.items()}  # type: ignore[union-attr]
        assert "HTTP 400" in errors["refused"]
        assert "denied by the hub" in errors["denied"]
        assert "unreachable" in errors["unreachable"]
        polls = {n: f.polls() for n, f in feeds.items()}
        time.sleep(5)
        assert all(f.polls() >= polls[n] + 1 for n, f in feeds.items())  # polling goes on
        assert titles(redis_client) >= {f"{n}-story" for n in feeds}
    finally:
        procs.stop_all()
        print(procs.logs())
        refusing.close()
        denying.close()


def test_a_lease_is_renewed_before_it_ends(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    hub = Hub()
    hub.lease = 6  # renewed half-way, at 3 s
    hub.eager = True  # verifies before answering: the request must already be recorded
    live = LiveFeed(site, hub.base + "/")
    live.add("story")
    Registry(redis_client).add(live.url)
    port = closed_port()
    procs = Processes(websub_env(redis_server.url, site, [hub.host_port], port), tmp_path)
    subs = Subscriptions(redis_client, "newswire")
    try:
        procs.worker("w1")
        procs.scheduler()
        procs.websub(port)
        wait_for(lambda: bool(hub.subscribers(live.url)), 30, "the first subscription")
        first = hub.subscribers(live.url)[0].verified_at
        wait_for(lambda: sum(v[2] for v in hub.log.verifications) >= 3, 20, "two renewals")
        renewed = hub.subscribers(live.url)[0]
        assert renewed.verified_at > first
        sub = subs.get(feed_id(live.url))
        assert sub is not None and sub.state == State.ACTIVE and sub.expires_at > time.time()
        asked = [r for r in hub.log.requests if r["hub.mode"] == "subscribe"]
        assert len({r["hub.secret"] for r in asked}) == 1  # a renewal keeps its secret
    finally:
        procs.stop_all()
        print(procs.logs())
        hub.close()


def test_the_receiver_answers_nothing_else(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    port = closed_port()
    procs = Processes(websub_env(redis_server.url, site, [], port), tmp_path)
    try:
        procs.websub(port)
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: hub_get(base + "/livez")[0] == 200, 20, "the receiver")
        for path in ("/", "/metrics", "/api/status", "/docs", "/websub/", "/readyz"):
            assert hub_get(base + path)[0] == 404, path
        request = urllib.request.Request(base + "/websub/x.y", method="PUT")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 405
        refused.value.close()
    finally:
        procs.stop_all()
        print(procs.logs())
