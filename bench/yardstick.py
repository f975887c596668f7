"""Yardsticks: bare trafilatura and newswire's own `extract()`, timed in a fresh interpreter
under a chosen memory allocator (`python -m bench.yardstick [aeb|fundus|both]` prints JSON).

A worker runs under jemalloc where it is installed (workers/allocator.py), and the allocator
alone changes extraction's CPU by ~10%: a worker is compared with extraction under its own
allocator, and with bare trafilatura as it ships (the C library's allocator) too."""

import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import trafilatura
from newswire.services.extract import fastpaths
from newswire.services.extract.page import ExtractionError, extract, load_language_model
from newswire.services.fetch.charset import decode_html
from newswire.workers import allocator

from bench.corpus import CORPORA, bench_pages


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
    """Pages a second of `trafilatura.extract` as it ships, on one core (best of two)."""
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        with fastpaths.bare():  # trafilatura as it ships
            for html in htmls:
                trafilatura.extract(html)
        best = min(best, time.perf_counter() - started)
    return len(htmls) / best


@dataclass(frozen=True)
class Yardstick:
    """The measures, under `allocator` (as `workers.allocator.active()` names it)."""

    allocator: str
    bare_ms: float
    own_ms: float
    own_loaded_ms: float


def measure(choice: str, corpus: str = "aeb") -> Yardstick:
    """The yardsticks on `corpus` (one of bench.corpus.CORPORA) in a fresh interpreter under
    `choice` (auto, system, ...), as a worker with NEWSWIRE_WORKER_ALLOCATOR=`choice` would run."""
    env = {**os.environ, allocator.ENV: choice}
    env = allocator.preloaded_env(env) or env
    out = subprocess.run(
        [sys.executable, "-m", "bench.yardstick", corpus], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return Yardstick(**json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    corpus = sys.argv[1] if len(sys.argv) > 1 else CORPORA[0]
    pages = [(decode_html(p.html), p.original_url) for p in bench_pages(corpus)]
    bare = bare_rate([html for html, _url in pages])
    found = Yardstick(allocator.active(), 1000 / bare, own_ms(pages), own_ms_loaded(pages))
    print(json.dumps(found.__dict__))


if __name__ == "__main__":
    main()
