"""Worker throughput beside bare trafilatura, measured in one run: `python -m bench.workers
[--copies N]` (the same measure as `make bench`, alone: about two minutes)."""

import argparse
import contextlib
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

import trafilatura
from newswire.services.extract import fastpaths
from newswire.services.extract.page import ExtractionError, extract, load_language_model
from newswire.services.fetch.charset import decode_html
from newswire.workers.site_server import SiteServer
from newswire.workers.stack import RedisProcess

from bench.corpus import corpus_root, load_pages
from bench.throughput import workers_run, write_copies


def own_ms(pages: list[tuple[str, str]]) -> float:
    """CPU ms per page of newswire's own `extract()` (the best of two passes)."""
    load_language_model()
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        for html, url in pages:
            with contextlib.suppress(ExtractionError):
                extract(html, url)
        best = min(best, time.process_time() - started)
    return 1000 * best / len(pages)


def own_ms_loaded(pages: list[tuple[str, str]], processes: int = 2) -> float:
    """`own_ms` with `processes` of it running at once, as the worker's pool processes run:
    where cores share caches (or are SMT siblings) each runs slower than alone, and the
    worker's CPU per article is measured under that load, so it is compared with this."""
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return statistics.mean(pool.map(own_ms, [pages] * processes))


def bare_rate(htmls: list[str]) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        with fastpaths.bare():  # trafilatura as it ships
            for html in htmls:
                trafilatura.extract(html)
        best = min(best, time.perf_counter() - started)
    return len(htmls) / best


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--rss", action="store_true", help="RSS of each process every 2,500")
    args = parser.parse_args()
    pages = load_pages(corpus_root())
    bare = bare_rate([decode_html(p.html) for p in pages])
    own = own_ms([(decode_html(p.html), p.original_url) for p in pages])
    loaded = own_ms_loaded([(decode_html(p.html), p.original_url) for p in pages])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["NEWSWIRE_DATA_DIR"] = str(tmp / "data")
        redis_proc = RedisProcess(tmp / "redis")
        redis_proc.start()
        (tmp / "site").mkdir()
        server = SiteServer(tmp / "site")
        try:
            feeds = write_copies(pages, tmp / "site", server.base, args.copies)
            env = {"NEWSWIRE_REDIS_URL": redis_proc.url, "NEWSWIRE_FETCH_ALLOW_HOSTS": server.host_port,
                   "NEWSWIRE_HOST_RATE": "1000", "NEWSWIRE_HOST_BURST": "1000"}  # fmt: skip
            expected = len(pages) * args.copies
            cpu: dict[str, float] = {}
            trips: dict[str, float] = {}
            started = os.times()
            rate, memory = workers_run(
                redis_proc.url,
                env,
                feeds,
                expected,
                2,
                tmp,
                tuple(range(2500, expected + 1, 2500)) if args.rss else (),
                args.pool,
                cpu,
                trips,
            )
            site = os.times()
            cpu["site_server_ms_per_article"] = (
                1000 * (site.user + site.system - started.user - started.system) / expected
            )
        finally:
            server.close()
            redis_proc.stop()
    print(f"bare trafilatura 1 core {bare:.1f}/s ({1000 / bare:.1f} ms each); workers "
          f"({args.pool}) {rate:.1f}/s = {rate / bare:.2f}x; CPU per article: "
          + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))  # fmt: skip
    print(
        f"Redis round trips per article: {sum(trips.values()):.2f} ("
        + ", ".join(f"{k} {v:.2f}" for k, v in trips.items() if v >= 0.01)
        + ")"
    )
    running = cpu["worker_ms_per_article_running"]
    inside = cpu["extraction_cpu_ms_per_article"]
    print(
        f"newswire extract() {own:.1f} ms a page alone, {loaded:.1f} ms with both cores busy; "
        f"the worker's CPU per article while running {running:.1f} ms = {running / own:.2f}x / "
        f"{running / loaded:.2f}x its own extraction; {running / inside:.2f}x the "
        f"{inside:.1f} ms its own extraction took in this run"
    )
    for count, (rss, pss) in memory.items():
        print(
            f"RSS after {count:,} articles: " + ", ".join(f"{k / 1024:.0f}" for k in rss)
            + f" MiB; PSS in all {pss / 1024:.0f} MiB"
        )  # fmt: skip
