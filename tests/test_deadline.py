"""The fetch deadline holds by the clock: a server that drips a byte at a time (in its headers
or its body, for a page or a feed) never keeps a fetch, or `newswire ingest`, past it."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from newswire.services.errors import TransientFetch
from newswire.services.fetch.client import Fetcher
from newswire.services.settings import Settings

from tests.support.pages import item, rss2
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site

DEADLINE = 3.0
SLACK = 2.0  # the clock may overshoot by one scheduling tick, never by a read timeout


def drip(prefix: bytes, every: float = 0.5) -> Iterator[bytes]:
    yield prefix
    while True:
        time.sleep(every)
        yield b"x"


class HeaderDripServer:
    """Answers every request with a status line and then one header byte every half second."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self.stop.is_set():
                time.sleep(0.5)
                conn.sendall(b"a")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def settings_for(host_port: str, redis_url: str = "redis://127.0.0.1:1/0") -> Settings:
    # A read timeout far above the deadline: only the clock can end these fetches in time.
    return Settings(
        redis_url=redis_url,
        fetch_allow_hosts=host_port,
        fetch_deadline=DEADLINE,
        fetch_read_timeout=60,
    )


def timed_fetch(fetcher: Fetcher, url: str) -> tuple[float, TransientFetch]:
    started = time.monotonic()
    with pytest.raises(TransientFetch) as caught:
        fetcher.get(url)
    return time.monotonic() - started, caught.value


@pytest.mark.parametrize("path", ["/page.html", "/feed.xml"])
def test_body_drip_ends_at_the_deadline(site: Site, path: str) -> None:
    site.routes[path] = Route(
        body=lambda: drip(b"<html><body>"), headers={"Content-Type": "text/html"}
    )
    with Fetcher(settings_for(site.host_port)) as fetcher:
        took, error = timed_fetch(fetcher, site.url(path))
    assert DEADLINE - 0.1 <= took <= DEADLINE + SLACK
    assert error.reason == "deadline exceeded"


def test_header_drip_ends_at_the_deadline() -> None:
    server = HeaderDripServer()
    try:
        with Fetcher(settings_for(f"127.0.0.1:{server.port}")) as fetcher:
            took, error = timed_fetch(fetcher, f"http://127.0.0.1:{server.port}/")
    finally:
        server.close()
    assert DEADLINE - 0.1 <= took <= DEADLINE + SLACK
    assert error.reason == "deadline exceeded"


def test_one_shot_ingest_is_not_held_by_a_dripping_feed_or_page(
    site: Site, redis_server: RedisServer
) -> None:
    site.routes["/drip-page.html"] = Route(
        body=lambda: drip(b"<html>"), headers={"Content-Type": "text/html"}
    )
    site.routes["/drip-feed.xml"] = Route(
        body=lambda: drip(b"<?xml version='1.0'?><rss>"),
        headers={"Content-Type": "application/rss+xml"},
    )
    good = site.add(
        "/good.xml",
        rss2([item(site.url("/drip-page.html"), "Dripping page", "Feed text")]),
        "application/rss+xml",
    )
    env = {
        "NEWSWIRE_REDIS_URL": redis_server.url,
        "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port,
        "NEWSWIRE_FETCH_DEADLINE": str(DEADLINE),
        "NEWSWIRE_FETCH_READ_TIMEOUT": "60",
    }
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "newswire.workers.cli", "ingest", "--json", site.url("/drip-feed.xml"), good],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    took = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    # Two fetches of at most DEADLINE each (feed, page), and the process start.
    assert took < 2 * DEADLINE + 10
    reports = [json.loads(line) for line in run.stdout.splitlines()]
    assert reports[0]["error"] == "deadline exceeded"
    assert reports[1]["counts"]["fell_back"] == 1
    assert reports[1]["entries"][0]["reason"] == "page unavailable: deadline exceeded"
