"""The monitor HTTP service (`newswire monitor`): health, readiness, metrics, status, a page."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import redis

from services.broker import open_redis
from services.errors import BrokerError
from services.exposition import render as render_metrics
from services.metrics import Metrics
from services.redact import redact_url
from services.registry import Registry
from services.settings import Settings
from services.status import StatusReader, feed_health
from workers.status_page import ago
from workers.status_page import render as render_page

log = logging.getLogger(__name__)
PAGE_FEEDS = 500  # the page lists at most this many feeds, worst first
IDLE_TIMEOUT = 30.0  # seconds a connection may stay silent


class Server(ThreadingHTTPServer):
    """A thread per connection, and a listen backlog for bursts of probes and scrapers (the
    standard library's 5 overflows at a few dozen concurrent clients)."""

    request_queue_size = 1024
    daemon_threads = True


class Monitor:
    """Answers the monitor's endpoints from Redis; one client shared by the request threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = open_redis(settings, check=False)
        self.reader = StatusReader(self.client, settings)

    def livez(self) -> tuple[int, str, bytes]:
        """The process answers: nothing else is asked, so it stays fast under any load."""
        return 200, "text/plain", b"ok\n"

    def readyz(self) -> tuple[int, str, bytes]:
        try:
            self.client.ping()
            reasons = self.reader.readiness()
        except (redis.RedisError, BrokerError) as exc:
            reasons = [f"Redis unreachable: {exc}"]
        body = json.dumps({"ready": not reasons, "reasons": reasons}).encode()
        return (503 if reasons else 200), "application/json", body

    def metrics(self) -> tuple[int, str, bytes]:
        status = self.reader.collect()
        counters = Metrics(self.client, self.settings.key_prefix).read()
        return (
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            render_metrics(counters, status).encode(),
        )

    def api_status(self) -> tuple[int, str, bytes]:
        return 200, "application/json", self.reader.collect().model_dump_json(indent=2).encode()

    def page(self) -> tuple[int, str, bytes]:
        status = self.reader.collect()
        feeds = Registry(self.client, self.settings.key_prefix).all()
        order = {"failing": 0, "backing_off": 1, "disabled": 2, "healthy": 3}
        feeds.sort(key=lambda f: (order[feed_health(f)], f.url))
        now = status.generated_at
        rows = [
            (redact_url(f.url), feed_health(f), f.error_count,
             f.last_error or f.last_status or "new", ago(f.last_polled, now),
             "disabled" if not f.enabled else ago(f.next_due, now))
            for f in feeds[:PAGE_FEEDS]
        ]  # fmt: skip
        return 200, "text/html; charset=utf-8", render_page(status, rows).encode()

    def route(self, path: str) -> tuple[int, str, bytes]:
        routes = {
            "/livez": self.livez,
            "/healthz": self.livez,  # the name compose files and older probes use
            "/readyz": self.readyz,
            "/metrics": self.metrics,
            "/api/status": self.api_status,
            "/": self.page,
        }
        handler = routes.get(urlsplit(path).path)
        if handler is None:
            return (
                404,
                "text/plain",
                b"not found: try /, /livez, /readyz, /metrics, /api/status\n",
            )
        try:
            return handler()
        except BrokerError as exc:
            return 503, "text/plain", f"Redis unavailable: {exc}\n".encode()


def serve(settings: Settings, host: str, port: int, stop: threading.Event | None = None) -> None:
    monitor = Monitor(settings)

    class Handler(BaseHTTPRequestHandler):
        timeout = IDLE_TIMEOUT  # a client that connects and says nothing is dropped

        def do_GET(self) -> None:
            status, content_type, body = monitor.route(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    server = Server((host, port), Handler)
    print(f"newswire monitor on http://{host}:{server.server_address[1]}/", flush=True)
    if stop is not None:

        def stop_when_asked() -> None:
            stop.wait()
            server.shutdown()

        threading.Thread(target=stop_when_asked, daemon=True).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
