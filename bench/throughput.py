"""Throughput: the one-shot path and N Celery worker processes over many copies of the corpus."""

import collections
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import redis
import trafilatura
from newswire.services.extract import fastpaths
from newswire.services.metrics import EXTRACT_CPU, EXTRACT_SECONDS, HISTOGRAM_PREFIX, Metrics
from newswire.services.polling.registry import Registry

from bench.corpus import Page, page_path

PARAGRAPH = re.compile(rb"(<(?:p|br|div|li|td|span|section|article)\b[^>]*>)", re.IGNORECASE)


def marked(html: bytes, copy: int) -> bytes:
    """Copy `copy` of a page with a word of its own in each paragraph: one body on one site
    under two paths is one story to newswire (content identity), and each copy must be its
    own story here. The extraction work is the same."""
    return html if copy == 0 else PARAGRAPH.sub(rb"\1c%d " % copy, html)


def write_copies(
    pages: list[Page], root: Path, base: str, copies: int, per_feed: int = 50
) -> list[str]:
    """`copies` distinct URLs per page (distinct stories), behind RSS feeds of `per_feed` items."""
    links = []
    for c in range(copies):
        (root / f"c{c}" / "pages").mkdir(parents=True, exist_ok=True)
        for p in pages:
            (root / f"c{c}" / page_path(p.id).lstrip("/")).write_bytes(marked(p.html, c))
            links.append(f"{base}/c{c}{page_path(p.id)}")
    feeds = []
    for n, start in enumerate(range(0, len(links), per_feed)):
        items = "".join(
            f"<item><link>{u}</link><guid>{u}</guid></item>"
            for u in links[start : start + per_feed]
        )
        (root / f"t{n}.rss").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>t{n}</title>{items}</channel></rss>'
        )
        feeds.append(f"{base}/t{n}.rss")
    return feeds


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    return sum(cpu_split(pid))


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU time of one process so far."""
    return stat_times(Path(f"/proc/{pid}/stat"))


def stat_times(stat: Path) -> tuple[float, float]:
    """User and system CPU seconds from a /proc stat file (a process's, or one thread's under
    /proc/<pid>/task: /proc/<tid>/stat would count the whole process)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to all first, then wait for each: they shut down in parallel."""
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(30)


class Memory(NamedTuple):
    """The workers' memory at a checkpoint, KiB: each process's RSS (the prefork parent first,
    then its pool processes), and their PSS summed (each shared page split between the
    processes sharing it: what the workers take from the machine)."""

    rss: list[int]
    pss: int


def workers_memory(procs: list[subprocess.Popen[bytes]]) -> Memory:
    pids = [p for w in procs for p in tree_pids(w.pid)]
    return Memory([rss_kib(p) for p in pids], sum(pss_kib(p) for p in pids))


def pss_kib(pid: int) -> int:
    return proc_kib(f"/proc/{pid}/smaps_rollup", "Pss:")


def rss_kib(pid: int) -> int:
    return proc_kib(f"/proc/{pid}/status", "VmRSS:")


def proc_kib(path: str, field: str) -> int:
    """A `field: N kB` line of a /proc file, in KiB (0 when absent)."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def tree_pids(root_pid: int) -> list[int]:
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    kids = [int(x) for x in children.read_text().split()] if children.exists() else []
    return [root_pid] + [p for k in kids for p in tree_pids(k)]


def pool_threads_cpu(worker_pids: list[int]) -> tuple[float, float]:
    """CPU seconds so far of the processes that run tasks (a prefork worker's pool processes,
    a solo worker itself): their main threads (decoding, extraction, publishing) and their
    other threads (page fetches, mostly). A thread gone by the second reading drops out."""
    main = other = 0.0
    for worker in worker_pids:
        for pid in tree_pids(worker)[1:] or [worker]:
            for task in Path(f"/proc/{pid}/task").iterdir():
                try:
                    spent = sum(stat_times(task / "stat"))
                except OSError:
                    continue  # the thread ended
                if task.name == str(pid):
                    main += spent
                else:
                    other += spent
    return main, other


STALLED = 15.0  # seconds without a new article that end a throughput run short of its count


