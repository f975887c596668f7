"""`make bench`: extraction quality and speed of the real pipeline against bare trafilatura, and
polling at scale, in one run on this machine. Prints a markdown table and writes it to
bench/results/latest.md."""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import redis
import trafilatura
from newswire.services.extract import fastpaths
from newswire.services.extract import page as page_module
from newswire.services.extract.page import extract, load_language_model
from newswire.services.fetch import charset as charset_module
from newswire.services.fetch.charset import decode_html
from newswire.services.polling.adaptive import Learning
from newswire.services.settings import Settings
from newswire.workers import allocator
from newswire.workers.site_server import SiteServer
from newswire.workers.stack import RedisProcess

from bench import (
    freshness,
    identity,
    idle,
    monitor_load,
    newsroom,
    polling,
    replication,
    sinks,
    sources,
    unchanged,
    yardstick,
)
from bench.corpus import corpus_root, load_pages
from bench.extraction import run as extraction_run
from bench.fastpaths import saving as fastpaths_saving
from bench.fundus import learned_titles as fundus_titles
from bench.fundus import root as fundus_root
from bench.fundus import run as fundus_run
from bench.fundus import table as fundus_table
from bench.metadata import run as metadata_run
from bench.stages import STAGES, stage_costs
from bench.throughput import Interleaved, oneshot_run, workers_run, write_copies
from bench.versus import bare_trafilatura, interleaved, runner
from bench.walls import run as walls_run

RESULTS = Path(__file__).resolve().parent / "results"
# Stories timed from poll to stream on an idle worker: the goal bounds the slowest, and a
# pool process's first undeclared-language page once cost ~0.5 s (now loaded before the fork),
# which 10 stories did not always meet.
IDLE_STORIES = 30


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"trafilatura {version('trafilatura')}, {platform.system()} {platform.release()}")  # fmt: skip


def _bare_pass(htmls: list[bytes]) -> float:
    started = time.perf_counter()
    with fastpaths.bare():  # trafilatura as it ships
        for html in htmls:
            trafilatura.extract(html)
    return time.perf_counter() - started


