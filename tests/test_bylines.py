"""Bylines read from a page's markup when its tags and JSON-LD credit no one."""

import pytest
import trafilatura
from lxml.etree import XPath
from lxml.html import HtmlElement
from newswire.services.extract.bylines import (
    NOT_MARKED,
    byline_names,
    bylines,
    is_marked,
)
from newswire.services.extract.metadata import PageMeta, read_meta
from newswire.services.extract.page import parse_page
from newswire.services.extract.reconcile import clean_authors

from bench.corpus import corpus_root, load_pages
from tests.support.people import credited

LONG = "The council met on Tuesday and voted to close the old bridge for repairs next spring. " * 2


def _tree(body: str, head: str = "") -> HtmlElement:
    return trafilatura.load_html(f"<html><head>{head}</head><body>{body}</body></html>")


def _meta(body: str, head: str = "") -> PageMeta:
    return read_meta(_tree(body, head))


@pytest.mark.parametrize(
    ("body", "people"),
    [
        # The label is the element's own text, the names its children.
        ('<ul><li>Von: <span><a href="/p/1">Bill MCCARTHY</a>, </span><span><a href="/p/2">'
         "Marisha GOLDHAMER</a></span></li></ul>", ["Bill MCCARTHY", "Marisha GOLDHAMER"]),
        # The label is an element of its own; the names follow it.
        ("<ul><li><strong>Datum</strong> 28.04.2023</li><li><strong>Autorin/Autor</strong> "
         "Roman Goncharenko</li></ul>", ["Roman Goncharenko"]),
        # Label and names in one text, in full-width punctuation.
        ("<div>(责编：牛镛、岳弘彬)</div>", ["牛镛", "岳弘彬"]),
        # "By" with a colon, a date after the names.
        ("<p>By: Matthew Digby and Minh Do on Monday, November 18th, 2019</p>",
         ["Matthew Digby", "Minh Do"]),
    ],
)  # fmt: skip
def test_labelled_credits(body: str, people: list[str]) -> None:
    assert credited(body + f"<p>{LONG}</p>") == people


def test_a_label_word_starting_prose_is_not_a_credit() -> None:
    # No colon and no label element: "Von der Leyen ..." and "By the way" are sentences.
    body = f"<p>Von der Leyen sagte am Montag etwas.</p><p>By the way, {LONG}</p>"
    body += "<p><em>By</em> the time we arrived, the bridge was closed.</p>"
    assert credited(body) == []


def test_a_bold_name_opening_or_closing_the_story_is_its_byline() -> None:
    opening = (
        f"<p>&nbsp;</p><p><strong>Mathatisi Sebusi/Mohalenyane Phakela</strong></p><p>{LONG}</p>"
    )
    assert credited(opening) == ["Mathatisi Sebusi", "Mohalenyane Phakela"]
    shouting = f"<p><strong>MTHOBISI SITHOLE&nbsp;</strong></p><p>{LONG}</p>"
    assert credited(shouting) == ["MTHOBISI SITHOLE"]
    closing = (
        f'<p>{LONG}</p><p>{LONG}</p><p style="text-align:right"><strong>Lê Phương</strong></p>'
    )
    assert credited(closing) == ["Lê Phương"]


@pytest.mark.parametrize(
    "body",
    [
        f"<p>{LONG}</p><p><strong>Key Points Ahead</strong></p><p>{LONG}</p>",  # a subhead
        f"<p><strong>Read more: the bridge</strong></p><p>{LONG}</p>",  # not names
        f"<p><strong>Jane Doe</strong> said the bridge is old.</p><p>{LONG}</p>",  # prose
        f"<p><strong>Paris</strong></p><p>{LONG}</p>",  # one word: a dateline
    ],
)
def test_bold_text_that_is_no_byline(body: str) -> None:
    assert credited(body) == []


def test_the_cms_admin_account_is_nobody_and_the_byline_says_who_wrote_it() -> None:
    head = """<script type="application/ld+json">{"@type": "BlogPosting", "author":
      {"@id": "https://news.example/author/admin/", "name": "News D"}}</script>"""
    body = (
        '<p>by <span class="author vcard"><a href="https://news.example/author/admin/" '
        f'rel="author">News D</a></span> | 5 November 2024</p><p><b>Thandi Dlamini</b></p><p>{LONG}</p>'
    )
    assert credited(body, head) == ["Thandi Dlamini"]


def test_screen_reader_text_is_not_part_of_the_byline() -> None:
    body = (
        '<div class="authors"><span class="u-visually-hidden">capital</span>'
        "<span>von</span> <span>Jemima Kelly</span></div>"
    )
    assert credited(body, '<meta property="og:site_name" content="Stern">') == ["Jemima Kelly"]


