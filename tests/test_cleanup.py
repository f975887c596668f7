"""Body cleanup and page metadata, by tables of small, made-up pages and lines."""

import pytest
import trafilatura
from newswire.services.extract.cleanup import clean_body, is_boilerplate, is_headline
from newswire.services.extract.metadata import read_meta
from newswire.services.extract.page import extract


@pytest.mark.parametrize(
    ("line", "title", "headline"),
    [
        ("Council backs transit plan", "Council backs transit plan", True),
        ("Council backs transit plan", "Council backs transit plan | The Daily Fixture", True),
        ("Council backs transit plan - Daily", "Council backs transit plan", True),
        (
            "Council backs transit plan by a wide margin after a long night of debate over costs",
            "Council backs transit plan",
            False,
        ),
        ("Council", "Council backs transit plan for the northern districts", False),
    ],
)
def test_is_headline(line: str, title: str, headline: bool) -> None:
    assert is_headline(line, title) is headline


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("Read more: Mayor resigns after budget row", True),
        ("Related: The ten best bridges of the decade", True),
        ("Advertisement", True),
        ("Share this article", True),
        ("Sign up for our newsletter", True),
        ("Copyright 2026 The Daily Fixture. All rights reserved.", True),
        ("Thanks for signing up!", True),
        ("CLICK HERE TO GET THE APP", True),
        ("Reporting by Jane Doe; Editing by John Roe", True),
        ("Comments", True),
        (
            "Subscribers of the local paper, the mayor said, will get a discount on the new tram passes.",
            False,
        ),
        (
            "Related parties must disclose their holdings under the new rules, the regulator said on Monday.",
            False,
        ),
        ("The council will share its findings with residents next week.", False),
    ],
)
def test_is_boilerplate(line: str, furniture: bool) -> None:
    assert is_boilerplate(line) is furniture


def test_clean_body_drops_headline_kicker_teasers_and_furniture() -> None:
    text = "\n".join([
        "Local news",
        "Council backs transit plan",
        "The council voted on Tuesday to extend the tram network north.",
        "Advertisement",
        "Work starts in spring and should take two years, officials said.",
        "Don't miss",
        "- Bridge repairs delayed again",
        "- Library opens on Sundays",
        "Residents will be consulted on the route before the final vote in March next year.",
    ])  # fmt: skip
    assert clean_body(text, ["Council backs transit plan"]).splitlines() == [
        "The council voted on Tuesday to extend the tram network north.",
        "Work starts in spring and should take two years, officials said.",
        "Residents will be consulted on the route before the final vote in March next year.",
    ]


def test_read_meta_from_tags_and_jsonld() -> None:
    html = """<html lang="de-AT"><head>
    <meta property="og:title" content="Brücke wird saniert">
    <meta property="og:site_name" content="Wiener Blatt">
    <meta property="og:image" content="https://img.example/b.jpg">
    <meta name="keywords" content="Verkehr, Wien">
    <link rel="canonical" href="https://blatt.example/bruecke">
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "NewsArticle", "headline": "Brücke wird saniert",
       "datePublished": "2026-11-20T08:15:00+01:00", "dateModified": "2026-11-21T10:00:00Z",
       "author": [{"@type": "Person", "name": "Anna Huber"}, {"@type": "Person", "name": "Max Maier"}]}]}
    </script></head><body><h1>Brücke wird saniert</h1><p>Text</p></body></html>"""
    meta = read_meta(trafilatura.load_html(html))
    assert meta.title == "Brücke wird saniert"
    assert meta.authors == ["Anna Huber", "Max Maier"]
    assert (
        meta.published is not None
        and meta.published.value.isoformat() == "2026-11-20T07:15:00+00:00"
    )
    assert meta.published.has_time
    assert meta.modified is not None and meta.modified.value.hour == 10
    assert (meta.source, meta.language, meta.image) == (
        "Wiener Blatt",
        "de",
        "https://img.example/b.jpg",
    )
    assert meta.tags == ["Verkehr", "Wien"] and meta.canonical == "https://blatt.example/bruecke"


def test_read_meta_survives_junk_jsonld_and_missing_everything() -> None:
    meta = read_meta(
        trafilatura.load_html(
            '<html><head><script type="application/ld+json">{not json</script></head><body><p>x</p></body></html>'
        )
    )
    assert (
        meta.titles == []
        and meta.authors == []
        and meta.published is None
        and meta.language is None
    )


STORY = (
    "<p>" + "The council met on Tuesday and argued about the budget and the buses. " * 6 + "</p>"
)
SANE = '{"@type": "NewsArticle", "headline": "Council", "author": {"name": "Ann Smith"}}'


@pytest.mark.parametrize(
    "script",
    [
        "[" * 5000 + "]" * 5000,  # past json's own recursion limit
        "<![CDATA[" + '{"a":' * 5000 + "1" + "}" * 5000 + "]]>",  # the same, wrapped
        # JSON that parses, nested past what the readers of authors and images recurse into
        '{"@type": "NewsArticle", "author": ' + "[" * 950 + '"Jane Doe"' + "]" * 950 + "}",
        '{"@type": "NewsArticle", "image": ' + '{"url": ' * 950 + '"/a.jpg"' + "}" * 950 + "}",
        '{"@type": "NewsArticle", "publisher": ' + "[" * 950 + '"X"' + "]" * 950 + "}",
    ],
)
def test_jsonld_nested_past_any_publishers_is_junk_not_a_crash(script: str) -> None:
    html = (
        f'<html><head><script type="application/ld+json">{script}</script>'
        f'<script type="application/ld+json">{SANE}</script>'
        f"</head><body><article><h1>Council</h1>{STORY * 4}</article></body></html>"
    )
    page = extract(html, "https://news.example/council")
    assert page.meta.authors == ["Ann Smith"]  # the page's sane JSON-LD is still read
    assert "argued about the budget" in page.body


def test_react_payload_nested_past_the_parsers_limit_is_not_a_crash() -> None:
    """A Next.js page's payload chunk (`self.__next_f.push([...])`) that json cannot parse
    for its depth is the page's own script, as any chunk that is not JSON."""
    push = f"<script>self.__next_f.push({'[' * 5000}{']' * 5000})</script>"
    html = f"<html><head>{push}</head><body><article><h1>Council</h1>{STORY * 4}</article></body></html>"
    assert "argued about the budget" in extract(html, "https://news.example/council").body
