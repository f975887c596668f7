"""One story, one identity, over real HTTP and a real Redis: decorated links, AMP renderings and
the same body under two paths publish once; a changed body publishes one `article.updated`."""

import hashlib
import json
import random
import threading
from pathlib import Path

import jsonschema
import pytest
import redis
from newswire.schemas.__main__ import SCHEMA_DIR
from newswire.schemas.article import Article, parse_article
from newswire.services.delivery.calls import EVENT_ARTICLE, EVENT_UPDATED
from newswire.services.delivery.publish import Publisher
from newswire.services.extract.normalize import content_hash
from newswire.services.ingest.outcomes import Outcome
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.workers.runtime import build_runtime

from bench.wire import copies
from tests.support.pages import article_page, item, rss2
from tests.support.pipeline import events, ingest
from tests.support.processes import Processes, newswire, stack_env, wait_for
from tests.support.redis_server import RedisServer
from tests.support.site import Route, Site

STREAM = "newswire:articles"
STORY = [
    "The regional water board approved a plan on Monday to rebuild the old northern reservoir, "
    "a project that engineers say will secure supplies for another fifty years.",
    "The vote followed a year of public hearings in which farmers, anglers and residents of "
    "the valley argued over how much land the enlarged lake should cover.",
    "Construction is due to begin next spring. The board expects the work to take three "
    "summers and has promised that the hiking trail around the dam will stay open throughout.",
]
OTHER = [
    "A second story on the same reservoir: anglers held their annual competition on its "
    "shores on Sunday, and the winner landed a pike of almost nine kilograms before noon.",
    "Organisers counted more entrants than in any year since the club was founded, helped by "
    "mild weather and a new bus link from the town centre to the northern car park.",
    "The club's chair thanked the volunteers who cleared the paths and said next year's "
    "event would add a category for young anglers under sixteen.",
]


def atom(entries: list[tuple[str, str, str]]) -> str:
    """An Atom feed of (link, title, updated) entries."""
    body = "".join(
        f"<entry><title>{title}</title><link href='{link}'/><id>{link}</id>"
        f"<updated>{updated}</updated><summary>{title}</summary></entry>"
        for link, title, updated in entries
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        "<title>Fixture</title><id>urn:fixture</id><updated>2026-11-27T10:00:00Z</updated>"
        f"{body}</feed>"
    )


