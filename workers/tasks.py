"""Thin Celery tasks: decode arguments, call the services, state the retry policy."""

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery import Task, shared_task

from schemas.feed import FeedEntry
from services.errors import BrokerError, TransientFetch
from services.poller import PollReport
from services.poller import poll_feed as poll_service
from services.schedule import backoff_seconds
from services.settings import Settings
from workers.celery_app import ENTRY_TASK, POLL_TASK
from workers.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

# A countdown must stay below the broker's visibility timeout, or the delayed task is handed
# to a second worker while the first still holds it.
MAX_COUNTDOWN_SHARE = 0.75
BROKER_PATIENCE = 60.0  # seconds a task waits for Redis to come back before giving up

_runtime: Runtime | None = None


def runtime(task: Task) -> Runtime:
    """This worker process's services, built on first use (after the prefork fork)."""
    global _runtime  # noqa: PLW0603 -- one set of connections per process, by design
    if _runtime is None:
        settings: Settings = task.app.conf.newswire_settings
        _runtime = build_runtime(settings)
    return _runtime


def with_broker(call: Callable[[], T]) -> T:
    """Run `call`, waiting out a Redis outage: every call here is idempotent."""
    deadline = time.monotonic() + BROKER_PATIENCE
    delay = 0.5
    while True:
        try:
            return call()
        except BrokerError:
            if time.monotonic() > deadline:
                raise
            log.warning("Redis unavailable, retrying in %.1fs", delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def countdown(settings: Settings, seconds: float) -> float:
    return max(0.5, min(seconds, settings.visibility_timeout * MAX_COUNTDOWN_SHARE))


@shared_task(name=POLL_TASK, bind=True)
def poll_feed(self: Task, feed_id: str) -> dict[str, Any]:
    """Poll one registered feed; each new entry becomes a process_entry task."""
    rt = runtime(self)
    state = with_broker(lambda: rt.registry.get(feed_id))
    if state is None or not state.enabled:
        return {"feed": feed_id, "skipped": "not registered or disabled"}

    def poll() -> PollReport:
        # One producer for the whole batch; no per-message retry wrapper (a failed publish
        # fails the poll, which is retried whole: entries are deduplicated, validators not yet
        # saved) and no repr of every entry for the logs: enqueueing is the poll's main cost.
        with self.app.producer_or_acquire() as producer:

            def enqueue(entry: FeedEntry) -> None:
                process_entry.apply_async(
                    args=(entry.model_dump(mode="json"), 0),
                    producer=producer,
                    retry=False,
                    argsrepr=repr(entry.link),
                    kwargsrepr="{}",
                )

            return poll_service(
                state,
                pipeline=rt.pipeline,
                registry=rt.registry,
                limiter=rt.limiter,
                enqueue=enqueue,
                now=time.time(),
            )

    report = with_broker(poll)
    return {"feed": report.url, "status": report.status, "new": report.enqueued}


@shared_task(name=ENTRY_TASK, bind=True, max_retries=None)
def process_entry(self: Task, entry: dict[str, Any], attempt: int = 0) -> str:
    """Fetch, extract and publish one entry. Waits for the host's rate limit; retries
    transient fetch failures `entry_retries` times, then falls back to the feed's text."""
    rt = runtime(self)
    settings = rt.settings
    item = FeedEntry.model_validate(entry)
    limiter = rt.limiter
    # The poll already dropped known links, so no second seen-check here: the pipeline's own
    # (before it fetches) is the one that counts.
    if item.link:
        wait = with_broker(lambda: limiter.wait_seconds(item.link or ""))
        if wait > 0:
            # Politeness is not a failure: this does not count as an attempt.
            raise self.retry(countdown=countdown(settings, wait + random.random()))
    final = attempt >= settings.entry_retries
    try:
        result = with_broker(lambda: rt.pipeline.process_entry(item, final_attempt=final))
    except TransientFetch as exc:
        if exc.retry_after and item.link:
            limiter.back_off(item.link, exc.retry_after)
        wait = exc.retry_after or backoff_seconds(attempt + 1) / 4
        raise self.retry(args=(entry, attempt + 1), countdown=countdown(settings, wait)) from None
    return result.outcome.value
