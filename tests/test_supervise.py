"""`newswire up`'s supervisor: a child that exits is restarted with capped, doubling backoff,
said once per exit; one that stops sending heartbeats while Redis answers is killed first."""

import json
import subprocess
import time
from pathlib import Path

import pytest
import redis
from newswire.workers.stack import Child, Stack

from tests.support.redis_server import RedisServer

FAILING = ["ping", "--monitor", "http://127.0.0.1:9/healthz"]  # exits 1 at once


def supervised(redis_server: RedisServer, tmp_path: Path, said: list[str]) -> Stack:
    stack = Stack(tmp_path, redis_server.url, say=said.append, stall_seconds=5)
    stack.log = (tmp_path / "children.log").open("wb")
    return stack


def test_exited_child_restarts_with_doubling_capped_backoff(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    said: list[str] = []
    stack = supervised(redis_server, tmp_path, said)
    child = Child("worker", FAILING)
    stack.children = [child]
    stack._spawn(child)
    waits = []
    clock = time.monotonic()
    for _ in range(7):
        assert child.proc is not None
        child.proc.wait(30)
        stack.supervise(now=clock)  # noticed: restart scheduled
        assert child.restart_at is not None
        waits.append(child.restart_at - clock)
        stack.supervise(now=clock + waits[-1] / 2)  # not yet
        assert child.proc.poll() is not None and child.restarts == len(waits) - 1
        clock += waits[-1]
        stack.supervise(now=clock)  # restarted
        child.started = clock  # as if it had started at the supervisor's clock
    assert [round(w, 6) for w in waits] == [1, 2, 4, 8, 16, 30, 30]
    assert child.restarts == 7
    assert len(said) == 7 and all("the worker exited (exit code 1)" in m for m in said)
    assert "restart 7" in said[-1]
    # After a good long run the next failure starts from the first wait again.
    child.proc.wait(30)
    stack.supervise(now=clock + 120)
    assert child.restart_at == pytest.approx(clock + 120 + 1)
    stack.stop()
    stack.log.close()


def test_child_without_heartbeats_is_killed_and_replaced(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    said: list[str] = []
    stack = supervised(redis_server, tmp_path, said)
    sleeper = Child("worker", ["worker"])
    stack.children = [sleeper]
    # A stand-in for a worker whose every thread is stuck: alive, silent.
    sleeper.proc = subprocess.Popen(["sleep", "600"])
    sleeper.started = time.monotonic()
    stale = {"name": "w@h", "pid": sleeper.proc.pid, "state": "online",
             "last_heartbeat": time.time() - 60}  # fmt: skip
    redis_client.hset("newswire:workers", "w@h", json.dumps(stale))
    stack.supervise()  # Redis just seen: children get a grace period first
    assert sleeper.proc.poll() is None
    stack._redis_up_since = time.monotonic() - 60
    old = sleeper.proc
    stack.supervise()
    assert old.poll() is not None, "a silent child is killed"
    assert said[0] == "newswire: the worker stopped sending heartbeats; restarting it"
    assert sleeper.restart_at is not None
    stack.stop()
    assert stack.log is not None
    stack.log.close()
