"""The raw page archive and replay: pages kept compressed with a TTL, re-extracted without any
fetch, a new version published only where the body changed."""

import hashlib
import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import zstandard
from newswire.schemas.feed import FeedEntry
from newswire.services.errors import ArchiveError
from newswire.services.ingest.archive import LocalArchive
from newswire.services.ingest.outcomes import Outcome
from newswire.services.ingest.replay import replay
from newswire.services.settings import Settings
from newswire.workers.cli_batch import parse_since
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import events
from tests.support.processes import newswire
from tests.support.site import Site


def two_feeds(site: Site) -> tuple[str, str, list[str]]:
    pages = [site.add(f"/n/{n}", article_page(f"Archived {n}", paragraphs(f"Archived {n}")))
             for n in range(3)]  # fmt: skip
    a = site.add("/a.xml", rss2([item(p, f"Archived {n}") for n, p in enumerate(pages[:2])]),
                 "application/rss+xml")  # fmt: skip
    b = site.add("/b.xml", rss2([item(pages[2], "Archived 2")]), "application/rss+xml")
    return a, b, pages


def test_fetched_pages_are_archived_compressed(
    settings: Settings, site: Site, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"archive_dir": str(tmp_path / "archive")})
    a, _b, pages = two_feeds(site)
    runtime = build_runtime(settings)
    try:
        runtime.pipeline.ingest_feed(a)
    finally:
        runtime.close()
    archive = LocalArchive(tmp_path / "archive", 7)
    records = list(archive.records())
    assert sorted(r.url for r in records) == sorted(pages[:2])
    for record in records:
        raw = archive.get(record)
        assert raw is not None and b"Archived" in raw
        assert record.length < len(raw)  # compressed
        # one zstd frame per page at its offset of the segment: readable without newswire
        segment = (tmp_path / "archive" / record.day / record.segment).read_bytes()
        frame = segment[record.offset : record.offset + record.length]
        assert zstandard.ZstdDecompressor().decompress(frame) == raw
        assert record.entry.feed_url == a and record.content_type == "text/html; charset=utf-8"
    # one process wrote both pages to one segment
    assert len({r.segment for r in records}) == 1


def test_replay_publishes_only_changed_bodies_and_fetches_nothing(
    settings: Settings, site: Site, redis_client: redis.Redis, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"archive_dir": str(tmp_path / "archive")})
    a, b, pages = two_feeds(site)
    runtime = build_runtime(settings)
    archive = LocalArchive(tmp_path / "archive", 7)
    try:
        runtime.pipeline.ingest_feed(a)
        runtime.pipeline.ingest_feed(b)
        hits = len(site.hits)

        unchanged = replay(archive, runtime.pipeline)

        # A later fetch of story 1 (as if the page changed since) is what replay re-extracts.
        [record] = [r for r in archive.records() if r.url == pages[1]]
        changed = article_page(
            "Archived 1", [*paragraphs("Archived 1"), "A paragraph added later."]
        )
        archive.put(record.entry, record.url, record.content_type, changed.encode())
        one_feed = replay(archive, runtime.pipeline, feed=b)
        everything = replay(archive, runtime.pipeline)
        again = replay(archive, runtime.pipeline)
    finally:
        runtime.close()

    assert (unchanged.pages, dict(unchanged.counts)) == (3, {"unchanged": 3})
    assert dict(one_feed.counts) == {"unchanged": 1}
    assert dict(everything.counts) == {"updated": 1, "unchanged": 2}
    assert dict(again.counts) == {"unchanged": 3}
    assert len(site.hits) == hits, "replay fetched something"
    published = events(redis_client)
    assert [e for e, _a in published].count("article.updated") == 1
    [(_e, v2)] = [(e, art) for e, art in published if e == "article.updated"]
    assert v2.version == 2 and "A paragraph added later." in v2.body


def test_replay_of_one_story_and_expired_pages(
    settings: Settings, site: Site, redis_client: redis.Redis, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"archive_dir": str(tmp_path / "archive")})
    a, _b, pages = two_feeds(site)
    runtime = build_runtime(settings)
    archive = LocalArchive(tmp_path / "archive", 7)
    try:
        runtime.pipeline.ingest_feed(a)
        story = next(art.id for _e, art in events(redis_client) if art.url == pages[0])
        only = replay(archive, runtime.pipeline, story_id=story)
        for segment in (tmp_path / "archive").glob("*/*.zseg"):  # the pages expired, their
            segment.unlink()  # index lines stay
        expired = replay(archive, runtime.pipeline)
        removed = archive.prune(datetime.now(UTC) + timedelta(days=8))
    finally:
        runtime.close()
    assert (only.pages, dict(only.counts)) == (1, {"unchanged": 1})
    assert dict(expired.counts) == {"expired": 2}
    assert removed == 1 and list(archive.records()) == []


