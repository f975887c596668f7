"""The monitor under load: `/livez` latency with 200 concurrent clients while 100 more hold
idle connections open."""

import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from newswire.workers.stack import free_port


@dataclass(frozen=True)
class Latency:
    clients: int
    median_ms: float
    p99_ms: float
    max_ms: float


def _get(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return time.perf_counter() - started


def run(redis_url: str, clients: int = 200, idle: int = 100) -> Latency:
    port = free_port()
    monitor = subprocess.Popen(
        [sys.executable, "-m", "newswire.workers.cli", "monitor", "--port", str(port)],
        env={"NEWSWIRE_REDIS_URL": redis_url, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/livez"
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _get(base)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle)]
        with ThreadPoolExecutor(clients) as pool:
            times = sorted(pool.map(lambda _: _get(base), range(clients)))
    finally:
        for sock in held:
            sock.close()
        monitor.terminate()
        monitor.wait(10)
    return Latency(
        clients,
        statistics.median(times) * 1000,
        times[max(0, int(len(times) * 0.99) - 1)] * 1000,
        times[-1] * 1000,
    )
