"""A `newswire monitor` process for tests, and plain HTTP GETs against it."""

import contextlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import wait_for
from tests.support.redis_server import free_port


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def start_monitor(redis_url: str, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """The monitor on a free port; its base URL once /livez answers. Secrets reach it through
    its environment, never its command line."""
    port = free_port()
    env = {"NEWSWIRE_REDIS_URL": redis_url, "PATH": os.environ["PATH"], **extra}
    env["NEWSWIRE_DATA_DIR"] = os.environ.get("NEWSWIRE_DATA_DIR", "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswire.workers.cli", "monitor", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return get(base + "/livez")[0] == 200
        except OSError:
            return False

    try:
        wait_for(up, 20, "the monitor")
    except BaseException:
        proc.kill()
        raise
    return proc, base


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@contextlib.contextmanager
def running_monitor(redis_url: str, **extra: str) -> Iterator[str]:
    """A monitor for the duration of a `with` block; its base URL."""
    proc, base = start_monitor(redis_url, **extra)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
