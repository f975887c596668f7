"""Thin Celery tasks: decode arguments, call the services, state the retry policy."""

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from celery import Task, shared_task
from celery.exceptions import Reject, SoftTimeLimitExceeded
from kombu.exceptions import OperationalError
from newswire.schemas.feed import FeedEntry
from newswire.services.backoff import Backoff
from newswire.services.errors import BrokerError
from newswire.services.ingest.batch import EntryBatch, Later
from newswire.services.metrics import GIVEN_UP
from newswire.services.outage import Outage
from newswire.services.redact import redact_url
from newswire.services.settings import Settings
from newswire.workers.celery_app import ENTRIES_TASK, ENTRY_TASK
from newswire.workers.memory import freeze_once
from newswire.workers.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

# A countdown must stay below the broker's visibility timeout, or the delayed task is handed
# to a second worker while the first still holds it.
MAX_COUNTDOWN_SHARE = 0.75
# A task waiting out a Redis outage (bounded by broker_patience): quick, short retries.
BROKER_BACKOFF = Backoff(first=0.25, cap=2.0)
# A message the broker has handed out this many times without it finishing is not run as it
# was again: a page that kills its worker (memory) or outruns the hard time limit would come
# back forever (tests/test_poison.py). A fault gives a message back once, a storm of them
# maybe twice: a third time is the message's own doing.
MAX_HANDED_OUT = 3

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


def countdown(settings: Settings, seconds: float) -> float:
    return max(0.5, min(seconds, settings.visibility_timeout * MAX_COUNTDOWN_SHARE))


@shared_task(name=ENTRY_TASK, bind=True, max_retries=None)
def process_entry(
    self: Task, entry: dict[str, Any], attempt: int = 0, seen_at: float | None = None
) -> str:
    """Fetch, extract and publish one entry (a batch of one, tried `attempt` times before)."""
    return run_batch(self, [entry], seen_at, attempt)[0]


@shared_task(name=ENTRIES_TASK, bind=True, max_retries=None)
def process_entries(
    self: Task, entries: list[dict[str, Any]], seen_at: float | None = None
) -> list[str]:
    """Fetch the entries of one poll concurrently, extract and publish them in turn."""
    return run_batch(self, entries, seen_at, 0)


def run_batch(
    task: Task, entries: list[dict[str, Any]], seen_at: float | None, attempt: int
) -> list[str]:
    """Run an EntryBatch; hand on what it split off (each entry alone, after its wait: the
    host's turn, or a retry's backoff), then settle what it finished. What each entry became
    (split-off ones: `later`).

    A runaway page meets the task's soft time limit: that entry falls back to the feed's text
    (as after any transient failure that ran out of tries; the hard limit is 10 s away) and
    the entries not started yet go alone. A worker killed mid-batch gives the whole message
    back (acks late): what it published is then known, and only the rest is done again.
    """
    rt = runtime(task)
    settings = rt.settings
    items = [FeedEntry.model_validate(e) for e in entries]
    handed = 1
    if (task.request.delivery_info or {}).get("redelivered"):  # given back by the broker
        handed = with_broker(lambda: rt.pending.handed_again(task.request.id), settings)
    if handed > MAX_HANDED_OUT:
        return give_up(task, items, seen_at, attempt=attempt, handed=handed)
    batch = EntryBatch(
        client=rt.redis, pipeline=rt.pipeline, limiter=rt.limiter, fetchers=fetch_pool(settings),
        guard=lambda call: with_broker(call, settings),
        options_of=lambda url: with_broker(lambda: rt.feed_options(url), settings),
        retries=settings.entry_retries, stops=(SoftTimeLimitExceeded, Reject),
    )  # fmt: skip
    report = batch.report
    try:
        batch.run(items, seen_at, attempt)
    except SoftTimeLimitExceeded:
        if (entry := report.current) is not None:
            result = with_broker(
                lambda: rt.pipeline.fall_back(entry, "task time limit exceeded"), settings
            )
            report.done.append((entry, result))
        report.later.extend(Later(e, 0.0, attempt, "batch out of time") for e in report.left)
    freeze_once()
    hand_on(task, rt, report.later, seen_at)
    with_broker(lambda: rt.pending.settle(*(e for e, _r in report.done)), settings)
    outcomes = {id(e): r.outcome.value for e, r in report.done}
    return [outcomes.get(id(e), "later") for e in items]


