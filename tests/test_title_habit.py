"""A site's headline source, learned from its feed titles: the rule (pure), the counts in Redis
(TTL, halving), and a sitemap's untitled pages titled the way the site's feed titles them."""

import json
from datetime import UTC, datetime

import pytest
import redis
from newswire.schemas.feed import FeedEntry
from newswire.services import keys
from newswire.services.extract.normalize import build_article
from newswire.services.extract.page import extract
from newswire.services.extract.titlehabit import PICK, SEEN, TitleHabit, agreeing, labelled
from newswire.services.ingest.titlehabits import HALVE_AFTER, KNOWN_PAGES, TTL, TitleHabits
from newswire.services.settings import Settings

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import ingest, stream
from tests.support.processes import newswire
from tests.support.site import Site

SITE = "The Daily Fixture"
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def seo_page(headline: str, seo: str, topic: str) -> str:
    """A page whose og:title is the headline its feed uses, while its <h1> and <title> carry
    a longer search-engine line: the consensus of the page's sources is the SEO line."""
    page = article_page(headline, paragraphs(topic))
    page = page.replace(f"<h1>{headline}</h1>", f"<h1>{seo}</h1>")
    return page.replace(f"<title>{headline} |", f"<title>{seo} |")


# -- the rule -------------------------------------------------------------------------------


def test_candidates_are_named_by_source_and_place() -> None:
    claims = [("og:title", "A"), ("h1", "B"), ("h1", "C"), ("title", "D")]
    assert [name for name, _ in labelled(claims)] == ["og:title", "h1", "h1#1", "title"]


def test_agreement_compares_cleaned_titles_and_scores_the_rule_too() -> None:
    claims = [("og:title", "Short headline"), ("h1", "A longer line for search engines"),
              ("title", "A longer line for search engines | The Daily Fixture")]  # fmt: skip
    # The <title>'s site decoration goes before comparing; the rule picks the SEO line.
    assert agreeing("A longer line for search engines", claims, SITE, None) == [
        "h1", "title", PICK,
    ]  # fmt: skip
    assert agreeing("Short headline", claims, SITE, None) == ["og:title"]
    assert agreeing("Nothing of the page", claims, SITE, None) == []
    assert agreeing("", claims, SITE, None) == []


def test_a_learned_source_must_beat_the_rule_on_the_sites_own_pages() -> None:
    assert TitleHabit.from_counts({SEEN: 4, "og:title": 4}).source == "og:title"
    # The rule agrees as often: nothing to learn.
    assert TitleHabit.from_counts({SEEN: 4, "og:title": 4, PICK: 4}).source is None
    # A site that mixes its habits keeps the rule (3 of 5 is below MIN_SHARE).
    assert TitleHabit.from_counts({SEEN: 5, "og:title": 3, PICK: 2}).source is None
    assert TitleHabit.from_counts({SEEN: 5, "jsonld": 4, PICK: 1}).source == "jsonld"
    assert TitleHabit.from_counts({}).source is None


def test_the_learned_source_titles_an_untitled_entry_and_a_feed_title_still_wins() -> None:
    page = extract(seo_page("Bus lines extended", "Bus lines: all you need to know in 2026",
                            "transit"), "https://fixture.example/a")  # fmt: skip
    habit = TitleHabit.from_counts({SEEN: 3, "og:title": 3})

    def title(entry: FeedEntry, used: TitleHabit | None) -> str:
        return build_article(entry, fetched_url="https://fixture.example/a", page=page,
                             error=None, now=NOW, title_habit=used).title  # fmt: skip

    untitled = FeedEntry(feed_url="https://fixture.example/sitemap.xml",
                         link="https://fixture.example/a")  # fmt: skip
    assert title(untitled, None) == "Bus lines: all you need to know in 2026"
    assert title(untitled, habit) == "Bus lines extended"
    titled = untitled.model_copy(update={"title": "The feed's own"})
    assert title(titled, habit) == "The feed's own"
    # A page without the learned candidate falls back to the rule.
    assert title(untitled, TitleHabit.from_counts({SEEN: 3, "jsonld": 3})) == (
        "Bus lines: all you need to know in 2026"
    )


# -- the counts in Redis --------------------------------------------------------------------


