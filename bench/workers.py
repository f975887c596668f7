"""Worker throughput beside bare trafilatura, measured in one run: `python -m bench.workers
[--copies N] [--corpus aeb|fundus|both]` (`make bench`'s measure, alone: about two minutes)."""

import argparse
import os
import tempfile
from pathlib import Path

from newswire.services.fetch.charset import decode_html
from newswire.workers import allocator
from newswire.workers.site_server import SiteServer
from newswire.workers.stack import RedisProcess

from bench import yardstick
from bench.corpus import CORPORA, bench_pages
from bench.throughput import Interleaved, workers_run, write_copies

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--rss", action="store_true", help="RSS of each process every 2,500")
    parser.add_argument("--corpus", choices=CORPORA, default=CORPORA[0],
                        help="the extraction benchmark's pages, Fundus's (25 languages), both")  # fmt: skip
    args = parser.parse_args()
    pages = bench_pages(args.corpus)
    # Bare trafilatura as it ships, and everything under the allocator the workers run under.
    shipped = yardstick.measure("system", args.corpus)
    same = yardstick.measure(os.environ.get(allocator.ENV, allocator.DEFAULT), args.corpus)
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
            interleaved = Interleaved([decode_html(p.html) for p in pages])
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
                interleaved,
            )
            site = os.times()
            spent = site.user + site.system - started.user - started.system - interleaved.cpu
            cpu["site_server_ms_per_article"] = 1000 * spent / expected
        finally:
            server.close()
            redis_proc.stop()
    arrived = int(cpu.pop("articles"))
    bare, same_bare = 1000 / shipped.bare_ms, 1000 / same.bare_ms
    print(f"{len(pages)} pages ({args.corpus}) x {args.copies}, {arrived} stories arrived: "
          f"bare trafilatura 1 core {bare:.1f}/s ({shipped.bare_ms:.1f} ms each, as shipped), "
          f"{same_bare:.1f}/s under {same.allocator}; workers ({args.pool}, {same.allocator}) "
          f"{rate:.1f}/s = {rate / bare:.2f}x / {rate / same_bare:.2f}x; CPU per article: "
          + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))  # fmt: skip
    print(
        f"Redis round trips per article: {sum(trips.values()):.2f} ("
        + ", ".join(f"{k} {v:.2f}" for k, v in trips.items() if v >= 0.01)
        + ")"
    )
    print(
        f"bare trafilatura in slices of the run ({Interleaved.BARE_SLICE:.1f} s every "
        f"{Interleaved.SLICE:.0f} s, the workers stopped; drift falls on both): "
        f"{interleaved.rate:.1f}/s ({interleaved.pages} pages); workers {rate:.1f}/s = "
        f"**{rate / interleaved.rate:.2f}x**"
    )
    running = cpu["worker_ms_per_article_running"]
    inside = cpu["extraction_cpu_ms_per_article"]
    own, loaded = same.own_ms, same.own_loaded_ms
    print(
        f"newswire extract() under {same.allocator} {own:.1f} ms a page alone, {loaded:.1f} ms "
        f"with both cores busy ({shipped.own_ms:.1f} / {shipped.own_loaded_ms:.1f} ms under "
        f"{shipped.allocator}); the worker's CPU per article while running {running:.1f} ms = "
        f"{running / own:.2f}x / {running / loaded:.2f}x its own extraction; "
        f"{running / inside:.2f}x the {inside:.1f} ms its own extraction took in this run"
    )
    for count, (rss, pss) in memory.items():
        print(
            f"RSS after {count:,} articles: " + ", ".join(f"{k / 1024:.0f}" for k in rss)
            + f" MiB; PSS in all {pss / 1024:.0f} MiB"
        )  # fmt: skip
