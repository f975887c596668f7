"""Keys: every Redis key, stream suffix and queue name newswire uses; nothing else spells one.

`prefix` is NEWSWIRE_KEY_PREFIX (default "newswire"); `stream` is NEWSWIRE_STREAM (default
"newswire:articles"): story identity lives beside the stream it was published to, so two
deployments sharing a Redis never mix. Lua scripts receive these names as KEYS.
"""

# Celery queues (the Redis lists kombu keeps them in have the same names).
FEEDS_QUEUE = "feeds"
ARTICLES_QUEUE = "articles"
QUEUES = (FEEDS_QUEUE, ARTICLES_QUEUE)


# -- the feed registry and scheduler -------------------------------------------------------
def feeds(prefix: str) -> str:
    """Set of feed ids."""
    return f"{prefix}:feeds"


def feeds_due(prefix: str) -> str:
    """Sorted set: feed id -> next poll time."""
    return f"{prefix}:feeds:due"


def feed(prefix: str, feed_id: str) -> str:
    """Hash: one feed's state (FeedState)."""
    return f"{prefix}:feed:{feed_id}"


def scheduler_leader(prefix: str) -> str:
    return f"{prefix}:scheduler:leader"


def scheduler_heartbeat(prefix: str) -> str:
    return f"{prefix}:scheduler:heartbeat"


def scheduler_run_id(prefix: str) -> str:
    """String: the Redis server's run_id the scheduler saw last (a new one: Redis restarted)."""
    return f"{prefix}:scheduler:run_id"


def workers(prefix: str) -> str:
    """Hash: worker name -> heartbeat JSON."""
    return f"{prefix}:workers"


def pending_entries(prefix: str) -> str:
    """Hash: entry key -> entry JSON, for entries handed on and not yet settled."""
    return f"{prefix}:pending:entries"


def pending_due(prefix: str) -> str:
    """Sorted set: entry key -> redelivery deadline."""
    return f"{prefix}:pending:due"


def handed_out(prefix: str, task_id: str) -> str:
    """Counter (a day's TTL): how many times the broker handed out one task's message again."""
    return f"{prefix}:pending:handed:{task_id}"


# -- WebSub push ------------------------------------------------------------------------------
def websub(prefix: str, feed_id: str) -> str:
    """Hash: one feed's WebSub subscription (services/push/subscriptions.py)."""
    return f"{prefix}:websub:{feed_id}"


def websub_due(prefix: str) -> str:
    """Sorted set: feed id -> when its subscription is next acted on (asked, renewed, retried)."""
    return f"{prefix}:websub:due"


def websub_rate(prefix: str, feed_id: str, minute: int) -> str:
    """Counter of pushes received for one feed in one minute."""
    return f"{prefix}:websub:rate:{feed_id}:{minute}"


# -- what is learned of sites ----------------------------------------------------------------
def site_titles(prefix: str, site: str) -> str:
    """Hash: which headline candidate a site's feed titles agree with, counted (TitleHabit)."""
    return f"{prefix}:site:{site}:titles"


# -- fetching --------------------------------------------------------------------------------
def host_limits(prefix: str, host: str) -> tuple[str, str, str]:
    """A host's token bucket, its back-off deadline (Retry-After) and its crawl delay."""
    base = f"{prefix}:host:{host}"
    return f"{base}:bucket", f"{base}:until", f"{base}:delay"


def robots(prefix: str, origin: str) -> str:
    return f"{prefix}:robots:{origin}"


def metrics(prefix: str) -> str:
    """Hash: counter series -> integer (see services/metrics.py)."""
    return f"{prefix}:metrics"


def backfill(prefix: str) -> str:
    """Hash: WARC file -> resumable progress."""
    return f"{prefix}:backfill"


# -- story identity, beside the stream -------------------------------------------------------
def seen(stream: str, url_id: str) -> str:
    """String: story id, for every link (and id) a story is known under."""
    return f"{stream}:seen:{url_id}"


def story(stream: str, story_id: str) -> str:
    """Hash: version, content hash, cluster, last entry id, updated time, first published."""
    return f"{stream}:story:{story_id}"


def content(stream: str, digest: str) -> str:
    """String: story id, for a site + body hash."""
    return f"{stream}:content:{digest}"


def aliases(stream: str, story_id: str) -> str:
    """Set: links found later to carry the same body."""
    return f"{stream}:aliases:{story_id}"


def lsh(stream: str, day: int | str) -> str:
    """Hash: MinHash band -> cluster id, one per day of the cluster window."""
    return f"{stream}:lsh:{day}"


def per_minute(stream: str, minute: int | str) -> str:
    """Counter of entries appended in one minute (the status page's throughput chart)."""
    return f"{stream}:minute:{minute}"


# -- consumers -------------------------------------------------------------------------------
def dead_letters(stream: str) -> str:
    """Stream of entries a consumer group gave up on."""
    return f"{stream}:dead"


def delivery_errors(stream: str, group: str) -> str:
    """Hash: entry id -> the handler's last error, per group."""
    return f"{stream}:errors:{group}"


# -- patterns, for Redis ACLs (services/ops/acl.py) -------------------------------------------
# Kombu's own keys for the Celery queues: the lists (and their priority variants), the
# bindings, the unacked messages, and the reply queues of `newswire ping`'s broadcast.
CELERY_KEYS = (
    *(f"{q}*" for q in QUEUES), "_kombu.binding*", "unacked", "unacked_index", "unacked_mutex",
    "*.celery.pidbox*",
)  # fmt: skip


def patterns(prefix: str, stream: str, rejected_stream: str) -> dict[str, tuple[str, ...]]:
    """Every key newswire uses, as glob patterns grouped by what they hold: what each role
    may touch is a choice among these families, never a key spelled again."""
    return {
        "registry": (feeds(prefix), feeds_due(prefix), feed(prefix, "*")),
        "scheduler": (
            scheduler_leader(prefix),
            scheduler_heartbeat(prefix),
            scheduler_run_id(prefix),
        ),
        "workers": (workers(prefix),),
        "pending": (pending_entries(prefix), pending_due(prefix)),
        "websub": (websub(prefix, "*"),),  # the subscriptions, their due index, push rates
        "fetching": (*host_limits(prefix, "*"), robots(prefix, "*")),
        "sites": (site_titles(prefix, "*"),),
        "metrics": (metrics(prefix),),
        "backfill": (backfill(prefix),),
        "articles": (stream,),
        "identity": tuple(f(stream, "*") for f in (seen, story, content, aliases, lsh, per_minute)),
        "rejected": (rejected_stream,),
        "dead_letters": (dead_letters(stream),),
        "delivery_errors": (delivery_errors(stream, "*"),),
        "queues": CELERY_KEYS,
    }
