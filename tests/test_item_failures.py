"""One bad item is its own outcome, never its feed's end: real worker and scheduler processes,
a catch-all at the poll boundary, and fuzzed single-item mutations inside good feeds."""

import json
import os
from datetime import UTC, datetime

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newswire.schemas.feed import FeedEntry
from newswire.services.fetch.politeness import HostLimiter
from newswire.services.identity.urls import clean_url, story_id
from newswire.services.polling.poller import poll_feed
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.services.sources.jsonfeed import parse_json_feed, shallow
from newswire.services.sources.kinds import parse_source
from newswire.workers.runtime import build_runtime

from tests.support.fleet import register
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import Processes, newswire, wait_for
from tests.support.redis_server import RedisServer
from tests.support.site import Site

EXAMPLES = int(os.environ.get("NEWSWIRE_FUZZ_EXAMPLES", "120"))
NOW = datetime(2026, 11, 28, tzinfo=UTC)
JSON_FEED = "https://jsonfeed.org/version/1.1"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def json_feed(items: list[str]) -> bytes:
    return f'{{"version": "{JSON_FEED}", "title": "J", "items": [{", ".join(items)}]}}'.encode()


def test_hostile_items_beside_good_ones_in_real_workers(
    procs: Processes, redis_client: redis.Redis, site: Site
) -> None:
    pages = [site.add(f"/news/{n}", article_page(f"Story {n}", paragraphs(f"Story {n}")))
             for n in range(5)]  # fmt: skip
    bad_port = f"http://{site.host_port.split(':')[0]}:99999/x"
    rss = site.add(
        "/rss.xml",
        rss2([item(pages[0], "Story 0"), item(bad_port, "Bad port"), item(pages[1], "Story 1")]),
        "application/rss+xml",
    )
    jf = site.add(
        "/feed.json",
        json_feed([
            json.dumps({"id": "2", "url": pages[2], "title": "Story 2"}),
            f'{{"id": "3", "url": "{pages[3]}", "title": "Story 3", "extra": {deep(2000)}}}',
            json.dumps({"id": "4", "url": pages[4], "title": "Story 4", "tags": 5}),
        ]),
        "application/feed+json",
    )  # fmt: skip
    registry = register(redis_client, [rss, jf], interval=600)
    procs.worker("w1")
    procs.scheduler()

    wait_for(lambda: redis_client.xlen("newswire:articles") >= 5, 90, "the five good stories")
    wait_for(lambda: redis_client.xlen("newswire:rejected") >= 1, 30, "the bad link rejected")

    assert sorted(a.url or "" for a in stream(redis_client)) == sorted(pages)
    [(_id, rejected)] = redis_client.xrange("newswire:rejected")
    assert json.loads(rejected[b"data"])["link"] == bad_port
    assert rejected[b"kind"] == b"refused"
    for url in (rss, jf):
        state = registry.get(url)
        assert state is not None and state.last_status == "200", state
        assert state.error_count == 0 and state.last_error is None


def test_an_unexpected_failure_is_recorded_on_the_feed(
    settings: Settings, redis_client: redis.Redis, site: Site
) -> None:
    url = site.add("/rss.xml", rss2([item(site.url("/a"), "A")]), "application/rss+xml")
    registry = Registry(redis_client)
    state = registry.add(url, 60, now=1_800_000_000)
    runtime = build_runtime(settings)

    def bug(entries: list[FeedEntry]) -> None:
        raise KeyError("a bug on odd input")

    try:
        report = poll_feed(state, pipeline=runtime.pipeline, registry=registry,
                           limiter=HostLimiter(redis_client, 10, 10), enqueue=bug,
                           now=1_800_000_000)  # fmt: skip
    finally:
        runtime.close()
    saved = registry.get(url)
    assert report.error_kind == "internal_error" and report.error == "internal error: KeyError"
    assert saved is not None and saved.last_error_kind == "internal_error"
    assert saved.error_count == 1 and saved.next_due > 1_800_000_000 + 30  # backs off
    assert saved.etag is None  # validators not saved: the next poll is in full
    metrics = {k.decode(): int(v) for k, v in redis_client.hgetall("newswire:metrics").items()}
    assert metrics.get("internal_errors|kind=KeyError|where=poll") == 1, metrics


