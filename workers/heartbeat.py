"""Worker heartbeats in Redis: name, consumer state, pool, active and processed tasks, every
few seconds; and the watchdog that ends a worker whose consumer is stalled.

`newswire status` reads them without a broadcast, and remembers workers that went away, so
a dead worker shows up as offline instead of vanishing.
"""

import contextlib
import json
import logging
import os
import threading
import time
from typing import Any

import redis
from celery.signals import worker_ready, worker_shutdown
from celery.worker import state
from newswire.services import keys
from newswire.services.broker import open_redis
from newswire.services.outage import Outage
from newswire.services.settings import Settings
from newswire.workers import allocator
from newswire.workers.liveness import (
    EXIT,
    LIVENESS,
    end_stalled_worker,
    pool_pids,
)
from newswire.workers.stack import restarts_so_far

log = logging.getLogger(__name__)
INTERVAL = 2.0
# A stalled worker says so for this long (probes and `newswire status` see it) before exiting.
STALLED_GRACE = 5.0
STATE_NAMES = {"consuming": "online", "reconnecting": "reconnecting", "stalled": "stalled"}

_stop = threading.Event()
_info: dict[str, Any] = {}
_thread: list[threading.Thread] = []


def _beat(client: redis.Redis, key: str, status: str) -> None:
    _info.update(
        state=status,
        last_heartbeat=time.time(),
        not_consuming_since=LIVENESS.not_consuming_since,
        active=len(state.active_requests),
        processed=sum(state.total_count.values()),
    )
    client.hset(key, _info["name"], json.dumps(_info))


def _loop(settings: Settings, controller: Any) -> None:
    client = open_redis(settings, check=False)
    key = keys.workers(settings.key_prefix)
    outage = Outage(log)
    stalled_at: float | None = None
    reachable_since: float | None = None  # Redis has answered every beat since then
    while not _stop.wait(INTERVAL):
        consumer = LIVENESS.state(
            settings.worker_stall_seconds,
            reachable_since=reachable_since,
            wedge_seconds=settings.worker_wedge_seconds,
        )
        try:
            _beat(client, key, STATE_NAMES[consumer])
            outage.ok()
            reachable_since = reachable_since or time.time()
        except redis.RedisError as exc:
            outage.failed(exc)
            reachable_since = None
        if consumer != "stalled":
            stalled_at = None
        elif stalled_at is None:
            stalled_at = time.monotonic()
            silent = time.time() - (LIVENESS.not_consuming_since or time.time())
            why = (
                f"NEWSWIRE_WORKER_STALL_SECONDS={settings.worker_stall_seconds:g}"
                if silent > settings.worker_stall_seconds
                else f"while Redis answers; NEWSWIRE_WORKER_WEDGE_SECONDS="
                f"{settings.worker_wedge_seconds:g}"
            )
            log.critical(
                "the task consumer has not consumed for %.0fs (%s): exiting in %.0fs so that "
                "the supervisor starts a fresh worker",
                silent,
                why,
                STALLED_GRACE,
            )
        elif time.monotonic() - stalled_at >= STALLED_GRACE:
            end_stalled_worker(pool_pids(controller))
    with contextlib.suppress(redis.RedisError):
        _beat(client, key, "stopped")
    client.close()


@worker_ready.connect
def _start(sender: Any, **_: Any) -> None:
    settings: Settings = sender.app.conf.newswire_settings
    _info.update(name=sender.hostname, pid=os.getpid(), pool=sender.controller.concurrency,
                 started_at=time.time(), restarts=restarts_so_far(),
                 allocator=allocator.active())  # fmt: skip
    log.info("memory allocator: %s", _info["allocator"])
    thread = threading.Thread(
        target=_loop, args=(settings, sender.controller), daemon=True, name="heartbeat"
    )
    thread.start()
    _thread.append(thread)


@worker_shutdown.connect
def _shutdown(sender: Any = None, **_: Any) -> None:
    # Celery's `worker_main` drops the worker's exit code; `newswire worker` returns it.
    EXIT.code = getattr(sender, "exitcode", None) or 0
    _stop.set()
    for thread in _thread:
        thread.join(timeout=3)  # let it record "stopped"
