"""Per-feed credentials go to the feed's origin (scheme, host and port) and the origins listed
for it, nowhere else; options are checked when set, and no error text carries a secret."""

from base64 import b64encode
from collections.abc import Iterator

import httpx
import pytest
import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.errors import ConfigError, FetchError
from newswire.services.fetch.client import Fetcher, RequestOptions
from newswire.services.fetch.cookies import HopCookies
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.services.sources.feedlist import feed_options
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import newswire
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site

SECRET = "s3cret-token-value"
OPTIONS = FeedOptions(
    headers={"Authorization": f"Bearer {SECRET}"},
    cookies={"session": SECRET},
    username="reader",
    password=SECRET,
)


@pytest.fixture
def other() -> Iterator[Site]:
    """A second site on the same host (127.0.0.1), another port: another origin."""
    s = Site()
    yield s
    s.close()


def both_sites(settings: Settings, site: Site, other: Site) -> Settings:
    return settings.model_copy(update={"fetch_allow_hosts": f"{site.host_port},{other.host_port}"})


def leaked(site: Site) -> list[str]:
    return [
        h.path
        for h in site.hits
        if "authorization" in h.headers or SECRET in h.headers.get("cookie", "")
    ]


def test_credentials_stay_on_the_feed_origin_over_real_http(
    settings: Settings, site: Site, other: Site
) -> None:
    settings = both_sites(settings, site, other)
    same = site.add("/news/same", article_page("Same", paragraphs("Same")))
    across = other.add("/news/across", article_page("Across", paragraphs("Across")))
    site.routes["/news/moved"] = Route(status=302, headers={"Location": other.url("/news/moved")})
    other.add("/news/moved", article_page("Moved", paragraphs("Moved")))
    feed = site.add(
        "/feed.xml",
        rss2([item(same, "Same"), item(across, "Across"), item(site.url("/news/moved"), "M")]),
        "application/rss+xml",
    )
    runtime = build_runtime(settings)
    try:
        report = runtime.pipeline.ingest_feed(feed, options=OPTIONS)
    finally:
        runtime.close()

    assert report.error is None and sum(report.counts.values()) == 3
    assert sorted(leaked(site)) == ["/feed.xml", "/news/moved", "/news/same"]
    assert leaked(other) == [], "another port of the same host is another origin"
    assert {h.path for h in other.hits} >= {"/news/across", "/news/moved"}


def test_listed_origins_get_the_credentials_too(
    settings: Settings, site: Site, other: Site
) -> None:
    settings = both_sites(settings, site, other)
    across = other.add("/news/across", article_page("Across", paragraphs("Across")))
    feed = site.add("/feed.xml", rss2([item(across, "Across")]), "application/rss+xml")
    listed = OPTIONS.model_copy(update={"credential_origins": [f"http://{other.host_port}"]})
    runtime = build_runtime(settings)
    try:
        runtime.pipeline.ingest_feed(feed, options=listed)
    finally:
        runtime.close()
    assert leaked(other) == ["/news/across"]


@pytest.mark.parametrize(
    ("target", "sent"),
    [
        ("https://feeds.example.com/rss", True),
        ("https://feeds.example.com:443/x", True),
        ("http://feeds.example.com/rss", False),  # plaintext
        ("https://feeds.example.com:8443/rss", False),  # another port
        ("https://example.com/rss", False),  # the parent domain
        ("https://cdn.feeds.example.com/rss", False),  # a subdomain
        ("https://www.feeds.example.com/rss", False),
        ("https://FEEDS.example.com./a", True),
        ("http://feeds.example.com:99999/", False),
    ],
)
def test_which_origins_get_credentials(target: str, sent: bool) -> None:
    request = RequestOptions.from_feed("https://feeds.example.com/rss", OPTIONS)
    assert request is not None
    assert ("Authorization" in request.headers_for(target)) is sent


def test_an_https_feed_never_sends_credentials_over_http_even_when_listed() -> None:
    listed = OPTIONS.model_copy(update={"credential_origins": ["http://feeds.example.com"]})
    request = RequestOptions.from_feed("https://feeds.example.com/rss", listed)
    assert request is not None and request.headers_for("http://feeds.example.com/a") == {}


BAD_OPTIONS = [
    ({"headers": {"X-Token": "env:FEED_CR"}}, "control characters"),
    ({"headers": {"Content-Length": "5"}}, "Content-Length is the HTTP client's own"),
    ({"headers": {"Host": "evil.example"}}, "Host is the HTTP client's own"),
    ({"headers": {"Transfer-Encoding": "chunked"}}, "client's own"),
    ({"headers": {"X-Name": "café"}}, "printable ASCII"),
    ({"headers": {"Bad Name": "v"}}, "RFC 9110 token"),
    ({"proxy": "file:///etc/passwd"}, "a proxy is http://"),
    ({"proxy": "javascript:alert(1)"}, "a proxy is http://"),
    ({"proxy": "gopher://p.example:70"}, "a proxy is http://"),
    ({"proxy": "http://proxy.example:99999"}, "port is 1-65535"),
    ({"cookies": {"a": "b;c=d"}}, "RFC 6265"),
    ({"password": "env:FEED_CR"}, "control characters"),
]


