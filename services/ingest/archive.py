"""Raw page archive: every fetched page kept zstd-compressed with a TTL, and an index of what was
fetched for which feed entry, so extraction can be re-run (replay).

The seam is `PageArchive`: `LocalArchive` keeps a directory, one folder per day (so the TTL is
a folder removal), in which each writing process appends its pages to a segment file of its
own, one zstd frame per page, and a line per page to the day's index naming the segment, the
frame's offset and its length. An S3-compatible store implements the same four methods: it
buffers a segment and uploads it whole (`put_object`), reads a page with a ranged
`get_object`, and leaves the TTL to a bucket lifecycle rule.

Appending, not a file per page: a page costs one write to an open file instead of creating,
writing and renaming one (and a day of pages is a few files, not a hundred thousand inodes).
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import zstandard
from newswire.schemas.feed import FeedEntry
from newswire.services.errors import ArchiveError

DAY_FORMAT = "%Y-%m-%d"
LEVEL = 1  # ~0.35 ms for a 170 KB page (level 3: 0.55 ms), 4.8x smaller (level 3: 5.1x)
MAX_PAGE = 64 * 1024 * 1024  # no archived page is larger (the fetch cap is far below)
SEGMENT_LIMIT = 256 * 1024 * 1024  # a segment this large is closed and the next one begun
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SEGMENT = re.compile(r"\d+-[0-9a-f]{8}\.zseg")
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ArchivedPage:
    """One fetch as the index records it: the entry it was for, where the page ended up
    (after redirects), its headers' content type, when, and where the page is kept: `length`
    bytes at `offset` of the day's `segment`. Records written before segments (newswire
    0.x) name the page by its `sha256` instead, a file of its own; both are read."""

    entry: FeedEntry
    url: str
    content_type: str | None
    fetched_at: float
    day: str
    segment: str = ""
    offset: int = 0
    length: int = 0
    sha256: str = ""

    def to_json(self) -> str:
        return json.dumps({
            "entry": self.entry.model_dump(mode="json"), "url": self.url,
            "content_type": self.content_type, "fetched_at": self.fetched_at, "day": self.day,
            "segment": self.segment, "offset": self.offset, "length": self.length,
        })  # fmt: skip

    @classmethod
    def from_json(cls, line: str) -> "ArchivedPage":
        data = json.loads(line)
        record = cls(
            FeedEntry.model_validate(data["entry"]), data["url"], data["content_type"],
            float(data["fetched_at"]), str(data["day"]), str(data.get("segment") or ""),
            int(data.get("offset") or 0), int(data.get("length") or 0),
            str(data.get("sha256") or ""),
        )  # fmt: skip
        # Names as this module writes them, never a path: an index line cannot point a
        # replay at another file.
        in_segment = bool(SEGMENT.fullmatch(record.segment)) and (
            record.offset >= 0 and 0 < record.length <= MAX_PAGE
        )
        if not DAY.fullmatch(record.day) or not (in_segment or SHA256.fullmatch(record.sha256)):
            raise ValueError("an index line names no page of the archive")
        return record


class PageArchive(Protocol):
    """Where raw pages go. Implementations must be safe to call from several threads."""

    def put(
        self, entry: FeedEntry, url: str, content_type: str | None, content: bytes
    ) -> ArchivedPage:
        """Keep `content` (fetched from `url` for `entry`); returns its index record."""

    def get(self, record: ArchivedPage) -> bytes | None:
        """The page of an index record; None once it expired; ArchiveError if unreadable."""

    unreadable_lines: int  # index lines skipped as unreadable by `records` so far

    def records(self, since: datetime | None = None) -> Iterator[ArchivedPage]:
        """Every index record, oldest day first, from `since` on; an unreadable line is
        skipped and counted in `unreadable_lines`."""

    def prune(self, now: datetime) -> int:
        """Remove what is older than the TTL; returns how many days were removed."""


@dataclass
class _Appending:
    """A file this process appends to (a segment, the day's index): its day, name, descriptor
    and, for a segment, its size so far."""

    day: str
    pid: int
    name: str
    fd: int
    size: int = 0


class LocalArchive:
    """`<root>/<YYYY-MM-DD>/<segment>.zseg` pages and `<root>/<YYYY-MM-DD>/index.jsonl`."""

    def __init__(self, root: Path, ttl_days: int) -> None:
        self.root = root
        self.ttl = timedelta(days=ttl_days)
        self._lock = threading.Lock()
        self._pruned = 0.0
        self._local = threading.local()  # a compressor per thread (they are not thread-safe)
        self._index: _Appending | None = None
        self._segment: _Appending | None = None
        self.unreadable_lines = 0  # index lines `records` skipped

    def _compressor(self) -> zstandard.ZstdCompressor:
        compressor: zstandard.ZstdCompressor | None = getattr(self._local, "compressor", None)
        if compressor is None:
            # The frame's own checksum (xxHash, ~free) tells a damaged page on reading.
            compressor = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
            self._local.compressor = compressor
        return compressor

    def _index_fd(self, day: str, folder: Path) -> int:
        """The day's index, opened once per process (O_APPEND: each record is one write at
        the end of the file, also with other processes appending). Held under the lock."""
        index = self._index
        if index is None or not _current(index, day):
            index = self._index = _reopen(index, day, folder, "index.jsonl")
        return index.fd

    def _segment_for(self, day: str, folder: Path) -> _Appending:
        """This process's segment of the day (a forked child begins its own: offsets are
        counted here, so no two processes may append to one). Held under the lock."""
        segment = self._segment
        if segment is None or not _current(segment, day) or segment.size >= SEGMENT_LIMIT:
            name = f"{os.getpid()}-{secrets.token_hex(4)}.zseg"
            segment = self._segment = _reopen(segment, day, folder, name, new=True)
        return segment

    def put(
        self, entry: FeedEntry, url: str, content_type: str | None, content: bytes
    ) -> ArchivedPage:
        now = datetime.now(UTC)
        day = now.strftime(DAY_FORMAT)
        folder = self.root / day
        frame = self._compressor().compress(content)  # outside the lock: threads overlap
        with self._lock:
            segment = self._segment_for(day, folder)
            offset = segment.size
            try:
                _write_all(segment.fd, frame)
            except OSError:
                segment.size = os.fstat(segment.fd).st_size  # a part may have been written
                raise
            segment.size += len(frame)
            record = ArchivedPage(
                entry, url, content_type, now.timestamp(), day, segment.name, offset, len(frame)
            )
            # The index line goes after the page: a reader never finds a line whose page is
            # not all there (a crash between the two leaves bytes no line names).
            os.write(self._index_fd(day, folder), (record.to_json() + "\n").encode())
        if time.monotonic() - self._pruned > 3600:  # at most hourly, by whoever writes
            self._pruned = time.monotonic()
            self.prune(now)
        return record

    def get(self, record: ArchivedPage) -> bytes | None:
        if not record.segment:
            return self._get_page_file(record)
        path = self.root / record.day / record.segment
        try:
            with path.open("rb") as segment:
                segment.seek(record.offset)
                frame = segment.read(record.length)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArchiveError(f"archived page in {path.name} is unreadable: {exc}") from None
        if len(frame) != record.length:
            raise ArchiveError(f"archived page in {path.name} is cut short")
        return _decompress(frame, path.name)

    def _get_page_file(self, record: ArchivedPage) -> bytes | None:
        """A page archived before segments: `<day>/<sha256>.zst`."""
        path = self.root / record.day / f"{record.sha256}.zst"
        try:
            compressed = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArchiveError(f"archived page {path.name} is unreadable: {exc}") from None
        page = _decompress(compressed, path.name)
        if hashlib.sha256(page).hexdigest() != record.sha256:
            raise ArchiveError(f"archived page {path.name} does not match its name")
        return page

    def records(self, since: datetime | None = None) -> Iterator[ArchivedPage]:
        first = since.strftime(DAY_FORMAT) if since else ""
        for folder in sorted(self._days()):
            if folder.name < first:
                continue
            index = folder / "index.jsonl"
            if not index.exists():
                continue
            with index.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        record = ArchivedPage.from_json(line)
                    except (ValueError, KeyError, TypeError):
                        # A line a full disk or a crash cut short: the rest is still read.
                        self.unreadable_lines += 1
                        continue
                    if since is None or record.fetched_at >= since.timestamp():
                        yield record

    def prune(self, now: datetime) -> int:
        oldest = (now - self.ttl).strftime(DAY_FORMAT)
        removed = 0
        for folder in self._days():
            if folder.name < oldest:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def _days(self) -> list[Path]:
        if not self.root.exists():
            return []
        return [p for p in self.root.iterdir() if p.is_dir() and len(p.name) == 10]


def _current(file: _Appending, day: str) -> bool:
    """Whether `file` is open for `day` by this process (not by a parent it was forked from)."""
    return (file.day, file.pid) == (day, os.getpid())


def _reopen(
    previous: _Appending | None, day: str, folder: Path, name: str, new: bool = False
) -> _Appending:
    """`name` in `folder` opened for appending (`new`: created here, never shared) in place
    of `previous`, which is closed if this process opened it (a forked child leaves its
    parent's open)."""
    folder.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_EXCL if new else 0)
    fd = os.open(folder / name, flags, 0o644)
    pid = os.getpid()
    if previous is not None and previous.pid == pid:
        os.close(previous.fd)
    return _Appending(day, pid, name, fd)


def _write_all(fd: int, data: bytes) -> None:
    """`data` at the end of the file: os.write may write a part (a full disk raises then)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _decompress(frame: bytes, name: str) -> bytes:
    try:
        return zstandard.ZstdDecompressor().decompress(frame, max_output_size=MAX_PAGE)
    except zstandard.ZstdError as exc:
        raise ArchiveError(f"archived page in {name} is unreadable: {exc}") from None
