"""Worker heartbeats in Redis: name, pool, active and processed tasks, every few seconds.

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

from services.settings import Settings
from services.status import workers_key

log = logging.getLogger(__name__)
INTERVAL = 2.0

_stop = threading.Event()
_info: dict[str, Any] = {}
_thread: list[threading.Thread] = []


def _beat(client: redis.Redis, key: str, status: str) -> None:
    _info.update(
        state=status,
        last_heartbeat=time.time(),
        active=len(state.active_requests),
        processed=sum(state.total_count.values()),
    )
    client.hset(key, _info["name"], json.dumps(_info))


def _loop(settings: Settings) -> None:
    client = redis.Redis.from_url(settings.redis_url)
    key = workers_key(settings.key_prefix)
    while not _stop.wait(INTERVAL):
        try:
            _beat(client, key, "online")
        except redis.RedisError as exc:
            log.warning("heartbeat failed: %s", exc)
    with contextlib.suppress(redis.RedisError):
        _beat(client, key, "stopped")
    client.close()


@worker_ready.connect
def _start(sender: Any, **_: Any) -> None:
    settings: Settings = sender.app.conf.newswire_settings
    _info.update(name=sender.hostname, pid=os.getpid(), pool=sender.controller.concurrency,
                 started_at=time.time())  # fmt: skip
    client = redis.Redis.from_url(settings.redis_url)
    _beat(client, workers_key(settings.key_prefix), "online")
    client.close()
    thread = threading.Thread(target=_loop, args=(settings,), daemon=True, name="heartbeat")
    thread.start()
    _thread.append(thread)


@worker_shutdown.connect
def _shutdown(**_: Any) -> None:
    _stop.set()
    for thread in _thread:
        thread.join(timeout=3)  # let it record "stopped"
