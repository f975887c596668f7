"""Sources in `make bench`: a 50,000-URL sitemap and sitemap index parsed (time, peak memory),
backfill from a WARC of the corpus and replay of the archive (articles/s, memory)."""

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from newswire.services.ingest.archive import LocalArchive
from newswire.services.ingest.backfill import Progress, backfill_file
from newswire.services.ingest.replay import replay
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime

from bench.corpus import Page
from bench.throughput import marked, proc_kib

SITEMAP_PROBE = r"""
import json, sys, time
from datetime import UTC, datetime, timedelta
from newswire.services.sources.feeds import FeedLimits
from newswire.services.sources.sitemaps import parse_sitemap

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"): return int(line.split()[1])

kind, n, cap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
now = datetime.now(UTC)
stamp = (now - timedelta(hours=1)).isoformat()
if kind == "urlset":
    rows = "".join(f"<url><loc>https://paper.example/2026/11/story-{i}.html</loc>"
                   f"<lastmod>{stamp}</lastmod></url>" for i in range(n))
    doc = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'
else:
    rows = "".join(f"<sitemap><loc>https://paper.example/sitemaps/{i}.xml</loc>"
                   f"<lastmod>{stamp}</lastmod></sitemap>" for i in range(n))
    doc = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</sitemapindex>'
content = doc.encode()
before = rss()
start = time.perf_counter()
feed = parse_sitemap(content, "https://paper.example/sitemap.xml", now=now,
                     window=timedelta(days=2), limits=FeedLimits(entries=cap))
seconds = time.perf_counter() - start
print(json.dumps({"bytes": len(content), "seconds": seconds, "peak_kib": hwm() - before,
                  "entries": len(feed.entries), "children": len(feed.sitemaps)}))
"""


@dataclass(frozen=True)
class SitemapCost:
    kind: str
    urls: int
    mib: float  # document size
    seconds: float
    peak_mib: float  # peak RSS growth while parsing (the document itself included)


@dataclass(frozen=True)
class BatchRate:
    articles: int
    per_second: float
    rss_mib: float


def sitemap_cost(kind: str, urls: int = 50_000, cap: int = 500) -> SitemapCost:
    """Parse a generated `kind` (urlset or sitemapindex) of `urls` entries in a fresh process,
    keeping at most `cap` entries (NEWSWIRE_FEED_MAX_ENTRIES, 500 by default)."""
    out = subprocess.run([sys.executable, "-c", SITEMAP_PROBE, kind, str(urls), str(cap)], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    data = json.loads(out.stdout)
    return SitemapCost(kind, urls, data["bytes"] / 2**20, data["seconds"], data["peak_kib"] / 1024)


def _rss_mib() -> float:
    return proc_kib("/proc/self/status", "VmRSS:") / 1024


def write_warc(pages: list[Page], path: Path, copies: int) -> int:
    """The corpus pages as HTTP 200 responses in a gzip WARC, `copies` distinct stories each."""
    import gzip  # noqa: PLC0415 -- only the bench writes WARCs

    count = 0
    with path.open("wb") as out:
        for c in range(copies):
            for page in pages:
                uri = f"https://warc{c}.example/{page.id}.html"
                body = marked(page.html, c)
                http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body)) + body  # fmt: skip
                head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {uri}\r\n"
                        f"WARC-Date: 2026-11-27T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:{c}-{page.id}>\r\n"
                        "Content-Type: application/http; msgtype=response\r\n"
                        f"Content-Length: {len(http)}\r\n\r\n").encode()  # fmt: skip
                out.write(gzip.compress(head + http + b"\r\n\r\n", compresslevel=6))
                count += 1
    return count


def backfill_rate(pages: list[Page], redis_url: str, tmp: Path, copies: int = 2) -> BatchRate:
    """`newswire backfill`'s work in this process over a WARC of the corpus."""
    warc = tmp / "bench.warc.gz"
    write_warc(pages, warc, copies)
    settings = Settings(redis_url=redis_url)
    runtime = build_runtime(settings)
    try:
        store = Progress(runtime.redis, settings.key_prefix)
        started = time.perf_counter()
        summary = backfill_file(warc, runtime.pipeline, store, max_bytes=settings.fetch_max_bytes)
        elapsed = time.perf_counter() - started
    finally:
        runtime.close()
    done = summary.counts["new"] + summary.counts["fell_back"]
    return BatchRate(done, done / elapsed, _rss_mib())


def replay_rate(redis_url: str) -> BatchRate:
    """`newswire replay` over the archive the one-shot run left (every story unchanged: the
    whole re-extraction and comparison, no publish)."""
    settings = Settings(redis_url=redis_url)
    archive = LocalArchive(settings.archive_path, settings.archive_ttl_days)
    runtime = build_runtime(settings)
    try:
        started = time.perf_counter()
        summary = replay(archive, runtime.pipeline)
        elapsed = time.perf_counter() - started
    finally:
        runtime.close()
    return BatchRate(summary.pages, summary.pages / elapsed if elapsed else 0.0, _rss_mib())


if __name__ == "__main__":
    for kind, cap in (("urlset", 500), ("urlset", 50_000), ("sitemapindex", 500)):
        print(sitemap_cost(kind, cap=cap))
