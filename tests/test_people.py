"""People as a page credits them: every co-author, names as written, no markup, the article's
own byline rather than a rail's, role phrases cut. Each case is a general pattern."""

import json
import unicodedata

import pytest
from newswire.services.extract.people import is_markup, split_credit
from newswire.services.extract.reconcile import clean_authors

from tests.support.people import credited

PROSE = "The council met on Tuesday and voted to close the old bridge for repairs next spring. " * 3
URL = "https://www.planet.example/news/bridge"


def _people(body: str, head: str = "", ld: object = None) -> list[str]:
    if ld is not None:
        text = ld if isinstance(ld, str) else json.dumps(ld, ensure_ascii=False)
        head += f'<script type="application/ld+json">{text}</script>'
    return credited(body, "<title>Bridge closes</title>" + head, URL)


def _article(byline: str) -> str:
    """A story with its headline, byline and two paragraphs in an <article>."""
    return f"<article><h1>Bridge closes</h1>{byline}<p>{PROSE}</p><p>{PROSE}</p></article>"


def _person(name: str) -> dict[str, str]:
    return {"@type": "Person", "name": name}


@pytest.mark.parametrize(
    ("byline", "people"),
    [
        # several marked elements side by side: spans, author-page links, rel=author
        ('<div class="meta"><span class="author-name">Anna Smith</span> and '
         '<span class="author-name">Bob Jones</span></div>', ["Anna Smith", "Bob Jones"]),
        ('<div>By <a href="/author/anna-smith">Anna Smith</a>, '
         '<a href="/author/bob-jones">Bob Jones</a></div>', ["Anna Smith", "Bob Jones"]),
        ('<p>By <a rel="author" href="/a">Anna Smith</a> and '
         '<a rel="author" href="/b">Bob Jones</a></p>', ["Anna Smith", "Bob Jones"]),
        # a box of author cards: one name each, not "Anna Smith Bob Jones"
        ('<div class="authors"><div class="author-card"><a href="/author/a">Anna Smith</a></div>'
         '<div class="author-card"><a href="/author/b">Bob Jones</a></div></div>',
         ["Anna Smith", "Bob Jones"]),
        # "By A and B" with no colon and no marking
        ("<p>By Anna Smith and Bob Jones</p>", ["Anna Smith", "Bob Jones"]),
        ('<div class="byline">By Anna Smith, Bob Jones and Carla Díaz</div>',
         ["Anna Smith", "Bob Jones", "Carla Díaz"]),
        # "by" in other languages, marked or not, and a label before it
        ('<div class="byline">Av Per Hansen og Kari Nordmann</div>', ["Per Hansen", "Kari Nordmann"]),
        ("<p>Door Anna de Vries</p>", ["Anna de Vries"]),
        ("<p>Di Mario Rossi</p>", ["Mario Rossi"]),
        ('<div class="byline">Photos by Anna Smith</div>', ["Anna Smith"]),
    ],
)  # fmt: skip
def test_every_co_author_of_a_byline(byline: str, people: list[str]) -> None:
    assert _people(_article(byline)) == people


def test_json_ld_naming_one_of_several_gives_way_to_the_byline_naming_all() -> None:
    ld = {"@type": "NewsArticle", "author": _person("Anna Smith")}
    byline = '<div class="byline">By Anna Smith and Bob Jones | March 3, 2024</div>'
    assert _people(_article(byline), ld=ld) == ["Anna Smith", "Bob Jones"]
    # a byline naming someone else, or a list with a place in it, adds nobody
    other = '<div class="byline">By Carla Díaz and Bob Jones</div>'
    assert _people(_article(other), ld=ld) == ["Anna Smith"]
    place = '<div class="byline">Anna Smith | Washington</div>'
    assert _people(_article(place), ld=ld) == ["Anna Smith"]


@pytest.mark.parametrize(
    "ld",
    [
        {"@type": "NewsArticle", "author": [_person("Anna Smith"), _person("Bob Jones")]},
        {"@graph": [
            {"@type": "NewsArticle", "author": [{"@id": "#a"}, {"@id": "#b"}]},
            {"@type": "Person", "@id": "#a", "name": "Anna Smith"},
            {"@type": "Person", "@id": "#b", "name": "Bob Jones"},
        ]},
        {"@type": "NewsArticle", "author": _person("Anna Smith and Bob Jones")},
    ],
)  # fmt: skip
def test_every_co_author_of_json_ld(ld: object) -> None:
    assert _people(_article(""), ld=ld) == ["Anna Smith", "Bob Jones"]


