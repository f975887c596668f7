"""The Celery app, configured for this workload from the one Settings object."""

import logging
import ssl
import warnings
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from celery.exceptions import CPendingDeprecationWarning
from newswire.services.keys import ARTICLES_QUEUE, FEEDS_QUEUE
from newswire.services.settings import Settings
from newswire.workers.liveness import ConsumerLiveness
from newswire.workers.transport import SentinelTransport, Transport

POLL_TASK = "newswire.poll_feed"
POLL_BATCH_TASK = "newswire.poll_feeds"  # several due feeds, fetched concurrently
ENTRY_TASK = "newswire.process_entry"
ENTRIES_TASK = "newswire.process_entries"  # several entries of one poll
PUSH_TASK = "newswire.take_push"  # a hub's fat ping
SUBSCRIBE_TASK = "newswire.websub_act"  # subscribe, renew or unsubscribe one feed


def broker(settings: Settings) -> tuple[str, type, dict[str, Any]]:
    """Broker URL, transport class and transport options: Redis directly, or the master that
    the sentinels name."""
    if not settings.sentinels:
        return settings.redis_url, Transport, {}
    url = urlsplit(settings.redis_url)
    # The user too: with ACLs (`newswire acl`) each part is its own user on the master.
    auth = f"{url.username or ''}:{url.password}@" if url.password else ""
    db = url.path.strip("/") or "0"
    urls = ";".join(f"sentinel://{auth}{host}:{port}/{db}" for host, port in settings.sentinels)
    options: dict[str, Any] = {"master_name": settings.redis_sentinel_master}
    if settings.redis_tls:
        # rediss://: the sentinels are asked over TLS too, verified as the master is
        # (`broker_use_ssl` covers the master's connections only).
        options["sentinel_kwargs"] = {"ssl": True, **settings.redis_tls}
    return urls, SentinelTransport, options


def kombu_tls(settings: Settings) -> dict[str, Any]:
    """The broker's TLS options (kombu takes the ssl module's names), empty without TLS."""
    tls = settings.redis_tls
    if not tls:
        return {}
    options: dict[str, Any] = {
        "ssl_cert_reqs": ssl.CERT_NONE if settings.redis_tls_insecure else ssl.CERT_REQUIRED,
        "ssl_check_hostname": tls["ssl_check_hostname"],
    }
    for name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
        if name in tls:
            options[name] = tls[name]
    return options


class RequeuesWithoutTraceback(logging.Filter):
    """A task's deliberate `Reject` (its message given back while Redis stays away) is logged
    as Celery logs it, a warning naming the task and the reason, but without the traceback
    Celery's policy adds: in an outage's log that read like a crash, once per task."""

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if isinstance(data, dict) and data.get("description") == "rejected":
            record.exc_info = None
            record.exc_text = None
        return True


REQUEUES_WITHOUT_TRACEBACK = RequeuesWithoutTraceback()


def make_app(settings: Settings) -> Celery:
    url, transport, sentinel_options = broker(settings)
    app = Celery(
        "newswire",
        broker=url,
        include=[
            "newswire.workers.tasks",
            "newswire.workers.poll_tasks",
            "newswire.workers.push_tasks",
            "newswire.workers.heartbeat",
            "newswire.workers.warmup",  # loads, before the pool forks, what every child needs
            "newswire.workers.softlimit",  # a late soft time limit spares an idle process
        ],
    )
    app.conf.update(
        # Our transport: kombu's Redis transport without its lost-consumer bug.
        broker_transport=transport,
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        # A task is acked only once done; a worker that dies mid-task gives it back.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # And one that outran the hard time limit: given back too, not acked. Either way the
        # message comes back marked redelivered and is counted (tasks.MAX_HANDED_OUT), instead
        # of waiting ten minutes for the pending ledger, and then again, forever.
        task_acks_on_timeout=False,
        # Fetching is slow and uneven: one task at a time per process, no hoarding.
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        # Unacked tasks of a killed worker come back after this long (must exceed the time
        # limit, or a slow but alive task would be handed out twice).
        # Sweeping for them every 5 s (kombu's default is 100 s) keeps that near a minute.
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
            **sentinel_options,
        },
        # rediss://: kombu verifies Redis's certificate as every other client does.
        broker_use_ssl=kombu_tls(settings) or None,
        broker_connection_retry_on_startup=True,
        # Keep reconnecting for as long as it takes: the consumer watchdog, not a retry
        # count, decides when a worker has been unable to consume for too long.
        broker_connection_max_retries=None,
        task_routes={
            POLL_TASK: {"queue": FEEDS_QUEUE},
            POLL_BATCH_TASK: {"queue": FEEDS_QUEUE},
            PUSH_TASK: {"queue": FEEDS_QUEUE},
            SUBSCRIBE_TASK: {"queue": FEEDS_QUEUE},
            ENTRY_TASK: {"queue": ARTICLES_QUEUE},
            ENTRIES_TASK: {"queue": ARTICLES_QUEUE},
        },
        task_default_queue=ARTICLES_QUEUE,
        # Task events cost three publishes per task; `newswire status` does not need them
        # (heartbeats), and Flower turns them on in running workers by itself
        # (`enable_events`). NEWSWIRE_TASK_EVENTS=true sends them from the start.
        worker_send_task_events=settings.task_events,
        worker_hijack_root_logger=False,
        # Running tasks go on through a broker reconnect (acks_late: their messages come back
        # if the worker dies); this also silences Celery's warning about the coming default.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    # Celery warns on every reconnect that the default of the setting above will change; it
    # is set on purpose, so the warning is noise in an outage's log.
    warnings.filterwarnings(
        "ignore",
        category=CPendingDeprecationWarning,
        message=r"\s*In Celery 5.1 we introduced an optional breaking change",
    )
    logging.getLogger("celery.app.trace").addFilter(REQUEUES_WITHOUT_TRACEBACK)  # once
    app.steps["consumer"].add(ConsumerLiveness)
    app.conf.newswire_settings = settings
    return app
