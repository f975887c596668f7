"""The monitor answers only the names it is reached by (no DNS rebinding), and closes
connections that open and say nothing, or send their headers a byte at a time."""

import socket
import time
from collections.abc import Iterator

import pytest
from newswire.services.settings import Settings
from newswire.workers.monitor import HEADER_TIMEOUT, allowed_hosts, host_allowed

from tests.support.monitor import get, start_monitor
from tests.support.redis_server import RedisServer


@pytest.fixture
def monitor(redis_server: RedisServer) -> Iterator[str]:
    proc, base = start_monitor(redis_server.url, NEWSWIRE_MONITOR_ALLOWED_HOSTS="news.internal")
    yield base
    proc.terminate()
    proc.wait(10)


def test_only_allowed_host_headers_are_answered(monitor: str) -> None:
    port = monitor.rsplit(":", 1)[1]
    for host in ("evil.example", f"evil.example:{port}", "localhost.evil.example"):
        status, headers, body = get(monitor + "/api/status", {"Host": host})
        assert status == 400 and "NEWSWIRE_MONITOR_ALLOWED_HOSTS" in body, host
        status, headers, _ = get(monitor + "/api/status/", {"Host": host})
        assert status == 400 and "location" not in {k.lower() for k in headers}
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]", "10.0.0.7:8787",
                 "news.internal", "monitor:8787"):  # fmt: skip
        assert get(monitor + "/api/status", {"Host": host})[0] == 200, host
    assert get(monitor + "/livez", {"Host": "evil.example"})[0] == 200  # probes show nothing


def test_idle_and_dribbling_connections_are_closed(monitor: str) -> None:
    port = int(monitor.rsplit(":", 1)[1])
    idle = socket.create_connection(("127.0.0.1", port))
    dribble = socket.create_connection(("127.0.0.1", port))
    dribble.sendall(b"GET /api/status HTTP/1.1\r\nHost: localhost\r\n")
    started = time.monotonic()
    for sock in (idle, dribble):
        sock.settimeout(HEADER_TIMEOUT + 10)
        assert sock.recv(1024) == b""  # closed by the server, not by our timeout
        sock.close()
    assert time.monotonic() - started < HEADER_TIMEOUT + 5


def test_host_rules() -> None:
    allowed = allowed_hosts(Settings(monitor_allowed_hosts="status.example.org"))
    assert allowed is not None
    assert host_allowed("STATUS.example.org:443", allowed)
    assert host_allowed("[2001:db8::1]:8787", allowed) and host_allowed("192.0.2.1", allowed)
    assert not host_allowed("status.example.org.evil.example", allowed)
    assert not host_allowed("", allowed)
    assert host_allowed("anything", allowed_hosts(Settings(monitor_allowed_hosts="*")))
