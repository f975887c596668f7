"""Bylines: who wrote a page, read from its markup when its tags and JSON-LD credit no one."""

import itertools
import re
from collections.abc import Callable, Iterator

from lxml.html import HtmlElement
from newswire.services.extract import labels
from newswire.services.extract.headline import NEAR_ELEMENTS, near_headline
from newswire.services.extract.people import is_particle, split_credit
from newswire.services.extract.sitenames import host_names, letters, names_a_site

# Elements that say they hold a byline: rel/itemprop=author, a class or id naming an author
# or byline, a link to an author page. Tested in Python on one walk that stops at the first
# byline: the same test as one XPath costs ~3 ms a page (libxml2 evaluates every predicate on
# every element), the walk ~0.8 ms at most.
MARKS = ("author", "Author", "byline", "Byline")
AUTHOR_PAGES = ("/author/", "/authors/", "/autor/", "/autoren/")
NOT_MARKED = frozenset({"script", "meta", "link", "style"})
# The substring tests as one regex each: a quarter less time a test than `any` over a tuple.
MARKED_CLASS = re.compile("|".join(MARKS))
AUTHOR_PAGE = re.compile("|".join(map(re.escape, AUTHOR_PAGES)))
MAX_BYLINE = 120  # longer is an author's biography or a teaser list, not a byline
MAX_TWINS = 6  # marked elements side by side read as one byline
# Bounds on the search, so that a page of thousands of marked elements costs no more than
# a news page: the candidates weighed, the siblings and the descendants looked at for each.
MAX_CANDIDATES = 30
MAX_BESIDE = 12
MAX_INSIDE = 300
# Containers of other stories' credits: related stories, "most read", navigation. A class or
# id word of its own ("c-related__list", not "node--promoted"). A rail or sidebar column
# (`<aside>`, "sidebar", "rail") may hold the story's own author box, so a byline there is
# taken when the page has no other.
OTHER_STORIES = re.compile(
    r"(?:^|[\s_-])(?:related|recommend\w*|recirc\w*|trending|popular|most-?read|more-?stories|"
    r"read-?next|newsletter|outbrain|taboola|disqus\w*|"
    # readers' comments; not a flag on a story's wrapper ("has-comments", "comments-open")
    r"(?<!has-)(?<!with-)(?<!no-)comments?(?!-(?:open|closed|count|link|number)))(?:$|[\s_-])",
    re.IGNORECASE,
)
COLUMN = re.compile(r"(?:^|[\s_]|(?<!has)(?<!with)-)(?:sidebar|rail)(?:$|[\s_-])", re.IGNORECASE)

# WordPress's default account ("/author/admin/"): the CMS user who pressed publish.
CMS_ACCOUNT = re.compile(r"/(?:author|authors|user|users|profile)/admin/?(?:[?#].*)?$")
# Links to a section's or a tag's page: what an "author" block holding only them names is the
# story's section ("<div class='article_author'><a href='/news/category/29/...'>Misc</a>").
SECTION_PAGE = re.compile(
    r"/(?:category|categories|section|sections|tag|tags|topic|topics|rubrik|ressort|thema|"
    r"themen|kategorie|categoria|categorie|rubrique)/",
    re.IGNORECASE,
)
# Text for screen readers only ("<span class='u-visually-hidden'>capital</span>" naming the
# magazine inside a byline): not part of the byline a reader sees.
HIDDEN = re.compile(r"visually-?hidden|sr-only|screen-reader", re.IGNORECASE)

# A credit label: "Von:", "By:", "<strong>Autorin/Autor</strong> Name", "(责编\uff1aName)"
# (Chinese pages write a full-width colon, U+FF1A).
LABEL = rf"(?:{labels.BY}|{labels.AUTHOR}|{labels.CJK})"
LABEL_ONLY = re.compile(rf"^\(?{LABEL}\s*[:\uff1a]?$", re.IGNORECASE)
LABEL_START = re.compile(rf"^\(?{LABEL}\s*[:\uff1a]", re.IGNORECASE)
LABELLED = re.compile(rf"^\(?{LABEL}\s*[:\uff1a]\s*(.+?)\)?$", re.IGNORECASE)
# "By Jane Doe" without a colon: only names may follow, and not an article ("By The Numbers").
LABEL_WORD = re.compile(rf"^{labels.BY}\s+(?!{labels.ARTICLE}\s)(.+)$", re.IGNORECASE)
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "title", "textarea"})

