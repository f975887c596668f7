"""Consent, login and subscription walls: told from articles (on made-up pages modelled on the
platforms' markup), and never published as a story's body."""

import pytest
import redis
from newswire.services.extract.page import extract
from newswire.services.extract.walls import detect_wall, word_count
from newswire.services.settings import Settings

from tests.support import walls
from tests.support.pages import item, rss2
from tests.support.pipeline import ingest, stream
from tests.support.site import Site

URL = "https://news.example/2026/11/story"


@pytest.mark.parametrize(
    ("page", "kind", "platform"),
    [
        (walls.onetrust_wall, "consent", "OneTrust"),
        (walls.didomi_wall, "consent", "Didomi"),
        (walls.quantcast_wall, "consent", "Quantcast Choice"),
        (walls.sourcepoint_wall, "consent", "Sourcepoint"),
        (walls.subscription_wall, "subscription", None),
        (walls.login_wall, "login", None),
        (walls.paywalled_teaser, "paywalled teaser", None),
    ],
)
def test_walls_are_told_and_named(page, kind: str, platform: str | None) -> None:  # type: ignore[no-untyped-def]
    got = extract(page(), URL)
    assert got.wall is not None, got.body[:300]
    assert (got.wall.kind, got.wall.platform) == (kind, platform)


@pytest.mark.parametrize(
    "page", [walls.article_with_consent_banner, walls.bakery_story], ids=["banner", "bakery"]
)
def test_articles_that_carry_a_banner_or_mention_cookies_are_no_walls(page) -> None:  # type: ignore[no-untyped-def]
    assert extract(page(), URL).wall is None


def test_rules_on_text() -> None:
    consent = (
        "We use cookies and similar technologies.\n\nOur partners process personal data for "
        "personalised ads.\n\nAccept all or manage preferences."
    )
    assert detect_wall(consent, "<html></html>") is not None
    # One paragraph of three speaking of cookies is not enough...
    mixed = (
        "The council approved the budget on Tuesday after a long debate.\n\nCookies, privacy "
        "and partners were not on the agenda.\n\nThe vote was eleven to four."
    )
    assert detect_wall(mixed, "<html></html>") is None
    # ...and a long body is an article, whatever it talks about.
    long_text = "\n\n".join([consent] * 40)
    assert detect_wall(long_text, '<div id="onetrust-banner-sdk"></div>') is None
    # A long paywalled article served in full (metered paywalls do) is no teaser.
    not_free = '<script type="application/ld+json">{"isAccessibleForFree": false}</script>'
    assert detect_wall("word " * 300, not_free) is None
    assert detect_wall("A short teaser of the story.", not_free) is not None
    # Japanese has no spaces: 400 characters are about 200 words, not 1.
    assert word_count("日本語の文章" * 60) == 180


def test_a_wall_falls_back_to_the_feed_text(
    redis_client: redis.Redis, site: Site, settings: Settings
) -> None:
    site.add("/didomi.html", walls.didomi_wall())
    site.add("/paid.html", walls.subscription_wall())
    site.add("/fine.html", walls.article_with_consent_banner())
    site.add("/teaser.html", walls.paywalled_teaser("Rail freight boom"))
    site.add("/teaser2.html", walls.paywalled_teaser("Rail freight bust"))
    feed = site.add(
        "/feed.xml",
        rss2([
            item(site.url("/didomi.html"), "Élections", "Les résultats du premier tour sont tombés."),
            item(site.url("/paid.html"), "Markets slide", "Stocks fell for a third day."),
            item(site.url("/fine.html"), "Harbour bridge", "The council approved the repairs."),
            item(site.url("/teaser.html"), "Rail freight boom", "Freight trains carry more."),
            item(site.url("/teaser2.html"), "Rail freight bust"),  # no text of its own
        ]),
        "application/rss+xml",
    )  # fmt: skip
    [report] = ingest(settings, feed)
    assert report.error is None
    by_title = {a.title: a for a in stream(redis_client)}
    wall = by_title["Élections"]
    assert wall.extraction == "feed_summary"
    assert wall.extraction_error == "page is a consent wall (Didomi)"
    assert wall.body == "Les résultats du premier tour sont tombés."
    paid = by_title["Markets slide"]
    assert paid.extraction == "feed_summary"
    assert paid.extraction_error == "page is a subscription wall"
    assert "Subscribe" not in paid.body
    fine = by_title["Harbour bridge"]
    assert fine.extraction == "full" and fine.extraction_error is None
    assert "Harbour bridge: paragraph 8" in fine.body
    # A paywalled teaser: the feed's text when the feed has some, else the teaser (the story's
    # own opening, not the wall's text), flagged either way.
    teaser = by_title["Rail freight boom"]
    assert (teaser.extraction, teaser.body) == ("feed_summary", "Freight trains carry more.")
    bare = by_title["Rail freight bust"]
    assert bare.extraction == "full" and "Rail freight: paragraph 2" in bare.body
    assert (
        bare.extraction_error
        == teaser.extraction_error
        == ("page is a paywalled teaser (isAccessibleForFree: false)")
    )
    assert redis_client.hget("newswire:metrics", "extractions|result=wall") == b"4"
    assert redis_client.hget("newswire:metrics", "extractions|result=full") == b"1"
