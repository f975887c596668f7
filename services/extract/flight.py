"""The article HTML a Next.js page carries in its React payload (`self.__next_f`), not markup."""

import json
import re
from collections.abc import Iterator

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from newswire.services.extract.secondpass import STORY_TEXT, paragraph_chars

# Next.js (App Router) streams React Server Components data in scripts of the page:
# `self.__next_f.push([1, "<chunk>"])`, chunks of one text in order. Some sites render the
# story in the browser from it, so the markup holds no body: the HTML travels as a text row
# of that data, `<id>:T<length in UTF-8 bytes, hex>,<html>`.
PUSH = re.compile(r"^\s*self\.__next_f\.push\((\[.*\])\)\s*;?\s*$", re.DOTALL)
TEXT_ROW = re.compile(rb"(?:^|\n)[0-9a-f]{1,8}:T([0-9a-f]{1,8}),")
MARKER = "self.__next_f"
MAX_ROWS = 200  # a page's payload has a few text rows; more is not a page to read on


def _payload(tree: HtmlElement) -> bytes:
    """The page's React payload, its chunks joined in order."""
    chunks: list[str] = []
    for script in tree.iter("script"):
        source = script.text or ""
        if MARKER not in source[:40] or not (found := PUSH.match(source)):
            continue
        try:
            pushed = json.loads(found[1])
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit:
            continue  # the page's own script, not the payload
        if isinstance(pushed, list) and len(pushed) == 2 and pushed[0] == 1:  # [1, "chunk"]
            chunks.append(pushed[1] if isinstance(pushed[1], str) else "")
    return "".join(chunks).encode("utf-8", "surrogatepass")


def _text_rows(payload: bytes) -> Iterator[str]:
    """The HTML-bearing text rows of the payload."""
    for n, row in enumerate(TEXT_ROW.finditer(payload)):
        if n == MAX_ROWS:
            return
        text = payload[row.end() : row.end() + int(row[1], 16)].decode("utf-8", "replace")
        if "<p" in text:
            yield text


def flight_article(tree: HtmlElement) -> HtmlElement | None:
    """The page holding the payload's longest HTML (by its paragraphs' text) as an article,
    for the extractor; None when the page carries no such payload, or none a story's length."""
    best, most = None, STORY_TEXT - 1
    for html in _text_rows(_payload(tree)):
        try:
            page = lxml.html.fromstring(f"<html><body><article>{html}</article></body></html>")
        except (ValueError, etree.LxmlError):
            continue  # a row lxml refuses is not the story
        if (chars := paragraph_chars(page)) > most:
            best, most = page, chars
    return best
