"""Backfill from WARC files the tests write: the same identity, dedup and extraction as fetched
pages, non-news records skipped and counted, broken files recorded, runs resumable."""

import json
from pathlib import Path

import pytest
import redis
from newswire.services.ingest.backfill import Progress, backfill_file
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, paragraphs
from tests.support.pipeline import stream
from tests.support.processes import newswire
from tests.support.warc import request, response, write_warc


def page(n: int) -> bytes:
    return article_page(f"Archived story {n}", paragraphs(f"Archived story {n}")).encode()


def news_warc(path: Path, stories: int = 4) -> Path:
    records = [request("https://paper.example/")]
    for n in range(stories):
        records.append(response(f"https://paper.example/news/{n}", page(n)))
    records += [
        response("https://paper.example/news/0?utm_source=crawl", page(0)),  # the same story
        response("https://paper.example/missing", b"<h1>Not found</h1>", status=404),
        response("https://paper.example/logo.png", b"\x89PNG....", content_type="image/png"),
        response("https://paper.example/news/1-copy", page(1)),  # the same body, another path
    ]
    return write_warc(path, records)


def test_backfill_publishes_each_story_once(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    warc = news_warc(tmp_path / "cc-news.warc.gz")
    runtime = build_runtime(settings)
    try:
        store = Progress(runtime.redis, settings.key_prefix)
        first = backfill_file(warc, runtime.pipeline, store, max_bytes=settings.fetch_max_bytes)
        again = backfill_file(warc, runtime.pipeline, store, max_bytes=settings.fetch_max_bytes)
    finally:
        runtime.close()

    assert dict(first.counts) == {
        "new": 4,
        "duplicate": 2,
        "skipped: not HTTP 200": 1,
        "skipped: not HTML": 1,
    }
    articles = stream(redis_client)
    assert sorted(a.canonical_url or "" for a in articles) == [
        f"https://paper.example/news/{n}" for n in range(4)
    ]
    assert all(a.extraction == "full" and a.feed_url.startswith("warc:") for a in articles)
    assert first.error is None
    # Re-running skips what is done: no record read again.
    assert (again.records, again.resumed_at > 0, dict(again.counts)) == (0, True, {})


def test_interrupted_backfill_resumes_after_the_last_record_done(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    warc = news_warc(tmp_path / "big.warc.gz", stories=8)
    runtime = build_runtime(settings)
    seen = []

    def stop_after_three(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 3:
            raise KeyboardInterrupt

    try:
        store = Progress(runtime.redis, settings.key_prefix)
        with pytest.raises(KeyboardInterrupt):
            backfill_file(warc, runtime.pipeline, store, max_bytes=settings.fetch_max_bytes,
                          progress=stop_after_three)  # fmt: skip
        published_before = len(stream(redis_client))
        rest = backfill_file(warc, runtime.pipeline, store, max_bytes=settings.fetch_max_bytes)
    finally:
        runtime.close()
    assert published_before == 3  # three response records done before the interrupt
    # The rest of the 12 responses (8 stories, 4 others), none of the first three again.
    assert rest.resumed_at > 0 and rest.records == 9 and rest.counts["new"] == 5
    assert len(stream(redis_client)) == 8


def test_truncated_warc_keeps_what_came_before_and_says_so(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    whole = news_warc(tmp_path / "whole.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    env = {"NEWSWIRE_REDIS_URL": settings.redis_url}
    shown = newswire("backfill", str(cut), "--json", env=env)
    assert shown.returncode == 1, shown.stderr
    [summary] = json.loads(shown.stdout)
    assert summary["error"].startswith("unreadable record after byte")
    assert summary["counts"].get("new", 0) >= 2
    assert len(stream(redis_client)) == summary["counts"]["new"]
    missing = newswire("backfill", str(tmp_path / "nope.warc.gz"), env=env)
    assert missing.returncode == 2 and "no such file" in missing.stderr
