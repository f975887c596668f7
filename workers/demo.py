"""`newswire demo`: the whole stack on a generated news site, articles printed as they land."""

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from newswire.services.broker import open_redis
from newswire.services.delivery.subscribe import read
from newswire.services.keys import ARTICLES_QUEUE, FEEDS_QUEUE
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.workers.demo_site import write_demo_site
from newswire.workers.site_server import SiteServer
from newswire.workers.stack import Stack

QUIET_AFTER = 3.0  # seconds without a new article, once all are in, before stopping


def run_demo(timeout: float = 180.0) -> int:
    with tempfile.TemporaryDirectory(prefix="newswire-demo-") as tmp:
        root = Path(tmp)
        (root / "site").mkdir()
        server = SiteServer(root / "site")
        feeds, expected = write_demo_site(root / "site", server.base)
        print(f"demo news site on {server.base}: {len(feeds)} feeds, {expected} stories")
        log_path = root / "stack.log"
        with log_path.open("wb") as log:
            stack = Stack(
                root / "data",
                redis_url=None,  # always a private Redis: the demo never touches your data
                env={
                    "NEWSWIRE_FETCH_ALLOW_HOSTS": server.host_port,
                    "NEWSWIRE_SCHEDULER_TICK": "0.5",
                    "NEWSWIRE_POLL_INTERVAL": "60",
                },
                log=log,
            )
            try:
                redis_url = stack.start(["--concurrency", "2"])
                print(f"started a private Redis, a worker and the scheduler (logs: {log_path})")
                published = _watch(Settings(redis_url=redis_url), feeds, expected, timeout, stack)
            finally:
                stack.stop()
                server.close()
            if published < expected:
                tail = log_path.read_text(errors="replace")[-3000:]
                print(f"newswire demo: only {published} of {expected} stories arrived; "
                      f"last log:\n{tail}", file=sys.stderr)  # fmt: skip
        print(f"published {published} articles")
    return 0 if published >= expected else 1


def _llen(client: redis.Redis, key: str) -> int:
    length: Any = client.llen(key)
    return int(length)


def _watch(
    settings: Settings, feeds: list[str], expected: int, timeout: float, stack: Stack
) -> int:
    client = open_redis(settings)
    registry = Registry(client, settings.key_prefix, settings.poll_interval)
    for url in feeds:
        registry.add(url, 60)
    started = time.monotonic()
    last_id, count, last_new = "0", 0, time.monotonic()
    tty = sys.stderr.isatty()
    while time.monotonic() - started < timeout:
        stack.supervise()
        for delivery in read(client, settings.stream, start=last_id):
            last_id = delivery.entry_id
            count += 1
            last_new = time.monotonic()
            a = delivery.article
            when = a.published_at.strftime("%H:%M") if a.published_at else "--:--"
            if tty:
                print("\r\033[K", end="", file=sys.stderr)
            print(f"  + {when}  {a.title}  ({', '.join(a.authors) or a.source}, "
                  f"{a.word_count} words, {a.extraction})", flush=True)  # fmt: skip
        if tty:
            polled = sum(1 for f in registry.all() if f.last_polled)
            queued = sum(_llen(client, q) for q in (FEEDS_QUEUE, ARTICLES_QUEUE))
            print(f"\r  polled {polled}/{len(feeds)} feeds, {count} articles, {queued} queued",
                  end="", file=sys.stderr, flush=True)  # fmt: skip
        if count >= expected and time.monotonic() - last_new > QUIET_AFTER:
            break
        time.sleep(0.3)
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    client.close()
    return count