class Interleaved:
    """Bare trafilatura (as it ships, one core) measured in slices of the workers' run, with
    the workers stopped (SIGSTOP) meanwhile: BARE_SLICE seconds every SLICE seconds. These VMs
    drift by 10-30% within minutes, so a yardstick taken before the run can be off by that
    much; measured in slices, the drift falls on both alike. The pauses are left out of the
    workers' time (a fetch's deadline counts them, so a slice is short beside any timeout).
    The slices take the pages in turn, and `finish` completes the last pass after the run, so
    that bare trafilatura's rate is over whole passes of the corpus, as the workers' is."""

    SLICE = 5.0
    BARE_SLICE = 1.5

    def __init__(self, htmls: list[str]) -> None:
        self.htmls = htmls
        self.pages = 0
        self.seconds = 0.0
        self.cpu = 0.0  # the bench process's CPU in the slices (its site server shares it)
        with fastpaths.bare():
            trafilatura.extract(htmls[0])  # warm: its lazily built state

    def _extract_while(self, more: Callable[[], bool]) -> None:
        """Bare trafilatura over the pages in turn while `more()`, timed."""
        with fastpaths.bare():
            started, cpu = time.perf_counter(), time.thread_time()
            while more():
                trafilatura.extract(self.htmls[self.pages % len(self.htmls)])
                self.pages += 1
            self.seconds += time.perf_counter() - started
            self.cpu += time.thread_time() - cpu

    def measure(self, groups: list[int]) -> float:
        """One slice, the workers' process groups stopped; how long they were stopped."""
        stopped = time.monotonic()
        for group in groups:
            os.killpg(group, signal.SIGSTOP)
        try:
            until = time.perf_counter() + self.BARE_SLICE
            self._extract_while(lambda: time.perf_counter() < until)
        finally:
            for group in groups:
                os.killpg(group, signal.SIGCONT)
        return time.monotonic() - stopped

    def finish(self) -> None:
        """The pages left of the current pass (the workers are done by now)."""
        self._extract_while(lambda: self.pages % len(self.htmls) != 0)

    @property
    def rate(self) -> float:
        """Pages a second of bare trafilatura over the slices."""
        return self.pages / self.seconds if self.seconds else 0.0


