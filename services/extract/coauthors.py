"""Co-authors: everyone of the byline that credits the one person a page's tags name."""

import itertools
from collections.abc import Iterator

from lxml.etree import XPath
from lxml.html import HtmlElement
from newswire.services.extract.bylines import (
    LABEL_START,
    LABEL_WORD,
    SKIPPED,
    article_region,
    beside_the_story,
    byline_names,
    is_marked,
    is_names,
    short_text,
    visible_text,
)
from newswire.services.extract.headline import NEAR_ELEMENTS, near_headline
from newswire.services.extract.sitenames import letters

# Elements with microdata types: found in C (a walk in Python costs ~0.3 ms a page).
WITH_ITEMTYPE = XPath("//*[@itemtype]")
MAX_HITS = 4  # the byline comes early; later mentions are the story's prose
MAX_LEVELS = 4  # the name's element and three above it: a byline's block is small


def _person_name(person: HtmlElement) -> str:
    """The name of a schema.org Person in microdata: its `itemprop` name, else nothing."""
    for element in person.iter():
        if isinstance(element.tag, str) and "name" in (element.get("itemprop") or "").split():
            return visible_text(element)
    return ""


def microdata_co_authors(tree: HtmlElement, credited: str) -> list[str]:
    """The schema.org Persons marked in microdata side by side (siblings under one parent)
    with the credited one, in page order; none when no block names them."""
    known = letters(credited)
    blocks: dict[HtmlElement, list[str]] = {}
    for element in WITH_ITEMTYPE(tree):
        if (element.get("itemtype") or "").rstrip("/").endswith("schema.org/Person"):
            parent = element.getparent()
            if parent is not None and (name := _person_name(element)):
                blocks.setdefault(parent, []).append(name)
    for names in blocks.values():
        if len(names) > 1 and known in {letters(n) for n in names}:
            return names
    return []


def _byline_block(element: HtmlElement, region: HtmlElement | None) -> str | None:
    """The text of the largest small block around a name that is a byline: marked as one
    (itself or an element inside it on the way up) or opening with a credit label, and not
    in a rail or a related story."""
    if (
        not isinstance(element.tag, str)
        or element.tag in SKIPPED
        or beside_the_story(element, region)
    ):
        return None
    found, marked = None, False
    for block in itertools.islice(itertools.chain([element], element.iterancestors()), MAX_LEVELS):
        marked = marked or is_marked(block)
        if not short_text(block):  # it holds the name, so it has text: too long
            break
        text = visible_text(block)
        if marked or LABEL_START.match(text) or LABEL_WORD.match(text):
            found = text
    return found


def _naming(h1: HtmlElement | None, name: str) -> Iterator[HtmlElement]:
    """The elements near the headline whose own text (or tail) holds the name."""
    for element in itertools.islice(near_headline(h1), NEAR_ELEMENTS):
        if name in (element.text or ""):
            yield element
        elif name in (element.tail or "") and (parent := element.getparent()) is not None:
            yield parent


def text_co_authors(
    h1: HtmlElement | None,
    credited: str,
    sites: list[str | None],
    url: str | None,
) -> list[str]:
    """The names of the byline that names the credited person among others ("By Jane Doe and
    John Roe"), in its order; none when no byline names them, or when any other name it
    gives does not read as a person's (2-4 capitalised words)."""
    name = " ".join(credited.split())
    key = letters(name)
    if len(key) < 4:
        return []
    region = article_region(h1)
    for hit in itertools.islice(_naming(h1, name), MAX_HITS):
        if not (text := _byline_block(hit, region)):
            continue
        names = byline_names(text, sites, url)
        others = [n for n in names if letters(n) != key]
        if others and len(others) < len(names) and all(map(is_names, others)):
            return names
    return []


def co_authors(
    tree: HtmlElement,
    h1: HtmlElement | None,
    credited: list[str],
    sites: list[str | None],
    url: str | None,
) -> list[str]:
    """Everyone of the byline block that credits `credited` when a page's JSON-LD or tags
    name one person: tags often name only the first of several authors that the page's own
    byline shows. A block that does not name that person (a rail, a related story) adds
    nobody; neither does a page whose tags already credit several."""
    if len(credited) != 1:
        return []
    return text_co_authors(h1, credited[0], sites, url) or microdata_co_authors(tree, credited[0])