def bare_parallel_scaling(pages: list) -> float:  # type: ignore[type-arg]
    """Throughput of bare trafilatura in 2 processes over 1: what 2 cores give here at best."""
    import multiprocessing  # noqa: PLC0415

    htmls = [p.html for p in pages]
    one = _bare_pass(htmls)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        started = time.perf_counter()
        pool.map(_bare_pass, [htmls, htmls])
        two = time.perf_counter() - started
    return 2 * one / two


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--copies",
        type=int,
        default=56,
        help="corpus copies for the worker run (56: ~10,000 articles)",
    )
    parser.add_argument("--feeds", type=int, default=5000, help="feeds in the polling run")
    parser.add_argument(
        "--interval", type=int, default=60, help="poll interval in the polling run (s)"
    )
    parser.add_argument("--window", type=float, default=60, help="steady-state window measured (s)")
    parser.add_argument("--skip-polling", action="store_true")
    args = parser.parse_args()
    root = corpus_root()
    if not (root / "ground-truth.json").exists():
        print(
            f"corpus not found at {root}: set NEWSWIRE_SHARED or NEWSWIRE_CORPUS", file=sys.stderr
        )
        return 2
    pages = load_pages(root)
    rows: list[tuple[str, str]] = []
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="newswire-bench-") as tmp_name:
        tmp = Path(tmp_name)
        # Page archives and other data of every process started go here, not to ~/.local.
        os.environ["NEWSWIRE_DATA_DIR"] = str(tmp / "data")
        redis_proc = RedisProcess(tmp / "redis")
        redis_proc.start()
        client = redis.Redis.from_url(redis_proc.url)
        try:
            log(
                f"extraction quality: {len(pages)} pages through `newswire ingest` and bare trafilatura"
            )
            quality = extraction_run(pages, redis_proc.url)
            rows += [
                (
                    "Body F1, newswire end to end (P / R)",
                    f"**{quality.pipeline.f1:.4f}** ({quality.pipeline.precision:.4f} / {quality.pipeline.recall:.4f})",
                ),
                (
                    "Body F1, bare `trafilatura.extract` (P / R)",
                    f"{quality.bare.f1:.4f} ({quality.bare.precision:.4f} / {quality.bare.recall:.4f})",
                ),
            ]
            log("metadata on the Fundus pages, newswire beside trafilatura")
            if (fundus_root() / "index.json").exists():
                fundus_result = fundus_run()
                ours = fundus_result["newswire"]["all"]
                rows.append((
                    f"Fundus metadata, {ours['pages']:.0f} pages of 181 publishers (table below)",
                    f"title **{ours['title']:.3f}**, authors **{ours['authors']:.3f}**, date "
                    f"**{ours['date']:.3f}**, image {ours['image']:.3f}, language "
                    f"{ours['language']:.3f}, body F1 **{ours['body']:.3f}**",
                ))  # fmt: skip
                learned = fundus_titles()
                rows.append((
                    "Fundus title without a feed title: the consensus rule / the site's learned "
                    "headline source (learned from its other pages here, their true titles "
                    "standing in for feed titles)",
                    f"all {learned['all']['pages']:.0f} pages: {learned['all']['rule']:.3f} / "
                    f"**{learned['all']['learned']:.3f}**; the {learned['learnable']['pages']:.0f}"
                    f" pages whose site has another page: {learned['learnable']['rule']:.3f} / "
                    f"**{learned['learnable']['learned']:.3f}**",
                ))  # fmt: skip
                sections.append(
                    "## Metadata on the Fundus pages\n\nnewswire (**bold**) beside `trafilatura."
                    "bare_extraction(with_metadata=True)` (in parentheses), per field and per "
                    "language group (the country's language). Title: same text (case, quotes, "
                    "spaces and invisible characters aside). Authors: the same set of people "
                    "(agency, desk and publication credits set apart on both sides). Date: the same instant within a minute where "
                    "the truth has a time, the same day otherwise; trafilatura gives a day only and "
                    "is judged on the day alone. Image: the cover image in any rendition (its URL "
                    "shares the file name or an id/hash token with one of the truth's versions). Body: "
                    "the benchmark's F1 against the Fundus body. `python -m bench.fundus --misses "
                    "FIELD` lists the misses.\n\n" + "\n".join(fundus_table(fundus_result)) + "\n"
                )
            log("consent and paywall detection over both corpora")
            scan = walls_run()
            flagged = "; ".join(f"{n}: {r}" for n, r in scan.flagged) or "none"
            rows.append((
                f"Wall detector: {scan.fixtures} made-up wall pages (OneTrust, Didomi, Quantcast, "
                f"Sourcepoint, subscription, login, paywalled teaser) / {scan.pages} real article "
                "pages of both corpora",
                f"{scan.fixtures_found}/{scan.fixtures} walls told; {scan.not_walls_flagged} of 2 "
                f"banner/cookie articles flagged; {len(scan.flagged)} corpus pages flagged ({flagged})",
            ))  # fmt: skip
            meta = metadata_run(redis_proc.url)
            rows.append((
                f"Metadata accuracy on the demo site's {meta['articles']:.0f} generated pages (the corpus has body truth only)",
                f"title {meta['title']:.0%}, published to the second {meta['published_at']:.0%}, authors {meta['authors']:.0%}",
            ))  # fmt: skip
            bare_rate = len(pages) / quality.bare_seconds
            htmls = [decode_html(p.html) for p in pages]
            load_language_model()  # loaded once per process
            best = float("inf")
            for _ in range(3):  # best of 3, as for bare trafilatura
                started = time.perf_counter()
                for html in htmls:
                    extract(html, "http://127.0.0.1/")
                best = min(best, time.perf_counter() - started)
            ours_rate = len(pages) / best
            rows += [
                (
                    "Bare `trafilatura.extract`, 1 core (the floor)",
                    f"{bare_rate:.1f} articles/s ({1000 / bare_rate:.1f} ms each)",
                ),
                (
                    "newswire `extract()` alone (metadata + body + cleanup), 1 core",
                    f"{ours_rate:.1f} articles/s ({1000 / ours_rate:.1f} ms each)",
                ),
            ]
            own = runner(page_module, charset_module)
            side = interleaved({"bare": bare_trafilatura, "own": own}, pages, passes=2)
            rows.append((
                "newswire decode + `extract()` against bare `trafilatura.extract`, page by page "
                "(each page by both in turn, so the VM's drift falls on both alike; bench.versus)",
                f"{side['own']:.1f} / {side['bare']:.1f} ms a page = **{side['own'] / side['bare']:.2f}x**",
            ))  # fmt: skip
            log("fast paths against trafilatura's own XPath expressions")
            saved = fastpaths_saving()
            rows.append((
                "What the fast paths save (`services/extract/fastpaths.py`): CPU ms a page with "
                "trafilatura's own regex XPath expressions / with the stand-ins, passes alternated",
                "; ".join(f"{name} {own:.2f} / {fast:.2f} ({1 - fast / own:.0%} less)"
                          for name, (own, fast) in saved.items()),
            ))  # fmt: skip

            client.flushall()
            log("CPU per stage")
            costs = stage_costs(pages, tmp / "stages", client, Settings(redis_url=redis_proc.url))
            total = sum(costs.values())
            rows.append(
                (
                    "CPU ms per article by stage",
                    ", ".join(f"{s} {costs[s]:.2f}" for s in STAGES) + f" (total {total:.1f})",
                )
            )

            client.flushall()
            log("one-shot path: newswire ingest")
            server = SiteServer(tmp / "oneshot")
            (tmp / "oneshot").mkdir(exist_ok=True)
            feeds = write_copies(pages, tmp / "oneshot", server.base, copies=10)
            env = {
                "NEWSWIRE_REDIS_URL": redis_proc.url,
                "NEWSWIRE_FETCH_ALLOW_HOSTS": server.host_port,
            }
            oneshot_rate, _startup = oneshot_run(env, feeds, "--processes", "1")
            client.flushall()
            every_core, _startup = oneshot_run(env, feeds)
            server.close()
            rows += [
                (
                    "One-shot `newswire ingest --processes 1` (start-up excluded)",
                    f"{oneshot_rate:.1f} articles/s = **{oneshot_rate / bare_rate:.2f}x** bare trafilatura",
                ),
                (
                    f"One-shot `newswire ingest`, extraction on every core ({os.cpu_count()})",
                    f"{every_core:.1f} articles/s = **{every_core / bare_rate:.2f}x** bare trafilatura on 1 core",
                ),
                (
                    "One-shot cost beside newswire's own extraction (1 process)",
                    f"{(ours_rate / oneshot_rate - 1) * 100:+.0f}% (fetch, parse, normalize, publish)",
                ),
            ]

            log("replay of the one-shot run's archive; backfill from a WARC of the corpus")
            replayed = sources.replay_rate(redis_proc.url)
            client.flushall()
            backfilled = sources.backfill_rate(pages, redis_proc.url, tmp)
            rows += [
                (
                    f"`newswire replay`, {replayed.articles} archived pages (re-extract, compare)",
                    f"{replayed.per_second:.1f} pages/s, RSS {replayed.rss_mib:.0f} MiB",
                ),
                (
                    f"`newswire backfill`, WARC of {backfilled.articles} corpus pages, 1 process",
                    f"{backfilled.per_second:.1f} articles/s = **{backfilled.per_second / oneshot_rate:.2f}x** "
                    f"one-shot ingest per core, RSS {backfilled.rss_mib:.0f} MiB",
                ),
            ]
            log("sitemaps: 50,000 URLs")
            for kind, cap in (("urlset", 500), ("urlset", 50_000), ("sitemapindex", 500)):
                cost = sources.sitemap_cost(kind, cap=cap)
                kept = "every URL kept" if cap >= cost.urls else f"entries capped at {cap}"
                rows.append((
                    f"Sitemap {kind} of {cost.urls:,} URLs ({cost.mib:.1f} MiB), {kept}",
                    f"{cost.seconds:.2f} s, peak memory +{cost.peak_mib:.0f} MiB",
                ))  # fmt: skip

            log("unchanged polls: 304, identical 200, changed 200")
            client.flushall()
            polls = unchanged.measure(redis_proc.url, 300)
            rows.append((
                f"One poll of a {unchanged.ITEMS}-item feed, in process (no Celery, ~0.8 ms more)",
                f"304 {polls['etag']:.2f} ms CPU; identical 200 without validators "
                f"{polls['same']:.2f} ms (not parsed); changed 200 {polls['changed']:.2f} ms",
            ))  # fmt: skip
            log("freshness: 1,000 simulated feeds over 7 days, fixed 15 min against adaptive")
            fresh_rows, per_second = freshness.run(7, 1, Learning())
            by = {(r.name, r.adaptive): r for r in fresh_rows}
            rows.append((
                "Freshness, simulated (bench.freshness): p50/p95 story latency, fixed 15 min "
                "against adaptive",
                "; ".join(
                    f"{name}: {by[name, False].p50:.0f}/{by[name, False].p95:.0f} s against "
                    f"{by[name, True].p50:.0f}/{by[name, True].p95:.0f} s"
                    for name, *_ in freshness.CLASSES
                ) + f"; polls/s {per_second[False]:.2f} against {per_second[True]:.2f}",
            ))  # fmt: skip

            if not args.skip_polling:
                log("a loopback newsroom of 100 feeds, default settings, 8 minutes")
                room = newsroom.run(8, tmp / "newsroom")
                fast, medium = room["every 20 s"], room["every 2 min"]
                rows.append((
                    "Newsroom (bench.newsroom): 100 feeds on one host registered without an "
                    "interval, one worker, default settings; story publication to stream",
                    f"every 20 s: p50 {fast['p50_s']} s, p95 {fast['p95_s']} s "
                    f"({fast['missing']} not arrived); every 2 min: p50 {medium['p50_s']} s "
                    f"({medium['missing']} not arrived); feed requests "
                    f"{room['share_of_fixed_60s']:.0%} of a fixed 60 s schedule",
                ))  # fmt: skip

            client.flushall()
            expected = len(pages) * args.copies
            log(f"2 worker processes over {expected} articles")
            server = SiteServer(tmp / "workers")
            (tmp / "workers").mkdir(exist_ok=True)
            feeds = write_copies(pages, tmp / "workers", server.base, copies=args.copies)
            env = {"NEWSWIRE_REDIS_URL": redis_proc.url, "NEWSWIRE_FETCH_ALLOW_HOSTS": server.host_port,
                   "NEWSWIRE_HOST_RATE": "1000", "NEWSWIRE_HOST_BURST": "1000"}  # fmt: skip
            checkpoints = tuple(n for n in (1000, 2500, 5000, 7500, 10000) if n <= expected)
            cpu: dict[str, float] = {}
            trips: dict[str, float] = {}
            sliced = Interleaved([decode_html(p.html) for p in pages])
            rate, memory = workers_run(
                redis_proc.url, env, feeds, expected, 2, tmp, checkpoints, cpu=cpu,
                roundtrips=trips, interleaved=sliced,
            )  # fmt: skip
            client.flushall()
            log(f"2 worker processes, solo pool, over {expected} articles")
            solo_rate, _ = workers_run(
                redis_proc.url, env, feeds, expected, 2, tmp, (), pool="solo"
            )
            server.close()
            ceiling = bare_parallel_scaling(pages)
            # The worker runs under jemalloc where installed: its CPU is compared with extraction
            # under the same allocator, its speed with bare trafilatura both as shipped and so.
            same = yardstick.measure(os.environ.get(allocator.ENV, allocator.DEFAULT))
            own_loaded = same.own_loaded_ms
            log(f"one story from poll to stream on an idle worker, {IDLE_STORIES} times")
            idle_delays = idle.run(IDLE_STORIES)
            rows += [
                (
                    f"Bare `trafilatura.extract` / newswire `extract()` alone, 1 core, under {same.allocator} (the workers' allocator)",
                    f"{1000 / same.bare_ms:.1f} / {1000 / same.own_ms:.1f} articles/s "
                    f"({same.bare_ms:.1f} / {same.own_ms:.1f} ms each)",
                ),
                (
                    f"One worker, `--concurrency 2` as compose runs it ({os.cpu_count()} cores, prefork pool, {same.allocator}, no task events, INFO logs), {expected} articles",
                    f"{rate:.1f} articles/s = **{rate / bare_rate:.2f}x** bare trafilatura on 1 core "
                    f"as shipped ({rate * same.bare_ms / 1000:.2f}x under {same.allocator} too)",
                ),
                (
                    f"The same, against bare trafilatura measured in slices of that run ({Interleaved.BARE_SLICE:.1f} s "
                    f"every {Interleaved.SLICE:.0f} s, the workers stopped meanwhile, so the VM's drift falls on both)",
                    f"bare {sliced.rate:.1f} articles/s ({sliced.pages} pages): **{rate / sliced.rate:.2f}x**",
                ),
                (
                    "The worker's CPU per article while running (prefork parent and pool), "
                    "against newswire's own `extract()` alone / in 2 processes at once (as "
                    "the pool runs it), under the worker's allocator",
                    f"{cpu['worker_ms_per_article_running']:.1f} ms = "
                    f"{cpu['worker_ms_per_article_running'] / same.own_ms:.2f}x "
                    f"{same.own_ms:.1f} ms / "
                    f"**{cpu['worker_ms_per_article_running'] / own_loaded:.2f}x** "
                    f"{own_loaded:.1f} ms "
                    f"({cpu['worker_system_ms_per_article_running']:.1f} ms of it in the kernel)",
                ),
                (
                    "The same, against the CPU the worker's own extraction took in this run "
                    "(decode + `extract()`, the extracting thread's CPU, from "
                    "`newswire_extraction_cpu_seconds_total`): the VM's drift between runs "
                    "left out",
                    f"{cpu['worker_ms_per_article_running']:.1f} ms = "
                    f"**{cpu['worker_ms_per_article_running'] / cpu['extraction_cpu_ms_per_article']:.2f}x** "
                    f"{cpu['extraction_cpu_ms_per_article']:.1f} ms",
                ),
                (
                    "Redis round trips per article, the whole worker (Celery included; "
                    "bench/roundtrips), by first command",
                    f"**{sum(trips.values()):.2f}**: "
                    + ", ".join(f"{k} {v:.2f}" for k, v in trips.items() if v >= 0.05),
                ),
                (
                    "2 workers of `--pool solo` (one process each)",
                    f"{solo_rate:.1f} articles/s = **{solo_rate / bare_rate:.2f}x** bare trafilatura on 1 core",
                ),
                (
                    f"One story from poll to stream on an idle worker (bench.idle, {IDLE_STORIES} stories)",
                    f"median {sorted(idle_delays)[len(idle_delays) // 2] * 1000:.0f} ms, "
                    f"max {max(idle_delays) * 1000:.0f} ms",
                ),
                (
                    "Ceiling of this machine: bare trafilatura in 2 processes",
                    f"{ceiling:.2f}x bare trafilatura in 1 process",
                ),
                (
                    "RSS of each worker process (the prefork parent; its 2 pool processes), and "
                    "their PSS in all (shared pages split between them), after "
                    + ", ".join(f"{n:,}" for n in memory)
                    + " articles",
                    "; ".join(
                        f"{rss[0] / 1024:.0f} MiB; "
                        + ", ".join(f"{k / 1024:.0f}" for k in rss[1:])
                        + f" MiB (PSS {pss / 1024:.0f})"
                        for rss, pss in memory.values()
                    ),
                ),
            ]

            if not args.skip_polling:
                client.flushall()
                log(f"polling {args.feeds} feeds every {args.interval}s (mostly 304)")
                poll = polling.run(redis_proc.url, args.feeds, args.interval, args.window, tmp)
                rows += [
                    (
                        f"Polling: first round of {poll.feeds} feeds (all 200)",
                        f"{poll.first_round_seconds:.1f} s = {poll.first_round_polls_per_s:.0f} polls/s",
                    ),
                    (
                        f"Polling: steady state, every {poll.interval}s, {args.window:.0f} s window",
                        f"{poll.steady_polls_per_s:.0f} polls/s ({poll.steady_not_modified_share:.0%} answered 304); stalest feed polled {poll.stalest_feed_age:.0f} s ago",
                    ),
                    (
                        "Scheduler CPU per tick (1 s ticks)",
                        f"{poll.scheduler_cpu_ms_per_tick:.2f} ms",
                    ),
                    ("Redis memory per registered feed", f"{poll.redis_bytes_per_feed:.0f} bytes"),
                ]
                client.flushall()
                log(
                    "polling 50,000 feeds every 15 minutes in steady state (60% 304, 40% no validators)"
                )
                steady = polling.run_steady(redis_proc.url, 50_000, 900, 120, tmp)
                rows += [
                    (
                        f"Polling {steady.feeds:,} feeds every {steady.interval // 60} min, steady "
                        f"state (each polled once in the last interval; 60% ETag -> 304, 40% none), "
                        f"{steady.window:.0f} s window",
                        f"{steady.polls_per_s:.1f} polls/s (needed {steady.needed_polls_per_s:.1f}; "
                        f"{steady.not_modified_share:.0%} 304, {steady.identical_share:.0%} identical "
                        f"200 without validators); worker CPU **{steady.poller_cpu_ms_per_poll:.2f} ms** "
                        f"per unchanged poll, Celery included; stalest feed **"
                        f"{steady.stalest_seconds / steady.interval:.3f}x** its interval; most "
                        f"overdue {steady.most_overdue_seconds:.1f} s; scheduler "
                        f"**{steady.scheduler_core_share:.1%}** of a core, poller worker (2 "
                        f"processes) {steady.poller_core_share:.0%}; Redis "
                        f"{steady.redis_bytes_per_feed:.0f} B per feed",
                    ),
                ]
            log("the monitor under 200 concurrent clients")
            load = monitor_load.run(redis_proc.url)
            rows.append((
                f"Monitor /livez, {load.clients} concurrent clients + 100 idle connections",
                f"median {load.median_ms:.0f} ms, p99 {load.p99_ms:.0f} ms, max {load.max_ms:.0f} ms",
            ))  # fmt: skip
            log("fuzzing the feed parser and the page pipeline")
            fuzz_examples = 5000
            started = time.perf_counter()
            fuzz = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py"],
                env={**os.environ, "NEWSWIRE_FUZZ_EXAMPLES": str(fuzz_examples)},
                capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[1],
            )  # fmt: skip
            verdict = (
                "no crash, hang or memory blowup"
                if fuzz.returncode == 0
                else "FAILED: " + fuzz.stdout[-300:]
            )
            rows.append((
                f"Fuzz: {fuzz_examples} mutated feeds + {fuzz_examples} mutated pages (hypothesis)",
                f"{verdict}, {time.perf_counter() - started:.0f} s",
            ))  # fmt: skip
            log("sinks: Postgres and NATS JetStream, catch-up rate and following delay")
            for kind in ("postgres", "nats"):
                sink = sinks.run(5000, kind)
                rows.append((
                    f"`newswire sink {kind}`: 5,000 events caught up (batches of 500), then "
                    "200 followed 20 ms apart (bench.sinks)",
                    f"**{sink['per_second']:.0f} events/s**; stream to target p50 "
                    f"{sink['p50_ms']:.0f} ms, p95 {sink['p95_ms']:.0f} ms",
                ))  # fmt: skip
            log("story identity: near-duplicate clusters on a labelled set, bytes per story")
            quality_c = identity.clusters(root, redis_proc.url)
            quality_t, by_kind = identity.trimmed(root, redis_proc.url)
            rows.append((
                f"Trimmed wire copy: {quality_t.stories} corpus stories printed four ways (as "
                "sent; re-headlined, ~4% edits; cut to 50-70% + a local paragraph; trimmed + "
                f"an editor's note) + {quality_t.negatives} other stories, a third quoting two "
                "paragraphs of a copied one; pairwise, and each kind against the copy as sent",
                f"precision **{quality_t.precision:.4f}**, recall **{quality_t.recall:.4f}**; "
                + ", ".join(f"{k.kind} {k.recall:.3f}" for k in by_kind),
            ))  # fmt: skip
            mem = identity.memory(tmp)
            per_gb = 1e9 / mem.bytes_per_story
            rows += [
                (
                    f"Near-duplicate clusters: {quality_c.stories} corpus stories x 4 sites' copies "
                    f"(own template, dateline, edits) + {quality_c.negatives} other stories, "
                    "pairwise",
                    f"precision **{quality_c.precision:.4f}**, recall **{quality_c.recall:.4f}**",
                ),
                (
                    "Cluster cost per article (median): MinHash bands / whole publish",
                    f"{quality_c.signature_ms:.2f} ms / {quality_c.publish_ms:.2f} ms "
                    "(identity checks, cluster vote, XADD, one round trip)",
                ),
                (
                    f"Redis bytes per story, identity state ({mem.stories} stories, 3 links each)",
                    f"{mem.bytes_per_story:.0f} B: "
                    + ", ".join(f"{k} {v:.0f}" for k, v in mem.by_kind.items())
                    + f"; the stream itself {mem.stream_bytes_per_story:.0f} B; "
                    f"{per_gb / 1000:.0f}k stories per GB of identity state",
                ),
            ]
            log("publish cost of waiting for a replica (WAIT 1)")
            wait = replication.run(tmp)
            rows.append((
                f"Publish, master + 1 replica (AOF always), {wait.publishes} each: median (p99)",
                f"{wait.plain_ms:.2f} ms ({wait.plain_p99_ms:.2f}) plain, {wait.waiting_ms:.2f} ms "
                f"({wait.waiting_p99_ms:.2f}) with NEWSWIRE_REDIS_WAIT_REPLICAS=1",
            ))  # fmt: skip
        finally:
            client.close()
            redis_proc.stop()
    table = "\n".join(["| Measure | Result |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = (f"# newswire benchmark\n\n{stamp} on {machine()}.\nCommand: `make bench`. Corpus: "
              f"article-extraction-benchmark ({len(pages)} pages).\n\n{table}\n"
              + "".join("\n" + s for s in sections))  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
