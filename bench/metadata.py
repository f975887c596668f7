"""Metadata accuracy where ground truth exists: the demo generator's site, whose titles, times
and bylines are known (the extraction corpus has ground truth for the body only)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import redis
from newswire.schemas.article import Article
from newswire.workers.demo_site import stories, write_demo_site
from newswire.workers.site_server import SiteServer


def run(redis_url: str) -> dict[str, float]:
    """Share of articles whose title, published time (to the second) and authors are right."""
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    with tempfile.TemporaryDirectory() as tmp:
        server = SiteServer(Path(tmp))
        try:
            feeds, _count = write_demo_site(Path(tmp), server.base)
            truth = {s.slug: s for s in stories()}
            env = {
                **os.environ,
                "NEWSWIRE_REDIS_URL": redis_url,
                "NEWSWIRE_FETCH_ALLOW_HOSTS": server.host_port,
            }
            subprocess.run(
                [sys.executable, "-m", "newswire.workers.cli", "ingest", *feeds],
                env=env,
                check=True,
                capture_output=True,
            )
        finally:
            server.close()
    articles = [
        Article.model_validate_json(f[b"data"]) for _id, f in client.xrange("newswire:articles")
    ]
    client.close()
    right = {"title": 0, "published_at": 0, "authors": 0}
    for article in articles:
        story = truth[Path(article.canonical_url or "").stem]
        right["title"] += article.title == story.title
        right["published_at"] += article.published_at == story.published
        right["authors"] += article.authors == [story.author]
    return {field: n / len(articles) for field, n in right.items()} | {"articles": len(articles)}
