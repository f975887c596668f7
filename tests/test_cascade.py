"""newswire's run of trafilatura's fast cascade finds what `bare_extraction` finds, with fewer copies."""

from copy import copy

import pytest
import trafilatura
from lxml import etree
from newswire.services.extract import cascade
from newswire.services.extract.page import extract, parse_page

from tests.support.corpus import corpus_pages
from tests.support.pages import paragraphs

URL = "https://news.example/story"


def bare(tree: object, url: str) -> str:
    doc = trafilatura.bare_extraction(
        tree, url=url, fast=True, favor_recall=True, include_comments=False, include_tables=True
    )
    return str(doc.text) if doc is not None and doc.text else ""


def check(html: str, url: str) -> str:
    """The cascade's text of the page equals bare_extraction's, and the page's tree is left
    as it was (the second look reads it again)."""
    tree = parse_page(html)
    if tree is None:
        return ""
    before = etree.tostring(tree)
    text = cascade.fast_text(tree, url)
    assert etree.tostring(tree) == before, url
    assert text == bare(copy(tree), url), url
    return text or ""


def test_the_pinned_trafilatura_is_the_one_the_cascade_was_taken_from() -> None:
    # A trafilatura of another version goes through bare_extraction: this test says so.
    assert cascade.SUPPORTED, trafilatura.__version__


def test_on_every_corpus_page_the_cascade_finds_what_bare_extraction_finds() -> None:
    seen = 0
    for html, url in corpus_pages():
        seen += 1
        check(html, url)
    if not seen:
        pytest.skip("no corpus under ../shared/corpus")


def test_a_page_with_next_to_no_text_is_rescued_as_bare_extraction_rescues_it() -> None:
    """Under trafilatura's minimum (250 characters) its baseline on the raw tree takes over:
    here the text sits in a <div> with a <script> beside it, which the baseline reads."""
    html = (
        "<html><body><nav><a href='/a'>Home</a></nav><div class='x'>Short note. "
        "<span>Spoken for by the council, again.</span></div><script>var a = 1;</script>"
        "</body></html>"
    )
    assert check(html, URL)


def test_an_ordinary_page_and_a_forum_page() -> None:
    """Readers' comments are pruned from a story; on a forum (schema.org says so) the posts,
    in the same containers, are the content."""
    story = "".join(f"<p>{p}</p>" for p in paragraphs("Transit", 6))
    posts = "".join(f'<div class="comments"><p>{p}</p></div>' for p in paragraphs("Post", 3))
    page = f"<html><body><article><h1>Plan</h1>{story}{posts}</article></body></html>"
    text = check(page, URL)
    assert "Transit: paragraph 6" in text
    assert "Post: paragraph 1" not in text
    ld = '<script type="application/ld+json">{"@type": "DiscussionForumPosting"}</script>'
    assert "Post: paragraph 1" in check(page.replace("<body>", f"<body>{ld}"), URL)


def test_another_trafilatura_goes_through_bare_extraction(monkeypatch: pytest.MonkeyPatch) -> None:
    story = "".join(f"<p>{p}</p>" for p in paragraphs("Transit", 6))
    page = f"<html><body><article><h1>Plan</h1>{story}</article></body></html>"
    tree = parse_page(page)
    monkeypatch.setattr(cascade, "OPTIONS", None)
    assert cascade.fast_text(tree, URL) is None
    assert "Transit: paragraph 6" in extract(page, URL).body
