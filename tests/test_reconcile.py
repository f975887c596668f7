"""The reconciliation rules for titles, publication times and authors, pinned on made-up
claims (the Fundus corpus measures them on real pages: `make bench`)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import trafilatura
from newswire.schemas.feed import FeedEntry
from newswire.services.extract.metadata import (
    PageMeta,
    best_timestamp,
    page_language,
    parse_timestamp,
    read_meta,
    time_claims,
)
from newswire.services.extract.normalize import build_article
from newswire.services.extract.page import detect_language, extract
from newswire.services.extract.reconcile import (
    clean_authors,
    clean_title,
    pick_published,
    pick_title,
    pick_updated,
    url_date,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "site", "url", "want"),
    [
        ("Storm hits coast | CBC News", "CBC", "https://www.cbc.ca/news/x", "Storm hits coast"),
        ("Zinsen setzen Dax zu | Börsen-Zeitung", "Börsen-Zeitung", None, "Zinsen setzen Dax zu"),
        ("Ziele, Chancen – DW – 28.04.2023", None, "https://www.dw.com/de/x", "Ziele, Chancen"),
        ("BIP sinkt - WELT", None, "https://www.welt.de/x", "BIP sinkt"),
        ("地震、津波注意報：朝日新聞デジタル", "朝日新聞デジタル", None, "地震、津波注意報"),
        ("Idaho case | The Gateway Pundit | by Jane Doe", None,
         "https://www.thegatewaypundit.com/x", "Idaho case"),
        # Colons and dashes inside a headline stay.
        ("Climate change: Labor on track", "West Australian", None, "Climate change: Labor on track"),
        ("Epstein case - then a second claim", "Daily Star", "https://dailystar.co.uk/x",
         "Epstein case - then a second claim"),
        # Headlines may end in a part starting with a word that is "by" in another language.
        ("Game review - Door Kickers 2", None, None, "Game review - Door Kickers 2"),
        ("Home cinema guide - AV receivers compared", None, None,
         "Home cinema guide - AV receivers compared"),
        # A kicker before the headline is not a site suffix.
        ("Vierschanzentournee | Skisprung-Zoff", "Tageblatt", None, "Vierschanzentournee | Skisprung-Zoff"),
        # Korean sites separate the site with a standalone jamo; entities and invisible
        # characters (JSON-LD written from HTML, soft hyphens, zero-width spaces) go.
        ("불발··· 개정-정치ㅣ한국일보", "한국일보", None, "불발··· 개정-정치"),
        ("R&uuml;ckbau: K&uuml;hlt\u00fcrme", None, None, "Rückbau: Kühltürme"),
        ("Helikopter\u00adlandeplatz gesprengt\u200b", None, None, "Helikopterlandeplatz gesprengt"),
    ],
)  # fmt: skip
def test_titles_lose_site_decorations(
    raw: str, site: str | None, url: str | None, want: str
) -> None:
    assert clean_title(raw, site, url) == want


def test_the_title_most_sources_agree_on_wins() -> None:
    # og:title and twitter:title are one (SEO) source; the JSON-LD headline and the h1 agree.
    claims = [("social", "SEO: storm"), ("social", "SEO: storm"),
              ("jsonld", "Storm hits the coast"), ("h1", "Storm hits the coast")]  # fmt: skip
    assert pick_title(claims, None, None) == "Storm hits the coast"
    # A tie goes to the page's own headline.
    tie = [("social", "Short SEO title"), ("h1", "The real headline")]
    assert pick_title(tie, None, None) == "The real headline"
    assert pick_title([("title", "Only one | Site")], "Site", None) == "Only one"
    assert pick_title([], None, None) == ""


def test_a_trailing_section_label_backs_the_headline_without_it() -> None:
    # "X - News" (a section, not the site) supports "X": two sources against the h1's kicker.
    claims = [("social", "Drusen fordern Teilhabe"), ("h1", "Minderheit in Syrien - Drusen fordern Teilhabe"),
              ("title", "Drusen fordern Teilhabe - News")]  # fmt: skip
    assert pick_title(claims, "SRF", None) == "Drusen fordern Teilhabe"
    # Without the label there is no support: the tie goes to the h1.
    claims[2] = ("title", "Something else entirely")
    assert pick_title(claims, "SRF", None) == "Minderheit in Syrien - Drusen fordern Teilhabe"
    # A leading kicker is not cut: "Kicker: X" does not back "X".
    kicker = [("social", "Nationaler Veteranentag: Orden"), ("jsonld", "Nationaler Veteranentag: Orden"),
              ("h1", "Orden")]  # fmt: skip
    assert pick_title(kicker, None, None) == "Nationaler Veteranentag: Orden"


def test_on_a_tie_the_headline_beats_itself_with_a_section_label() -> None:
    # The social title and <title> carry a section ("-Politik"); a meta headline (social
    # too) is the headline alone. Both tie on two sources, since the labelled form backs X.
    claims = [("og:title", "Storm hits the coast-Politik"), ("headline", "Storm hits the coast"),
              ("title", "Storm hits the coast-Politik | Daily")]  # fmt: skip
    assert pick_title(claims, "Daily", None) == "Storm hits the coast"


def test_timestamps_keep_precision_and_zone() -> None:
    naive = parse_timestamp("2025-06-30T15:59:30")
    assert naive is not None and naive.quality == 2 and naive.offset is None
    zoned = parse_timestamp("2025-06-30T15:59:30+0200")
    assert zoned is not None and zoned.quality == 3 and zoned.offset == timedelta(hours=2)
    day = parse_timestamp("2025-06-30")
    assert day is not None and day.quality == 1
    # The most precise claim wins, the first among equals...
    best = best_timestamp(["2025-06-30", "2025-06-30T15:59:30+02:00", "2025-06-30T09:00:00Z"])
    assert best is not None and best.value == datetime(2025, 6, 30, 13, 59, 30, tzinfo=UTC)
    # ...and a zoneless time can be read in the zone another claim of the page states.
    assert naive.in_zone(timedelta(hours=2)).value == datetime(2025, 6, 30, 13, 59, 30, tzinfo=UTC)
    assert zoned.in_zone(timedelta(hours=5)) == zoned  # it had a zone: kept


def test_jsonld_beats_a_template_meta_and_nested_articles_count() -> None:
    html = (
        '<html><head><meta property="article:published_time" content="2025-06-30T15:59:00+00:00">'
        '<script type="application/ld+json">{"@type":"WebPage","mainEntity":{"@type":"NewsArticle",'
        '"datePublished":"2025-06-30T15:59:30+02:00","dateModified":"2025-06-30T18:00:00+02:00",'
        '"author":{"@type":"Person","name":"Anna Beispiel"}}}</script></head><body></body></html>'
    )
    meta = read_meta(trafilatura.load_html(html))
    assert meta.published is not None
    assert meta.published.value == datetime(2025, 6, 30, 13, 59, 30, tzinfo=UTC)
    assert meta.authors == ["Anna Beispiel"]


def test_publication_time_rules() -> None:
    page_time = parse_timestamp("2026-11-20T14:35:07+01:00")
    page_day = parse_timestamp("2026-11-20")
    feed = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    # A page time beats the feed's; the feed's time beats a page date without time.
    assert pick_published(page_time, feed, None, NOW) == page_time.value  # type: ignore[union-attr]
    assert pick_published(page_day, feed, None, NOW) == feed
    assert pick_published(None, None, None, NOW) is None
    # A date in the future (past a day of skew) or before 1995 is no publication date.
    future = parse_timestamp("2027-03-01T10:00:00Z")
    assert pick_published(future, feed, None, NOW) == feed
    assert pick_published(parse_timestamp("1970-01-01T00:00:00Z"), None, None, NOW) is None
    # The URL's day overrules a claim days away from it (a "last updated" shown as published).
    url = "https://news.example/2026/11/02/story.html"
    assert url_date(url) == datetime(2026, 11, 2, tzinfo=UTC)
    assert pick_published(page_time, None, url, NOW) == datetime(2026, 11, 2, tzinfo=UTC)
    near_feed = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert pick_published(page_time, near_feed, url, NOW) == near_feed
    assert url_date("https://news.example/story-20261102.html") is None  # not a path date
    assert url_date("https://news.example/2026/13/45/x") is None


def test_updated_is_never_before_published_or_in_the_future() -> None:
    published = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    earlier = parse_timestamp("2026-11-19T12:00:00Z")
    later = parse_timestamp("2026-11-21T12:00:00Z")
    assert pick_updated(later, None, published, NOW) == later.value  # type: ignore[union-attr]
    assert pick_updated(earlier, None, published, NOW) is None
    feed_update = datetime(2026, 11, 22, tzinfo=UTC)
    assert pick_updated(earlier, feed_update, published, NOW) == feed_update
    assert pick_updated(parse_timestamp("2030-01-01T00:00:00Z"), None, published, NOW) is None


def test_an_article_never_says_it_was_updated_before_it_was_published() -> None:
    page = (
        '<html lang="en"><head><meta property="article:published_time" content="2026-11-20T10:00:00Z">'
        '<meta property="article:modified_time" content="2026-11-19T08:00:00Z"></head><body>'
        + "".join(f"<p>Paragraph {n} of the story, long enough to count as text here.</p>" for n in range(12))
        + "</body></html>"
    )  # fmt: skip
    got = extract(page, "https://news.example/a")
    entry = FeedEntry(feed_url="https://news.example/feed", link="https://news.example/a")
    article = build_article(
        entry, fetched_url="https://news.example/a", page=got, error=None, now=NOW
    )
    assert article.published_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert article.updated_at is None or article.updated_at >= article.published_at


@pytest.mark.parametrize(
    ("claims", "people", "agencies"),
    [
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"], []),
        (["Von Anna Schmidt und Jörg Weber"], ["Anna Schmidt", "Jörg Weber"], []),
        (["Jane Doe, Senior Reporter"], ["Jane Doe"], []),
        (["Elena Oberholzer (obe)", "Oliver Maksan (oma)"], ["Elena Oberholzer", "Oliver Maksan"], []),
        (["Paula Steiger", "SDA"], ["Paula Steiger"], ["SDA"]),
        (["Associated Press in Valencia"], [], ["Associated Press"]),
        (["Reuters", "dpa"], [], ["Reuters", "dpa"]),
        (["You, Xiaoying", "Lenharo, Mariana"], ["Xiaoying You", "Mariana Lenharo"], []),
        (["Jane Doe", "jane doe", "Jané Doe"], ["Jane Doe"], []),
        (["https://news.example/authors/jane", "jane@news.example"], [], []),
        (["Frankfurter Allgemeine Zeitung GmbH", "Ralf Euler"], ["Ralf Euler"], []),
        (["Journalist", "Mathias Hagen"], ["Mathias Hagen"], []),
        (["Jane Reporter"], ["Jane Reporter"], []),  # a surname, not a role
        (["red, Agenturen"], [], []),  # a desk and "agencies" are nobody
        (["Folgen", "Anna Huber"], ["Anna Huber"], []),  # a button in the byline's markup
        (["Quelle: sid"], [], ["sid"]),
        # Role phrases with their modifiers are no part of a name; an agency's role credit
        # ("AP Sports Writer") is the agency.
        (["Jane Doe, Executive Content Editor"], ["Jane Doe"], []),
        (["Tom Gillespie News reporter"], ["Tom Gillespie"], []),
        (["By Amy Lee, Managing Editor, and Bo Chan"], ["Amy Lee", "Bo Chan"], []),
        (["STEVE PEOPLES", "AP National Political Writer"], ["STEVE PEOPLES"], ["AP"]),
        (["as told to Mary Poppins"], ["Mary Poppins"], []),
        (["By José Núñez and Seán O'Brien"], ["José Núñez", "Seán O'Brien"], []),  # as written
    ],
)  # fmt: skip
def test_authors_are_people(claims: list[str], people: list[str], agencies: list[str]) -> None:
    assert clean_authors(claims) == (people, agencies)


def test_the_publication_is_not_its_own_author() -> None:
    assert clean_authors(["Heise Online", "Dirk Knop"], "heise online", "https://www.heise.de/x") == (
        ["Dirk Knop"], [],
    )  # fmt: skip
    assert clean_authors(["mdr.de"], None, "https://www.mdr.de/x") == ([], [])
    # by its initials in capitals, with or without its article; initials in lower case or
    # of another name are someone's
    for credit in ("TPN", "PN"):
        assert clean_authors([credit, "Ana Lopes"], "The Portugal News") == (["Ana Lopes"], [])
    assert clean_authors(["FAZ"], "Frankfurter Allgemeine Zeitung") == ([], [])
    assert clean_authors(["tpn"], "The Portugal News") == (["tpn"], [])
    assert clean_authors(["KL"], "The Portugal News") == (["KL"], [])


def _meta(head: str, body: str = "") -> PageMeta:
    return read_meta(
        trafilatura.load_html(f"<html><head>{head}</head><body>{body}<p>x</p></body></html>")
    )


def test_authors_from_jsonld_references_and_name_parts() -> None:
    # Yoast's graph names the author by @id; another publisher splits given and family names.
    graph = """<script type="application/ld+json">{"@graph": [
      {"@type": "NewsArticle", "headline": "H", "author": {"@id": "https://x.example/#/person/1"}},
      {"@type": "Person", "@id": "https://x.example/#/person/1", "name": "Paul Serran"}]}</script>"""
    assert _meta(graph).authors == ["Paul Serran"]
    parts = """<script type="application/ld+json">{"@type": "NewsArticle", "author": [
      {"@type": "Person", "givenName": "Anna Giulia", "familyName": "Fink"}]}</script>"""
    assert _meta(parts).authors == ["Anna Giulia Fink"]
    yoast = '<meta name="twitter:label1" content="Written by"><meta name="twitter:data1" content="Anna Sleegers">'
    assert _meta(yoast).authors == ["Anna Sleegers"]


def test_a_byline_is_looked_for_when_the_metadata_credits_only_the_site_or_an_address() -> None:
    byline = '<p class="author">von <a href="mailto:d@mdr.example">David Straub, MDR</a></p>'
    site = '<meta name="author" content="mdr.example"><meta property="og:site_name" content="MDR">'
    assert "David Straub" in _meta(site, byline).authors
    address = '<meta name="author" content="d.straub@mdr.example">'
    assert "David Straub" in _meta(address, byline).authors
    # The publisher named in JSON-LD counts as the site too.
    dw = """<meta name="author" content="Deutsche Welle (www.dw.com)"><script type="application/ld+json">
      {"@type": "NewsArticle", "publisher": {"@type": "Organization", "name": "Deutsche Welle"}}</script>"""
    assert _meta(dw).authors == []
    # A link to the author's page is a byline; a menu link to the list of authors is not.
    linked = '<nav><a href="/autoren">Autoren</a></nav><p>von <a href="/autoren/name/max-kolter">Max Kolter</a></p>'
    assert _meta(
        '<meta name="author" content="LTO"><meta property="og:site_name" content="LTO">', linked
    ).authors == ["Max Kolter"]
    # A real name in the metadata: the byline search (1.5 ms) is not run.
    named = '<meta name="author" content="Jane Doe">'
    assert _meta(named, byline).authors == ["Jane Doe"]


def test_an_offset_survives_into_the_article() -> None:
    zoned = parse_timestamp("2026-11-20T14:35:07-05:00")
    assert zoned is not None and zoned.offset == timedelta(hours=-5)
    assert zoned.value.astimezone(timezone(timedelta(hours=-5))).hour == 14


@pytest.mark.parametrize(
    ("lang", "meta", "want"),
    [
        ("pt-BR", {}, "pt"), ("en_US", {}, "en"), ("DE", {}, "de"), ("deu", {}, "de"),
        ("utf-8", {}, None),  # a charset where a language should be
        ("fil", {}, None), ("x-default", {}, None),
        (None, {"content-language": ["utf-8"]}, None), (None, {"og:locale": ["nb_NO"]}, "nb"),
    ],
)  # fmt: skip
def test_the_page_language_is_a_language_code(
    lang: str | None, meta: dict[str, list[str]], want: str | None
) -> None:
    attr = f' lang="{lang}"' if lang else ""
    tree = trafilatura.load_html(f"<html{attr}><body><p>x</p><p>y</p></body></html>")
    assert page_language(tree, meta) == want


def test_the_language_of_text_without_spaces_is_detected() -> None:
    # Japanese and Chinese have no spaces between words: a word count by spaces saw one word.
    japanese = (
        "東京都は二十八日、新しい防災計画を発表した。地震や台風に備えて、避難所の数を増やすという。"
    )
    assert detect_language(japanese * 2) == "ja"
    chinese = "国家统计局今天发布的数据显示，十一月份全国居民消费价格同比上涨，市场供应总体充足。"
    assert detect_language(chinese * 2) == "zh"
    assert detect_language("Too short to tell.") is None


def test_publication_times_from_wrapped_jsonld_fact_checks_and_colon_spelled_meta() -> None:
    cdata = """<script type="application/ld+json">
