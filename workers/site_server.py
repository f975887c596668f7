"""A static web site on loopback: serves a directory for the demo and the benchmarks."""

import sys
import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler


class _QuietHandler(SimpleHTTPRequestHandler):
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK (40 ms on Linux) and every fetch looks slow.
    disable_nagle_algorithm = True
    extensions_map = {  # noqa: RUF012 -- class attribute by http.server's design
        **SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/xml",
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".html": "text/html",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a worker's batch opens more connections at
    # once than that, the kernel drops the rest of the SYNs, and each of those fetches waits
    # out the 1 s SYN retransmit, as no real web server would make it.
    request_queue_size = 1024

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that went away mid-request (a worker killed, a fetch deadline passed, a
        # pooled connection reset) is the client's business: socketserver would print a
        # traceback on the demo's terminal for each.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (a free port by default), in a daemon thread."""

    def __init__(self, handler: Callable[..., BaseRequestHandler], port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SiteServer(LoopbackServer):
    """Serves the files under `root`."""

    def __init__(self, root: Path, port: int = 0) -> None:
        super().__init__(partial(_QuietHandler, directory=str(root)), port)
