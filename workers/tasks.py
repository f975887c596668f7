"""Thin Celery tasks: decode arguments, call the services, state the retry policy."""

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery import Task, shared_task
from celery.exceptions import Reject, SoftTimeLimitExceeded
from kombu.exceptions import OperationalError
from newswire.schemas.feed import FeedEntry
from newswire.services.backoff import Backoff
from newswire.services.errors import BrokerError, TransientFetch
from newswire.services.fetch.politeness import reserve_for
from newswire.services.outage import Outage
from newswire.services.settings import Settings
from newswire.workers.celery_app import ENTRY_TASK
from newswire.workers.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

# A countdown must stay below the broker's visibility timeout, or the delayed task is handed
# to a second worker while the first still holds it.
MAX_COUNTDOWN_SHARE = 0.75
# A task waiting out a Redis outage (bounded by broker_patience): quick, short retries.
BROKER_BACKOFF = Backoff(first=0.25, cap=2.0)
# A page that failed transiently: 15 s, doubling, six hours at most.
PAGE_BACKOFF = Backoff(first=15.0, cap=21600.0)

_runtime: Runtime | None = None
_outage = Outage(log)


def runtime(task: Task) -> Runtime:
    """This worker process's services, built on first use (after the prefork fork)."""
    global _runtime  # noqa: PLW0603 -- one set of connections per process, by design
    if _runtime is None:
        settings: Settings = task.app.conf.newswire_settings
        _runtime = build_runtime(settings)
    return _runtime


def with_broker(call: Callable[[], T], settings: Settings) -> T:
    """Run `call`, waiting out a short Redis outage: every call here is idempotent.

    The wait is bounded so that it and the fetch fit inside the task's soft time limit. When
    Redis stays away longer, the task gives its message back (`Reject`, requeued) instead of
    failing: a failed task is acked and its story would be lost. If Redis is still down for
    the requeue too, the message stays in the broker's unacked set and the visibility-timeout
    sweep hands it out again.
    """
    deadline = time.monotonic() + settings.broker_patience
    waits = BROKER_BACKOFF.waits()
    while True:
        try:
            result = call()
        except BrokerError as exc:
            _outage.failed(exc)
            delay = next(waits)
            if time.monotonic() + delay > deadline:
                raise Reject(f"Redis unavailable: {exc}", requeue=True) from None
            time.sleep(delay)
        else:
            _outage.ok()
            return result


def retry_later(task: Task, **options: Any) -> BaseException:
    """`task.retry(...)`, except that a retry Redis cannot take gives the message back.

    Celery rejects the message *without* requeueing when it cannot publish the retry, which
    would lose the story; requeueing (or, with Redis still down, the visibility timeout)
    keeps it.
    """
    try:
        raised: BaseException = task.retry(**options)
    except Reject as exc:
        if exc.requeue:
            raise
        _outage.failed(str(exc.reason))
        raise Reject(f"Redis unavailable for the retry: {exc.reason}", requeue=True) from None
    return raised


def countdown(settings: Settings, seconds: float) -> float:
    return max(0.5, min(seconds, settings.visibility_timeout * MAX_COUNTDOWN_SHARE))


@shared_task(name=ENTRY_TASK, bind=True, max_retries=None)
def process_entry(
    self: Task, entry: dict[str, Any], attempt: int = 0, seen_at: float | None = None
) -> str:
    """Fetch, extract and publish one entry. Waits for the host's rate limit; retries
    transient fetch failures `entry_retries` times, then falls back to the feed's text."""
    rt = runtime(self)
    settings = rt.settings
    item = FeedEntry.model_validate(entry)
    limiter = rt.limiter
    # The poll already dropped known links, so no second seen-check here: the pipeline's own
    # (before it fetches) is the one that counts.
    if item.link:
        when = item.published_at or item.updated_at
        reserve = reserve_for(when.timestamp() if when else None, time.time())
        wait = with_broker(lambda: limiter.wait_seconds(item.link or "", reserve), settings)
        if wait > 0:
            # Politeness is not a failure: this does not count as an attempt.
            delay = countdown(settings, wait + random.random())
            with_broker(lambda: rt.pending.extend(item, time.time() + delay), settings)
            raise retry_later(self, countdown=delay)
    final = attempt >= settings.entry_retries
    options = with_broker(lambda: rt.feed_options(item.feed_url), settings)
    try:
        result = with_broker(
            lambda: rt.pipeline.process_entry(
                item, final_attempt=final, options=options, seen_at=seen_at
            ),
            settings,
        )
    except TransientFetch as exc:
        if exc.retry_after and item.link:
            link, retry_after = item.link, exc.retry_after
            with_broker(lambda: limiter.back_off(link, retry_after), settings)
        delay = countdown(settings, exc.retry_after or PAGE_BACKOFF.delay(attempt + 1))
        with_broker(lambda: rt.pending.extend(item, time.time() + delay), settings)
        raise retry_later(self, args=(entry, attempt + 1, seen_at), countdown=delay) from None
    except SoftTimeLimitExceeded:
        # The page took the task's whole time budget: the feed's text it is, as after any
        # transient failure that ran out of tries (the hard limit is 10 s away).
        result = with_broker(
            lambda: rt.pipeline.fall_back(item, "task time limit exceeded"), settings
        )
    except Reject:
        raise  # not settled: the message comes back, or the ledger enqueues it again
    except Exception:
        # A bug on odd input: recorded as the task's failure, and not redelivered forever.
        with_broker(lambda: rt.pending.settle(item), settings)
        raise
    with_broker(lambda: rt.pending.settle(item), settings)
    return result.outcome.value


def entry_sender(producer: Any, seen_at: float) -> Callable[[FeedEntry], None]:
    """Hands each entry on as a process_entry task through `producer` (a poll's, a push's):
    no per-message retry wrapper (a failed publish fails the caller, which is retried whole:
    entries are deduplicated) and no repr of every entry for the logs. `seen_at` is when the
    entry was seen: its latency to the stream starts there."""

    def enqueue(entry: FeedEntry) -> None:
        try:
            process_entry.apply_async(
                args=(entry.model_dump(mode="json"), 0, seen_at), producer=producer,
                retry=False, argsrepr=repr(entry.link), kwargsrepr="{}",
            )  # fmt: skip
        except OperationalError as exc:  # kombu's word for "the broker is down"
            raise BrokerError(f"Redis enqueue failed: {exc}") from exc

    return enqueue