def test_replay_command_json_summary(
    settings: Settings, site: Site, redis_client: redis.Redis, tmp_path: Path
) -> None:
    a, _b, _pages = two_feeds(site)
    env = {"NEWSWIRE_REDIS_URL": settings.redis_url,
           "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port,
           "NEWSWIRE_ARCHIVE_DIR": str(tmp_path / "archive")}  # fmt: skip
    ingest = newswire("ingest", a, env=env)
    shown = newswire("replay", "--since", "1h", "--json", env=env)
    bad = newswire("replay", "--since", "yesterday", env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"pages": 2, "counts": {"unchanged": 2}}
    assert bad.returncode == 2 and "write e.g. 2d" in bad.stderr


def test_parse_since() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_since("2d", now) == now - timedelta(days=2)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("2026-11-27T10:00", now) == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_a_full_disk_costs_the_archive_copy_not_the_story(
    settings: Settings, site: Site, redis_client: redis.Redis, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the archive directory should be")
    settings = settings.model_copy(update={"archive_dir": str(blocker)})
    a, _b, _pages = two_feeds(site)
    runtime = build_runtime(settings)
    try:
        report = runtime.pipeline.ingest_feed(a)
    finally:
        runtime.close()
    assert report.counts[Outcome.NEW] == 2, report.line()


def _entry(name: str) -> FeedEntry:
    return FeedEntry(feed_url="https://feed.example/rss", link=f"https://site.example/{name}")


def _page(name: str) -> bytes:
    return f"<html><body><p>Page {name}.</p></body></html>".encode() * 100


def _put_many(archive: LocalArchive, child: int) -> None:
    names = [f"{child}-{n}" for n in range(40)]
    with ThreadPoolExecutor(4) as threads:  # threads of one process share its segment
        list(threads.map(lambda n: archive.put(_entry(n), n, "text/html", _page(n)), names))


def test_processes_forked_from_one_archive_append_to_segments_of_their_own(
    tmp_path: Path,
) -> None:
    archive = LocalArchive(tmp_path, 7)
    archive.put(_entry("parent"), "parent", None, _page("parent"))  # opened before the fork
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=_put_many, args=(archive, k)) for k in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [c.exitcode for c in children] == [0, 0, 0]
    records = list(LocalArchive(tmp_path, 7).records())
    assert len(records) == 1 + 3 * 40
    assert all(archive.get(r) == _page(r.url) for r in records)  # each page whole, its own
    assert len({r.segment for r in records}) == 4


def test_pages_archived_one_file_each_before_segments_are_still_read(tmp_path: Path) -> None:
    day = tmp_path / "2026-12-01"
    day.mkdir()
    lines = []
    for name, content in (("old", _page("old")), ("mislabelled", b"another page")):
        digest = hashlib.sha256(_page(name)).hexdigest()  # the second's file holds another
        (day / f"{digest}.zst").write_bytes(zstandard.ZstdCompressor().compress(content))
        lines.append(json.dumps({
            "entry": _entry(name).model_dump(mode="json"), "url": name,
            "content_type": "text/html", "fetched_at": 1.0, "sha256": digest, "day": day.name,
        }))  # fmt: skip
    (day / "index.jsonl").write_text("\n".join(lines) + "\n")
    archive = LocalArchive(tmp_path, 7)
    old, mislabelled = archive.records()
    assert archive.get(old) == _page("old")
    with pytest.raises(ArchiveError, match="does not match"):
        archive.get(mislabelled)


def test_an_index_line_cannot_point_a_replay_outside_the_archive(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path / "archive", 7)
    good = archive.put(_entry("good"), "good", None, _page("good"))
    (tmp_path / "secret.zseg").write_bytes(zstandard.ZstdCompressor().compress(b"secret"))
    line = json.loads(good.to_json())
    hostile = [
        {**line, "segment": "../../secret.zseg"},
        {**line, "day": "../.."},
        {**line, "segment": "", "sha256": "../secret"},
        {**line, "offset": -1},
        {**line, "length": 0},
        {**line, "length": 10**12},
    ]
    with (tmp_path / "archive" / good.day / "index.jsonl").open("a") as index:
        index.writelines(json.dumps(h) + "\n" for h in hostile)
    reader = LocalArchive(tmp_path / "archive", 7)
    assert [r.url for r in reader.records()] == ["good"]
    assert reader.unreadable_lines == len(hostile)


def test_a_page_cut_short_by_a_crash_is_named_by_no_index_line(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path, 7)
    first = archive.put(_entry("first"), "first", None, _page("first"))
    # a process killed while writing leaves part of a frame after its last page, and no line
    partial = zstandard.ZstdCompressor().compress(_page("lost"))[:100]
    with (tmp_path / first.day / first.segment).open("ab") as segment:
        segment.write(partial)
    later = LocalArchive(tmp_path, 7)  # the restarted process
    second = later.put(_entry("second"), "second", None, _page("second"))
    assert second.segment != first.segment
    reader = LocalArchive(tmp_path, 7)
    assert [reader.get(r) for r in reader.records()] == [_page("first"), _page("second")]
    assert reader.unreadable_lines == 0
