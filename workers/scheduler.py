"""The scheduler process (`newswire beat`): claims due feeds and enqueues their polls."""

import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from celery import Celery

from services.broker import open_redis
from services.feedlist import parse_feed_list
from services.registry import Registry
from services.schedule import DueQueue
from services.settings import Settings
from services.status import leader_key, scheduler_heartbeat_key
from workers.celery_app import FEEDS_QUEUE, POLL_TASK

log = logging.getLogger(__name__)

# A claimed feed is not due again for this long unless its poll reschedules it first, which
# a finished poll always does: this only matters when a poll task is lost outright.
CLAIM_LEASE = 300.0


def import_feeds_file(registry: Registry, path: str) -> int:
    specs = parse_feed_list(Path(path).read_bytes(), path)
    for spec in specs:
        registry.add(spec.url, spec.interval, reenable=False)
    return len(specs)


def run_scheduler(settings: Settings, app: Celery, stop: threading.Event) -> None:
    """Tick until `stop`: lead if no one else does, claim due feeds, enqueue one poll each."""
    client = open_redis(settings)
    registry = Registry(client, settings.key_prefix, settings.poll_interval)
    if settings.feeds_file:
        count = import_feeds_file(registry, settings.feeds_file)
        log.info("imported %d feeds from %s", count, settings.feeds_file)
    due = DueQueue(client, registry.due_key, leader_key(settings.key_prefix))
    instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    lease_ms = int(max(5.0, settings.scheduler_tick * 5) * 1000)
    leading = False
    log.info("scheduler %s started", instance)
    try:
        while not stop.is_set():
            now = time.time()
            try:
                is_leader = due.lead(instance, lease_ms)
                if is_leader != leading:
                    log.info("scheduler %s is %s", instance, "active" if is_leader else "standby")
                    leading = is_leader
                if is_leader:
                    claimed = due.claim(now, settings.scheduler_batch, CLAIM_LEASE)
                    if claimed:
                        with app.producer_or_acquire() as producer:
                            for fid in claimed:
                                app.send_task(
                                    POLL_TASK, args=[fid], queue=FEEDS_QUEUE, producer=producer
                                )
                    client.hset(
                        scheduler_heartbeat_key(settings.key_prefix),
                        mapping={"instance": instance, "last_tick": now},
                    )
            except Exception:
                log.exception("scheduler tick failed; retrying")
            stop.wait(settings.scheduler_tick)
    finally:
        due.resign(instance)
        client.close()