//<![CDATA[
{"@graph": [{"@type": "NewsArticle", "datePublished": "2024-08-22T12:00:00+02:00"}]}
//]]>
</script>"""
    claim = '<script type="application/ld+json">{"@type": "ClaimReview", "datePublished": "2026-05-13T15:44:00+02:00"}</script>'
    colon = '<meta property="article:published:time" content="2024-10-23T15:48:15+00:00">'
    for head, want in ((cdata, "2024-08-22T10:00:00+00:00"), (claim, "2026-05-13T13:44:00+00:00"),
                       (colon, "2024-10-23T15:48:15+00:00")):  # fmt: skip
        published = _meta(head).published
        assert published is not None and published.has_time
        assert published.value.isoformat() == want


def test_the_articles_own_credits_beat_the_webpage_and_meta_authors() -> None:
    # Yoast's WebPage names the CMS user who posted; <meta name=author> an editor or translator.
    graph = """<meta name="author" content="Amin Al Magrebi"><script type="application/ld+json">{"@graph": [
      {"@type": "WebPage", "author": {"@type": "Person", "name": "Kate Bubacz"}},
      {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Laura Jedeed"}}]}</script>"""
    assert _meta(graph).authors == ["Laura Jedeed"]
    # Without an article credit, the WebPage's and the meta tag's names stand in.
    page_only = """<meta name="author" content="Amin Al Magrebi"><script type="application/ld+json">
      {"@type": "WebPage", "author": {"@type": "Person", "name": "Kate Bubacz"}}</script>"""
    assert _meta(page_only).authors == ["Kate Bubacz", "Amin Al Magrebi"]


def test_time_elements_count_when_they_say_so_or_come_first_among_their_siblings() -> None:
    body = (
        '<div><time datetime="2026-11-20T08:00:00Z">a</time><time datetime="2026-01-01T00:00:00Z">b</time>'
        '<time itemprop="datePublished" datetime="2026-11-20T09:00:00Z">c</time></div>'
    )
    tree = trafilatura.load_html(f"<html><body>{body}<p>x</p></body></html>")
    times = time_claims(list(tree.iter("time")))
    assert times == ["2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z"]


def test_a_headline_in_inline_parts_reads_as_one_line() -> None:
    h1 = "<h1><span>Entwurf des Gesetzes</span><span>: Ein bisschen Fortschritt</span></h1>"
    assert ("h1", "Entwurf des Gesetzes: Ein bisschen Fortschritt") in _meta("", h1).title_claims
    kicker = "<h1><span>Nahost</span><span>Waffenruhe hält</span></h1>"
    assert ("h1", "Nahost Waffenruhe hält") in _meta("", kicker).title_claims
    # A space the page writes before a colon (French typography) is the page's own.
    french = "<h1><span>Guerre en Ukraine</span> : la Russie affirme</h1>"
    assert ("h1", "Guerre en Ukraine : la Russie affirme") in _meta("", french).title_claims