# A paragraph that is only a name in bold: "<p><strong>Jane Doe/John Roe</strong></p>".
NAME_WORD = re.compile("^[^\\W\\d_][\\w.'\u2019-]*$")
NAME_SEPARATORS = re.compile(r"\s*(?:/|,|&|\band\b)\s*")
LONG_PARAGRAPH = 100  # characters of prose that make a paragraph the story's text
MAX_OPENING = 8  # short paragraphs (a kicker, a date) that may come before an opening byline
# A date as a byline's neighbour writes it: "05.04.2025", "2025-04-05", "5 April 2025",
# "April 5, 2025".
DATE_TEXT = re.compile(
    r"^\W*(?:\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}\.?\s+[^\W\d_]{3,}\.?\s+\d{4}|"
    r"[^\W\d_]{3,}\.?\s+\d{1,2},?\s+\d{4})"
)

# What stands between a byline's names and what is beside them: "Jane Doe | 5 April".
SEPARATORS = " |·•,-\u2013\u2014"

# Where a byline's names end: "Published ...", "(on) Monday, ...", a date or a time.
NAMES_END = re.compile(
    r"\s*(?:\b(?:published|updated|veröffentlicht|aktualisiert|publié|publicado)\b|"
    r"\b(?:on\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|"
    r"\b(?:view\s+|see\s+)?(?:more|all)\s+(?:articles|stories|posts)\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|\d).*$",
    re.IGNORECASE | re.DOTALL,
)


def _hidden(element: HtmlElement) -> bool:
    return bool(HIDDEN.search(element.get("class") or ""))


def _visible_parts(element: HtmlElement) -> Iterator[str]:
    yield element.text or ""
    for child in element:
        if isinstance(child.tag, str) and not _hidden(child):
            yield from _visible_parts(child)
        yield child.tail or ""


def visible_text(element: HtmlElement) -> str:
    """The element's text without what only screen readers get, whitespace collapsed."""
    return " ".join(" ".join(_visible_parts(element)).split())


def _admin_link(element: HtmlElement) -> bool:
    links = [element, *element.iter("a")]
    return any(CMS_ACCOUNT.search(a.get("href") or "") for a in links)


def _only_sections(element: HtmlElement, text: str) -> bool:
    """Whether a marked element's text is all in links to section or tag pages."""
    links = [a for a in element.iter("a") if SECTION_PAGE.search(a.get("href") or "")]
    if not links:
        return False
    names = {visible_text(a) for a in links}
    return not letters(" ".join(part for part in text.split("; ") if part not in names))


def is_marked(element: HtmlElement) -> bool:
    get = element.get
    if (c := get("class")) and MARKED_CLASS.search(c):
        return True
    if get("rel") == "author" or get("itemprop") == "author":
        return True
    if ((i := get("id")) and "author" in i) or "Byline" in (get("data-component") or ""):
        return True
    return element.tag == "a" and AUTHOR_PAGE.search(get("href") or "") is not None


def _place(element: HtmlElement, region: HtmlElement | None) -> str:
    """Where an element sits: "in" the headline's article (`region`); "other" in a block of
    other stories or navigation, "column" in a rail or sidebar, below the article or <body>
    (classes above those name the page's layout); else "out"."""
    card = False  # an <article> of its own inside a column is another story's teaser
    for parent in element.iterancestors():
        if parent is region:
            return "in"
        if parent.tag == "body":
            return "out"
        if parent.tag == "nav":
            return "other"
        words = " ".join(v for a in ("class", "id") if (v := parent.get(a)))
        if words and OTHER_STORIES.search(words):
            return "other"
        if parent.tag == "aside" or (words and COLUMN.search(words)):
            return "other" if card else "column"
        card = card or parent.tag == "article"
    return "out"


def beside_the_story(element: HtmlElement, region: HtmlElement | None) -> bool:
    """Whether the element sits in a block of other stories, navigation, a rail or a
    sidebar: a name there may credit another story."""
    return _place(element, region) in ("other", "column")


def _in_article(
    texts: Callable[[HtmlElement], Iterator[tuple[HtmlElement, str]]],
    tree: HtmlElement,
    h1: HtmlElement | None,
) -> str | None:
    """The first byline `texts` finds inside the headline's article, else the first found
    elsewhere, else the first in a rail or sidebar; never one among other stories. One walk
    of the page (the article is part of it), unless a crowd of would-be bylines before the
    article ends it early: then the article is searched on its own."""
    region = article_region(h1)
    elsewhere: dict[str, str] = {}
    for n, (element, text) in enumerate(texts(tree)):
        if n == MAX_CANDIDATES:
            if region is not None:
                inside = itertools.islice(texts(region), MAX_CANDIDATES)
                if found := next((t for e, t in inside if _place(e, region) == "in"), None):
                    return found
            break
        place = _place(element, region)
        if place == "in" or (place == "out" and region is None):
            return text
        elsewhere.setdefault(place, text)
    return elsewhere.get("out") or elsewhere.get("column")