def test_evidence_is_written_in_batches_with_a_ttl_and_halved_past_the_cap(
    redis_client: redis.Redis,
) -> None:
    clock = [0.0]
    habits = TitleHabits(redis_client, "newswire", clock=lambda: clock[0])
    key = keys.site_titles("newswire", "fixture.example")
    habits.learn("fixture.example", ["og:title"])
    assert not redis_client.exists(key)  # not due yet: no round trip per story
    clock[0] = 31.0
    habits.learn("fixture.example", ["og:title", PICK])
    assert redis_client.hgetall(key) == {b"seen": b"2", b"og:title": b"2", b"pick": b"1"}
    assert 0 < int(redis_client.ttl(key)) <= TTL
    for _ in range(HALVE_AFTER):
        habits.learn("fixture.example", ["h1"])
    habits.flush()
    counts = {k.decode(): int(v) for k, v in redis_client.hgetall(key).items()}
    # 66 pages counted, then halved: recent pages outweigh old ones; a count of 1 goes.
    assert counts == {"seen": 33, "og:title": 1, "h1": 32}
    fresh = TitleHabits(redis_client, "newswire")
    assert fresh.habit("fixture.example").source == "h1"


def test_a_well_known_site_is_compared_on_a_sample_of_its_pages(
    redis_client: redis.Redis,
) -> None:
    habits = TitleHabits(redis_client, "newswire")
    for _ in range(KNOWN_PAGES):
        habits.learn("known.example", ["og:title"])
    assert all(habits.wants("known.example") for _ in range(50))  # not written yet
    habits.flush()  # the write's reply says how many pages the site is known from
    assert all(habits.wants("new.example") for _ in range(50))
    sampled = sum(habits.wants("known.example") for _ in range(4000))
    assert 800 < sampled < 1200  # one page in SAMPLE (4)
    # Another process learns the same from reading the site's habit.
    other = TitleHabits(redis_client, "newswire")
    other.habit("known.example")
    assert sum(other.wants("known.example") for _ in range(4000)) < 1200


def test_an_acl_without_the_sites_keys_costs_no_story(
    redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker user defined before this key family existed is refused its commands: the
    rule titles the page and learning is dropped, with one warning, never a failed story."""
    redis_client.acl_setuser("old-worker", enabled=True, passwords=["+pw"], keys=["~newswire:x"],
                             commands=["+@all"])  # fmt: skip
    kwargs = redis_client.connection_pool.connection_kwargs
    old = redis.Redis(host=kwargs["host"], port=kwargs["port"], username="old-worker",
                      password="pw")  # fmt: skip
    try:
        habits = TitleHabits(old, "newswire")
        with caplog.at_level("WARNING"):
            assert habits.habit("fixture.example") == TitleHabit()
            habits.learn("fixture.example", ["og:title"])
            habits.flush()
            habits.learn("fixture.example", ["og:title"])
            habits.flush()
        warnings = [r for r in caplog.records if "title habits not kept" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        old.close()
        redis_client.acl_deluser("old-worker")


def test_a_sitemaps_untitled_pages_get_the_headline_the_sites_feed_uses(
    settings: Settings, site: Site, redis_client: redis.Redis, redis_server: object
) -> None:
    stories = [(f"/news/{i}", f"Council story {i} agreed",
                f"Council story {i}: what the vote means for you", f"council{i}")
               for i in range(4)]  # fmt: skip
    for path, headline, seo, topic in stories:
        site.add(path, seo_page(headline, seo, topic))
    site.add("/rss.xml", rss2([item(site.url(p), h) for p, h, _s, _t in stories[:3]]),
             content_type="application/rss+xml")  # fmt: skip
    sitemap = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url(stories[3][0])}</loc><lastmod>{datetime.now(UTC):%Y-%m-%d}</lastmod></url></urlset>"
    )
    site.add("/sitemap.xml", sitemap, content_type="application/xml")
    # Before anything is learned, the page's consensus (the SEO line) titles it.
    before = Settings(**{**settings.model_dump(), "key_prefix": "before",
                         "stream": "before:articles", "rejected_stream": "before:rejected"})  # fmt: skip
    ingest(before, site.url("/sitemap.xml"))
    assert [a.title for a in stream(redis_client, "before:articles")] == [stories[3][2]]

    ingest(settings, site.url("/rss.xml"))  # three titled entries: og:title agrees each time
    ingest(settings, site.url("/sitemap.xml"))
    titles = [a.title for a in stream(redis_client)]
    assert titles == [h for _p, h, _s, _t in stories]

    env = {"NEWSWIRE_REDIS_URL": str(settings.redis_url)}
    assert newswire("feeds", "add", site.url("/rss.xml"), env=env).returncode == 0
    listed = json.loads(newswire("feeds", "list", "--json", env=env).stdout)
    assert listed[0]["site"] == "127.0.0.1"
    assert listed[0]["title_habit"] == {
        "source": "og:title", "pages": 3, "agreed": {"og:title": 3},
    }  # fmt: skip
