"""The SSRF guard sits in the connection path itself: every TCP connection the fetcher opens,
direct, after a redirect or to a proxy, is opened by the guarded network backend."""

from collections.abc import Iterator

import pytest
from newswire.services.errors import FetchKind, RefusedURL, TransientFetch
from newswire.services.fetch.client import Fetcher, RequestOptions
from newswire.services.fetch.guard import GuardedBackend
from newswire.services.settings import Settings

from tests.support.proxy import HttpProxy
from tests.support.site import Route, Site


@pytest.fixture
def other() -> Iterator[Site]:
    s = Site()
    yield s
    s.close()


def test_a_private_address_is_refused_before_any_byte_is_sent(site: Site) -> None:
    site.routes["/a"] = Route(b"<p>secret</p>", headers={"Content-Type": "text/html"})
    with Fetcher(Settings()) as fetcher, pytest.raises(RefusedURL):
        fetcher.get(site.url("/a"))
    assert site.hits == []


def test_a_name_that_resolves_to_loopback_is_refused(site: Site) -> None:
    """No address in the URL to check: only the backend, which resolves, can refuse it."""
    site.routes["/a"] = Route(b"<p>secret</p>", headers={"Content-Type": "text/html"})
    with Fetcher(Settings()) as fetcher, pytest.raises(RefusedURL) as refused:
        fetcher.get(f"http://localhost:{site.port}/a")
    assert "127.0.0.1" in refused.value.reason or "private" in refused.value.reason.lower()
    assert site.hits == []


def test_a_redirect_to_an_unlisted_server_is_refused_at_its_hop(site: Site, other: Site) -> None:
    other.routes["/inner"] = Route(b"<p>inner</p>", headers={"Content-Type": "text/html"})
    site.routes["/out"] = Route(status=302, headers={"Location": other.url("/inner")})
    settings = Settings(fetch_allow_hosts=site.host_port)
    with Fetcher(settings) as fetcher, pytest.raises(RefusedURL):
        fetcher.get(site.url("/out"))
    assert [h.path for h in site.hits] == ["/out"]
    assert other.hits == []


def test_every_connection_is_opened_by_the_guarded_backend(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails if an httpx or httpcore upgrade stopped using the backend it was given: the
    fetch would then succeed without the guard ever being asked."""
    asked: list[tuple[str, int]] = []
    connect = GuardedBackend.connect_tcp

    def recording(
        self: GuardedBackend, host: str, port: int, *args: object, **kw: object
    ) -> object:
        asked.append((host, port))
        return connect(self, host, port, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(GuardedBackend, "connect_tcp", recording)
    site.routes["/a"] = Route(b"<p>ok</p>", headers={"Content-Type": "text/html"})
    proxy = HttpProxy()
    try:
        settings = Settings(fetch_allow_hosts=site.host_port)
        with Fetcher(settings) as fetcher:
            assert fetcher.get(site.url("/a")).status == 200
            assert asked == [("127.0.0.1", site.port)]
            via = RequestOptions(site.url("/feed"), proxy=proxy.url)
            assert fetcher.get(site.url("/a"), options=via).status == 200
        proxy_port = int(proxy.url.rsplit(":", 1)[1])
        assert asked[1:] == [("127.0.0.1", proxy_port)]  # the proxy connection, guarded too
        assert [path for path, _ in proxy.requests] == [site.url("/a")]
    finally:
        proxy.close()


def test_a_proxy_that_refuses_is_a_recorded_proxy_error(site: Site) -> None:
    """httpcore's ProxyError has no common base with its other errors: the transport maps it
    too, so a proxy that refuses a CONNECT is a transient proxy error, never a crash."""
    proxy = HttpProxy()  # answers CONNECT with 501: it forwards plain GETs only
    try:
        settings = Settings(fetch_allow_hosts=site.host_port)
        with Fetcher(settings) as fetcher, pytest.raises(TransientFetch) as failed:
            via = RequestOptions(site.url("/feed"), proxy=proxy.url)
            fetcher.get(f"https://{site.host_port}/a", options=via)
        assert failed.value.kind is FetchKind.PROXY, failed.value
        assert failed.value.reason.startswith("proxy refused"), failed.value.reason
    finally:
        proxy.close()
