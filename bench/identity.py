"""Story identity in `make bench`: near-duplicate cluster precision/recall on a labelled set of
wire copies, the cost per article, and Redis bytes per story for all identity state."""

import hashlib
import itertools
import json
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from newswire.schemas.article import Article
from newswire.services.delivery.publish import Publisher
from newswire.services.extract.normalize import content_hash
from newswire.services.extract.page import extract
from newswire.services.identity.clusters import bands
from newswire.services.settings import Settings
from newswire.workers.stack import RedisProcess

from bench.wire import KINDS as COPY_KINDS
from bench.wire import copies, kind_copy, quoting


@dataclass(frozen=True)
class ClusterQuality:
    stories: int
    copies: int
    negatives: int  # other stories (not copied) mixed in
    precision: float
    recall: float
    signature_ms: float  # bands() per article, median
    publish_ms: float  # the whole publish (identity checks, cluster vote, XADD), median


@dataclass(frozen=True)
class IdentityMemory:
    stories: int
    bytes_per_story: float  # all identity state, stream excluded
    by_kind: dict[str, float]  # bytes per story by key family
    stream_bytes_per_story: float


def _article(n: int, url: str, body: str) -> Article:
    return Article(
        id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, canonical_url=url,
        feed_url="https://bench.example/rss", title=f"Story {n}", body=body,
        fetched_at="2026-11-28T10:00:00Z", word_count=len(body.split()),
        content_hash=content_hash(body), extraction="full",
    )  # fmt: skip


def _bodies(root: Path) -> list[tuple[str, list[str]]]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    result = []
    for key, value in truth.items():
        paras = [p for p in str(value.get("articleBody", "")).split("\n") if p.strip()]
        if len(" ".join(paras).split()) >= 80:
            result.append((str(value.get("title") or key), paras))
    return result


def clusters(root: Path, redis_url: str, copied: int = 120, per_story: int = 4) -> ClusterQuality:
    """`copied` stories of the extraction corpus, each printed by `per_story` sites (own
    template, boilerplate, dateline, word edits, cut or added paragraph), extracted by
    newswire, plus the corpus's other stories as same-period different stories; published in
    a shuffled order; pairwise precision and recall of the resulting clusters."""
    stories = _bodies(root)
    rnd = random.Random(7)
    rnd.shuffle(stories)
    items: list[tuple[int, str, str]] = []  # (truth label, url, extracted body)
    for label, (title, paras) in enumerate(stories):
        n = per_story if label < copied else 1
        for c in copies(label, title, paras, n=n):
            url = f"https://{c.site}.example/story/{label}"
            items.append((label, url, extract(c.html, url).body))
    return _score(items, redis_url, copied, copied * per_story, len(stories) - copied)


@dataclass(frozen=True)
class KindRecall:
    kind: str
    pairs: int
    recall: float


def trimmed(
    root: Path, redis_url: str, copied: int = 120
) -> tuple[ClusterQuality, list[KindRecall]]:
    """Wire copy as papers trim it: each of `copied` stories printed four ways (as sent,
    re-headlined with ~4% edits, cut to 50-70% plus a local paragraph, trimmed with an
    editor's note), beside the other corpus stories, a third of which quote two paragraphs
    of a copied story in their middle (same topic, not a copy). Pairwise precision, recall,
    and recall of each kind against its story's as-sent copy."""
    stories = _bodies(root)
    rnd = random.Random(11)
    rnd.shuffle(stories)
    items: list[tuple[int, str, str]] = []
    kinds: dict[str, str] = {}
    for label, (title, paras) in enumerate(stories):
        if label < copied:
            for site, kind in enumerate(COPY_KINDS):
                c = kind_copy(kind, label, title, paras, site)
                url = f"https://{c.site}.example/story/{label}"
                kinds[url] = kind
                items.append((label, url, extract(c.html, url).body))
        else:
            source = stories[rnd.randrange(copied)][1] if label % 3 == 0 else None
            c = (
                quoting(label, title, paras, source)
                if source
                else copies(label, title, paras, 1)[0]
            )
            url = f"https://{c.site}.example/story/{label}"
            items.append((label, url, extract(c.html, url).body))
    quality, assigned = _score(items, redis_url, copied, copied * len(COPY_KINDS),
                               len(stories) - copied, keep=True)  # fmt: skip
    by_kind = []
    for kind in COPY_KINDS[1:]:
        pairs = [(u, u.replace(u.split(".", 1)[0].split("//")[1], "paper0", 1))
                 for u in kinds if kinds[u] == kind]  # fmt: skip
        together = sum(assigned[a] == assigned[b] for a, b in pairs)
        by_kind.append(KindRecall(kind, len(pairs), together / len(pairs) if pairs else 1.0))
    return quality, by_kind


def _score(
    items: list[tuple[int, str, str]], redis_url: str, copied: int, copies_n: int,
    negatives: int, keep: bool = False,
) -> Any:  # fmt: skip
    rnd = random.Random(7)
    rnd.shuffle(items)
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    publisher = Publisher(client, Settings(redis_url=redis_url))
    assigned: dict[str, str] = {}
    signature: list[float] = []
    publish: list[float] = []
    for n, (_label, url, body) in enumerate(items):
        started = time.perf_counter()
        bands(body)
        signature.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = publisher.publish(_article(n, url, body), [url])
        publish.append(time.perf_counter() - started)
        assert result.new and result.article is not None, (url, result)
        assigned[url] = result.article.cluster_id or ""
    client.close()
    tp = fp = fn = 0
    for (la, ua, _a), (lb, ub, _b) in itertools.combinations(items, 2):
        same_cluster = assigned[ua] == assigned[ub]
        if la == lb:
            tp += same_cluster
            fn += not same_cluster
        else:
            fp += same_cluster
    quality = ClusterQuality(
        copied, copies_n, negatives,
        tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0,
        statistics.median(signature) * 1000, statistics.median(publish) * 1000,
    )  # fmt: skip
    return (quality, assigned) if keep else quality


KINDS = ("seen", "story", "content", "lsh", "aliases")


def memory(tmp: Path, stories: int = 5000) -> IdentityMemory:
    """Bytes per story of every identity key family, after publishing `stories` distinct
    stories of ~600 words, each known under three links (link, final URL, canonical)."""
    server = RedisProcess(tmp / "identity-memory")
    server.start()
    client = redis.Redis.from_url(server.url)
    try:
        publisher = Publisher(client, Settings(redis_url=server.url))
        rnd = random.Random(3)
        words = [f"w{i}" for i in range(5000)]
        for n in range(stories):
            body = " ".join(rnd.choice(words) for _ in range(600))
            url = f"https://paper{n % 50}.example/2026/11/28/story-{n}"
            publisher.publish(
                _article(n, url, body), [url + "?utm_source=rss", url.replace("https", "http")]
            )
        by_kind = dict.fromkeys(KINDS, 0.0)
        stream = 0
        for key in client.scan_iter(count=1000):
            name = key.decode()
            size = int(client.memory_usage(key, samples=0) or 0)
            kind = next((k for k in KINDS if f":{k}:" in name), None)
            if kind:
                by_kind[kind] += size
            elif name == "newswire:articles":
                stream += size
    finally:
        client.close()
        server.stop()
    per = {k: v / stories for k, v in by_kind.items()}
    return IdentityMemory(stories, sum(per.values()), per, stream / stories)
