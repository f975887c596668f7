"""Fixture web sites: a threaded HTTP server on loopback serving routes the tests write."""

import gzip
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from newswire.workers.site_server import LoopbackServer


@dataclass
class Route:
    """What one path answers. `body` may be a generator for endless or slow bodies."""

    body: bytes | Callable[[], Iterator[bytes]] = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    gzip: bool = False
    # Full control: called with the request headers, returns (status, headers, body).
    dynamic: Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]] | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class Site(LoopbackServer):
    """A web site on 127.0.0.1:<free port>; `hits` records every request it saw."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.bytes_sent: dict[str, int] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else every response waits on a delayed ACK

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = site.routes.get(self.path) or site.routes.get(self.path.split("?")[0])
                if route is None:
                    self._send(404, {"Content-Type": "text/html"}, b"<h1>not found</h1>")
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.dynamic:
                    status, headers, body = route.dynamic(dict(site.hits[-1].headers))
                    self._send(status, headers, body)
                    return
                if callable(route.body):
                    self._stream(route)
                    return
                body = route.body
                headers = dict(route.headers)
                if route.gzip:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self._send(route.status, headers, body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, route: Route) -> None:
                assert callable(route.body)
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                sent = 0
                try:
                    for chunk in route.body():
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        site.bytes_sent[self.path] = sent
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        super().__init__(Handler)

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        content_type: str = "text/html; charset=utf-8",
        **kw: object,
    ) -> str:
        """Serve `body` at `path`; returns the absolute URL."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(kw.pop("headers", {}) or {})  # type: ignore[call-overload]
        if content_type:
            headers.setdefault("Content-Type", content_type)
        self.routes[path] = Route(body=body, headers=headers, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def paths_hit(self) -> list[str]:
        return [h.path for h in self.hits]
