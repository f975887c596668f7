"""Prefetch: a feed's Downloads fetched a few entries ahead in threads, in feed order."""

import dataclasses
from collections import deque
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor

from newswire.schemas.feed import FeedEntry, FeedOptions
from newswire.services.ingest.downloader import Download, Downloader
from newswire.services.ingest.story import extract_page

# This many entries are fetched ahead, with this many threads.
PREFETCH_THREADS = 4
PREFETCH_AHEAD = 8
# Below this many entries a feed is extracted in the calling process: starting a pool of
# extraction processes costs about a second.
PARALLEL_MIN_ENTRIES = 16


def prefetched(
    downloader: Downloader,
    entries: list[FeedEntry],
    options: FeedOptions | None,
    extractors: Executor | None = None,
) -> Iterator[Future[Download]]:
    """Each entry's Download to come, in order; the next few are fetched meanwhile, so the
    caller is bound by extraction, not by waiting on servers, and a slow page holds only its
    own slot. With `extractors` (a process pool) and enough entries, pages are extracted
    there too. A download that raised raises from its future: where the caller records it as
    that entry's failure, never the feed's."""
    pool_for = extractors if len(entries) >= PARALLEL_MIN_ENTRIES else None
    with ThreadPoolExecutor(PREFETCH_THREADS, thread_name_prefix="prefetch") as threads:
        ahead: deque[Future[Download]] = deque()
        submitted = 0
        for _entry in entries:
            while len(ahead) < PREFETCH_AHEAD and submitted < len(entries):
                upcoming = entries[submitted]
                ahead.append(threads.submit(_download, downloader, upcoming, options, pool_for))
                submitted += 1
            yield ahead.popleft()


def _download(
    downloader: Downloader, entry: FeedEntry, options: FeedOptions | None, pool: Executor | None
) -> Download:
    """`download`, then the page's extraction handed to the process pool, if any."""
    got = downloader.download(entry, options)
    if pool is not None and got.result is not None:
        try:
            future = pool.submit(extract_page, got.result)
        except BrokenExecutor:
            return got  # extracted by the caller instead
        got = dataclasses.replace(got, extracted=future)
    return got