@pytest.mark.parametrize(
    ("credit", "name"),
    [
        ("D'Arcy O'Brien", "D'Arcy O'Brien"),  # trafilatura's own cleaning gives "DBrien"
        ("Seán O’Connor", "Seán O’Connor"),
        ("John F. Kennedy", "John F. Kennedy"),  # not "John F Kennedy"
        ("J.R.R. Tolkien", "J.R.R. Tolkien"),
        ("Jean-Luc Picard-Smith", "Jean-Luc Picard-Smith"),
        (unicodedata.normalize("NFD", "José Zoë"), "José Zoë"),  # decomposed accents composed
        ("Ludwig van Beethoven", "Ludwig van Beethoven"),
    ],
)
def test_names_are_kept_as_written(credit: str, name: str) -> None:
    assert split_credit(f"By {credit}") == [name]
    assert _people(_article(f'<div class="byline">By {credit}</div>')) == [name]
    ld = {"@type": "NewsArticle", "author": _person(credit)}
    assert _people(_article(""), ld=ld) == [name]


def test_html_entities_in_json_ld_names_are_decoded() -> None:
    # JSON-LD is script text: the HTML parser leaves its entities alone.
    for escaped in ("Jos&eacute; Garc&iacute;a", "Jos&#233; Garc&#xED;a"):
        ld = {"@type": "NewsArticle", "author": _person(escaped)}
        assert _people(_article(""), ld=ld) == ["José García"]


def test_labels_of_any_language_go() -> None:
    assert split_credit("Текст: Венера Ерофеева") == ["Венера Ерофеева"]
    assert split_credit("Posted by Jane Doe") == ["Jane Doe"]
    assert split_credit("Berita Islami, on Desember 30") == ["Berita Islami"]


def test_what_trails_a_name_goes() -> None:
    assert split_credit("By Jane Doe @janedoe") == ["Jane Doe"]
    assert split_credit("By Jane Doe in Paris") == ["Jane Doe"]
    assert split_credit('By Jane "JJ" Doe, 3 March 2024') == ["Jane Doe"]
    assert split_credit("Jane Doe 🎉") == ["Jane Doe"]


@pytest.mark.parametrize(
    "token",
    ["{{ author.name }}", "byline__author-name", "author-name", "authorName", "[object Object]",
     "undefined", "css-1q2w3e4"],
)  # fmt: skip
def test_markup_is_no_person(token: str) -> None:
    assert is_markup(token)
    assert _people(_article(""), head=f'<meta name="author" content="{token}">') == []
    ld = {"@type": "NewsArticle", "author": _person(token)}
    assert _people(_article(""), ld=ld) == []


@pytest.mark.parametrize(
    "name", ["Jean-Luc Picard", "D'Arcy O'Brien", "李明", "MTHOBISI SITHOLE", "kei_eno", "jdoe"]
)
def test_names_that_look_unusual_are_still_people(name: str) -> None:
    assert not is_markup(name)


RAIL = (
    '<aside class="sidebar"><div class="popular"><a href="/x">Other story</a>'
    '<span class="byline">By Rail Writer</span></div></aside>'
)
RELATED = (
    '<section class="related-stories"><div class="card"><h3>Other</h3>'
    '<span class="author">Card Writer</span></div></section>'
)
TEASERS = (
    '<div class="trending"><article class="teaser"><h2>Other</h2>'
    '<p class="byline">By Teaser Author</p></article></div>'
)


