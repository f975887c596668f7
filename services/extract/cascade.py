"""trafilatura's fast extraction cascade, run with one copy of the page's tree instead of three."""

from copy import copy

import trafilatura
from lxml.html import HtmlElement
from trafilatura.baseline import baseline
from trafilatura.core import _forum_thread_page
from trafilatura.htmlprocessing import convert_tags, prune_unwanted_nodes, tree_cleaning
from trafilatura.main_extractor import extract_content
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt
from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

# `trafilatura.bare_extraction(tree, fast=True, favor_recall=True, include_comments=False)`
# copies the tree three times: the tree it is given (the caller keeps it), the pruned tree
# before cleaning it (kept for the baseline rescue of a page it finds nearly nothing on), and
# the cleaned tree (kept for the fallback extractors that its fast mode never runs). On the
# corpora's pages that is ~0.85, ~0.7 and ~0.2 ms of a ~15 ms extraction. `fast_text` runs
# the same steps of trafilatura's cascade for those options with the first copy only; the
# rare page that needs the rescue has its pruned tree made again from the caller's.
#
# Written against trafilatura 2.3.1 (constraints.txt pins it): under any other version
# `fast_text` answers None and the caller goes through `bare_extraction` (one without these
# functions fails at import, loudly).
# `tests/test_cascade.py` compares the two on every page of the corpora.
VERSION = "2.3.1"
SUPPORTED = trafilatura.__version__ == VERSION
# The options, built once: an Extractor reads trafilatura's settings each time (~0.2 ms).
OPTIONS = (
    Extractor(output_format="python", fast=True, recall=True, comments=False, tables=True)
    if SUPPORTED
    else None
)


def _prune(tree: HtmlElement, is_forum: bool) -> HtmlElement:
    """The raw tree pruned as trafilatura's cascade prunes it with comments off."""
    tree = prune_unwanted_nodes(tree, RAW_TREE_PRUNE_XPATH)
    if not is_forum:  # a forum's posts sit in comment containers: they are its content
        tree = prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS_XPATH)
    return tree


def fast_text(tree: HtmlElement, url: str) -> str | None:
    """The text `bare_extraction(tree, url=url, fast=True, favor_recall=True,
    include_comments=False, include_tables=True)` finds ("" where it finds none), leaving
    `tree` as it was; None where this trafilatura is not the one these steps were taken from,
    or where its settings limit the tree's size (then bare_extraction applies its own rules)."""
    if OPTIONS is None or OPTIONS.max_tree_size is not None:  # a tree size limit: its own way
        return None
    options = copy(OPTIONS)
    options.url = options.source = url  # as Extractor(url=url) sets them (source is logged)
    original = tree
    try:  # what bare_extraction takes for "no text" rather than a failure
        is_forum = _forum_thread_page(tree)
        # The one copy: the caller's tree is read again by the second look (page.py).
        tree = _prune(copy(tree), is_forum)
        cleaned = convert_tags(tree_cleaning(tree, options), options, url)
        body, text = extract_content(cleaned, options)
        if len(text) < options.min_extracted_size:  # the rescue: a baseline on the raw tree
            b_body, b_text, b_length = baseline(_prune(copy(original), is_forum))
            if b_length > len(text):
                body, text = b_body, b_text
    except (TypeError, ValueError):
        return ""
    if len(text) < options.min_output_size and options.min_output_comm_size > 0:
        return ""  # too short (it counts comments too, and there are none)
    return str(xmltotxt(body, options.formatting))
