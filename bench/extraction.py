"""Extraction quality: the corpus through `newswire ingest` against bare trafilatura, one run."""

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis
import trafilatura
from newswire.services.extract import fastpaths
from newswire.workers.site_server import SiteServer

from bench.corpus import Page, page_path, write_site
from bench.metric import Score, score


@dataclass(frozen=True)
class ExtractionRun:
    pipeline: Score
    bare: Score
    pipeline_seconds: float  # wall time of the `newswire ingest` process, start-up included
    bare_seconds: float  # bare trafilatura.extract on the same HTML, in this process
    published: int


def ingest_corpus(pages: list[Page], redis_url: str) -> tuple[dict[str, str], float]:
    """Serve the pages behind feeds, run `newswire ingest` on them; page id -> Article body."""
    with tempfile.TemporaryDirectory() as tmp:
        server = SiteServer(Path(tmp))
        try:
            feeds = write_site(pages, Path(tmp), server.base)
            env = {
                **os.environ,
                "NEWSWIRE_REDIS_URL": redis_url,
                "NEWSWIRE_FETCH_ALLOW_HOSTS": server.host_port,
            }
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "newswire.workers.cli", "ingest", *feeds],
                env=env, check=True, capture_output=True, timeout=1800,
            )  # fmt: skip
            elapsed = time.perf_counter() - started
            ids = {server.base + page_path(p.id): p.id for p in pages}
        finally:
            server.close()
    client = redis.Redis.from_url(redis_url)
    bodies = {}
    for _entry_id, fields in client.xrange(os.environ.get("NEWSWIRE_STREAM", "newswire:articles")):
        article = json.loads(fields[b"data"])
        bodies[ids[article["url"]]] = article["body"]
    client.close()
    return bodies, elapsed


def bare_trafilatura(pages: list[Page], passes: int = 3) -> tuple[dict[str, str], float]:
    """trafilatura.extract with its default options on the raw bytes: the published baseline.
    Timed as the best of `passes`: this VM is noisy, and the floor should not look slow."""
    best = float("inf")
    bodies: dict[str, str] = {}
    for _ in range(passes):
        started = time.perf_counter()
        with fastpaths.bare():  # trafilatura as it ships
            bodies = {p.id: trafilatura.extract(p.html) or "" for p in pages}
        best = min(best, time.perf_counter() - started)
    return bodies, best


def run(pages: list[Page], redis_url: str) -> ExtractionRun:
    truth = {p.id: p.truth for p in pages}
    ours, ours_seconds = ingest_corpus(pages, redis_url)
    bare, bare_seconds = bare_trafilatura(pages)
    return ExtractionRun(
        score(truth, ours), score(truth, bare), ours_seconds, bare_seconds, len(ours)
    )
