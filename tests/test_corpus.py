"""The shared benchmark corpus through `newswire ingest`: body F1 at least bare trafilatura's."""

import pytest
import redis

from bench.corpus import corpus_root, load_pages
from bench.extraction import run
from tests.support.redis_server import RedisServer


@pytest.mark.timeout(900)
def test_corpus_f1_at_least_bare_trafilatura(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    root = corpus_root()
    if not (root / "ground-truth.json").exists():
        pytest.skip(
            f"benchmark corpus not found at {root} (set NEWSWIRE_SHARED or NEWSWIRE_CORPUS)"
        )
    pages = load_pages(root)

    result = run(pages, redis_server.url)

    print(f"\npipeline F1 {result.pipeline.f1:.4f}  bare trafilatura F1 {result.bare.f1:.4f}")
    assert result.published == len(pages)
    assert result.pipeline.f1 >= result.bare.f1
    assert result.pipeline.f1 > 0.9  # sanity: the metric and mapping work at all
