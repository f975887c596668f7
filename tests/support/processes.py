"""Real newswire worker and scheduler processes for the integration tests."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tests.support.site import Site

FAULTS = Path(__file__).parent / "faults"


def fault_env(kind: str) -> dict[str, str]:
    """What makes a worker's consumer crash or wedge on SIGUSR2 (tests/support/faults)."""
    return {"NEWSWIRE_TEST_FAULT": kind, "PYTHONPATH": str(FAULTS)}


# The timing settings stack_env shortens, back at their defaults: for the lateness tests, which
# must hold on what a user's deployment runs.
DEFAULT_TIMING = {
    "NEWSWIRE_ENTRY_REDELIVER_SECONDS": "600", "NEWSWIRE_VISIBILITY_TIMEOUT": "50",
    "NEWSWIRE_FETCH_DEADLINE": "20", "NEWSWIRE_POLL_CLAIM_SECONDS": "120",
    "NEWSWIRE_SCHEDULER_TICK": "1",
}  # fmt: skip


def stack_env(redis_url: str, site: Site, **extra: str) -> dict[str, str]:
    return {
        "NEWSWIRE_REDIS_URL": redis_url,
        "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port,
        "NEWSWIRE_FETCH_DEADLINE": "3",
        "NEWSWIRE_VISIBILITY_TIMEOUT": "25",
        "NEWSWIRE_SCHEDULER_TICK": "0.2",
        "NEWSWIRE_HOST_RATE": "100",
        "NEWSWIRE_HOST_BURST": "50",
        "NEWSWIRE_ENTRY_REDELIVER_SECONDS": "30",
        "NEWSWIRE_POLL_CLAIM_SECONDS": "30",
        **extra,
    }


def newswire(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`newswire ARGS` in a child process with `env` added to this one's; never raises on
    a non-zero exit (the tests assert the code)."""
    return subprocess.run(
        [sys.executable, "-m", "newswire.workers.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def fresh_python(script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`script` run by a new interpreter: for what must not stay in the test process (a frozen
    garbage collector, a signal handler, a 75 MiB model)."""
    return subprocess.run(
        [sys.executable, "-c", script],
        check=False, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def pool_children(pid: int) -> list[int]:
    """The pool processes of the worker whose main process is `pid`: its children that run its
    own program. While it starts, a worker also runs helper programs for a moment (Celery's
    banner runs `uname -p`), and those are its children too."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    own = _program(pid)
    if own is None or not path.exists():
        return []
    return sorted(c for c in map(int, path.read_text().split()) if _program(c) == own)


def _program(pid: int) -> str | None:
    """The executable process `pid` runs, or None once it has gone."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def worker_info(client: redis.Redis, pid: int) -> dict[str, object] | None:
    """The heartbeat of the worker whose main process is `pid`, if it has sent one."""
    for raw in client.hgetall("newswire:workers").values():
        info = json.loads(raw)
        if info.get("pid") == pid:
            return info  # type: ignore[no-any-return]
    return None


def worker_state(client: redis.Redis, pid: int) -> object:
    """What the heartbeat of the worker whose main process is `pid` says it is doing (online,
    reconnecting, stalled...), or None before its first."""
    info = worker_info(client, pid)
    return info and info["state"]


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Processes:
    """Starts `newswire worker` / `newswire beat` in their own sessions; logs go to `log_dir`."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def _start(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            proc = subprocess.Popen(
                [sys.executable, "-m", "newswire.workers.cli", *args],
                env={**self.env, **(env or {})}, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def worker(self, name: str, concurrency: int = 2) -> subprocess.Popen[bytes]:
        return self._start(name, "worker", "-n", f"{name}@%h", "--concurrency", str(concurrency))

    def scheduler(self, name: str = "beat", **env: str) -> subprocess.Popen[bytes]:
        return self._start(name, "beat", env=env)

    def websub(self, port: int, name: str = "websub") -> subprocess.Popen[bytes]:
        return self._start(name, "websub", "--port", str(port))

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole process group: the worker and its pool children die at once."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.procs.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in self.log_dir.glob("*.log")
        )