def test_the_byline_is_the_articles_own_not_a_rails() -> None:
    byline = '<div class="byline">By Anna Smith</div>'
    assert _people(RAIL + _article(byline)) == ["Anna Smith"]
    assert _people(f"{TEASERS}<main>{_article(byline)}</main>") == ["Anna Smith"]
    # a story without a byline takes none from a related story
    assert _people(_article("") + RELATED) == []
    # a teaser card before the story, in no rail: the headline's article still comes first
    card = '<article class="card"><h2>Other</h2><p class="byline">By Card Writer</p></article>'
    assert _people(card + _article(byline)) == ["Anna Smith"]
    # nor from a reader's comment under it, inside the story's own article
    comment = (
        '<section id="comments" class="comments-area"><ol><li class="comment">'
        '<div class="comment-author"><span class="author">Mary Reader</span></div>'
        "<p>Great news for us.</p></li></ol></section>"
    )
    assert _people(_article("").replace("</article>", comment + "</article>")) == []


def test_a_sidebar_author_box_counts_when_the_story_has_no_other_byline() -> None:
    box = (
        '<div class="cell sidebar"><div class="author-info"><h4><a class="name" '
        'href="/author/jose">Jose Altoveros</a></h4> View More Articles</div></div>'
    )
    assert _people(f"<div><h1>Bridge closes</h1><p>{PROSE}</p></div>{box}") == ["Jose Altoveros"]
    # but a teaser card (an <article> of its own) in an <aside> credits another story
    teaser = (
        '<aside class="grid"><article class="card"><h3>Other</h3>'
        "<p><span>Von Card Writer</span></p></article></aside>"
    )
    assert _people(f"<main><h1>Bridge closes</h1><p>{PROSE}</p></main>{teaser}") == []


def test_layout_classes_above_the_article_do_not_hide_its_byline() -> None:
    # "has-sidebar", "node--promoted" on wrappers name the layout, not a rail
    byline = '<div class="byline">By Anna Smith</div>'
    page = f'<div class="layout has-sidebar"><div class="node--promoted">{_article(byline)}</div></div>'
    assert _people(page) == ["Anna Smith"]
    # flags on a story's wrapper that name its comments, on a page without <article>/<main>
    story = f"<h1>Bridge closes</h1>{byline}<p>{PROSE}</p>"
    for flags in ("post has-comments", "entry comments-open", "story with-comments"):
        assert _people(f'<div class="{flags}">{story}</div>') == ["Anna Smith"], flags


@pytest.mark.parametrize(
    ("byline", "people"),
    [
        ("By Jane Doe, Executive Content Editor", ["Jane Doe"]),
        ("Von Anna Schmidt, Redakteurin", ["Anna Schmidt"]),
        ("As told to Jane Doe", ["Jane Doe"]),
        ("By Mary Smith, as told to Jane Doe", ["Mary Smith", "Jane Doe"]),
        ("Analysis by Chris Doe", ["Chris Doe"]),
        ("Opinion by Jane Doe", ["Jane Doe"]),
        # degrees after a name are no people; a surname that reads like one is still a name
        ("By Rachael Link, MS, RD", ["Rachael Link"]),
        ("By Jane Doe, M.D., and John Roe, Ph.D.", ["Jane Doe", "John Roe"]),
        ("By Ilana Roe MS RDN", ["Ilana Roe"]),
        ("By Jack Ma and Anh Do", ["Jack Ma", "Anh Do"]),
        # the publication's editorial desk is nobody
        ("By The Editorial Board", []),
    ],
)
def test_role_phrases_are_cut(byline: str, people: list[str]) -> None:
    assert _people(_article(f'<div class="byline">{byline}</div>')) == people


@pytest.mark.parametrize(
    ("credit", "people", "agencies"),
    [
        ("By ROBERT BURNS, AP National Security Writer", ["ROBERT BURNS"], ["AP"]),
        ("Jane Doe, Reuters Health Correspondent", ["Jane Doe"], ["Reuters"]),
        # an agency's dateline: the place is no person, nor is "Last, First" read into it
        ("AFP, MANILA", [], ["AFP"]),
        ("Reuters, London", [], ["Reuters"]),
        ("Jane Doe, AP, Washington", ["Jane Doe"], ["AP"]),
        ("You, Xiaoying", ["Xiaoying You"], []),
        ("Jane Doe, PTI", ["Jane Doe"], ["PTI"]),  # Press Trust of India
        # agencies by their full names
        ("Jane Doe, Deutsche Presse-Agentur", ["Jane Doe"], ["Deutsche Presse-Agentur"]),
        ("The Canadian Press", [], ["The Canadian Press"]),
    ],
)
def test_an_agency_desk_or_dateline_is_the_agency(
    credit: str, people: list[str], agencies: list[str]
) -> None:
    assert clean_authors([credit]) == (people, agencies)


