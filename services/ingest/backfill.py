"""Backfill: publish the news pages of WARC files (CC-NEWS style) through the same pipeline as
fetched ones (identity, dedup, extraction), resumably."""

import hashlib
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from fastwarc.warc import ArchiveIterator, WarcRecordType
from newswire.schemas.feed import FeedEntry
from newswire.services import keys
from newswire.services.broker import redis_errors
from newswire.services.errors import RefusedURL
from newswire.services.fetch.client import FetchResult
from newswire.services.fetch.guard import check_url
from newswire.services.ingest.downloader import HTML_TYPES
from newswire.services.ingest.pipeline import Pipeline
from newswire.services.redact import without_userinfo

GZIP_MAGIC = b"\x1f\x8b"
CHECKPOINT_EVERY = 2.0  # seconds between saved positions: a rerun redoes at most this much


@dataclass
class BackfillSummary:
    """One file's run: records read, what became of the HTML responses, what was skipped."""

    path: str
    records: int = 0
    resumed_at: int = 0  # byte offset the run started from (0: the whole file)
    counts: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    def line(self) -> str:
        parts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        resumed = f" (resumed at byte {self.resumed_at})" if self.resumed_at else ""
        failed = f" — stopped: {self.error}" if self.error else ""
        return f"{self.path}: {self.records} records{resumed}: {parts or 'nothing'}{failed}"


class Progress:
    """Where each WARC file's backfill got to (byte offset of the last record done), in Redis:
    a rerun starts after it; what a crash left between two checkpoints is deduplicated."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self.key = keys.backfill(prefix)

    @staticmethod
    def file_id(path: Path) -> str:
        stat = path.stat()
        basis = f"{path.resolve()}\n{stat.st_size}\n{stat.st_mtime_ns}"
        return hashlib.sha256(basis.encode()).hexdigest()[:24]

    def done_up_to(self, path: Path) -> int:
        with redis_errors("HGET"):
            value = self._redis.hget(self.key, self.file_id(path))
        return int(value) if value else -1  # type: ignore[arg-type]

    def save(self, path: Path, position: int) -> None:
        with redis_errors("HSET"):
            self._redis.hset(self.key, self.file_id(path), str(position))


def backfill_file(
    path: Path,
    pipeline: Pipeline,
    progress_store: Progress,
    *,
    max_bytes: int,
    progress: Callable[[int, int], None] | None = None,
) -> BackfillSummary:
    """Every HTTP 200 HTML response of the WARC file through the pipeline, from where an
    earlier run stopped. A broken record ends the file's run with the error recorded (what
    came before it is published and remembered)."""
    summary = BackfillSummary(str(path))
    done = progress_store.done_up_to(path)
    summary.resumed_at = max(done, 0)
    size = path.stat().st_size
    last_saved = time.monotonic()
    position = done
    # Every record type is read (only responses are used) so that `last` is the file's last
    # record: what follows it must be one whole record, or the file was cut short.
    records = ArchiveIterator(str(path), parse_http=True, fsspec_args=False)
    last = -1
    with path.open("rb") as file:
        plain = file.read(2) != GZIP_MAGIC
    try:
        for record in records:
            last = record.stream_pos
            if plain and record.stream_pos + record.content_length > size:
                # A plain record's declared length is all fastwarc goes by: one that runs past
                # the end of the file would silently swallow whatever follows.
                summary.error = (
                    f"record at byte {record.stream_pos} declares {record.content_length} "
                    f"bytes, more than the {size - record.stream_pos} left in the file: "
                    "the file is cut short or the record is corrupt"
                )
                break
            if record.stream_pos <= done or record.record_type != WarcRecordType.response:
                continue
            summary.records += 1
            summary.counts[_one(record, path, pipeline, max_bytes)] += 1
            position = record.stream_pos
            if time.monotonic() - last_saved > CHECKPOINT_EVERY:
                progress_store.save(path, position)
                last_saved = time.monotonic()
            if progress is not None:
                progress(min(position, size), size)
        if summary.error is None and not _ends_whole(path, last):
            summary.error = f"unreadable record after byte {max(last, 0)}: the file is cut short"
    except (OSError, ValueError) as exc:  # fastwarc on a corrupt file
        summary.error = f"unreadable record after byte {max(position, 0)}: {exc}"
    finally:
        # Also on Ctrl-C: the next run starts after the last record done.
        if position > done:
            progress_store.save(path, position)
    if progress is not None:
        progress(size, size)
    return summary


def _ends_whole(path: Path, last: int) -> bool:
    """For a gzip WARC (one member per record): whether the bytes from the last record read
    to the end are exactly one whole gzip member. fastwarc stops quietly at a cut member."""
    with path.open("rb") as file:
        if file.read(2) != GZIP_MAGIC:
            return True  # plain WARC: lengths are checked by the parser itself
        file.seek(max(last, 0))
        tail = file.read()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = tail
    try:
        while data and not inflater.eof:
            inflater.decompress(data, 1 << 20)  # bounded output: a record, not the file
            data = inflater.unconsumed_tail
    except zlib.error:
        return False
    return inflater.eof and not inflater.unused_data


def _one(record: object, path: Path, pipeline: Pipeline, max_bytes: int) -> str:
    """What became of one response record: an Outcome's value, or why it was skipped."""
    uri = str(record.headers.get("WARC-Target-URI", "")).strip("<> ")  # type: ignore[attr-defined]
    http = record.http_headers  # type: ignore[attr-defined]
    if http is None or http.status_code != 200:
        return "skipped: not HTTP 200"
    content_type = http.get("Content-Type") or ""
    if content_type.split(";")[0].strip().lower() not in HTML_TYPES:
        return "skipped: not HTML"
    try:
        check_url(uri)
        uri = without_userinfo(uri)  # credentials in a crawled URL are neither sent nor published
    except (RefusedURL, ValueError):
        return "skipped: not an http(s) URL"
    content = record.reader.read(max_bytes + 1)  # type: ignore[attr-defined]
    if len(content) > max_bytes:
        return "skipped: too large"
    entry = FeedEntry(feed_url=f"warc:{path.name}", link=uri)
    result = FetchResult(uri, 200, {"content-type": content_type}, content)
    outcome: str = pipeline.from_archive(entry, result).outcome.value
    return outcome
