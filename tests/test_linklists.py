"""Lists that are only links or teaser cards are navigation and leave the story; lists with
prose of their own stay (made-up pages)."""

import trafilatura
from lxml import etree
from newswire.services.extract.linklists import drop_link_lists
from newswire.services.extract.page import extract, parse_page

STORY = "".join(
    f"<p>Paragraph {i} of the story: the council met on Tuesday and argued at length about "
    f"the budget, the buses and the bridge over the river before a late vote.</p>"
    for i in range(5)
)
LATEST = (
    '<div class="latest-news-box"><span>Our Latest Stories</span><ul class="row">'
    + "".join(
        f'<li><a href="/s{i}" class="thumbnail"><img src="/i{i}.jpg" alt=""></a>'
        f'<h3><a href="/s{i}">Teaser headline number {i}</a></h3><h4>A dek about it {i}</h4></li>'
        for i in range(4)
    )
    + "</ul></div>"
)
MORE = (
    "<ul>"
    + "".join(f'<li><a href="/m{i}">More great story {i} to read</a></li>' for i in range(3))
    + "</ul>"
)


def page(body: str) -> str:
    return f"<html lang='en'><body><article><h1>Council</h1>{body}</article></body></html>"


def test_teaser_cards_and_link_lists_inside_the_body_are_dropped() -> None:
    html = page(STORY + MORE + STORY.replace("Paragraph", "Part two") + LATEST)
    tree = parse_page(html)
    assert tree is not None and drop_link_lists(tree) == 2
    body = extract(html, "https://news.example/council").body
    assert "Part two 4" in body
    assert "Teaser headline" not in body and "More great story" not in body
    # Without the rule, trafilatura keeps them (so the test above can fail).
    bare = trafilatura.extract(html, fast=True, favor_recall=True) or ""
    assert "More great story" in bare or "Teaser headline" in bare


def test_lists_with_prose_and_single_links_stay() -> None:
    steps = (
        "<ol>"
        + "".join(f"<li>Step {i}: unscrew the panel and lift it out.</li>" for i in range(3))
        + "</ol>"
    )
    sourced = (
        "<ul><li>The mayor said the vote was <a href='/a'>historic</a> for the city.</li>"
        "<li>Critics called it rushed, <a href='/b'>according to a letter</a> sent Monday.</li></ul>"
    )
    single = '<ul><li><a href="/read">Read the full report</a></li></ul>'
    # Items of one link each, but with words of their own beside it, or links with no text.
    beside = "<ul>" + "".join(f"<li>Day {i}: <a href='/d{i}'>the vote</a></li>" for i in range(3))
    beside += "</ul><ul>" + "".join(
        f"<li><a href='/t{i}'>Vote {i}</a> passed</li>" for i in range(3)
    )
    empty = "</ul><ul>" + "<li><a href='/x'> </a></li>" * 3 + "</ul>"
    for extra in (steps, sourced, single, beside + empty):
        tree = parse_page(page(STORY + extra))
        assert tree is not None
        before = etree.tostring(tree)
        assert drop_link_lists(tree) == 0 and etree.tostring(tree) == before


def test_text_after_a_dropped_list_stays() -> None:
    tree = parse_page(page(STORY + MORE + "Words after the list, outside any paragraph."))
    assert tree is not None and drop_link_lists(tree) == 1
    assert "Words after the list" in tree.text_content()
