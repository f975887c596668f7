"""Proxies on loopback for the per-feed proxy tests: an HTTP forward proxy and a SOCKS5 one,
each recording the targets it was asked for."""

import select
import socket
import socketserver
import struct
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HttpProxy:
    """Forwards absolute-URI GETs (`GET http://host/path HTTP/1.1`), as a plain proxy does."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
                proxy.requests.append((self.path, headers))
                request = urllib.request.Request(self.path, headers=headers)
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                try:
                    with opener.open(request, timeout=10) as upstream:
                        body, status = upstream.read(), upstream.status
                        kept = [(k, v) for k, v in upstream.getheaders()
                                if k.lower() not in {"transfer-encoding", "connection"}]  # fmt: skip
                except urllib.error.HTTPError as exc:
                    body, status, kept = exc.read(), exc.code, list(exc.headers.items())
                self.send_response(status)
                for name, value in kept:
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Socks5Proxy:
    """A SOCKS5 proxy without authentication that supports CONNECT (IPv4 and domain names)."""

    def __init__(self) -> None:
        self.targets: list[tuple[str, int]] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                client: socket.socket = self.request
                _version, methods = client.recv(2)
                client.recv(methods)
                client.sendall(b"\x05\x00")  # no authentication
                _v, _cmd, _r, kind = client.recv(4)
                if kind == 1:
                    host = socket.inet_ntoa(client.recv(4))
                else:
                    host = client.recv(client.recv(1)[0]).decode()
                (port,) = struct.unpack("!H", client.recv(2))
                proxy.targets.append((host, port))
                upstream = socket.create_connection((host, port), timeout=10)
                client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + b"\x00\x00")
                pair = [client, upstream]
                while True:
                    ready, _w, _x = select.select(pair, [], [], 10)
                    if not ready:
                        break
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            upstream.close()
                            return
                        (upstream if sock is client else client).sendall(data)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"socks5://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