def test_aggregator_decorations_and_amp_renderings_publish_once(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    story = site.add("/news/reservoir", article_page("Reservoir plan approved", STORY))
    site.add("/news/reservoir/amp", article_page("Reservoir plan approved", STORY))
    site.add("/amp/news/reservoir", article_page("Reservoir plan approved", STORY))
    site.add("/story.php?id=101", article_page("Anglers' day", OTHER))
    site.add("/story.php?id=102", article_page("Reservoir plan approved", STORY[:2] + OTHER[:1]))
    decorated = [
        story + "?ref=rss",
        story + "?source=homepage",
        story + "?utm_source=agg&utm_medium=rss",
        story + "?fbclid=IwAR0",
        story + "?xtor=RSS-3208",
        story + "?at_medium=RSS&at_campaign=feed",
        story + "/",
        story + "/amp",
        story + "?outputType=amp",
        site.url("/amp/news/reservoir"),
        # The site's mobile host (this machine cannot resolve it: one story either way).
        story.replace("://", "://m."),
    ]
    feed = site.add(
        "/aggregator.xml",
        rss2(
            [item(link, f"Reservoir ({n})") for n, link in enumerate(decorated)]
            + [item(site.url("/story.php?id=101"), "Anglers"), item(site.url("/story.php?id=102"), "Other")]
        ),
        "application/rss+xml",
    )  # fmt: skip

    [report] = ingest(settings, feed)
    fetched = len(site.paths_hit())
    [again] = ingest(settings, feed)

    assert report.counts[Outcome.NEW] == 3, report.line()
    assert report.counts[Outcome.DUPLICATE] == len(decorated) - 1, report.line()
    published = [a for _e, a in events(redis_client)]
    assert sorted(a.canonical_url or "" for a in published) == sorted(
        [story, site.url("/story.php?id=101"), site.url("/story.php?id=102")]
    )
    # Every decoration is known now: the next poll fetches the feed and no page at all.
    assert again.counts[Outcome.DUPLICATE] == len(decorated) + 2
    assert site.paths_hit()[fetched:] == ["/aggregator.xml"]


def test_same_body_under_two_paths_is_one_story_with_an_alias(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    first = site.add("/2026/11/27/reservoir", article_page("Reservoir plan approved", STORY))
    second = site.add("/archive/reservoir-plan", article_page("Reservoir plan approved", STORY))
    other = site.add("/2026/11/27/anglers", article_page("Anglers' day", OTHER))
    feed = site.add(
        "/rss.xml",
        rss2([item(first, "Reservoir"), item(second, "Reservoir again"), item(other, "Anglers")]),
        "application/rss+xml",
    )

    [report] = ingest(settings, feed)
    [again] = ingest(settings, feed)

    assert report.counts[Outcome.NEW] == 2, report.line()
    [dup] = [r for r in report.results if r.outcome is Outcome.DUPLICATE]
    published = {a.canonical_url: a for _e, a in events(redis_client)}
    assert set(published) == {first, other}
    assert dup.link == second and dup.article_id == published[first].id
    assert dup.reason == f"same body as story {published[first].id}"
    runtime = build_runtime(settings)
    try:
        assert runtime.pipeline.publisher.aliases_of(published[first].id) == [second]
    finally:
        runtime.close()
    # The alias is known now: the second poll fetches none of the three pages.
    assert again.counts[Outcome.DUPLICATE] == 3
    assert site.paths_hit().count("/archive/reservoir-plan") == 1
    # `newswire story` finds the story by its alias and lists it.
    env = {"NEWSWIRE_REDIS_URL": settings.redis_url}
    shown = newswire("story", second + "?utm_source=x", "--json", env=env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert (record["story_id"], record["version"]) == (published[first].id, 1)
    assert record["aliases"] == [second]
    missing = newswire("story", site.url("/never-seen"), env=env, timeout=60)
    assert missing.returncode == 4 and "no story known" in missing.stderr


def test_changed_body_publishes_one_update_and_unchanged_nothing(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    page = site.add("/news/reservoir", article_page("Reservoir plan approved", STORY))
    feed = site.add(
        "/atom.xml",
        atom([(page, "Reservoir plan approved", "2026-11-27T10:00:00Z")]),
        "application/atom+xml",
    )
    ingest(settings, feed)
    [(event, v1)] = events(redis_client)
    assert (event, v1.version, v1.previous_content_hash) == (EVENT_ARTICLE, 1, None)

    # The same entry polled again: nothing fetched, nothing published.
    [same] = ingest(settings, feed)
    assert same.counts[Outcome.DUPLICATE] == 1 and len(events(redis_client)) == 1
    assert site.paths_hit().count("/news/reservoir") == 1

    # The entry says it was updated, but the page is the same: fetched, nothing published.
    site.add("/atom.xml", atom([(page, "Reservoir plan approved", "2026-11-27T11:00:00Z")]),
             "application/atom+xml")  # fmt: skip
    [unchanged] = ingest(settings, feed)
    assert unchanged.counts[Outcome.DUPLICATE] == 1, unchanged.line()
    assert len(events(redis_client)) == 1
    assert site.paths_hit().count("/news/reservoir") == 2

    # A real change: one article.updated, version 2, with the same id.
    corrected = [*STORY, "Correction: an earlier version misstated the start of construction."]
    site.add("/news/reservoir", article_page("Reservoir plan approved", corrected))
    site.add("/atom.xml", atom([(page, "Reservoir plan approved", "2026-11-27T12:00:00Z")]),
             "application/atom+xml")  # fmt: skip
    [changed] = ingest(settings, feed)
    [again] = ingest(settings, feed)

    assert changed.counts[Outcome.UPDATED] == 1, changed.line()
    assert again.counts[Outcome.DUPLICATE] == 1 and again.counts[Outcome.UPDATED] == 0
    [(_e1, _v1), (event2, v2)] = events(redis_client)
    assert event2 == EVENT_UPDATED
    assert (v2.id, v2.version, v2.previous_content_hash) == (v1.id, 2, v1.content_hash)
    assert v2.content_hash != v1.content_hash and "Correction:" in v2.body
    assert v2.cluster_id == v1.cluster_id


def test_updates_stop_after_the_window(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    page = site.add("/news/reservoir", article_page("Reservoir plan approved", STORY))
    feed = site.add("/atom.xml", atom([(page, "Reservoir", "2026-11-27T10:00:00Z")]),
                    "application/atom+xml")  # fmt: skip
    closed = settings.model_copy(update={"update_window_hours": 0})
    ingest(closed, feed)
    site.add("/news/reservoir", article_page("Reservoir plan approved", OTHER))
    site.add("/atom.xml", atom([(page, "Reservoir", "2026-11-27T12:00:00Z")]),
             "application/atom+xml")  # fmt: skip

    [report] = ingest(closed, feed)

    assert report.counts[Outcome.DUPLICATE] == 1 and len(events(redis_client)) == 1
    assert site.paths_hit().count("/news/reservoir") == 1


def test_concurrent_publishers_of_one_story_publish_once(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """Eight threads publish the same body under eight links at once: one wins, the others
    become its aliases (content identity is checked inside the publish script)."""
    runtime = build_runtime(settings)
    base = Article(
        id="0" * 32, url="https://paper.example/a", canonical_url="https://paper.example/a",
        feed_url="https://paper.example/rss", body="\n\n".join(STORY), word_count=90,
        fetched_at="2026-11-27T10:00:00Z", content_hash="c" * 64, extraction="full",
    )  # fmt: skip
    results = []

    def publish(n: int) -> None:
        url = f"https://paper.example/path-{n}"
        article = base.model_copy(update={"id": f"{n:032x}", "url": url, "canonical_url": url})
        results.append(runtime.pipeline.publisher.publish(article, [url]))

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runtime.close()
    assert sum(r.new for r in results) == 1
    assert {r.why for r in results if not r.new} == {"alias"}
    assert redis_client.xlen(STREAM) == 1


def test_wire_copies_share_a_cluster_and_other_stories_do_not(
    settings: Settings, site: Site, redis_client: redis.Redis
) -> None:
    links = []
    for c in copies(1, "Reservoir plan approved", STORY * 2, n=4):
        links.append(site.add(f"/{c.site}/reservoir", c.html))
    for c in copies(2, "Anglers' day", OTHER * 2, n=2):
        links.append(site.add(f"/{c.site}/anglers", c.html))
    feed = site.add("/rss.xml", rss2([item(u, "x") for u in links]), "application/rss+xml")

    [report] = ingest(settings, feed)

    assert report.counts[Outcome.NEW] == 6, report.line()
    published = {a.url: a for _e, a in events(redis_client)}
    reservoir = {published[u].cluster_id for u in links[:4]}
    anglers = {published[u].cluster_id for u in links[4:]}
    assert len(reservoir) == 1 and len(anglers) == 1 and reservoir != anglers
    # The cluster is named after its first story.
    assert reservoir == {published[links[0]].id}


def test_old_consumer_validation_still_passes(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """A consumer generated from article.v1.schema.json keeps validating what newswire writes
    with NEWSWIRE_ARTICLE_SCHEMA_VERSION=1; version-2 payloads validate against v2's schema,
    which accepts fields added later."""
    v1_schema = json.loads((SCHEMA_DIR / "article.v1.schema.json").read_text())
    v2_schema = json.loads((SCHEMA_DIR / "article.v2.schema.json").read_text())
    article = Article(
        id="a" * 32, url="https://paper.example/a", canonical_url="https://paper.example/a",
        feed_url="https://paper.example/rss", body="x", fetched_at="2026-11-27T10:00:00Z",
        content_hash="c" * 64, extraction="full", aliases=["https://paper.example/b"],
    )  # fmt: skip
    for version, schema in ((1, v1_schema), (2, v2_schema)):
        redis_client.delete(STREAM)
        for key in redis_client.scan_iter("newswire:articles:*"):
            redis_client.delete(key)
        publisher = Publisher(
            redis_client, settings.model_copy(update={"article_schema_version": version})
        )
        assert publisher.publish(article, []).new
        [(_id, fields)] = redis_client.xrange(STREAM)
        payload = json.loads(fields[b"data"])
        jsonschema.validate(payload, schema)
        assert fields[b"schema_version"] == str(version).encode()
        assert parse_article(fields[b"data"]).id == article.id
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**payload, "schema_version": 2}, v1_schema)
    jsonschema.validate({**payload, "a_field_added_in_2027": 1}, v2_schema)


def test_update_exactly_once_with_a_worker_killed_mid_update(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    page = site.add("/news/reservoir", article_page("Reservoir plan approved", STORY))
    feed = site.add("/atom.xml", atom([(page, "Reservoir", "2026-11-27T10:00:00Z")]),
                    "application/atom+xml")  # fmt: skip
    # A 4 s deadline: the page answers in 3 s, and the task's time limit stays under the
    # visibility timeout.
    procs = Processes(stack_env(redis_server.url, site, NEWSWIRE_FETCH_DEADLINE="4"), tmp_path)
    try:
        Registry(redis_client).add(feed, 2)
        victim = procs.worker("victim", concurrency=1)
        procs.scheduler()
        wait_for(lambda: redis_client.xlen(STREAM) == 1, 60, "version 1")

        # The page changes and answers slowly: the kill lands while the update is in flight.
        corrected = [*STORY, "Correction: an earlier version misstated the start of work."]
        site.routes["/news/reservoir"] = Route(
            body=article_page("Reservoir plan approved", corrected).encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
            delay=3.0,
        )
        fetched = site.paths_hit().count("/news/reservoir")
        site.add("/atom.xml", atom([(page, "Reservoir", "2026-11-27T12:00:00Z")]),
                 "application/atom+xml")  # fmt: skip
        wait_for(lambda: site.paths_hit().count("/news/reservoir") > fetched, 30, "the re-fetch")
        procs.kill(victim)
        assert redis_client.xlen(STREAM) == 1, "the kill must land before version 2"
        procs.worker("rescuer", concurrency=2)

        wait_for(lambda: redis_client.xlen(STREAM) >= 2, 90, "version 2")
        # More polls of the same entry, and the killed task's redelivery, change nothing.
        polls = site.paths_hit().count("/atom.xml")
        wait_for(lambda: site.paths_hit().count("/atom.xml") >= polls + 3, 30, "three more polls")
        wait_for(lambda: not redis_client.hlen("unacked"), 60, "unacked tasks to settle")
    except BaseException:
        print(procs.logs())
        raise
    finally:
        procs.stop_all()
    published = events(redis_client)
    assert [(e, a.version) for e, a in published] == [(EVENT_ARTICLE, 1), (EVENT_UPDATED, 2)]
    assert published[1][1].previous_content_hash == published[0][1].content_hash


def test_identity_outlives_stream_trimming(settings: Settings, redis_client: redis.Redis) -> None:
    """A story trimmed off the stream stays known for its TTL: it is not published again."""
    publisher = Publisher(redis_client, settings.model_copy(update={"stream_maxlen": 1000}))

    def article(n: int) -> Article:
        url = f"https://paper.example/story/{n}"
        return Article(
            id=f"{n:032x}", url=url, canonical_url=url, feed_url="https://paper.example/rss",
            body=f"Story {n}.", fetched_at="2026-11-27T10:00:00Z", content_hash=f"{n:064x}",
            extraction="full",
        )  # fmt: skip

    for n in range(1500):
        assert publisher.publish(article(n), [f"https://paper.example/story/{n}"]).new
    first = parse_article(redis_client.xrange(STREAM, count=1)[0][1][b"data"])
    assert first.id != article(0).id, "the first stories must have been trimmed away"

    again = publisher.publish(article(0), ["https://paper.example/story/0?utm_source=x"])
    [known] = publisher.lookup(["https://paper.example/story/0"])

    assert not again.new and again.why == "story"
    assert known is not None and known.version == 1 and known.story_id == article(0).id
    ttl = redis_client.ttl(f"{STREAM}:story:{article(0).id}")
    assert 0 < ttl <= settings.seen_ttl_days * 86400


def wire_story(seed: int, paragraphs: int = 12) -> list[str]:
    """A made-up story: paragraphs of 40 words drawn from a 3,000-word vocabulary."""
    rnd = random.Random(seed)
    return [" ".join(f"w{rnd.randrange(3000)}" for _ in range(40)) for _ in range(paragraphs)]


def test_bottom_trimmed_wire_copy_joins_its_cluster_a_quoting_story_does_not(
    settings: Settings, redis_client: redis.Redis
) -> None:
    """Papers cut agency copy from the bottom: five stories, each as sent and cut to its
    first 40% with a local line after it (whole-body Jaccard ~0.4, which the body's bands
    alone catch a third of the time). Every cut copy joins its story's cluster by the lead's
    bands; a story on the same topic that quotes two paragraphs of one in its middle does
    not."""
    publisher = Publisher(redis_client, settings)

    def publish(name: str, paragraphs: list[str]) -> str:
        url = f"https://{name}.example/story"
        body = "\n\n".join(paragraphs)
        article = Article(
            id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, canonical_url=url,
            feed_url="https://wire.example/rss", body=body, fetched_at="2026-12-06T10:00:00Z",
            word_count=len(body.split()), content_hash=content_hash(body), extraction="full",
        )  # fmt: skip
        result = publisher.publish(article, [url])
        assert result.new and result.article is not None
        return result.article.cluster_id or ""

    local = "Local officials said they would give an update at the council meeting on Friday."
    for n in range(5):
        story = wire_story(n)
        sent = publish(f"sent{n}", story)
        cut = publish(f"cut{n}", [*story[:5], local])
        assert cut == sent, f"story {n}: the cut copy is in a cluster of its own"
    other = wire_story(99)
    quoting = publish("quoting", [*other[:5], *wire_story(0)[3:5], *other[5:]])
    assert quoting == hashlib.sha256(b"https://quoting.example/story").hexdigest()[:32]
