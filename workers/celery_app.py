"""The Celery app, configured for this workload from the one Settings object."""

from celery import Celery

from services.settings import Settings

FEEDS_QUEUE = "feeds"
ARTICLES_QUEUE = "articles"
POLL_TASK = "newswire.poll_feed"
ENTRY_TASK = "newswire.process_entry"


def make_app(settings: Settings) -> Celery:
    app = Celery(
        "newswire", broker=settings.redis_url, include=["workers.tasks", "workers.heartbeat"]
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        # A task is acked only once done; a worker that dies mid-task gives it back.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Fetching is slow and uneven: one task at a time per process, no hoarding.
        worker_prefetch_multiplier=1,
        task_soft_time_limit=int(settings.fetch_deadline + 10),
        task_time_limit=settings.task_time_limit,
        # Unacked tasks of a killed worker come back after this long (must exceed the time
        # limit, or a slow but alive task would be handed out twice).
        # Sweeping for them every 5 s (kombu's default is 100 s) keeps that near a minute.
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_routes={POLL_TASK: {"queue": FEEDS_QUEUE}, ENTRY_TASK: {"queue": ARTICLES_QUEUE}},
        task_default_queue=ARTICLES_QUEUE,
        # Task events on, so `newswire status` and Flower see what workers do.
        # No task-sent events: one more publish per enqueued entry; Flower does without them.
        worker_send_task_events=True,
        worker_hijack_root_logger=False,
    )
    app.conf.newswire_settings = settings
    return app