def give_up(
    task: Task, items: list[FeedEntry], seen_at: float | None, *, attempt: int, handed: int
) -> list[str]:
    """A message handed out `handed` times without finishing. A batch goes apart, each entry
    alone (what it published is known: only the rest is done again), so one page holds up no
    other; an entry alone is published from the feed's own text, its page left alone."""
    rt = runtime(task)
    reason = f"handed out {handed} times without finishing (its page kills or outruns a worker)"
    what = "batch" if len(items) > 1 else "entry"
    with_broker(lambda: rt.pipeline.count(GIVEN_UP, what=what), rt.settings)
    if len(items) > 1:
        log.warning("a batch of %d entries %s: each goes alone", len(items), reason)
        hand_on(task, rt, [Later(e, 0.0, attempt, reason) for e in items], seen_at)
        return ["later"] * len(items)
    entry = items[0]
    log.warning("%s %s: published from the feed's text", redact_url(entry.link or ""), reason)
    result = with_broker(lambda: rt.pipeline.fall_back(entry, reason), rt.settings)
    with_broker(lambda: rt.pending.settle(entry), rt.settings)
    return [result.outcome.value]


def hand_on(task: Task, rt: Runtime, later: list[Later], seen_at: float | None) -> None:
    """Each split-off entry as its own task after its wait; the ledger told first, so that it
    does not count the wait as the entry being lost."""
    if not later:
        return
    settings = rt.settings
    now = time.time()
    waits = [(item, countdown(settings, item.delay)) for item in later]
    with_broker(lambda: rt.pending.extend_many([(i.entry, now + w) for i, w in waits]), settings)

    def send() -> None:
        with task.app.producer_or_acquire() as producer:
            for item, wait in waits:
                args = (item.entry.model_dump(mode="json"), item.attempt, seen_at)
                send_task(process_entry, producer, args, repr(item.entry.link), delay=wait)

    with_broker(send, settings)


_fetchers: ThreadPoolExecutor | None = None


def fetch_pool(settings: Settings) -> ThreadPoolExecutor:
    """This worker process's page-fetch threads, one per entry of a batch, made on first use
    (after the prefork fork)."""
    global _fetchers  # noqa: PLW0603 -- one pool per process, by design
    if _fetchers is None:
        _fetchers = ThreadPoolExecutor(settings.entry_batch, thread_name_prefix="fetch")
    return _fetchers


def entry_sender(producer: Any, seen_at: float, batch: int) -> Callable[[list[FeedEntry]], None]:
    """Hands entries on through `producer` (a poll's, a push's), `batch` to a task (one alone
    as process_entry), with no repr of every entry for the logs.
    `seen_at` is when the entries were seen: their latency to the stream starts there."""

    def enqueue(entries: list[FeedEntry]) -> None:
        for start in range(0, len(entries), batch):
            chunk = [e.model_dump(mode="json") for e in entries[start : start + batch]]
            task, args = (
                (process_entry, (chunk[0], 0, seen_at))
                if len(chunk) == 1
                else (process_entries, (chunk, seen_at))
            )
            send_task(task, producer, args, f"{len(chunk)} entries")

    return enqueue


def send_task(
    task: Task, producer: Any, args: tuple[Any, ...], shown: str, delay: float | None = None
) -> None:
    """One message through `producer`, with no per-message retry wrapper (a failed publish
    fails the caller, which is retried whole: entries are deduplicated), after `delay`
    seconds if given; `shown` stands for the arguments in logs."""
    try:
        task.apply_async(
            args=args, producer=producer, retry=False, countdown=delay,
            argsrepr=shown, kwargsrepr="{}",
        )  # fmt: skip
    except OperationalError as exc:  # kombu's word for "the broker is down"
        raise BrokerError(f"Redis enqueue failed: {exc}") from exc