@pytest.mark.parametrize(("raw", "why"), BAD_OPTIONS)
def test_options_are_checked_when_set_and_errors_carry_no_value(
    raw: dict[str, object], why: str
) -> None:
    environ = {"FEED_CR": f"{SECRET}\r"}
    with pytest.raises(ConfigError) as caught:
        feed_options(raw, environ)
    assert why in str(caught.value)
    assert SECRET not in str(caught.value)


def test_cli_refuses_bad_options_and_intervals(redis_server: RedisServer) -> None:
    env = {"NEWSWIRE_REDIS_URL": redis_server.url, "FEED_CR": f"{SECRET}\r"}
    cases = [
        ("--header", "X-Token: env:FEED_CR"),
        ("--proxy", "gopher://p.example:70"),
        ("--header", "Content-Length: 5"),
        ("--interval", "-5"),
        ("--interval", "99999999"),
    ]
    for flag, value in cases:
        done = newswire("feeds", "add", "https://feeds.example.com/rss", flag, value, env=env)
        assert done.returncode == 2, (flag, value, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and SECRET not in done.stderr + done.stdout
    listing = newswire("feeds", "list", "--json", env=env)
    assert listing.stdout.strip() == "[]", "nothing was registered"


def test_a_malformed_stored_header_fails_without_its_value(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    feed = site.add("/feed.xml", rss2([]), "application/rss+xml")
    # Options stored before they were checked: the fetch must still not show the value.
    request = RequestOptions(feed, headers={"X-Token": f"{SECRET}\r"})
    with Fetcher(settings) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(feed, options=request)
    assert SECRET not in caught.value.reason and SECRET not in str(caught.value)
    registry = Registry(redis_client)
    registry.add(feed, 60)
    redis_client.hset(registry.key(registry.all()[0].id), "options",
                      '{"headers": {"X-Token": "bad\\r"}}')  # fmt: skip
    [state] = registry.all()
    assert not state.enabled and "stored options are invalid" in (state.disabled_reason or "")
    assert "bad" not in (state.disabled_reason or "")


def test_cookies_a_server_sets_are_kept_for_that_fetch_only(
    settings: Settings, site: Site, other: Site
) -> None:
    """A session cookie a credentialed feed's server hands out is not sent to another
    origin (cookies ignore ports: 127.0.0.1 is one cookie domain), nor on any later fetch;
    within one fetch it follows the redirect hops, as a site's cookie check needs."""
    settings = both_sites(settings, site, other)
    site.routes["/feed.xml"] = Route(
        body=b"<rss/>", headers={"Content-Type": "application/rss+xml",
                                 "Set-Cookie": f"login={SECRET}; Path=/"},
    )  # fmt: skip
    # A cookie check: the first answer sets a cookie and sends the reader back to the page.
    site.routes["/check"] = Route(status=302, headers={"Location": "/checked",
                                                        "Set-Cookie": "seen=1; Path=/"})  # fmt: skip
    site.routes["/checked"] = Route(
        dynamic=lambda headers: (200 if "seen=1" in headers.get("cookie", "") else 403,
                                 {"Content-Type": "text/html"}, b"<p>ok</p>"),
    )  # fmt: skip
    other.routes["/page"] = Route(body=b"<p>x</p>", headers={"Content-Type": "text/html"})
    options = RequestOptions.from_feed(site.url("/feed.xml"), OPTIONS)
    with Fetcher(settings) as fetcher:
        fetcher.get(site.url("/feed.xml"), options=options)
        fetcher.get(other.url("/page"))
        assert fetcher.get(site.url("/check")).status == 200
        with pytest.raises(FetchError):
            fetcher.get(site.url("/checked"))  # a later fetch: the check's cookie is gone
    assert leaked(other) == []
    assert all("cookie" not in h.headers for h in other.hits)
    assert [h.headers.get("cookie") for h in site.hits if h.path == "/checked"] == ["seen=1", None]


def test_a_hops_cookies_join_the_feeds_own_in_one_header() -> None:
    cookies = HopCookies()
    reply = httpx.Response(
        302,
        headers=[("Set-Cookie", "seen=1; Path=/"), ("Location", "/next")],
        request=httpx.Request("GET", "https://news.example/check"),
    )
    cookies.take(reply)
    headers = cookies.add_to(
        "https://news.example/next", {"cookie": "session=abc", "Accept": "*/*"}
    )
    assert headers == {"Accept": "*/*", "Cookie": "session=abc; seen=1"}
    assert cookies.add_to("https://other.example/", {"Accept": "*/*"}) == {"Accept": "*/*"}


def test_credentials_in_a_url_go_to_that_url_only(
    settings: Settings, site: Site, other: Site
) -> None:
    settings = both_sites(settings, site, other)
    site.routes["/feed"] = Route(status=302, headers={"Location": other.url("/feed")})
    other.add("/feed", rss2([]), "application/rss+xml")
    with Fetcher(settings) as fetcher:
        fetcher.get(site.url("/feed").replace("http://", "http://reader:pa%40ss@"))
    [asked] = [h for h in site.hits if h.path == "/feed"]
    assert asked.headers.get("authorization") == "Basic " + b64encode(b"reader:pa@ss").decode()
    assert leaked(other) == []  # the hop the redirect led to carries no userinfo
