"""Pure helpers, tested by tables: URL identity, charsets, the guard's address rules, Retry-After."""

import ipaddress
from datetime import UTC, datetime

import pytest
from newswire.schemas.feed import FeedEntry
from newswire.schemas.status import FeedsStatus, SchedulerStatus, Status
from newswire.services.backoff import Backoff
from newswire.services.errors import (
    ConfigError,
    FetchKind,
    PermanentFetch,
    RefusedURL,
    TransientFetch,
)
from newswire.services.extract.metadata import PageMeta, parse_timestamp
from newswire.services.extract.normalize import content_hash, extraction_is_useful, words_hash
from newswire.services.extract.page import Extracted
from newswire.services.fetch.charset import decode_html
from newswire.services.fetch.client import parse_retry_after
from newswire.services.fetch.guard import AllowList, check_url, is_public, pick_address
from newswire.services.identity.urls import canonical_url, clean_url, same_site, story_id
from newswire.services.metrics import EXTRACT_SECONDS, fetch_result
from newswire.services.ops.exposition import NewswireCollector
from newswire.services.sources.kinds import parse_source
from prometheus_client import CollectorRegistry, generate_latest

from tests.support.monitor import metric_samples


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://Example.COM/a?utm_source=x&utm_medium=rss#top", "https://example.com/a"),
        ("https://example.com/story.php?id=101&fbclid=abc", "https://example.com/story.php?id=101"),
        (
            "https://example.com/story.php?id=102&gclid=1&mc_cid=2&mc_eid=3",
            "https://example.com/story.php?id=102",
        ),
        ("http://example.com", "http://example.com/"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/s?q=a%20b&page=2", "https://example.com/s?q=a%20b&page=2"),
        ("https://example.com/s?UTM_Campaign=x&ref=home", "https://example.com/s"),
    ],
)
def test_clean_url(url: str, clean: str) -> None:
    assert clean_url(url) == clean


@pytest.mark.parametrize(
    ("fetched", "canonical", "expected"),
    [
        ("https://www.ex.com/amp/1", "https://ex.com/news/1", "https://ex.com/news/1"),
        ("https://ex.com/amp/1", "/news/1?utm_source=x", "https://ex.com/news/1"),
        ("https://ex.com/a", "https://other.com/a", "https://ex.com/a"),
        ("https://ex.com/a", "javascript:alert(1)", "https://ex.com/a"),
        ("https://m.ex.com/a", "https://ex.com/a", "https://ex.com/a"),
    ],
)
def test_canonical_url(fetched: str, canonical: str, expected: str) -> None:
    assert canonical_url(fetched, canonical) == expected


def test_same_site_and_story_id() -> None:
    assert same_site("https://www.bbc.co.uk/a", "https://bbc.co.uk/b")
    assert not same_site("https://bbc.co.uk.evil.com/a", "https://bbc.co.uk/b")
    assert story_id("https://ex.com/a") == story_id("https://ex.com/a")
    assert story_id("https://ex.com/a") != story_id("https://ex.com/b")
    assert len(story_id("x")) == 32


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("2606:4700:4700::1111", True),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://x/y",
        "data:text/html,hi",
        "gopher://x",
        "http://",
        "http://x:99999/",
    ],
)
def test_check_url_refuses(url: str) -> None:
    with pytest.raises(RefusedURL):
        check_url(url)


def test_pick_address_and_allow_list() -> None:
    allow = AllowList.parse(["127.0.0.1:8080", "10.9.0.0/16"])
    assert pick_address("127.0.0.1", 8080, allow) == "127.0.0.1"
    assert pick_address("10.9.1.1", 80, allow) == "10.9.1.1"
    for host, port in [
        ("127.0.0.1", 8081),
        ("localhost", 8080),
        ("10.8.0.1", 80),
        ("0x7f000001", 80),
    ]:
        with pytest.raises(RefusedURL):
            pick_address(host, port, allow)
    with pytest.raises(ConfigError):
        AllowList.parse(["not a host"])


def test_decode_html_charsets() -> None:
    text = "<p>café naïve “quotes” — ok</p>"
    assert decode_html(text.encode("cp1252")) == text
    assert decode_html(text.encode("cp1252"), "text/html; charset=ISO-8859-1") == text
    assert decode_html(text.encode("utf-8")) == text
    assert decode_html(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    meta = '<meta charset="windows-1251"><p>Привет, мир</p>'
    assert decode_html(meta.encode("cp1251")) == meta
    assert decode_html(b"\xff\xfe\x00junk", "text/html; charset=bogus-label")  # never raises


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Sat, 28 Nov 2026 13:00:00 GMT", now) == 3600
    assert parse_retry_after("garbage", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    ("value", "utc", "has_time"),
    [
        ("2026-11-20T14:35:07+01:00", datetime(2026, 11, 20, 13, 35, 7, tzinfo=UTC), True),
        ("2026-11-20T13:35:07Z", datetime(2026, 11, 20, 13, 35, 7, tzinfo=UTC), True),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC), False),
    ],
)
def test_parse_timestamp(value: str, utc: datetime, has_time: bool) -> None:
    stamp = parse_timestamp(value)
    assert stamp is not None and stamp.value == utc and stamp.has_time is has_time
    assert parse_timestamp("yesterday") is None


