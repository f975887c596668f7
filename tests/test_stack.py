"""The one-machine commands: `newswire up` (private Redis, worker, scheduler) and `newswire demo`."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
from newswire.services.polling.registry import Registry

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
