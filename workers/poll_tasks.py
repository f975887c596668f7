"""Thin Celery tasks for polling: a batch of due feeds fetched concurrently, or one feed."""

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from newswire.schemas.feed import FeedState
from newswire.services.polling.adaptive import Learning
from newswire.services.polling.poller import TIME_LIMIT, PollReport, record_failure
from newswire.services.polling.poller import poll_feed as poll_service
from newswire.services.polling.schedule import Pushed
from newswire.services.redact import redact_url
from newswire.workers.celery_app import POLL_BATCH_TASK, POLL_TASK
from newswire.workers.runtime import Runtime
from newswire.workers.tasks import entry_sender, runtime, with_broker

# Polls of one batch in flight at once: waiting on servers overlaps, parsing takes turns (it
# holds the GIL). Below kombu's producer pool (10), as each poll holds a producer.
POLL_THREADS = 8

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def poll_pool() -> ThreadPoolExecutor:
    """This worker process's poll threads, made on first use (after the prefork fork)."""
    global _pool  # noqa: PLW0603 -- one pool per process, by design
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(POLL_THREADS, thread_name_prefix="poll")
        return _pool


def poll_one(task: Task, rt: Runtime, state: FeedState) -> dict[str, Any]:
    """Poll one feed whose state was just read; each new entry becomes a process_entry task."""
    seen_at = time.time()  # the end-to-end latency of the entries this poll finds starts here
    # A feed that names a hub may be pushed to us: then it is polled only as a safety net.
    sub = with_broker(lambda: rt.subscriptions.get(state.id), rt.settings) if state.hub else None
    until = sub.pushed_until(seen_at) if sub else None
    pushed = Pushed(until, rt.settings.websub_poll_interval) if until else None

    def poll() -> PollReport:
        # One producer for the whole feed (see entry_sender).
        with task.app.producer_or_acquire() as producer:
            enqueue = entry_sender(producer, seen_at, rt.settings.entry_batch)
            return poll_service(
                state, pipeline=rt.pipeline, registry=rt.registry, limiter=rt.limiter,
                enqueue=enqueue, now=time.time(), pending=rt.pending,
                max_wait=rt.settings.feed_max_wait_seconds,
                learning=Learning.from_settings(rt.settings), pushed=pushed,
            )  # fmt: skip

    report = with_broker(poll, rt.settings)
    if rt.settings.websub_public_url and (report.hub, report.topic) != (
        sub and sub.hub,
        sub and sub.topic,
    ):
        # A hub found, changed or gone: the subscription is seen to by the next sweep.
        with_broker(lambda: rt.subscriptions.act_soon(state.id, time.time()), rt.settings)
    return {"feed": redact_url(report.url), "status": report.status, "new": report.enqueued}


def timed_out(rt: Runtime, state: FeedState) -> dict[str, Any]:
    """A poll the task's time ran out on: recorded as a failed poll, so it backs off (its
    validators are not saved, so the next poll fetches in full)."""
    report = with_broker(
        lambda: record_failure(
            state, registry=rt.registry, reason="poll time limit exceeded", kind=TIME_LIMIT,
            now=time.time(), max_wait=rt.settings.feed_max_wait_seconds,
        ),
        rt.settings,
    )  # fmt: skip
    return {"feed": redact_url(report.url), "status": report.status, "new": 0}


@shared_task(name=POLL_BATCH_TASK, bind=True)
def poll_feeds(self: Task, feed_ids: list[str]) -> list[dict[str, Any]]:
    """Poll a batch of due feeds, their fetches concurrent; each feed's outcome is its own
    (a failure is recorded on that feed, a slow server holds only its own poll). Only a Redis
    outage longer than the task's patience gives the whole batch back."""
    rt = runtime(self)
    states = with_broker(lambda: rt.registry.get_many(feed_ids), rt.settings)
    due = [s for s in states if s is not None and s.enabled]
    if len(due) <= 1:
        return [poll_feed_state(self, rt, s) for s in due]
    futures: list[Future[dict[str, Any]]] = [poll_pool().submit(poll_one, self, rt, s) for s in due]
    try:
        return [f.result() for f in futures]
    except SoftTimeLimitExceeded:
        # The threads' fetches end at their own deadlines; the polls not done by now are
        # recorded as timed out (one that finishes later saves its real outcome over it).
        return [
            f.result() if f.done() else timed_out(rt, s) for f, s in zip(futures, due, strict=True)
        ]


def poll_feed_state(task: Task, rt: Runtime, state: FeedState) -> dict[str, Any]:
    try:
        return poll_one(task, rt, state)
    except SoftTimeLimitExceeded:
        return timed_out(rt, state)


@shared_task(name=POLL_TASK, bind=True)
def poll_feed(self: Task, feed_id: str) -> dict[str, Any]:
    """Poll one registered feed (the batch task's single form; kept for queued messages)."""
    rt = runtime(self)
    state = with_broker(lambda: rt.registry.get(feed_id), rt.settings)
    if state is None or not state.enabled:
        return {"feed": feed_id, "skipped": "not registered or disabled"}
    return poll_feed_state(self, rt, state)