def test_discover_on_a_deeply_nested_json_feed_prints_no_traceback(
    redis_server: RedisServer, site: Site
) -> None:
    body = json_feed([f'{{"id": "1", "url": "{site.url("/a")}", "x": {deep(3000)}}}'])
    url = site.add("/feed.json", body, "application/feed+json")
    env = {"NEWSWIRE_REDIS_URL": redis_server.url, "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port}

    done = newswire("feeds", "discover", url, "--json", env=env)

    assert "Traceback" not in done.stderr, done.stderr
    [found] = [f for f in json.loads(done.stdout) if f["url"] == url]
    assert found["items"] == 1


def test_json_nesting_is_cut_per_value() -> None:
    text, dropped = shallow('{"a": [[[1]]], "b": "[[[", "c": [2]}', limit=2)
    assert (json.loads(text), dropped) == ({"a": [None], "b": "[[[", "c": [2]}, 1)
    feed = parse_json_feed(json_feed(['{"url": "https://e.example/1", "x": ' + deep(5000) + "}"]),
                           "https://e.example/feed.json")  # fmt: skip
    assert [e.link for e in feed.entries] == ["https://e.example/1"]
    assert feed.salvaged is not None and "nested deeper" in feed.salvaged


def test_identity_of_a_link_with_a_port_out_of_range_never_raises() -> None:
    assert clean_url("http://Host:99999/x?utm_source=a") == "http://host:99999/x"
    assert len(story_id("http://[zz]/")) == 32
    assert clean_url("http://[::1]:8080/a") == "http://[::1]:8080/a"


# Single-item mutations: any JSON value in any field of one item, any text in one RSS item.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
ITEM_FIELDS = ("id", "url", "external_url", "title", "content_html", "content_text", "summary",
               "date_published", "date_modified", "authors", "author", "tags", "image",
               "banner_image", "language")  # fmt: skip
GOOD = ["https://good.example/one", "https://good.example/two"]


def _good(link: str) -> dict[str, object]:
    return {"id": link, "url": link, "title": "Good", "content_text": "Good text."}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(ITEM_FIELDS), JSON_VALUES, max_size=6))
def test_one_mutated_json_item_never_costs_the_good_ones(mutant: dict[str, object]) -> None:
    body = json.dumps({"version": JSON_FEED, "items": [_good(GOOD[0]), mutant, _good(GOOD[1])]})
    feed = parse_source(body.encode(), "https://good.example/feed.json", None, now=NOW)
    links = [e.link for e in feed.entries]
    assert [link for link in links if link in GOOD] == GOOD
    for entry in feed.entries:
        if entry.link:
            clean_url(entry.link)  # identity of every link is total


RSS_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60
) | st.sampled_from([
    "http://h:99999/x", "http://[zz]/", "javascript:alert(1)", "9" * 400, "<b>", "]]>", "&#0;",
    "http://a.example/" + "x" * 10_000, "\x1b]0;title\x07", "<![CDATA[", "&big;",
])  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["link", "guid", "title", "description", "pubDate", "category"]), RSS_TEXT)
def test_one_mutated_rss_item_never_costs_the_good_ones(field: str, text: str) -> None:
    from html import escape  # noqa: PLC0415

    bad = item("https://good.example/bad", "Bad") | {field: escape(text)}
    body = rss2([item(GOOD[0], "Good"), bad, item(GOOD[1], "Good")])
    feed = parse_source(body.encode(), "https://good.example/rss.xml", None, now=NOW)
    links = [e.link for e in feed.entries]
    assert [link for link in links if link in GOOD] == GOOD
    for entry in feed.entries:
        if entry.link:
            clean_url(entry.link)