def article_region(h1: HtmlElement | None) -> HtmlElement | None:
    """The <article> or <main> that holds the page's headline (its first <h1>), if any."""
    if h1 is None:
        return None
    return next((p for p in h1.iterancestors("article", "main")), None)


def text_length(element: HtmlElement) -> int:
    """Characters of the element's text, spaces folded. All of it at once (in C)."""
    return len(" ".join(" ".join(element.itertext()).split()))


def short_text(element: HtmlElement) -> bool:
    """Whether the element has text, at most a byline's length (most marked elements are
    empty or whole author boxes)."""
    return 0 < text_length(element) <= MAX_BYLINE


def _credits(element: HtmlElement) -> str:
    """The byline text of a marked element, with the marked elements beside it of the same
    tag and class ("<a rel=author>A</a> and <a rel=author>B</a>"), or, for a box of several
    marked people, each of theirs: names joined with ";" so that none run into another."""
    kind = (element.tag, element.get("class"))
    inner: dict[tuple[object, ...], list[HtmlElement]] = {}
    for child in itertools.islice(element.iterdescendants(), MAX_INSIDE):
        if isinstance(child.tag, str) and is_marked(child):
            inner.setdefault((child.getparent(), child.tag, child.get("class")), []).append(child)
    boxes = next((group for group in inner.values() if len(group) > 1), None)
    twins = [element] + [
        s
        for s in itertools.islice(element.itersiblings(), MAX_BESIDE)
        if (s.tag, s.get("class")) == kind and is_marked(s) and short_text(s)
    ]
    found = boxes or twins
    return "; ".join(t for e in found[:MAX_TWINS] if (t := visible_text(e)))


def _marked(tree: HtmlElement, h1: HtmlElement | None) -> str | None:
    """The first element marked as a byline (in the headline's article first), unless it
    credits the CMS's admin account."""
    return _in_article(_marked_texts, tree, h1)


