"""Per-feed options over real HTTP: auth, headers and cookies sent to the feed's own site only,
User-Agent, HTTP and SOCKS proxies (and one that refuses), trusting the feed's text, language
and tags; set by `feeds add` flags and YAML/OPML lists, secrets never shown."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.errors import ConfigError
from newswire.services.ingest.outcomes import Outcome
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.services.sources.feedlist import parse_feed_list, parse_yaml
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import newswire
from tests.support.proxy import HttpProxy, Socks5Proxy, closed_port
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site

SECRET_PASSWORD = "pa55-s3cret-word"
SECRET_TOKEN = "tok-9f8e7d6c5b4a"
SECRET_COOKIE = "sess-1a2b3c4d"


def guarded(site: Site, paths: list[str]) -> None:
    """These paths answer 401 unless the request carries the basic auth, the token header and
    the session cookie."""
    expected_auth = "Basic " + base64.b64encode(f"reader:{SECRET_PASSWORD}".encode()).decode()

    def answer(body: bytes, kind: str):  # type: ignore[no-untyped-def]
        def respond(headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
            ok = (
                headers.get("authorization") == expected_auth
                and headers.get("x-token") == SECRET_TOKEN
                and f"session={SECRET_COOKIE}" in headers.get("cookie", "")
            )
            if not ok:
                return 401, {"Content-Type": "text/plain"}, b"who are you?"
            return 200, {"Content-Type": kind}, body

        return respond

    for path in paths:
        route = site.routes[path]
        kind = route.headers.get("Content-Type", "text/html")
        assert isinstance(route.body, bytes)
        site.routes[path] = Route(dynamic=answer(route.body, kind))


@pytest.fixture
def elsewhere() -> Iterator[Site]:
    other = Site()
    yield other
    other.close()


def test_auth_headers_cookies_go_to_the_feed_site_only(
    settings: Settings, site: Site, elsewhere: Site, redis_server: RedisServer,
    redis_client: redis.Redis,
) -> None:  # fmt: skip
    own = site.add("/news/own", article_page("Own story", paragraphs("Own")))
    # Another site, reached by another host name: it must not see the feed's credentials.
    foreign = elsewhere.add("/story", article_page("Foreign story", paragraphs("Foreign")))
    foreign = foreign.replace("127.0.0.1", "localhost")
    feed = site.add(
        "/private.xml",
        rss2([item(own, "Own story"), item(foreign, "Foreign story")]),
        "application/rss+xml",
    )
    guarded(site, ["/private.xml", "/news/own"])
    env = {
        "NEWSWIRE_REDIS_URL": redis_server.url,
        "NEWSWIRE_FETCH_ALLOW_HOSTS": f"{site.host_port},localhost:{elsewhere.port}",
        "FEED_PASSWORD": SECRET_PASSWORD,
        "FEED_TOKEN": SECRET_TOKEN,
    }

    added = newswire(
        "feeds", "add", feed, "--auth", "reader:env:FEED_PASSWORD",
        "--header", "X-Token: env:FEED_TOKEN", "--cookie", f"session={SECRET_COOKIE}",
        "--user-agent", "FixtureReader/2.0", "--tag", "local", "--tag", "members",
        "--language", "de", env=env,
    )  # fmt: skip
    ingested = newswire("ingest", feed, "--json", env=env)
    listed = newswire("feeds", "list", env=env)
    listed_json = newswire("feeds", "list", "--json", env=env)
    status = newswire("status", "--json", env=env)

    assert added.returncode == 0, added.stderr
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    assert report["counts"]["new"] == 2, report
    by_title = {a.title: a for a in stream(redis_client)}
    assert by_title["Own story"].extraction == "full"
    assert by_title["Foreign story"].extraction == "full"
    assert {"local", "members"} <= set(by_title["Own story"].tags)
    own_hits = [h for h in site.hits if h.path in {"/private.xml", "/news/own"}]
    assert own_hits and all(h.headers["user-agent"] == "FixtureReader/2.0" for h in own_hits)
    [foreign_hit] = [h for h in elsewhere.hits if h.path == "/story"]
    assert "authorization" not in foreign_hit.headers
    assert "x-token" not in foreign_hit.headers and "cookie" not in foreign_hit.headers
    assert foreign_hit.headers["user-agent"] == "FixtureReader/2.0"
    # Secrets appear on no surface.
    for shown in (added, ingested, listed, listed_json, status):
        text = shown.stdout + shown.stderr
        for secret in (SECRET_PASSWORD, SECRET_TOKEN, SECRET_COOKIE):
            assert secret not in text, (shown.args, secret)
    assert "auth" in listed.stdout or "username" in listed.stdout  # named, not shown
    options = json.loads(listed_json.stdout)[0]["options"]
    assert options["password"] == "***" and options["headers"] == {"X-Token": "***"}
    assert options["cookies"] == {"session": "***"} and options["username"] == "reader"


def test_without_the_options_the_guarded_feed_fails(settings: Settings, site: Site) -> None:
    site.add("/news/own", article_page("Own story", paragraphs("Own")))
    feed = site.add("/private.xml", rss2([item(site.url("/news/own"), "x")]), "application/rss+xml")
    guarded(site, ["/private.xml"])
    runtime = build_runtime(settings)
    try:
        report = runtime.pipeline.ingest_feed(feed)
    finally:
        runtime.close()
    assert report.error == "HTTP 401"


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_feed_fetched_through_its_proxy(
    settings: Settings, site: Site, redis_client: redis.Redis, kind: str
) -> None:
    page = site.add("/news/p", article_page("Proxied story", paragraphs("Proxied")))
    feed = site.add("/proxied.xml", rss2([item(page, "Proxied story")]), "application/rss+xml")
    proxy = HttpProxy() if kind == "http" else Socks5Proxy()
    try:
        runtime = build_runtime(settings)
        try:
            report = runtime.pipeline.ingest_feed(feed, options=FeedOptions(proxy=proxy.url))
        finally:
            runtime.close()
    finally:
        proxy.close()
    assert report.counts[Outcome.NEW] == 1, report.line()
    [article] = stream(redis_client)
    assert article.extraction == "full"
    if isinstance(proxy, HttpProxy):
        assert [path for path, _h in proxy.requests][:1] == [feed]
        assert page in [path for path, _h in proxy.requests]
    else:
        assert ("127.0.0.1", site.port) in proxy.targets


def test_a_proxy_that_refuses_is_a_recorded_failure(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    page = site.add("/news/p", article_page("Story", paragraphs("Story")))
    feed = site.add("/f.xml", rss2([item(page, "Story", "Feed text of the story.")]),
                    "application/rss+xml")  # fmt: skip
    refusing = FeedOptions(proxy=f"http://127.0.0.1:{closed_port()}")
    runtime = build_runtime(settings)
    try:
        report = runtime.pipeline.ingest_feed(feed, options=refusing)
        [entry] = runtime.pipeline.fetch_feed(feed)[1].entries  # type: ignore[union-attr]
        result = runtime.pipeline.process_entry(entry, options=refusing)
    finally:
        runtime.close()
    assert report.error_kind == "proxy_error", report.error
    assert result.outcome is Outcome.FELL_BACK
    assert result.reason is not None and "proxy unreachable" in result.reason
    [article] = stream(redis_client)
    assert article.body == "Feed text of the story."


def test_trusting_the_feed_text_fetches_no_page(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    page = site.add("/news/full", article_page("Full", paragraphs("Full")))
    feed = site.add("/f.xml", rss2([item(page, "Full", "The whole story, as the feed has it.")]),
                    "application/rss+xml")  # fmt: skip
    runtime = build_runtime(settings)
    try:
        report = runtime.pipeline.ingest_feed(feed, options=FeedOptions(fetch_pages=False))
    finally:
        runtime.close()
    assert report.counts[Outcome.FELL_BACK] == 1, report.line()
    [article] = stream(redis_client)
    assert article.body == "The whole story, as the feed has it."
    assert article.extraction_error is None
    assert "/news/full" not in site.paths_hit()


def test_yaml_and_opml_lists_carry_options(tmp_path: Path) -> None:
    yaml_list = tmp_path / "feeds.yaml"
    yaml_list.write_text(
        "feeds:\n"
        "  - url: https://a.example/rss\n"
        "    interval: 600\n"
        "    headers: {Authorization: 'env:FEED_A_TOKEN'}\n"
        "    username: me\n"
        "    password: env:FEED_A_PASSWORD\n"
        "    proxy: socks5://proxy.internal:1080\n"
        "    fetch_pages: false\n"
        "    tags: [wire]\n"
        "    robots_txt: false\n"
        "  - https://b.example/feed.json\n"
    )
    env = {"FEED_A_TOKEN": "Bearer xyz", "FEED_A_PASSWORD": "pw"}
    a, b = parse_yaml(yaml_list.read_bytes(), env)
    assert a.options is not None and b.options is None
    assert a.options.headers == {"Authorization": "Bearer xyz"} and a.options.password == "pw"
    assert (a.options.fetch_pages, a.options.tags, a.options.robots_txt) == (False, ["wire"], False)
    with pytest.raises(ConfigError, match="FEED_B_TOKEN is not set"):
        parse_yaml(b"- url: https://c.example/\n  headers: {X: 'env:FEED_B_TOKEN'}\n", env)
    with pytest.raises(ConfigError, match="unknown feed option"):
        parse_yaml(b"- url: https://c.example/\n  colour: blue\n", env)
    opml = (
        b'<opml version="2.0"><body><outline text="x" xmlUrl="https://o.example/rss" '
        b'category="/Politics,Local" language="fr"/></body></opml>'
    )
    [o] = parse_feed_list(opml, "list.opml")
    assert o.options == FeedOptions(tags=["Politics", "Local"], language="fr")


def test_registry_keeps_options(redis_client: redis.Redis) -> None:
    registry = Registry(redis_client)
    registry.add("https://a.example/rss", 600, options=FeedOptions(tags=["x"], password="p"))
    again = registry.add("https://a.example/rss", 900)  # no options given: kept
    assert again.options == FeedOptions(tags=["x"], password="p")
    assert registry.get("https://a.example/rss") == again


def test_a_trusted_feed_text_that_changes_is_a_new_version(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    def atom(updated: str, text: str) -> str:
        return (
            "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>"
            "<id>urn:t</id><updated>2026-11-27T10:00:00Z</updated><entry><title>Story</title>"
            f"<link href='{site.url('/s')}'/><id>urn:s</id><updated>{updated}</updated>"
            f"<content type='text'>{text}</content></entry></feed>"
        )

    feed = site.add("/a.xml", atom("2026-11-27T10:00:00Z", "First text."), "application/atom+xml")
    trusted = FeedOptions(fetch_pages=False)
    runtime = build_runtime(settings)
    try:
        runtime.pipeline.ingest_feed(feed, options=trusted)
        site.add("/a.xml", atom("2026-11-27T11:00:00Z", "Corrected text."), "application/atom+xml")
        [changed] = [runtime.pipeline.ingest_feed(feed, options=trusted)]
    finally:
        runtime.close()
    assert changed.counts[Outcome.UPDATED] == 1, changed.line()
    v1, v2 = stream(redis_client)
    assert (v1.body, v2.body, v2.version) == ("First text.", "Corrected text.", 2)
    assert "/s" not in site.paths_hit()
