"""The one-machine commands: `newswire up` (private Redis, worker, scheduler) and `newswire demo`."""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from newswire.services.polling.registry import Registry
from newswire.workers.site_server import SiteServer

from tests.support.processes import wait_for


def test_up_starts_private_redis_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env["NEWSWIRE_DATA_DIR"] = str(tmp_path / "data")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("- https://news.invalid/rss.xml\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswire.workers.cli", "up", "--feeds", str(feeds), "--concurrency", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"Redis at (redis://\S+)", first)
    assert match, first
    client = redis.Redis.from_url(match.group(1))
    try:
        # The scheduler's lease and the worker's heartbeat show both children are alive.
        wait_for(lambda: client.exists("newswire:scheduler:leader") == 1, 30, "the scheduler")
        wait_for(
            lambda: any(k.startswith(b"_kombu.binding.") for k in client.keys("_kombu*")),
            30,
            "the worker",
        )
        assert (tmp_path / "data" / "redis").is_dir()  # data under the data dir
        assert [f.url for f in Registry(client).all()] == ["https://news.invalid/rss.xml"]

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()
        client.close()
    assert proc.returncode == 0
    time.sleep(0.5)
    try:
        client.ping()
        raise AssertionError("the private Redis is still running")
    except redis.ConnectionError:
        pass
    # No newswire or redis child outlives `up`.
    leftover = subprocess.run(
        ["pgrep", "-g", str(proc.pid)], capture_output=True, text=True, check=False
    )
    assert leftover.stdout.strip() == ""


def test_demo_prints_articles_and_summary() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    result = subprocess.run(
        [sys.executable, "-m", "newswire.workers.cli", "demo", "--timeout", "150"],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    match = re.fullmatch(r"published (\d+) articles", lines[-1])
    assert match and int(match.group(1)) >= 10
    printed = [line for line in lines if line.startswith("  + ")]
    assert len(printed) == int(match.group(1))
    assert all("words, full)" in line for line in printed)


def test_demo_site_is_quiet_when_a_client_goes_away(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fetcher that drops its connection (a killed worker, a fetch deadline) is no error of
    the demo's site: no traceback on the terminal. A real error still prints."""
    (tmp_path / "a.html").write_text("<p>hello</p>")
    server = SiteServer(tmp_path)
    try:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port)) as conn:
                conn.sendall(b"GET /a.html HTTP/1.1\r\nHost: x\r\n")  # no blank line yet
                # Close with a reset (linger 0), as the kernel does for a killed process's socket.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with urllib.request.urlopen(server.url("/a.html"), timeout=10) as reply:
            assert reply.read() == b"<p>hello</p>"
        time.sleep(0.5)  # the reset connections' threads have long met the reset
        assert "Traceback" not in capsys.readouterr().err
        try:
            raise ValueError("a bug in a handler")
        except ValueError:
            server._server.handle_error(None, ("127.0.0.1", 1))  # type: ignore[arg-type]
        assert "a bug in a handler" in capsys.readouterr().err
    finally:
        server.close()
