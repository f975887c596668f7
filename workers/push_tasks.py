"""Thin Celery tasks for WebSub: take a hub's fat ping, act on one feed's subscription."""

import base64
import logging
import time
from typing import Any

from celery import Task, shared_task
from newswire.services.push.pushed import take_push as take_push_service
from newswire.services.redact import redact_url
from newswire.workers.celery_app import PUSH_TASK, SUBSCRIBE_TASK
from newswire.workers.tasks import entry_sender, runtime, with_broker

log = logging.getLogger(__name__)


@shared_task(name=PUSH_TASK, bind=True)
def take_push(
    self: Task, feed_id: str, content_b64: str, content_type: str | None, received_at: float
) -> dict[str, Any]:
    """Hand on the new entries of content a hub pushed for a feed (see services/push/pushed)."""
    rt = runtime(self)
    state = with_broker(lambda: rt.registry.get(feed_id), rt.settings)
    if state is None or not state.enabled:
        return {"feed": feed_id, "skipped": "not registered or disabled"}
    content = base64.b64decode(content_b64)

    def take() -> Any:
        with self.app.producer_or_acquire() as producer:
            enqueue = entry_sender(producer, received_at, rt.settings.entry_batch)
            return take_push_service(
                state, content, content_type, pipeline=rt.pipeline, registry=rt.registry,
                pending=rt.pending, enqueue=enqueue, now=time.time(),
            )  # fmt: skip

    report = with_broker(take, rt.settings)
    return {"feed": redact_url(state.url), "new": report.enqueued, "foreign": report.foreign}


@shared_task(name=SUBSCRIBE_TASK, bind=True)
def websub_act(self: Task, feed_id: str) -> str:
    """Subscribe, renew or unsubscribe one feed's WebSub subscription, as it needs."""
    rt = runtime(self)
    subscriber = rt.subscriber()
    done = with_broker(lambda: subscriber.act(feed_id, time.time()), rt.settings)
    log.info("websub %s: %s", feed_id, done)
    return done