def workers_run(
    redis_url: str,
    env: dict[str, str],
    feeds: list[str],
    expected: int,
    processes: int,
    log_dir: Path,
    checkpoints: tuple[int, ...] = (),
    pool: str = "prefork",
    cpu: dict[str, float] | None = None,
    roundtrips: dict[str, float] | None = None,
    interleaved: Interleaved | None = None,
) -> tuple[float, dict[int, Memory]]:
    """Articles/s of `processes` processes working, measured from the first article to the
    last; the workers' memory at each checkpoint count.

    prefork (the default pool): one worker with `--concurrency processes`, as compose runs
    it. solo: `processes` workers of one process each. `roundtrips`, when given, is filled
    with the workers' Redis round trips per article between the first and the last article,
    by command (see bench/roundtrips). `interleaved`, when given, measures bare trafilatura in
    slices of the run, the workers stopped meanwhile (their pauses left out of the rate)."""
    tally = log_dir / "roundtrips"
    worker_env = {**os.environ, **env}
    if roundtrips is not None:
        tally.mkdir(exist_ok=True)
        path = [
            str(Path(__file__).resolve().parent / "roundtrips"),
            os.environ.get("PYTHONPATH", ""),
        ]
        worker_env.update(
            NEWSWIRE_BENCH_ROUNDTRIPS=str(tally), PYTHONPATH=os.pathsep.join(filter(None, path))
        )
    client = redis.Redis.from_url(redis_url)
    registry = Registry(client)
    procs = []
    shape = [("1", "solo")] * processes if pool == "solo" else [(str(processes), pool)]
    for n, (concurrency, kind) in enumerate(shape):
        log = (log_dir / f"worker{n}.log").open("wb")
        procs.append(subprocess.Popen([sys.executable, "-m", "newswire.workers.cli", "worker", "-n", f"bench{n}@%h", "--concurrency", concurrency, "--pool", kind],
                                      env=worker_env, stdout=log, stderr=log, start_new_session=True))  # fmt: skip
        log.close()
    sched_log = (log_dir / "beat.log").open("wb")
    procs.append(subprocess.Popen([sys.executable, "-m", "newswire.workers.cli", "beat"], env={**os.environ, **env},
                                  stdout=sched_log, stderr=sched_log, start_new_session=True))  # fmt: skip
    sched_log.close()
    memory: dict[int, Memory] = {}
    try:
        time.sleep(3)  # workers up before the clock starts
        for url in feeds:
            registry.add(url, 3600)
        deadline = time.monotonic() + 1800
        while client.xlen("newswire:articles") == 0:
            time.sleep(0.05)
        first = time.monotonic()
        before, at_first = read_tally(tally), client.xlen("newswire:articles")
        cpu_at_first = sum(cpu_seconds(p) for w in procs[:-1] for p in tree_pids(w.pid))
        sys_at_first = sum(cpu_split(p)[1] for w in procs[:-1] for p in tree_pids(w.pid))
        parents_at_first = sum(cpu_seconds(w.pid) for w in procs[:-1])
        threads_at_first = pool_threads_cpu([w.pid for w in procs[:-1]])
        pending = list(checkpoints)
        # Ends with the expected count, or once the stream has not grown for STALLED seconds:
        # a corpus whose pages newswire does not all publish as distinct stories (a copy that
        # is the same story by its body or canonical link) ends there, timed to its last one
        # (the CPU figures then take in the idle wait too: ~1% of a core for those seconds).
        seen, grew_at = at_first, first
        next_slice = first + Interleaved.SLICE
        while (n := client.xlen("newswire:articles")) < expected and time.monotonic() < deadline:
            if n > seen:
                seen, grew_at = n, time.monotonic()
            elif time.monotonic() - grew_at > STALLED:
                break
            if interleaved is not None and time.monotonic() >= next_slice:
                paused = interleaved.measure([w.pid for w in procs[:-1]])
                first, grew_at, deadline = first + paused, grew_at + paused, deadline + paused
                next_slice = time.monotonic() + Interleaved.SLICE
            if pending and n >= pending[0]:
                memory[pending.pop(0)] = workers_memory(procs[:-1])
            time.sleep(0.05)
        done = client.xlen("newswire:articles")
        elapsed = (time.monotonic() if done >= expected else grew_at) - first
        if interleaved is not None:
            interleaved.finish()
        if cpu is not None:  # CPU ms per article of the workers (with their pool processes)
            cpu["articles"] = done
            spent = sum(cpu_seconds(p) for w in procs[:-1] for p in tree_pids(w.pid))
            cpu["worker_ms_per_article"] = 1000 * spent / max(done, 1)
            # From the first article to the last: the start-up (imports, forks) left out.
            cpu["worker_ms_per_article_running"] = (
                1000 * (spent - cpu_at_first) / max(done - at_first, 1)
            )
            # of which in the kernel (sockets, pipes, page faults): invisible to a GIL profile
            system = sum(cpu_split(p)[1] for w in procs[:-1] for p in tree_pids(w.pid))
            cpu["worker_system_ms_per_article_running"] = (
                1000 * (system - sys_at_first) / max(done - at_first, 1)
            )
            # of which in the prefork parent (receiving, relaying to the pool, acking)
            parents = sum(cpu_seconds(w.pid) for w in procs[:-1])
            cpu["worker_parent_ms_per_article_running"] = (
                1000 * (parents - parents_at_first) / max(done - at_first, 1)
            )
            # of which in the pool's main threads and in its other threads (fetches, mostly)
            threads = pool_threads_cpu([w.pid for w in procs[:-1]])
            for name, now, then in zip(("pool_main_threads", "pool_other_threads"), threads,
                                       threads_at_first, strict=True):  # fmt: skip
                cpu[f"{name}_ms_per_article_running"] = (
                    1000 * (now - then) / max(done - at_first, 1)
                )
            cpu["scheduler_ms_per_article"] = 1000 * cpu_seconds(procs[-1].pid) / max(done, 1)
            # What the workers' extraction itself cost, measured by them in this same run
            # (newswire_extraction_cpu_seconds_total): the yardstick for the rest of their CPU
            # that a VM whose speed drifts between runs cannot skew.
            time.sleep(1.5)  # the workers' last metrics flushed (at most once a second)
            counts = Metrics(client).read()
            extractions = counts.get(f"{HISTOGRAM_PREFIX}{EXTRACT_SECONDS.name}:count", 0)
            cpu["extraction_cpu_ms_per_article"] = (
                counts.get(EXTRACT_CPU, 0) / 1000 / max(extractions, 1)
            )
        if pending:
            memory[pending.pop(0)] = workers_memory(procs[:-1])
        if roundtrips is not None:
            time.sleep(1.5)  # the last counts written (every half second)
            after = read_tally(tally)
            after.subtract(before)
            articles = max(done - at_first, 1)
            roundtrips.update({k: v / articles for k, v in after.most_common() if v > 0})
    finally:
        stop_processes(procs)
        client.close()
    return done / elapsed, memory


def read_tally(directory: Path) -> "collections.Counter[str]":
    """Round trips so far of every counted process, by command."""
    total: collections.Counter[str] = collections.Counter()
    for path in directory.glob("*.json") if directory.exists() else []:
        try:
            total.update(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # being replaced right now: read again next time
    return total


def oneshot_run(env: dict[str, str], feeds: list[str], *extra: str) -> tuple[float, float]:
    """(articles/s of `newswire ingest` wall time including start-up, start-up seconds)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newswire.workers.cli", "--help"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    )
    startup = time.perf_counter() - started
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "newswire.workers.cli", "ingest", "--json", *extra, *feeds], env={**os.environ, **env},
                            capture_output=True, text=True, check=True)  # fmt: skip
    elapsed = time.perf_counter() - started
    published = sum(
        json.loads(line)["counts"]["new"] + json.loads(line)["counts"]["fell_back"]
        for line in result.stdout.splitlines()
    )
    return published / (elapsed - startup), startup
