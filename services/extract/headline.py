"""Near the headline: the elements around a page's first <h1>, where its byline stands."""

import itertools
from collections.abc import Iterator

from lxml.html import HtmlElement

# Where a byline stands: beside the headline, or beside the block holding it (a header), up
# to this many levels up and siblings away. Searched in Python: a search of the whole page
# for a name, even in C, costs ~0.1-0.25 ms, more than a page's other metadata.
NEAR_LEVELS = 3
NEAR_AFTER = 3
NEAR_BEFORE = 2
NEAR_ELEMENTS = 150  # a sibling may be the whole story: its first elements are enough


def near_headline(h1: HtmlElement | None) -> Iterator[HtmlElement]:
    """The elements near the page's first <h1>: the siblings just after and before it, and
    just after and before each of its nearest ancestors, with everything inside them."""
    node = h1
    for _ in range(NEAR_LEVELS):
        if node is None or node.tag == "body":
            return
        for sibling in itertools.islice(node.itersiblings(), NEAR_AFTER):
            yield from sibling.iter()
        for sibling in itertools.islice(node.itersiblings(preceding=True), NEAR_BEFORE):
            yield from sibling.iter()
        node = node.getparent()
