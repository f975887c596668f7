"""The Python stand-ins for trafilatura's regex XPath expressions select what the XPath selects."""

import contextlib
from typing import Any

import lxml.html
import pytest
import trafilatura.xpaths
from lxml import etree
from newswire.services.extract import fastpaths
from newswire.services.extract.page import FAST_PATHS, ExtractionError, extract

from tests.support.corpus import corpus_pages

REGEXP_NS = "http://exslt.org/regular-expressions"
ALL = [f"{spec.where[0]}[{spec.where[1]}]" for spec in fastpaths.SHAPES]


def stand_ins() -> list[fastpaths.FastPath]:
    found = []
    for spec in fastpaths.SHAPES:
        name, index = spec.where
        found.append(getattr(trafilatura.xpaths, name)[index])
    return found


def test_every_stand_in_is_installed_on_the_pinned_trafilatura() -> None:
    # A trafilatura whose expressions changed shape keeps its own: this test says so.
    assert FAST_PATHS == ALL
    assert all(isinstance(fast, fastpaths.FastPath) for fast in stand_ins())
    assert fastpaths.install() == ALL  # again: nothing wrapped twice
    assert all(isinstance(fast.original, etree.XPath) for fast in stand_ins())


def test_a_changed_expression_keeps_trafilaturas_own(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = [etree.XPath(".//*[self::div][re:test(@id, 'x')]", namespaces={"re": REGEXP_NS})]
    monkeypatch.setattr(trafilatura.xpaths, "RAW_TREE_PRUNE_XPATH", changed)
    assert "RAW_TREE_PRUNE_XPATH[0]" not in fastpaths.install()
    assert isinstance(changed[0], etree.XPath)


def test_the_regexes_are_read_from_the_expression_with_their_flags() -> None:
    text, patterns = fastpaths.shape("  .//*[re:test(@class, 'a|b', 'i') or\n re:test(@id, '^c')]")
    assert text == ".//*[re:test(@class, ?) or re:test(@id, ?)]"
    assert [p.pattern for p in patterns] == ["a|b", "^c"]
    assert patterns[0].search("xA") and not patterns[1].search("C")


def test_bare_puts_trafilaturas_own_back_for_a_while() -> None:
    with fastpaths.bare():
        assert all(isinstance(getattr(trafilatura.xpaths, s.where[0])[s.where[1]], etree.XPath)
                   for s in fastpaths.SHAPES)  # fmt: skip
    assert all(isinstance(fast, fastpaths.FastPath) for fast in stand_ins())


# Each branch of each expression, the attribute orders that decide `@a|@b`, empty and missing
# attributes, comments (no `*`), tags the cleaned tree uses (item, list), nested matches.
BRANCHES = """
<html><body><!-- a comment --><div>
<div id="x1" class="cookie-bar">id first, class matches</div>
<div class="cookie-bar" id="x2">class first</div>
<p class="x" id="cookie">id second, matches</p>
<span data-lp-replacement-content="">empty marker</span>
<section role="NAVigation">role</section>
<div data-component="xMostPopularStoriesy">popular</div>
<item id="share-1">item</item><list class="main-menu">list</list>
<div class="comments-title">t</div><div class="x reply-y">not reply</div>
<div class="reply-a" id="b">class first reply</div><div id="b" class="reply-a">id first</div>
<div style="color: red" id="hidden-x">style first</div><div id="hidden-x" style="c">id</div>
<b style="display:none">dn</b><i style="display: none">dn2</i><u aria-hidden="true">ah</u>
<div id="reader-comments">rc</div><div class="x hidden">h</div>
<div id="comments"><ul class="comment-list"><li>c</li></ul><ol id="comol">o</ol></div>
<ul class="article-comments">ul</ul><details class="commentary">no</details>
<aside class="infinite-scroll"><h1>kept, has h1</h1></aside>
<div id="infinitescroll">no h1</div><section class="mvp-post-add-box"><h1>h</h1></section>
<div class="elementor-share-buttons x">e</div>
<main><div class="post">first</div><div class="article-body">second sibling</div>
<section><article id="articleContent">nested first</article></section></main>
<div itemprop="articleBody"><div class="entry">inner</div></div>
<div id="" class="">empty</div><div>plain</div><p>plain p</p>
<section class="x"><div class="cell">a cell</div><div class="FullText">any case</div>
<article role="article">r</article><div id="primary-x">p</div></section>
<div id="Main-Content">translated</div><div class="x Page-content">page</div>
<div class="PAGE-CONTENT">only C and P are folded: no match</div><div class="content">c</div>
</div></body></html>
"""


@pytest.mark.parametrize("spec", fastpaths.SHAPES, ids=ALL)
def test_each_stand_in_selects_what_its_xpath_selects(spec: fastpaths.Shape) -> None:
    tree = lxml.html.fromstring(BRANCHES)  # lxml's default parser: comments kept
    fast = getattr(trafilatura.xpaths, spec.where[0])[spec.where[1]]
    want = fast.original(tree)
    assert want, "the fixture must exercise this expression"
    assert fast(tree) == want
    for element in tree.iter(etree.Element):  # and from every starting point
        assert fast(element) == fast.original(element)


class Checked:
    """Calls the stand-in and the XPath on each tree trafilatura hands them, and compares."""

    def __init__(self, fast: fastpaths.FastPath) -> None:
        self.fast, self.calls = fast, 0

    def __call__(self, tree: Any) -> list[Any]:
        self.calls += 1
        got = self.fast(tree)
        assert got == self.fast.original(tree)
        return got


def test_on_every_corpus_page_the_stand_ins_select_what_trafilatura_would() -> None:
    """Every tree extraction hands the expressions, on the article-extraction benchmark and
    the Fundus pages (439 pages, 25 languages): the same elements, in the same order."""
    checked = []
    for spec in fastpaths.SHAPES:
        name, index = spec.where
        expressions = getattr(trafilatura.xpaths, name)  # the list every module holds
        checked.append(Checked(expressions[index]))
        expressions[index] = checked[-1]
    seen = 0
    try:
        for html, url in corpus_pages():
            seen += 1
            with contextlib.suppress(ExtractionError):
                extract(html, url)
    finally:
        for spec, check in zip(fastpaths.SHAPES, checked, strict=True):
            getattr(trafilatura.xpaths, spec.where[0])[spec.where[1]] = check.fast
    if not seen:
        pytest.skip("no corpus under ../shared/corpus")
    # every stand-in was checked (on both corpora: 477, 477, 439 x4, 68, 57 trees)
    assert all(check.calls > 0 for check in checked), [c.calls for c in checked]
