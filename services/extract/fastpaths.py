"""Fastpaths: equal-output stand-ins for trafilatura's XPath expressions that test regexes."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import trafilatura.xpaths
from lxml import etree

# trafilatura prunes a page with XPath expressions whose EXSLT `re:test` calls back into Python
# once per element and test: ~3 ms of a 12 ms extraction (`bench.profile_worker`). The same
# tests in a Python loop over the elements take a quarter of that. Each stand-in below is
# installed only where the installed trafilatura's expression still has the shape it was
# written for (`SHAPES`); the regexes themselves are read from that expression, so a changed
# vocabulary is followed and a changed structure falls back to the original XPath.
# `tests/test_fastpaths.py` compares both, element by element, on every page of the corpora.

RE_TEST = re.compile(r"re:test\(([^,()]+), '([^']*)'(?:, '([a-z]*)')?\)")

Elements = list[Any]  # lxml elements (lxml ships no type stubs)
Matcher = Callable[[Any], Elements]


def shape(path: str) -> tuple[str, list[re.Pattern[str]]]:
    """An expression's text with whitespace collapsed and each regex replaced by `?`, and the
    regexes compiled as EXSLT compiles them (the 'i' flag is case-insensitive)."""
    text = " ".join(path.split())
    patterns = [
        re.compile(m.group(2), re.IGNORECASE if "i" in (m.group(3) or "") else 0)
        for m in RE_TEST.finditer(text)
    ]
    return RE_TEST.sub(lambda m: f"re:test({m.group(1)}, ?)", text), patterns


def first_of(
    element: Any, one: str, one_value: str | None, other: str, other_value: str | None
) -> str:
    """`@one|@other` as a string, given both values (None where absent): libxml2 orders an
    element's attributes as written, so the union's first node is whichever comes first."""
    if one_value is None or other_value is None:
        return one_value or other_value or ""
    for name, value in element.items():
        if name in (one, other):
            return str(value)
    return ""  # not reached: both are there


def _descendants(tree: Any, *tags: Any) -> Iterator[Any]:
    # `.//*` is every descendant element, never the context itself; comments are no `*`.
    descendants: Iterator[Any] = tree.iterdescendants(*(tags or (etree.Element,)))
    return descendants


def _overall_discard(p: list[re.Pattern[str]]) -> Matcher:
    def match(tree: Any) -> Elements:
        found = []
        for el in _descendants(tree, "div", "item", "list", "p", "section", "span"):
            get = el.get
            id_, class_ = get("id"), get("class")
            if (
                get("data-lp-replacement-content") is not None
                or "nav" in get("role", "").replace("N", "n")
                or "MostPopularStories" in get("data-component", "")
                or p[0].search(first_of(el, "id", id_, "class", class_))
                or p[1].search(id_ or "")
                or p[2].search(class_ or "")
            ):
                found.append(el)
        return found

    return match


def _overall_discard_hidden(p: list[re.Pattern[str]]) -> Matcher:
    def match(tree: Any) -> Elements:
        found = []
        for el in _descendants(tree):
            get = el.get
            id_, class_, style = get("id"), get("class"), get("style")
            if (
                class_ == "comments-title"
                or first_of(el, "id", id_, "class", class_).startswith("reply-")
                or p[0].search(first_of(el, "id", id_, "style", style))
                or (style is not None and ("display:none" in style or "display: none" in style))
                or p[1].search(id_ or "")
                or p[2].search(class_ or "")
                or get("aria-hidden") == "true"
            ):
                found.append(el)
        return found

    return match


def _comments_and_lists(p: list[re.Pattern[str]]) -> Matcher:
    def match(tree: Any) -> Elements:
        found = []
        for el in _descendants(tree, "div", "list", "section", "details", "ol", "ul"):
            id_, class_ = el.get("id", ""), el.get("class", "")
            if not (p[0].search(id_) or p[1].search(class_)):
                continue
            if el.tag in ("ol", "ul") and not (p[2].search(id_) or p[3].search(class_)):
                continue
            found.append(el)
        return found

    return match


def _infinite_scroll(p: list[re.Pattern[str]]) -> Matcher:
    def match(tree: Any) -> Elements:
        found = []
        for el in _descendants(tree, "div", "section", "aside"):
            id_, class_ = el.get("id", ""), el.get("class", "")
            if not (p[0].search(id_) or p[1].search(class_)):
                continue
            no_h1 = next(el.iterdescendants("h1"), None) is None
            if no_h1 or p[2].search(id_) or p[3].search(class_):
                found.append(el)
        return found

    return match


def _share_buttons(_p: list[re.Pattern[str]]) -> Matcher:
    def match(tree: Any) -> Elements:
        return [
            el
            for el in _descendants(tree, "div", "section", "aside")
            if "elementor-share-buttons" in el.get("class", "")
        ]

    return match


def _article_body(p: list[re.Pattern[str]]) -> Matcher:
    def match(tree: Any) -> Elements:
        # `.//*[...][1]` without parentheses: the first matching child of each parent
        found, parents = [], set()
        for el in _descendants(tree, "article", "div", "main", "section"):
            get = el.get
            id_, class_ = get("id", ""), get("class", "")
            if (
                class_ in ("post", "entry")
                or get("itemprop") == "articleBody"
                or id_ == "articleContent"
                or p[0].search(id_)
                or p[1].search(class_)
            ):
                parent = el.getparent()
                if parent not in parents:
                    parents.add(parent)
                    found.append(el)
        return found

    return match


def _first_match(test: Callable[[Any, str, str], bool]) -> Matcher:
    """`(.//*[self::article or self::div or self::main or self::section][...])[1]`: the first
    container in document order that passes `test(element, id, class)`, if any."""

    def match(tree: Any) -> Elements:
        for el in _descendants(tree, "article", "div", "main", "section"):
            if test(el, el.get("id", ""), el.get("class", "")):
                return [el]
        return []

    return match


def _story_container(p: list[re.Pattern[str]]) -> Matcher:
    def test(el: Any, id_: str, class_: str) -> bool:
        return bool(
            el.get("role") == "article"
            or id_ in ("article", "story")
            or class_ in ("postarea", "art-postcontent", "text", "cell", "story")
            or p[0].search(id_)
            or p[1].search(class_)
            or p[2].search(class_)
        )

    return _first_match(test)


def _content_container(p: list[re.Pattern[str]]) -> Matcher:
    def test(_el: Any, id_: str, class_: str) -> bool:
        return bool(
            id_ == "content"
            or class_ == "content"
            or p[0].search(id_)
            or p[1].search(class_)
            or "main-content" in id_.replace("C", "c").replace("M", "m")
            or "main-content" in class_.replace("C", "c").replace("M", "m")
            or "page-content" in class_.replace("C", "c").replace("P", "p")
        )

    return _first_match(test)


@dataclass(frozen=True)
class Shape:
    """Where an expression sits in trafilatura.xpaths, the shape a stand-in was written for,
    and the stand-in's builder (given the expression's regexes in order)."""

    where: tuple[str, int]
    text: str
    build: Callable[[list[re.Pattern[str]]], Matcher]


SHAPES = (
    Shape(
        ("OVERALL_DISCARD_XPATH", 0),
        ".//*[self::div or self::item or self::list or self::p or self::section or self::span]"
        "[ @data-lp-replacement-content or contains(translate(@role, 'N', 'n'), 'nav') or "
        "contains(@data-component, 'MostPopularStories') or re:test(@id|@class, ?) or "
        "re:test(@id, ?) or re:test(@class, ?)]",
        _overall_discard,
    ),
    Shape(
        ("OVERALL_DISCARD_XPATH", 1),
        ".//*[@class='comments-title' or starts-with(@id|@class, 'reply-') or "
        "re:test(@id|@style, ?) or contains(@style, 'display:none') or "
        "contains(@style, 'display: none') or re:test(@id, ?) or re:test(@class, ?) or "
        "@aria-hidden='true']",
        _overall_discard_hidden,
    ),
    Shape(
        ("REMOVE_COMMENTS_AND_LISTS_XPATH", 0),
        ".//*[self::div or self::list or self::section or self::details or self::ol or self::ul]"
        "[ re:test(@id, ?) or re:test(@class, ?)][ not(self::ol or self::ul) or "
        "re:test(@id, ?) or re:test(@class, ?)]",
        _comments_and_lists,
    ),
    Shape(
        ("RAW_TREE_PRUNE_XPATH", 0),
        ".//*[self::div or self::section or self::aside][ re:test(@id, ?) or "
        "re:test(@class, ?)][ not(.//h1) or re:test(@id, ?) or re:test(@class, ?)]",
        _infinite_scroll,
    ),
    Shape(
        ("RAW_TREE_PRUNE_XPATH", 1),
        ".//*[self::div or self::section or self::aside]"
        "[contains(@class, 'elementor-share-buttons')]",
        _share_buttons,
    ),
    Shape(
        ("BODY_XPATH", 0),
        ".//*[self::article or self::div or self::main or self::section][ @class='post' or "
        "@class='entry' or @itemprop='articleBody' or @id='articleContent' or "
        "re:test(@id, ?) or re:test(@class, ?) ][1]",
        _article_body,
    ),
    Shape(
        ("BODY_XPATH", 2),
        "(.//*[self::article or self::div or self::main or self::section][ @role='article' or "
        "@id='article' or @id='story' or @class='postarea' or @class='art-postcontent' or "
        "@class='text' or @class='cell' or @class='story' or re:test(@id, ?) or "
        "re:test(@class, ?) or re:test(@class, ?) ])[1]",
        _story_container,
    ),
    Shape(
        ("BODY_XPATH", 3),
        "(.//*[self::article or self::div or self::main or self::section][ @id='content' or "
        "@class='content' or re:test(@id, ?) or re:test(@class, ?) or "
        "contains(translate(@id, 'CM','cm'), 'main-content') or "
        "contains(translate(@class, 'CM','cm'), 'main-content') or "
        "contains(translate(@class, 'CP','cp'), 'page-content') ])[1]",
        _content_container,
    ),
)


class FastPath:
    """Called as trafilatura calls its XPath objects (`expression(tree)`), with the same list."""

    def __init__(self, original: etree.XPath, match: Matcher) -> None:
        self.original = original
        self.path = original.path
        self._match = match

    def __call__(self, tree: Any) -> Elements:
        return self._match(tree)


def install() -> list[str]:
    """Put the stand-ins in trafilatura's expression lists, in place (every trafilatura module
    holds the same list objects); the names installed. Idempotent."""
    installed = []
    for spec in SHAPES:
        name, index = spec.where
        expressions = getattr(trafilatura.xpaths, name, None)
        if not isinstance(expressions, list) or index >= len(expressions):
            continue
        current = expressions[index]
        if isinstance(current, FastPath):
            installed.append(f"{name}[{index}]")
            continue
        if not isinstance(current, etree.XPath):
            continue
        text, patterns = shape(current.path)
        if text != spec.text:
            continue  # trafilatura changed this expression: keep its own
        expressions[index] = FastPath(current, spec.build(patterns))
        installed.append(f"{name}[{index}]")
    return installed


@contextmanager
def bare() -> Iterator[None]:
    """trafilatura's own expressions for the duration: the benchmark's floor is trafilatura as
    it ships, not sped up by these stand-ins. Not for use while other threads extract."""
    swapped = []
    for spec in SHAPES:
        name, index = spec.where
        expressions = getattr(trafilatura.xpaths, name, None)
        if (
            isinstance(expressions, list)
            and index < len(expressions)
            and isinstance(expressions[index], FastPath)
        ):
            swapped.append((expressions, index, expressions[index]))
            expressions[index] = expressions[index].original
    try:
        yield
    finally:
        for expressions, index, fast in swapped:
            expressions[index] = fast