def test_an_author_box_naming_only_the_site_gives_way_to_the_next_byline() -> None:
    head = '<meta property="og:site_name" content="Lesotho Times">'
    box = '<div class="author-info"><a rel="author" href="/profile/x">Lesotho Times</a></div>'
    assert credited(f"<p><strong>Mohloai Mpesi</strong></p><p>{LONG}</p>{box}", head) == [
        "Mohloai Mpesi"
    ]


def test_byline_text_loses_dates_and_the_publication_run_into_it() -> None:
    text = "Kevin Johnson and Kevin McCoy USA TODAY Published 7:07 PM EST Nov 19, 2019"
    assert byline_names(text, ["USA TODAY"], None) == ["Kevin Johnson", "Kevin McCoy"]
    florida = "Elliot Brownstein Florida Today Published 2:16 AM EST Nov 20, 2019"
    assert byline_names(florida, [None], "https://www.floridatoday.com/story/x") == [
        "Elliot Brownstein"
    ]
    assert byline_names("Carrie Arnold November 20, 2019", [None], None) == ["Carrie Arnold"]
    assert byline_names("Jeff Foust Monday, November 18, 2019", [None], None) == ["Jeff Foust"]
    # A name that is also a month stays a name when no day follows.
    assert byline_names("April Ryan", [None], None) == ["April Ryan"]


def test_an_agency_run_into_a_name_is_recorded_as_the_source() -> None:
    assert clean_authors(["Tom Davies Associated Press"]) == (["Tom Davies"], ["Associated Press"])
    assert clean_authors(["Michael Bloomberg"]) == (["Michael Bloomberg"], [])
    # Once the agency is off, the name is the same person as another credit of theirs.
    assert clean_authors(["Tom Davies", "Tom Davies AP"]) == (["Tom Davies"], ["AP"])


def test_searches_run_lazily_in_order_of_trust() -> None:
    tree = _tree(
        '<span class="byline">Jane Doe</span><p>Text: Max Roe</p>'
        f"<p><b>Ann Poe</b></p><p>{LONG}</p>"
    )
    assert list(bylines(tree, next(tree.iter("h1"), None))) == ["Jane Doe", "Max Roe", "Ann Poe"]


# The byline marks as one XPath: the walk in `bylines` must select the same elements.
MARKED_XPATH = (
    "//*[@rel='author' or @itemprop='author' or contains(@class, 'author') or "
    "contains(@class, 'Author') or contains(@class, 'byline') or contains(@class, 'Byline') or "
    "contains(@id, 'author') or contains(@data-component, 'Byline') or "
    "(self::a and (contains(@href, '/author/') or contains(@href, '/authors/') or "
    "contains(@href, '/autor/') or contains(@href, '/autoren/')))]"
    "[not(self::script or self::meta or self::link or self::style)]"
)


def _walked(tree: HtmlElement) -> list[HtmlElement]:
    return [
        e
        for e in tree.iter()
        if isinstance(e.tag, str) and e.tag not in NOT_MARKED and is_marked(e)
    ]


def test_the_byline_walk_selects_what_the_xpath_selects() -> None:
    tree = _tree(
        '<a rel="author">a</a><a rel="authors">no</a><span itemprop="author">b</span>'
        '<div class="post-Author">c</div><p class="bylines">d</p><i id="author-1">e</i>'
        '<i id="Author">no</i><div data-component="Byline">f</div><a href="/autoren/x">g</a>'
        '<span href="/author/x">no</span><meta class="author"><p class="ByLine">no</p>'
    )
    walked = _walked(tree)
    assert walked == XPath(MARKED_XPATH)(tree)
    assert [e.text for e in walked] == ["a", "b", "c", "d", "e", "f", "g"]
    root = corpus_root()
    if not (root / "ground-truth.json").exists():
        return  # the made-up page above still ran
    for page in load_pages(root):
        tree = parse_page(page.html.decode("utf-8", "replace"))
        if tree is not None:
            assert _walked(tree) == XPath(MARKED_XPATH)(tree), page.id


def byline_block(people: list[str], rail: list[str]) -> str:
    person = ('<div class="byline" itemscope itemtype="http://schema.org/Person">'
              '<a rel="author" itemprop="url name" href="/a">{}</a></div>')  # fmt: skip
    return (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
        f'"headline": "Floods", "author": {{"@type": "Person", "name": "{people[0]}"}}}}'
        "</script></head><body><article><h1>Floods</h1>"
        f"<div class='bylines'>{''.join(person.format(p) for p in people)}</div>"
        f"<p>{'The river rose overnight and the town was evacuated. ' * 8}</p></article>"
        f"<aside><div class='rail'>{''.join(person.format(p) for p in rail)}</div></aside>"
        "</body></html>"
    )