def test_fetch_errors_carry_a_kind_that_metrics_use() -> None:
    """The metric label comes from the kind chosen where the error is raised: rewording a
    message changes nothing."""
    assert fetch_result(PermanentFetch("u", "HTTP 404", status=404)) == "http_4xx"
    assert fetch_result(TransientFetch("u", "HTTP 429", status=429)) == "rate_limited"
    assert fetch_result(TransientFetch("u", "HTTP 503", status=503)) == "http_5xx"
    assert fetch_result(RefusedURL("u", "anything at all")) == "refused"
    assert fetch_result(TransientFetch("u", "reset by peer")) == "network_error"
    reworded = PermanentFetch("u", "the page is far too big", kind=FetchKind.TOO_LARGE)
    assert fetch_result(reworded) == "too_large"
    assert fetch_result(None, 304) == "not_modified" and fetch_result(None, 200) == "ok"
    with pytest.raises(PermanentFetch) as caught:
        parse_source(b"<html><body>no feed</body></html>", "https://x.example/f", None,
                     now=datetime(2026, 11, 28, tzinfo=UTC))  # fmt: skip
    assert caught.value.kind is FetchKind.NOT_A_FEED


def test_metrics_collector_exports_counters_exactly_and_cumulative_histograms() -> None:
    status = Status(
        generated_at=0.0, ready=True, workers=[], queues=[], streams=[],
        scheduler=SchedulerStatus(active_instance=None, last_tick=None, fresh=False),
        feeds=FeedsStatus(total=0, healthy=0, backing_off=0, failing=0, disabled=0,
                          stalest_poll_age=None),
    )  # fmt: skip
    raw: dict[str, int] = {
        "fetches|kind=page|result=ok": 12_345_678_901,
        "robots_disallowed|kind=page": 3,
        "extraction_cpu_us": 1_250_000,
    }
    for seconds in (0.003, 0.02, 0.02, 7.0):  # 0.005 bucket, 0.025 bucket twice, 10.0 bucket
        for key, n in EXTRACT_SECONDS.fields(seconds, {}):
            raw[key] = raw.get(key, 0) + n
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NewswireCollector(lambda: raw, lambda: status, 1_000_000))
    text = generate_latest(registry).decode()
    samples = metric_samples(text)
    assert (
        samples[("newswire_fetches_total", (("kind", "page"), ("result", "ok")))] == 12_345_678_901
    )
    assert samples[("newswire_robots_disallowed_total", (("kind", "page"),))] == 3
    bucket = "newswire_extraction_duration_seconds_bucket"
    assert samples[(bucket, (("le", "0.005"),))] == 1
    assert samples[(bucket, (("le", "0.01"),))] == 1
    assert samples[(bucket, (("le", "0.025"),))] == 3
    assert samples[(bucket, (("le", "2.5"),))] == 3
    assert samples[(bucket, (("le", "10.0"),))] == 4
    assert samples[(bucket, (("le", "+Inf"),))] == 4
    assert samples[("newswire_extraction_duration_seconds_count", ())] == 4
    assert samples[("newswire_extraction_duration_seconds_sum", ())] == pytest.approx(7.043)
    assert samples[("newswire_extraction_cpu_seconds_total", ())] == 1.25  # kept in µs
    assert samples[("newswire_stream_max_length", ())] == 1_000_000


@pytest.mark.parametrize(
    ("attempt", "rng", "expected"),
    [(1, 0.5, 1.0), (2, 0.5, 2.0), (3, 0.0, 3.0), (3, 1.0, 5.0), (6, 0.5, 30.0), (500, 1.0, 30.0)],
)
def test_backoff_doubles_with_jitter_up_to_its_cap(
    attempt: int, rng: float, expected: float
) -> None:
    assert Backoff(first=1.0, cap=30.0).delay(attempt, lambda: rng) == pytest.approx(expected)


def test_backoff_waits_restart_after_a_success() -> None:
    policy = Backoff(first=0.5, cap=2.0, jitter=0.0)
    waits = policy.waits()
    assert [next(waits) for _ in range(4)] == [0.5, 1.0, 2.0, 2.0]
    assert next(policy.waits()) == 0.5


@pytest.mark.parametrize(
    ("body_words", "summary_words", "useful"),
    [
        (25, 400, True),  # a story's worth of words, whatever the feed has
        (24, 400, False),  # fewer, and the feed says more: extraction missed the story
        (24, 24, True),  # as much as the feed's own text
        (30, 0, True),
        (3, 4, False),
        (4, 3, True),
        (0, 0, True),  # nothing either way: the page is no worse than the feed
    ],
)
def test_extraction_is_useful_against_the_feeds_text(
    body_words: int, summary_words: int, useful: bool
) -> None:
    body = "\n  ".join(f"word{n}" for n in range(body_words)) + "\n"
    summary = " ".join(["feed"] * summary_words)
    entry = FeedEntry(feed_url="https://news.example/rss", summary=summary)
    assert extraction_is_useful(Extracted(body=body, meta=PageMeta()), entry) is useful


def test_content_hash_ignores_reflowing() -> None:
    text = "One  story,\n\tits words\u00a0reflowed. "
    assert content_hash(text) == content_hash("One story, its words reflowed.")
    assert content_hash(text) == words_hash(text.split())
    assert content_hash(text) != content_hash("One story, its words reflowed!")
