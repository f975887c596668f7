"""One story from poll to stream on an idle worker: `python -m bench.idle [--stories N]`.

A worker (prefork, `--concurrency 2`, as compose runs it) and the scheduler on default
settings, idle; then one feed at a time is registered with one new story. The delay is from
the moment the site answered the feed request (the poll) to the story's stream entry id (the
XADD, Redis' clock: same machine)."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import redis
from newswire.services.polling.registry import Registry
from newswire.workers.site_server import LoopbackServer, _QuietHandler
from newswire.workers.stack import RedisProcess

from bench.corpus import corpus_root, load_pages
from bench.throughput import stop_processes

STREAM = "newswire:articles"


def run(stories: int = 10) -> list[float]:
    """Seconds from poll to stream, one per story."""
    pages = load_pages(corpus_root())[:stories]
    polled: dict[str, float] = {}

    class Timed(_QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 -- http.server names it
            if self.path.endswith(".rss"):
                polled[self.path] = time.time()
            super().do_GET()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "site").mkdir()
        site = LoopbackServer(partial(Timed, directory=str(tmp / "site")))
        redis_proc = RedisProcess(tmp / "redis")
        redis_proc.start()
        env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_proc.url,
               "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port, "NEWSWIRE_DATA_DIR": str(tmp / "data")}  # fmt: skip
        cmd = [sys.executable, "-m", "newswire.workers.cli"]
        log = (tmp / "log").open("wb")
        procs = [
            subprocess.Popen([*cmd, "worker", "-n", "idle@%h", "--concurrency", "2"], env=env,
                             stdout=log, stderr=log, start_new_session=True),
            subprocess.Popen([*cmd, "beat"], env=env, stdout=log, stderr=log,
                             start_new_session=True),
        ]  # fmt: skip
        client = redis.Redis.from_url(redis_proc.url)
        delays = []
        try:
            time.sleep(4)  # both up and idle
            for n, page in enumerate(pages):
                (tmp / "site" / f"p{n}.html").write_bytes(page.html)
                link = f"{site.base}/p{n}.html"
                (tmp / "site" / f"f{n}.rss").write_text(
                    f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{n}</title><item>'
                    f"<link>{link}</link><guid>{link}</guid></item></channel></rss>"
                )
                Registry(client).add(f"{site.base}/f{n}.rss", 3600)
                deadline = time.monotonic() + 30
                while client.xlen(STREAM) <= n and time.monotonic() < deadline:
                    time.sleep(0.01)
                [(entry_id, _fields)] = client.xrevrange(STREAM, count=1)
                delays.append(int(entry_id.split(b"-")[0]) / 1000 - polled[f"/f{n}.rss"])
                time.sleep(0.5)
        finally:
            stop_processes(procs)
            log.close()
            client.close()
            site.close()
            redis_proc.stop()
    return delays


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=10)
    args = parser.parse_args()
    found = run(args.stories)
    print(f"poll to stream on an idle worker, {len(found)} stories: median "
          f"{statistics.median(found) * 1000:.0f} ms, max {max(found) * 1000:.0f} ms")  # fmt: skip