def _marked_texts(tree: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in NOT_MARKED:
            continue
        if not is_marked(element) or not short_text(element) or _admin_link(element):
            continue
        if (text := _credits(element)) and not _only_sections(element, text):
            yield element, text


def _after(element: HtmlElement) -> str:
    """The text that follows an element inside its parent: the names after a label."""
    parts = [element.tail or ""]
    for sibling in element.itersiblings():
        parts += [visible_text(sibling), sibling.tail or ""]
    return " ".join(" ".join(parts).split())


def _labelled(tree: HtmlElement, h1: HtmlElement | None) -> str | None:
    """Names after a credit label: the label's own element ("<li>Von: <a>Name</a></li>"), the
    text after a label element ("<strong>Autor</strong> Name"), or one text ("By: Name"); in
    the headline's article first."""
    return _in_article(_labelled_texts, tree, h1)


def _labelled_texts(tree: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in SKIPPED:
            continue
        own = " ".join((element.text or "").split())
        if not own or len(own) > MAX_BYLINE:
            continue
        if LABEL_ONLY.match(own):
            # The names are the element's children, or (a label element) follow it.
            rest = visible_text(element)[len(own) :] if len(element) else _after(element)
        elif LABEL_START.match(own) and (match := LABELLED.match(visible_text(element))):
            rest = match[1]
        elif (
            element.tag not in HEADINGS
            and (match := LABEL_WORD.match(own))
            and is_names(names := _names_part(match[1]))
        ):
            rest = names  # "By Jane Doe and John Roe": no colon, so only names may follow
        else:
            continue
        credit = rest.strip(" :\uff1a")
        if not credit or credit[0].islower():  # "<em>By</em> the time we arrived": prose
            continue
        if len(credit) <= MAX_BYLINE and not _admin_link(element):
            yield element, credit


def _names_part(text: str) -> str:
    """A byline's text up to where its names end (a date, "Published", a separator)."""
    return NAMES_END.sub("", text).strip(SEPARATORS)


def is_names(text: str) -> bool:
    """Whether the text is one to four names of 2-4 capitalised words each: "Jane Doe",
    "MTHOBISI SITHOLE", "Jane Doe/John Roe"."""
    names = [n for n in NAME_SEPARATORS.split(text) if n]
    if not names or len(names) > 4:
        return False
    for name in names:
        words = name.split()
        if not 2 <= len(words) <= 4:
            return False
        inner = words[1:-1]  # "Anna de Vries": a particle inside a name
        if not all(
            NAME_WORD.match(w) and (w[0].isupper() or (w in inner and is_particle(w)))
            for w in words
        ):
            return False
    return True


def _bold_only(p: HtmlElement) -> bool:
    children = [c for c in p if isinstance(c.tag, str)]
    return (
        len(children) == 1
        and children[0].tag in ("strong", "b")
        and not (p.text or "").strip()
        and not (children[0].tail or "").strip()
    )


def _signed(tree: HtmlElement, _h1: HtmlElement | None) -> str | None:
    """A name in bold as a paragraph of its own, opening the story before its first paragraph
    of prose, or signing it off after the last: the byline of many small publishers' CMSs."""
    for p in tree.iter("p"):
        if not _bold_only(p) or not is_names(text := visible_text(p)):
            continue
        # the nearest paragraphs only: a page of thousands of them costs no more than one
        before = list(
            itertools.islice(_texts(p.itersiblings("p", preceding=True)), MAX_OPENING + 1)
        )
        after = next(_texts(p.itersiblings("p")), None)
        opens = len(before) <= MAX_OPENING and all(len(t) < LONG_PARAGRAPH for t in before)
        if opens and after is not None and len(after) >= LONG_PARAGRAPH:
            return text
        if after is None and before and len(before[0]) >= LONG_PARAGRAPH:
            return text
    return None


def _dated(element: HtmlElement | None) -> bool:
    """Whether an element is the story's date: a <time>, or text that opens with one."""
    if element is None or not isinstance(element.tag, str):
        return False
    return element.tag == "time" or bool(DATE_TEXT.match(visible_text(element)))


def _beside_date(_tree: HtmlElement, h1: HtmlElement | None) -> str | None:
    """Names alone in an element beside the story's date under its headline, unmarked:
    "<span>Jane Doe |</span><span>05.04.2025</span>". Not a link: beside a date, that is the
    story's section ("Middle East"); not above the headline: that is its kicker ("Breaking
    Story")."""
    top = h1.sourceline if h1 is not None else None
    for element in itertools.islice(near_headline(h1), NEAR_ELEMENTS):
        if not isinstance(element.tag, str) or element.tag in SKIPPED or len(element):
            continue
        if top is not None and element.sourceline is not None and element.sourceline < top:
            continue
        if element.tag == "a" or next(element.iterancestors("a"), None) is not None:
            continue
        text = visible_text(element).strip(SEPARATORS)  # its spaces are folded: \xa0 too
        if not text or not is_names(text):
            continue
        if _dated(element.getnext()) or _dated(element.getprevious()):
            return text
    return None


def _texts(paragraphs: Iterator[HtmlElement]) -> Iterator[str]:
    """The visible texts of the paragraphs that have any."""
    return (t for p in paragraphs if (t := visible_text(p)))


def bylines(tree: HtmlElement, h1: HtmlElement | None) -> Iterator[str]:
    """Byline texts, most trusted first and each searched only if the caller asks for the
    next: the first element marked as a byline, the first labelled credit, the first bold
    name opening or closing the story, names beside the date under the headline. The caller
    takes the first that names a person (an author box may credit only the publication)."""
    for search in (_marked, _labelled, _signed, _beside_date):
        if text := search(tree, h1):
            yield text


def cms_account(value: object) -> bool:
    """A JSON-LD author object that is the CMS's admin account ("url": ".../author/admin/")."""
    if not isinstance(value, dict):
        return False
    return any(CMS_ACCOUNT.search(v) for k in ("url", "@id") if isinstance(v := value.get(k), str))


def byline_names(text: str, sites: list[str | None], url: str | None) -> list[str]:
    """The people in a byline's text: cut where a date or "Published" starts, split into
    names as written (services/extract/people.py), a trailing publication name taken off
    ("Jane Doe USA TODAY"), and credits that only name the publication dropped."""
    keys = {letters(s) for s in sites if s} | {letters(h) for h in host_names(url)}
    keys.discard("")  # a site named only in symbols would match any punctuation
    names = []
    for name in split_credit(NAMES_END.sub("", text)):
        words = name.split()
        # the longest trailing run of words that spells the publication's name goes
        cut = next((k for k in range(1, len(words)) if letters(" ".join(words[k:])) in keys), None)
        person = " ".join(words[:cut])
        if person and not names_a_site(person, sites, url):
            names.append(person)
    return names
