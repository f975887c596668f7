"""Broker faults with real processes: Redis restarted again and again under load, a worker whose
consumer wedges or crashes while its process lives, and `newswire up` replacing it."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from newswire.workers.liveness import EXIT_STALLED

from tests.support.fleet import (
    add_fresh_feed,
    assert_exactly_once,
    news_network,
    on_stream,
    queues_empty,
    register,
    start_busy,
)
from tests.support.monitor import get, metric_samples, start_monitor
from tests.support.processes import Processes, stack_env, wait_for, worker_state
from tests.support.processes import fault_env as faults
from tests.support.redis_server import RedisServer
from tests.support.site import Site

RESTARTS = 10


def test_redis_restarted_ten_times_under_load_every_story_once(site: Site, tmp_path: Path) -> None:
    """SIGKILL Redis (append-only file, same port) ten times while two workers and the scheduler
    are busy: after each restart new work is consumed within 30 s, and in the end every story
    is on the stream exactly once."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = redis.Redis.from_url(server.url)
    procs = Processes(stack_env(server.url, site), tmp_path)
    try:
        distinct = start_busy(procs, client, site, stories=40, per_feed=10, workers=("w1", "w2"))

        for n in range(RESTARTS):
            server.kill()
            time.sleep(1.0)
            server.start()  # same port, same append-only file
            fresh = add_fresh_feed(site, client, f"r{n}", stories=6)
            distinct |= set(fresh)
            wait_for(
                lambda fresh=fresh: bool(on_stream(client) & set(fresh)),  # type: ignore[misc]
                30,
                f"a story added after restart {n + 1} on the stream",
            )

        wait_for(lambda: distinct <= on_stream(client), 120, "every story after the restarts")
        wait_for(lambda: queues_empty(client), 60, "queues to drain")
        assert_exactly_once(client, distinct)
        assert all(p.poll() is None for p in procs.procs), "a process died"
    except AssertionError:
        print(procs.logs())
        raise
    finally:
        procs.stop_all()
        client.close()
        server.stop()


# A wedged consumer with Redis answering: stalled after NEWSWIRE_WORKER_WEDGE_SECONDS (the
# stall limit, for a consumer that cannot reach Redis, is set far beyond the test's time).
STALL = 12.0  # above LOOP_STALE + a heartbeat, so `reconnecting` shows before `stalled`


@pytest.fixture
def fault_env(redis_server: RedisServer, site: Site) -> dict[str, str]:
    return stack_env(
        redis_server.url,
        site,
        NEWSWIRE_WORKER_WEDGE_SECONDS=str(STALL),
        NEWSWIRE_WORKER_STALL_SECONDS="600",
        **faults("wedge"),
    )


def test_wedged_consumer_shows_stalled_fails_readiness_and_exits(
    redis_client: redis.Redis, redis_server: RedisServer, site: Site, tmp_path: Path,
    fault_env: dict[str, str],
) -> None:  # fmt: skip
    procs = Processes(fault_env, tmp_path)
    monitor = None
    try:
        worker = procs.worker("victim")
        procs.scheduler()
        wait_for(lambda: worker_state(redis_client, worker.pid) == "online", 30, "online")
        monitor, base = start_monitor(redis_server.url)
        assert get(base + "/readyz")[0] == 200

        os.kill(worker.pid, signal.SIGUSR2)  # its consumer hangs; the process lives on
        wedged_at = time.monotonic()
        wait_for(lambda: worker_state(redis_client, worker.pid) == "reconnecting", 10, "noticed")
        wait_for(lambda: worker_state(redis_client, worker.pid) == "stalled", STALL + 10, "stall")
        assert time.monotonic() - wedged_at >= STALL - 1
        assert worker.poll() is None  # said for a moment before it exits
        code, _headers, body = get(base + "/readyz")
        reasons = json.loads(body)["reasons"]
        assert code == 503
        assert any("victim" in r and "stalled" in r for r in reasons), reasons
        status = json.loads(get(base + "/api/status")[2])
        [w] = [w for w in status["workers"] if w["pid"] == worker.pid]
        assert w["state"] == "stalled" and w["not_consuming_since"] is not None
        metrics = metric_samples(get(base + "/metrics")[2])
        assert metrics[("newswire_workers", (("state", "stalled"),))] == 1

        assert worker.wait(20) == EXIT_STALLED
        assert time.monotonic() - wedged_at < STALL + 15
    except AssertionError:
        print(procs.logs())
        raise
    finally:
        if monitor is not None:
            monitor.terminate()
            monitor.wait(10)
        procs.stop_all()


def test_crashed_consumer_exits_non_zero(
    redis_client: redis.Redis, redis_server: RedisServer, site: Site, tmp_path: Path
) -> None:
    """The upstream bug's own failure (an AttributeError out of the consumer loop): the worker
    must not idle on with a dead consumer, nor exit 0."""
    env = stack_env(redis_server.url, site, **faults("crash"))
    procs = Processes(env, tmp_path)
    try:
        worker = procs.worker("victim")
        wait_for(lambda: worker_state(redis_client, worker.pid) == "online", 30, "online")
        os.kill(worker.pid, signal.SIGUSR2)
        assert worker.wait(30) != 0
        assert "Unrecoverable error" in procs.logs()
    finally:
        procs.stop_all()


def test_up_replaces_a_stalled_worker_and_the_work_completes(
    redis_client: redis.Redis, redis_server: RedisServer, site: Site, tmp_path: Path,
    fault_env: dict[str, str],
) -> None:  # fmt: skip
    feeds, distinct = news_network(site, stories=12, feeds=2, per_feed=6, page_delay=0.2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env |= fault_env | {"NEWSWIRE_DATA_DIR": str(tmp_path / "data")}
    up = subprocess.Popen(
        [sys.executable, "-m", "newswire.workers.cli", "up", "--concurrency", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: len(redis_client.hgetall("newswire:workers")) == 1, 30, "a worker")
        [first] = [json.loads(v) for v in redis_client.hgetall("newswire:workers").values()]
        wait_for(lambda: worker_state(redis_client, first["pid"]) == "online", 30, "online")
        os.kill(first["pid"], signal.SIGUSR2)
        register(redis_client, feeds, interval=600)  # work for whoever consumes

        def replaced() -> bool:
            [info] = [json.loads(v) for v in redis_client.hgetall("newswire:workers").values()]
            return info["pid"] != first["pid"] and info["state"] == "online"

        wait_for(replaced, STALL + 40, "a fresh worker")
        wait_for(lambda: distinct <= on_stream(redis_client), 90, "every story")
        assert_exactly_once(redis_client, distinct)
        [info] = [json.loads(v) for v in redis_client.hgetall("newswire:workers").values()]
        assert info["restarts"] == 1
    finally:
        up.send_signal(signal.SIGTERM)  # what systemd or a container runtime sends
        try:
            output, _ = up.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)  # never leave a stack behind for later tests
            up.communicate(timeout=10)
            raise
    # Said once on the terminal, with the reason.
    assert len(re.findall(r"the worker exited \(stalled\); restarting it", output)) == 1, output
