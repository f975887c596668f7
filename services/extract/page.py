"""Extract: the article body from page HTML with trafilatura (it never fetches), and metadata."""

import dataclasses
import re
from dataclasses import dataclass

import lxml.html
import trafilatura
from lxml import etree
from newswire.services.errors import NewswireError
from newswire.services.extract import cascade, fastpaths
from newswire.services.extract.cleanup import clean_body
from newswire.services.extract.flight import flight_article
from newswire.services.extract.linklists import drop_link_lists
from newswire.services.extract.metadata import PageMeta, read_meta
from newswire.services.extract.secondpass import SHORT_BODY, better, missed_story
from newswire.services.extract.splitbody import join_split_body
from newswire.services.extract.walls import Wall, detect_wall, word_count
from trafilatura.settings import Document
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, repair_faulty_html

# A page needs a little text before a language detector's guess means anything.
MIN_WORDS_FOR_DETECTION = 15
SPACES = re.compile(r"[ \t\u00a0]+")


class ExtractionError(NewswireError):
    """The page could not be parsed or yielded no article text."""


@dataclass(frozen=True)
class Extracted:
    """The article text, and what the page says about itself (language filled in if missing)."""

    body: str
    meta: PageMeta
    wall: Wall | None = None  # the page is a consent, login or subscription wall, not a story


def detect_language(text: str) -> str | None:
    """Language of the text by py3langid, for pages that do not declare one."""
    if word_count(text) < MIN_WORDS_FOR_DETECTION:  # CJK text has no spaces between words
        return None
    import py3langid  # noqa: PLC0415 -- its model takes a second to load; most pages declare

    code, _score = py3langid.classify(text[:2000])  # cost grows with length; 2k chars suffice
    return str(code)


def load_language_model() -> None:
    """Load py3langid's model now, not on the first page that needs it (~0.5 s): a worker's
    pool parent does, so that its children share one copy and no story waits for it."""
    import py3langid  # noqa: PLC0415 -- only processes that extract load it

    py3langid.classify("")


# trafilatura's parser settings, with lxml's element class chosen in C: lxml.html's own parser
# asks a Python function for each element's class (FormElement, InputElement...), a call per
# element each time the tree is walked (~5% of extraction, paired A/B); trafilatura only needs
# HtmlElement's methods (same output on all 181 benchmark pages, `tests/test_corpus.py`).
PARSER = lxml.html.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)

# trafilatura's regex XPath expressions, answered by equal-output Python loops (a fifth of
# extraction's time; see the module). Done here, once, for every process that extracts.
FAST_PATHS = fastpaths.install()


def parse_page(
    html: str, clean: bool = False, utf8: bytes | None = None
) -> lxml.html.HtmlElement | None:
    """The page's tree as trafilatura.load_html parses decoded HTML (repaired the same way,
    None where it finds no HTML), on the faster parser above. `clean`: the caller knows the
    text holds no character XML refuses (`decode_page`), so the scan for them is skipped;
    `utf8`: the text's UTF-8 encoding, where the caller has it (the page's own bytes)."""
    beginning = html[:50].lower()
    if clean:  # what repair_faulty_html does besides that scan, the same way
        text = html
        if "doctype" in beginning:
            firstline, newline, rest = html.partition("\n")
            line = DOCTYPE_TAG.sub("", firstline, count=1)
            if line != firstline or not newline:  # else the same text: no copy of it
                text = line + "\n" + rest
        for line in text[:4096].splitlines()[:4]:
            if "<html" in line and line.endswith("/>"):
                text = FAULTY_HTML.sub(r"\1>", text, count=1)
                break
    else:
        text = repair_faulty_html(html, beginning)
    if utf8 is None or text is not html:  # repaired: the bytes are not this text's
        utf8 = text.encode("utf-8", "surrogatepass")
    tree = None
    # UTF-8 bytes first: from a str, libxml2 converts the text to UTF-8 itself, slower than
    # Python does (2.0 against 1.8 ms a page, encoding included, 1.6 with the page's own
    # bytes). The tree is the same, but for a lone surrogate (a UTF-7 page can decode to
    # one): U+FFFDs, where the str's parse ended the text.
    for source in (utf8, text):
        try:
            tree = lxml.html.fromstring(source, parser=PARSER)
        except (ValueError, etree.LxmlError):
            continue
        if len(tree) >= 1:
            break
    if tree is None or ("html" not in beginning and len(tree) < 2):
        return None  # not HTML at all
    return tree


def _paragraphs(text: str) -> str:
    """One block per line from trafilatura; the contract wants blank lines between them."""
    lines = SPACES.sub(" ", text).splitlines()  # one pass: a pass per line costs 20x the calls
    return "\n\n".join(stripped for line in lines if (stripped := line.strip()))


def _trafilatura(tree: lxml.html.HtmlElement, url: str, fast: bool) -> str:
    """trafilatura's text of the page ("" when it finds none); it works on a copy of `tree`.
    `fast`: without its fallback extractors (see services/extract/secondpass.py)."""
    try:
        if fast and (text := cascade.fast_text(tree, url)) is not None:
            return text  # the same steps with fewer copies of the tree (cascade.py)
        doc = trafilatura.bare_extraction(
            tree, url=url, fast=fast, favor_recall=True, include_comments=False, include_tables=True
        )
    except Exception as exc:
        raise ExtractionError(f"trafilatura failed: {type(exc).__name__}: {exc}") from exc
    return str(doc.text) if isinstance(doc, Document) and doc.text else ""


def _second_look(tree: lxml.html.HtmlElement, url: str, text: str) -> str:
    """The story where the fast pass's `text` is a part of it (services/extract/secondpass.py):
    trafilatura's thorough pass, else the page's React payload; else `text` as it is."""
    try:
        if missed_story(text, tree):  # rare: the thorough pass costs ~4x the fast one
            thorough = _trafilatura(tree, url, fast=False)
            text = thorough if better(text, thorough) else text
        if len(text) < SHORT_BODY and (article := flight_article(tree)) is not None:
            rendered = _trafilatura(article, url, fast=True)  # a story the browser renders
            text = rendered if better(text, rendered) else text
    except ExtractionError:
        pass  # a second look that fails leaves the fast pass's text
    return text


def extract(html: str, url: str, clean: bool = False, utf8: bytes | None = None) -> Extracted:
    """Body and metadata of decoded page HTML; ExtractionError when there is no article text.

    Metadata comes from the page's own tags and JSON-LD (read first: extraction prunes the
    tree), which is a fraction of the cost of trafilatura's metadata heuristics. The body comes
    from trafilatura in its fast, recall-leaning mode and is then cleaned of the headline and
    page furniture; on the shared benchmark this beats trafilatura's defaults on both F1 and
    speed (see `make bench`). `clean`, `utf8`: what `decode_page` vouches for (parse_page).
    """
    tree = parse_page(html, clean, utf8)
    if tree is None:
        raise ExtractionError("page is not parseable HTML")
    meta = read_meta(tree, html)
    drop_link_lists(tree)  # "latest stories", "read next": navigation inside the body
    join_split_body(tree)  # a body that ads cut into pieces: trafilatura would keep the first
    text = _second_look(tree, url, _trafilatura(tree, url, fast=True))
    if not text:
        raise ExtractionError("no article text found")
    body = _paragraphs(clean_body(text, meta.titles))
    if not body:
        raise ExtractionError("no article text left after removing page furniture")
    language = meta.language or detect_language(body)
    return Extracted(body, dataclasses.replace(meta, language=language), detect_wall(body, html))
