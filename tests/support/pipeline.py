"""In-process runs of the pipeline for the tests, and what they left on the stream."""

from datetime import UTC, datetime

import redis
from newswire.schemas.article import Article, parse_article
from newswire.services.delivery.publish import Publisher
from newswire.services.ingest.outcomes import FeedReport
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime

STREAM = "newswire:articles"


def ingest(settings: Settings, *feeds: str) -> list[FeedReport]:
    """`newswire ingest` of these feeds, in this process."""
    runtime = build_runtime(settings)
    try:
        return [runtime.pipeline.ingest_feed(url) for url in feeds]
    finally:
        runtime.close()


def stream(client: redis.Redis, name: str = STREAM) -> list[Article]:
    """Every Article on the stream, oldest first (either schema version)."""
    return [parse_article(f[b"data"]) for _id, f in client.xrange(name)]


def events(client: redis.Redis, name: str = STREAM) -> list[tuple[str, Article]]:
    """(event, Article) of every stream entry: `article.published` or `article.updated`."""
    return [(f[b"event"].decode(), parse_article(f[b"data"])) for _id, f in client.xrange(name)]


def publish(client: redis.Redis, n: int) -> list[str]:
    publisher = Publisher(client, Settings(redis_url="redis://unused"))
    ids = []
    for i in range(n):
        url = f"https://news.example/{i}"
        article = Article(id=f"{i:032x}", url=url, canonical_url=url, feed_url="https://news.example/rss",
                          title=f"Story {i}", body="text", fetched_at=datetime.now(UTC),
                          content_hash="0" * 64, extraction="full")  # fmt: skip
        publisher.publish(article, [url])
        ids.append(article.id)
    return ids
