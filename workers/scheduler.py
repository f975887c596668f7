"""The scheduler process (`newswire beat`): claims due feeds and enqueues their polls."""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from celery import Celery
from kombu.exceptions import OperationalError
from newswire.services import keys
from newswire.services.backoff import Backoff
from newswire.services.broker import open_redis
from newswire.services.errors import BrokerError
from newswire.services.keys import ARTICLES_QUEUE, FEEDS_QUEUE
from newswire.services.outage import Outage
from newswire.services.polling.pending import PendingLedger
from newswire.services.polling.registry import Registry
from newswire.services.polling.schedule import DueQueue
from newswire.services.push.subscriptions import Subscriptions
from newswire.services.settings import Settings
from newswire.services.sources.feedlist import DEFAULT_SECRET_PREFIXES, parse_feed_list
from newswire.workers.celery_app import ENTRY_TASK, POLL_BATCH_TASK, SUBSCRIBE_TASK
from newswire.workers.reconcile import Reconciler
from newswire.workers.stack import restarts_so_far

log = logging.getLogger(__name__)

# A claimed feed is not due again for CLAIM_GRACE seconds, time enough to enqueue its poll;
# once the poll is enqueued the claim is extended to NEWSWIRE_POLL_CLAIM_SECONDS, unless the
# poll already rescheduled the feed (a finished poll always does). So a Redis outage between
# the claim and the enqueue delays a feed by CLAIM_GRACE, and a poll task lost outright by the
# longer claim; a poll still queued after it is enqueued twice, which dedup makes harmless.
CLAIM_GRACE = 30.0
# A subscription claimed for action is not claimed again for this long unless its task saves it.
SUBSCRIPTION_LEASE = 600.0
# Retries while Redis is away: half a second, up to two (a restarted Redis is used at once).
REDIS_BACKOFF = Backoff(first=0.5, cap=2.0)


def import_feeds_file(
    registry: Registry, path: str, allowed: tuple[str, ...] = DEFAULT_SECRET_PREFIXES
) -> int:
    specs = parse_feed_list(Path(path).read_bytes(), path, allowed)
    for spec in specs:
        registry.add(spec.url, spec.interval, reenable=False, options=spec.options)
    return len(specs)


def run_scheduler(settings: Settings, app: Celery, stop: threading.Event) -> None:
    """Tick until `stop`: lead if no one else does, claim due feeds, enqueue one poll each.

    A Redis outage costs one warning when it starts and one line when it ends; the loop goes
    on ticking and resumes by itself.
    """
    client = open_redis(settings, check=False)
    registry = Registry(client, settings.key_prefix, settings.poll_interval)
    outage = Outage(log)
    if settings.feeds_file:
        count = with_redis(
            lambda: import_feeds_file(
                registry, settings.feeds_file or "", settings.secret_prefixes
            ),
            stop,
            outage,
        )
        log.info("imported %d feeds from %s", count, settings.feeds_file)
    due = DueQueue(client, registry.due_key, keys.scheduler_leader(settings.key_prefix))
    pending = PendingLedger(client, settings.key_prefix, settings.entry_redeliver_seconds)
    subscriptions = Subscriptions(client, settings.key_prefix)
    reconciler = Reconciler(client, settings.key_prefix, pending, registry)
    instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    lease_ms = int(max(5.0, settings.scheduler_tick * 5) * 1000)
    leading = False
    log.info("scheduler %s started", instance)
    try:
        while not stop.is_set():
            try:
                is_leader = due.lead(instance, lease_ms)
                if is_leader != leading:
                    log.info("scheduler %s is %s", instance, "active" if is_leader else "standby")
                    leading = is_leader
                if is_leader:
                    tick(settings, app, due, time.time())
                    redeliver(settings, app, pending, time.time())
                    resubscribe(settings, app, subscriptions, time.time())
                    reconciler.tick(app, time.time())
                    client.hset(
                        keys.scheduler_heartbeat(settings.key_prefix),
                        mapping={
                            "instance": instance,
                            "last_tick": time.time(),
                            "restarts": restarts_so_far(),
                        },
                    )
                outage.ok()
            except (BrokerError, OperationalError) as exc:
                outage.failed(exc)
            except Exception:
                log.exception("scheduler tick failed; retrying")
            stop.wait(settings.scheduler_tick)
    finally:
        due.resign(instance)
        client.close()


def tick(settings: Settings, app: Celery, due: DueQueue, now: float) -> int:
    """Claim the due feeds and enqueue their polls, NEWSWIRE_POLL_BATCH feeds a task; how many
    feeds were enqueued."""
    grace_end = now + CLAIM_GRACE
    claimed = due.claim(now, settings.scheduler_batch, CLAIM_GRACE)
    if not claimed:
        return 0
    with app.producer_or_acquire() as producer:
        size = settings.poll_batch
        for start in range(0, len(claimed), size):
            batch = claimed[start : start + size]
            app.send_task(POLL_BATCH_TASK, args=[batch], queue=FEEDS_QUEUE, producer=producer)
    due.extend(claimed, grace_end, now + settings.poll_claim_seconds)
    return len(claimed)


def redeliver(settings: Settings, app: Celery, pending: PendingLedger, now: float) -> int:
    """Enqueue again the entries that stayed pending past their deadline; how many."""
    entries = pending.overdue(now, settings.scheduler_batch)
    if not entries:
        return 0
    with app.producer_or_acquire() as producer:
        for entry in entries:
            app.send_task(
                ENTRY_TASK, args=[entry.model_dump(mode="json"), 0], queue=ARTICLES_QUEUE,
                producer=producer,
            )  # fmt: skip
    log.warning("enqueued %d overdue entries again (lost by the broker or a worker)", len(entries))
    return len(entries)


def resubscribe(settings: Settings, app: Celery, subscriptions: Subscriptions, now: float) -> int:
    """Enqueue the WebSub subscriptions due for action (ask, renew, retry, end); how many. A
    claimed one whose task is lost comes back after SUBSCRIPTION_LEASE."""
    claimed = subscriptions.claim(now, settings.scheduler_batch, SUBSCRIPTION_LEASE)
    if claimed:
        with app.producer_or_acquire() as producer:
            for fid in claimed:
                app.send_task(SUBSCRIBE_TASK, args=[fid], queue=FEEDS_QUEUE, producer=producer)
    return len(claimed)


def with_redis(call: Callable[[], int], stop: threading.Event, outage: Outage) -> int:
    """`call`, retried while Redis is unreachable (or until `stop`)."""
    waits = REDIS_BACKOFF.waits()
    while True:
        try:
            result = call()
        except BrokerError as exc:
            outage.failed(exc)
            if stop.wait(next(waits)):
                return 0
        else:
            outage.ok()
            return result
