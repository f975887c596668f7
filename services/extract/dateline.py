"""Dateline: the time of day a page prints beside its publication day ("Do 25.04.24 | 14:07
Uhr", "01. April 2025, 15:25"), for pages whose markup claims no time at all."""

import re
from datetime import date, datetime

from lxml import etree
from lxml.html import HtmlElement

# The body's text nodes (one XPath, evaluated in C: a walk in Python costs ~15 ms); those of
# elements a reader does not see are skipped.
BODY_TEXT = etree.XPath("//body//text()")
SKIPPED = {"script", "style", "noscript", "template", "option"}
# Between the day and its time: a weekday or month name, a separator, "um"/"at"/"à".
CONNECTOR = r"[^\d]{0,12}?(?:um\s+|at\s+|à\s+|alle\s+|a\s+las\s+)?"
TIME = re.compile(r"(?<![\d.:])([01]?\d|2[0-3])[:.h]([0-5]\d)(?!\d)")
MAX_TEXT = 200  # a dateline is a short line; long paragraphs are the story
# A day the site appends to its page titles ("... | DW | 28.04.2023", "... - 2024-04-25"):
# day first when dotted, ISO when dashed (slashes are ambiguous between day and month first).
TITLE_DAY = re.compile(
    r"\s[|\u2013\u2014\u00b7-]\s*(?:(\d{1,2})\.(\d{1,2})\.(\d{4})|(\d{4})-(\d{2})-(\d{2}))\s*$"
)


def title_day(titles: list[str]) -> date | None:
    """The day a page's own title ends with, the first of its titles that has one."""
    for title in titles:
        match = TITLE_DAY.search(title)
        if match is None:
            continue
        d, m, y = (match[1], match[2], match[3]) if match[1] else (match[6], match[5], match[4])
        try:
            return date(int(y), int(m), int(d))
        except ValueError:
            continue
    return None


def _day_forms(day: date) -> str:
    """A pattern for `day` in the common written forms: 25.04.24, 25.04.2024, 25/4/2024,
    2024-04-25, 4/25/2024, "1. April 2025", "April 1, 2025", "1 avril 2025"."""
    d, m, y = day.day, day.month, day.year
    dd = rf"0?{d}"
    mm = rf"0?{m}"
    yy = rf"(?:{y}|{y % 100:02d})"
    forms = [
        rf"{dd}[./-]{mm}[./-]{yy}",  # day first (most of the world)
        rf"{mm}/{dd}/{yy}",  # month first (the US)
        rf"{y}-{m:02d}-{d:02d}",
        rf"{dd}\.?\s+[^\W\d]{{3,12}}\.?\s+{y}",  # 1. April 2025, 1 avril 2025
        rf"[^\W\d]{{3,12}}\.?\s+{dd},?\s+{y}",  # April 1, 2025
    ]
    return r"(?<!\d)(?:" + "|".join(forms) + r")(?!\d)"


def dateline_time(tree: HtmlElement, day: date) -> datetime | None:
    """The first time of day printed right after `day` in the page's visible text (short text
    nodes only, so a story's sentences are not read as its dateline), as a wall-clock time
    (no zone: the page names none); None when the page prints none."""
    lines = []
    for node in BODY_TEXT(tree):
        parent = node.getparent()
        if not node.is_tail and parent is not None and parent.tag in SKIPPED:
            continue
        lines.append(" ".join(str(node).split()) if len(node) <= MAX_TEXT else "\n")
    # One text, a node a line: a day and its time may sit in sibling elements. Times are
    # rarer than days' digits, so each time found is checked for the day just before it.
    text = "\n".join(lines)
    before = re.compile(_day_forms(day) + CONNECTOR + r"$", re.IGNORECASE)
    for match in TIME.finditer(text):
        if before.search(text, max(0, match.start() - 40), match.start()):
            hour, minute = int(match.group(1)), int(match.group(2))
            return datetime(day.year, day.month, day.day, hour, minute)
    return None