@pytest.mark.parametrize(
    ("credits", "people"),
    [
        # a full stop after a full name ends the credit; an initial's or a title's does not
        (["Finian Cunningham. Sputnik International"], ["Finian Cunningham"]),
        (["Troy L. Smith"], ["Troy L. Smith"]),
        (["Prof. Jane Doe"], ["Prof. Jane Doe"]),
        # one word after a name of several: a dateline's place or the writer's outlet
        (["Victor Tangermann, Futurism"], ["Victor Tangermann"]),
        (["Anna Martel, Lea Wagner, Nairobi"], ["Anna Martel", "Lea Wagner"]),
        (["ssi, dan, amw"], ["ssi", "dan", "amw"]),  # names of one word each are people
        (["박준석 기자, 김태연"], ["박준석", "김태연"]),
        # phrases, a leading article, a CMS's default account
        (["The Russian and Syrian defense ministries"], []),
        (["The Water Coolest"], []),
        (["admin"], []),
        # a public body whose press release the page runs
        (["PMJS - Coordenadoria de TI", "Polizei Berlin", "Prefeitura de Jaraguá do Sul"], []),
        (["Ludwig van Beethoven", "Bashar al-Assad", "Ana d'Souza de la Cruz"],
         ["Ludwig van Beethoven", "Bashar al-Assad", "Ana d'Souza de la Cruz"]),
        (["Jane doe", "danah boyd"], ["Jane doe", "danah boyd"]),
        # an account name beside the full name of the same person
        (["Kevin Rebong", "kevin-r"], ["Kevin Rebong"]),
        (["jdoe", "Jane Doe"], ["Jane Doe"]),
        (["Jane Doe", "rmb"], ["Jane Doe", "rmb"]),
    ],
)  # fmt: skip
def test_credits_shaped_like_no_person_are_left_out(credits: list[str], people: list[str]) -> None:
    assert clean_authors(credits)[0] == people


def test_an_author_block_holding_only_the_section_credits_nobody() -> None:
    section = (
        '<div class="article_details_author_container"><a href="/news/category/29/misc/">'
        "<span>Miscellaneous</span></a></div>"
    )
    assert _people(_article(section)) == []
    byline = '<div class="author">By Anna Smith in <a href="/category/politics/">Politics</a></div>'
    assert _people(_article(byline)) == ["Anna Smith"]


def test_the_author_of_a_claim_a_fact_check_reviews_is_not_the_byline() -> None:
    statement = (
        '<div class="statement"><div class="statement-author"><h4 class="author">'
        "The Russian and Syrian defense ministries</h4></div></div>"
    )
    assert _people(_article(statement)) == []


@pytest.mark.parametrize(
    "body",
    [
        _article("<h2>By The Numbers</h2>"),  # a heading
        _article("<p>By Tuesday Morning the bridge was closed to all traffic.</p>"),  # prose
        _article("<p>By the way, the bridge is closed.</p>"),
    ],
)
def test_a_label_word_without_a_colon_needs_names_after_it(body: str) -> None:
    assert _people(body) == []


MANY = 20_000


@pytest.mark.timeout(30)  # each search was once quadratic in these: minutes, not milliseconds
@pytest.mark.parametrize(
    "crowd",
    [
        "<div>" + '<span class="author">Rail Writer</span>' * MANY + "</div>",  # side by side
        ('<span class="author">' * 250 + "Rail Writer" + "</span>" * 250) * 40,  # nested
        "<div>" + "<p>By: Rail Writer</p>" * MANY + "</div>",  # labelled
        "<div>" + "<p><strong>Rail Writer</strong></p>" * MANY + "</div>",  # bold names
    ],
)
def test_thousands_of_would_be_bylines_cost_no_more_than_a_page(crowd: str) -> None:
    byline = '<div class="byline">By Anna Smith</div>'
    assert _people(crowd + _article(byline)) == ["Anna Smith"]