def test_every_person_of_the_byline_block_is_credited_not_only_the_json_ld_one() -> None:
    """JSON-LD names the first author; the page's byline marks two Persons side by side: both
    are credited, in page order, with their letters as written. Persons of another block (a
    rail naming other stories' authors) are no co-authors."""
    page = parse_page(byline_block(["Ingrid Trebørg", "Marlene Lundberg Holm"],
                                   ["Ola Nordmann", "Kari O'Neill"]))  # fmt: skip
    assert page is not None
    assert read_meta(page).authors == ["Ingrid Trebørg", "Marlene Lundberg Holm"]
    alone = parse_page(byline_block(["Ingrid Trebørg"], ["Ola Nordmann", "Kari O'Neill"]))
    assert alone is not None and read_meta(alone).authors == ["Ingrid Trebørg"]


@pytest.mark.parametrize(
    ("credit", "people"),
    [
        ("신현주 기자", ["신현주"]),  # reporter
        ("김민수 특파원", ["김민수"]),  # correspondent
        ("박준석 선임기자", ["박준석"]),  # senior reporter
        ("기자", []),  # the role alone is nobody
    ],
)
def test_korean_role_suffixes_are_cut_from_the_name(credit: str, people: list[str]) -> None:
    assert clean_authors([credit])[0] == people


STORY = f"<h1>The bridge closes for repairs</h1>{{byline}}<p>{LONG}</p><p>{LONG}</p>{{footer}}"
LD_AUTHOR = """<script type="application/ld+json">{"@type": "NewsArticle", "headline":
  "The bridge closes", "author": {"@type": "Person", "name": "Rina Putri"}}</script>"""


@pytest.mark.parametrize(
    "label",
    [
        'Editor : <a class="author" href="/author/112/rina-putri">Rina Putri</a>',
        "Edited by <span><b>Rina Putri</b></span>",
        "Redaktur: <strong>Rina Putri</strong>",
        "Editado por <a href='/autor/rina'>Rina Putri</a>",
    ],
)
def test_tags_crediting_the_editor_the_page_labels_give_way_to_its_byline(label: str) -> None:
    page = STORY.format(
        byline='<div class="author-2">Naufal Zuhdi</div>', footer=f"<div>{label}</div>"
    )
    assert credited(page, LD_AUTHOR) == ["Naufal Zuhdi"]


@pytest.mark.parametrize(
    "footer",
    [
        "<div>Editor : <a>Budi Santoso</a></div>",  # someone else edited it
        "<p>The editor Rina Putri said the bridge would reopen in May.</p>",  # prose
        "<div>Author : <a>Rina Putri</a></div>",  # credited as what the tags say
    ],
)
def test_the_tags_credit_stands_unless_the_page_labels_that_person_editor(footer: str) -> None:
    page = STORY.format(byline='<div class="author-2">Naufal Zuhdi</div>', footer=footer)
    assert credited(page, LD_AUTHOR) == ["Rina Putri"]


def test_an_editor_credited_by_a_page_naming_no_one_else_stays_credited() -> None:
    page = STORY.format(byline="", footer="<div>Editor: <a>Rina Putri</a></div>")
    assert credited(page, LD_AUTHOR) == ["Rina Putri"]


@pytest.mark.parametrize(
    "byline",
    [
        '<div><span>Sehernur Karsu &nbsp;|</span><span class="x">05.04.2025 - Update</span></div>',
        "<div><time>2025-04-05</time> · <span>Jane Doe</span></div>",
        "<p><span>Jane Doe, John Roe</span> <span>April 5, 2025</span></p>",
        "<p><span>Jane Doe</span><span>5. April 2025, 14:02</span></p>",
    ],
)
def test_names_beside_the_date_under_the_headline_are_its_byline(byline: str) -> None:
    found = credited(STORY.format(byline=byline, footer=""))
    assert found and set(found) <= {"Sehernur Karsu", "Jane Doe", "John Roe"}


@pytest.mark.parametrize(
    ("byline", "footer"),
    [
        ("<div><span>Jane Doe</span><span>Opinion</span></div>", ""),  # beside no date
        ('<div><a href="/region/me">Middle East</a><span>05.04.2025</span></div>', ""),  # a link
        ("", f"<p>{LONG}</p>" * 3 + "<div><span>Jane Doe</span><span>05.04.2025</span></div>"),
        ("<div><span>Jane Doe said on</span><span>05.04.2025</span></div>", ""),  # prose
    ],
)
def test_names_and_dates_that_are_no_byline(byline: str, footer: str) -> None:
    assert credited(STORY.format(byline=byline, footer=footer)) == []


def test_a_kicker_beside_the_date_above_the_headline_is_no_byline() -> None:
    kicker = "<div>\n<span>Breaking Story</span>\n<span>05.04.2025</span>\n</div>\n"
    assert credited(kicker + STORY.format(byline="", footer="")) == []
