"""Split bodies: an article body cut by ads into same-class containers, joined before extraction.

Some templates (Wired, The New Yorker, Politico Europe...) close the article's body container
at every ad slot and open a new one with the same class after it. trafilatura takes the first
container its body selectors find and drops the rest: a third of the story on such pages. The
later containers are moved into the first when all of this holds, so that a list of teasers,
the next story of an endless page or a page of small blocks is never glued on:

- the container holding the most paragraph text (a paragraph's nearest ancestor with a class)
  shares its tag and class with 1-5 others, the first of them being where the rest go;
- a continuation is neither inside the first nor around it, sits in the same slot of the
  template (a parent of the first's parent's tag and class, but not that parent itself:
  siblings are extracted together anyway), in the same <article> (or in none, like the
  first), not in a list item, and holds at least 500 characters of paragraphs.

It reads each paragraph once (~0.2 ms a page); trafilatura's own body selectors, evaluated on
the raw page, cost 2-6 ms.
"""

from collections import defaultdict

from lxml.html import HtmlElement

MAX_PARTS = 6  # more same-class blocks than this are a layout's building blocks, not a body
MIN_PARAGRAPHS = 500  # characters of <p> text a continuation holds: a body, not a caption
CONTAINERS = {"div", "section", "article", "main"}


def _article(element: HtmlElement) -> HtmlElement | None:
    return next(element.iterancestors("article"), None)


def _shape(element: HtmlElement) -> tuple[str, str | None]:
    return element.tag, element.get("class")


def _container(paragraph: HtmlElement) -> HtmlElement | None:
    for ancestor in paragraph.iterancestors():
        if ancestor.get("class"):
            return ancestor if ancestor.tag in CONTAINERS else None
    return None


def join_split_body(tree: HtmlElement) -> int:
    """Move the continuations of the page's body container into it; how many were moved."""
    text: dict[HtmlElement, int] = defaultdict(int)
    for paragraph in tree.iter("p"):
        container = _container(paragraph)
        if container is not None:
            text[container] += len(paragraph.text_content())
    if len(text) < 2:
        return 0
    biggest = max(text, key=text.__getitem__)
    parts = [c for c in text if _shape(c) == _shape(biggest)]  # document order
    if not 2 <= len(parts) <= MAX_PARTS:
        return 0
    first, home = parts[0], _article(parts[0])
    slot = first.getparent()
    if slot is None or next(first.iterancestors("li"), None) is not None:
        return 0
    outer = set(first.iterancestors())
    moved = 0
    for part in parts[1:]:
        if part in outer or _article(part) is not home or text[part] < MIN_PARAGRAPHS:
            continue
        if any(a is first for a in part.iterancestors()):
            continue
        parent = part.getparent()
        if parent is None or parent is slot or _shape(parent) != _shape(slot):
            continue  # siblings are extracted together already; another slot is other content
        if next(part.iterancestors("li"), None) is not None:
            continue
        if part.text and part.text.strip():  # text before the part's first child
            if len(first):
                first[-1].tail = (first[-1].tail or "") + part.text
            else:
                first.text = (first.text or "") + part.text
        first.extend(list(part))
        part.drop_tree()  # its tail (text after it) stays where it was
        moved += 1
    return moved
