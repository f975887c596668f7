"""What an unchanged poll costs: one 100-item feed polled again and again in this process
through the real poll path (fetch, identity lookup, registry save), as a 304, as an identical
200 without validators (the body digest spares the parse), and as a changed 200 parsed
every time, for comparison: `python -m bench.unchanged [--polls N]`. CPU of this process
only (the server runs in a thread of it, and is counted: an upper bound)."""

import argparse
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from newswire.services.fetch.politeness import HostLimiter
from newswire.services.polling.poller import poll_feed
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime
from newswire.workers.site_server import LoopbackServer
from newswire.workers.stack import RedisProcess

ITEMS = 100


def feed_body(version: int) -> bytes:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    items = "".join(
        f"<item><title>Story {k} v{version}</title><link>https://news.example/{k}</link>"
        f"<guid>https://news.example/{k}</guid><description>Text of story {k}, a few words "
        f"long as feeds' summaries are.</description>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=k), usegmt=True)}</pubDate></item>"
        for k in range(ITEMS)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
            "</channel></rss>").encode()  # fmt: skip


class Server:
    """/etag.xml answers 304 to its ETag; /same.xml sends the same body, no validators;
    /changed.xml a new version of the body each time."""

    def __init__(self) -> None:
        self.version = 0
        server = self
        same = feed_body(0)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                if self.path == "/etag.xml" and self.headers.get("If-None-Match") == '"v1"':
                    self._send(304, b"", {"ETag": '"v1"'})
                elif self.path == "/etag.xml":
                    self._send(200, same, {"ETag": '"v1"'})
                elif self.path == "/same.xml":
                    self._send(200, same, {})
                else:
                    server.version += 1
                    self._send(200, feed_body(server.version), {})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/rss+xml")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = LoopbackServer(Handler)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(redis_url: str, polls: int) -> dict[str, float]:
    """ms of CPU per poll for each kind of answer (etag: 304, same: identical 200, changed)."""
    server = Server()
    costs: dict[str, float] = {}
    try:
        settings = Settings(redis_url=redis_url, fetch_allow_hosts=server.httpd.host_port)
        rt = build_runtime(settings)
        registry = Registry(rt.redis)
        limiter = HostLimiter(rt.redis, 1e6, 1_000_000)

        def poll(url: str) -> None:
            state = registry.get(url)
            assert state is not None
            poll_feed(state, pipeline=rt.pipeline, registry=registry, limiter=limiter,
                      enqueue=lambda _entries: None, now=time.time())  # fmt: skip

        for path in ("etag", "same", "changed"):
            url = server.httpd.url(f"/{path}.xml")
            registry.add(url, 60)
            for _ in range(3):  # warm: the first poll hands its entries on
                poll(url)
            started = cpu()
            for _ in range(polls):
                poll(url)
            costs[path] = (cpu() - started) / polls * 1000
        rt.close()
    finally:
        server.httpd.close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NEWSWIRE_DATA_DIR"] = str(Path(tmp) / "data")
        redis_proc = RedisProcess(Path(tmp) / "redis")
        redis_proc.start()
        try:
            costs = measure(redis_proc.url, args.polls)
        finally:
            redis_proc.stop()
    for kind, label in (("etag", "304"), ("same", "identical 200, no validators"),
                        ("changed", "changed 200, parsed")):  # fmt: skip
        print(f"{label:32s} {costs[kind]:6.2f} ms CPU per poll ({ITEMS}-item feed)")


if __name__ == "__main__":
    main()
