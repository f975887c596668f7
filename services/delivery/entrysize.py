"""Entry size: every field that reaches a stream is capped, so no entry outgrows the setting."""

import re

from newswire.schemas.article import Article
from newswire.schemas.rejected import RejectedLink
from newswire.services.extract.normalize import words_hash

LINK_CHARS = 8192  # the SSRF guard refuses longer links; a longer page claim is dropped
GUID_CHARS = 2048
TITLE_CHARS = 1000
SUMMARY_CHARS = 100_000
NAME_CHARS = 200  # one author, agency, tag or site name
MAX_NAMES = 50
MAX_ALIASES = 20
REASON_CHARS = 2000
# BCP 47 as sites write it (`en`, `pt-BR`, `en_US`, `zh-Hant-TW`); anything else (3 MB of
# letters, say) is no language.
LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8}){0,6}")
# The entry's other fields (event, ids, JSON punctuation) beside `data`.
ENTRY_OVERHEAD = 512


def _text(value: str, limit: int, what: str, cuts: list[str]) -> str:
    if len(value) <= limit:
        return value
    cuts.append(f"{what} cut from {len(value)} to {limit} characters")
    return value[:limit]


def _link(value: str | None, what: str, cuts: list[str]) -> str | None:
    """A link too long to be one is dropped, not cut: half a URL points somewhere else."""
    if value is None or len(value) <= LINK_CHARS:
        return value
    cuts.append(f"{what} dropped ({len(value)} characters)")
    return None


def _names(values: list[str], limit: int, what: str, cuts: list[str]) -> list[str]:
    kept = [_text(v, NAME_CHARS, f"{what} (one)", cuts) for v in values[:limit]]
    if len(values) > limit:
        cuts.append(f"{what} cut from {len(values)} to {limit}")
    return kept


def _cut_body(body: str, room: int) -> str:
    """The longest start of `body` within `room` UTF-8 bytes, ending at a paragraph or word."""
    cut = body.encode("utf-8")[: max(room, 0)].decode("utf-8", errors="ignore")
    for mark in ("\n\n", " "):
        end = cut.rfind(mark)
        if end > len(cut) * 0.9:
            return cut[:end].rstrip()
    return cut


def _most_bytes(article: Article) -> int:
    """An upper bound of the article's JSON size, without writing it: a character is at most 6
    bytes in JSON (`\\u001b`); ids, dates and numbers fit in the fixed part."""
    strings = [article.body, article.summary, article.title, article.guid or "",
               article.url or "", article.canonical_url or "", article.feed_url,
               article.image or "", article.source or "", article.extraction_error or "",
               article.language or "", *article.tags, *article.authors, *article.agencies,
               *article.aliases, *article.truncated]  # fmt: skip
    return 6 * sum(len(v) + 3 for v in strings) + 4096


def fit_article(article: Article, max_bytes: int) -> Article:
    """`article` with every field within its cap and its JSON within `max_bytes`: the body
    (then the summary) is cut to fit, the content hash and word count follow it, and each
    cut is listed in `truncated`. An article already within bounds comes back unchanged."""
    cuts: list[str] = list(article.truncated)
    language = article.language
    if language is not None and not LANGUAGE.fullmatch(language):
        cuts.append(f"language dropped ({len(language)} characters, not a language tag)")
        language = None
    update: dict[str, object] = {
        "guid": None if article.guid is None else _text(article.guid, GUID_CHARS, "guid", cuts),
        "canonical_url": _link(article.canonical_url, "canonical_url", cuts) or article.url,
        "image": _link(article.image, "image", cuts),
        "language": language,
        "title": _text(article.title, TITLE_CHARS, "title", cuts),
        "summary": _text(article.summary, SUMMARY_CHARS, "summary", cuts),
        "source": None
        if article.source is None
        else _text(article.source, NAME_CHARS, "source", cuts),
        "extraction_error": None
        if article.extraction_error is None
        else _text(article.extraction_error, REASON_CHARS, "extraction_error", cuts),
        "tags": _names(article.tags, MAX_NAMES, "tags", cuts),
        "authors": _names(article.authors, MAX_NAMES, "authors", cuts),
        "agencies": _names(article.agencies, MAX_NAMES, "agencies", cuts),
        "aliases": [a for a in article.aliases[:MAX_ALIASES] if len(a) <= LINK_CHARS],
    }
    fitted = article.model_copy(update=update)
    budget = max_bytes - ENTRY_OVERHEAD
    # Written out only when it might not fit: the bound is a sum of lengths, the JSON ~100 µs.
    size = 0 if _most_bytes(fitted) <= budget else len(fitted.model_dump_json().encode("utf-8"))
    for name in ("body", "summary"):
        if size <= budget:
            break
        text: str = getattr(fitted, name)
        room = len(text.encode("utf-8")) - (size - budget) - 64  # JSON escapes grow a little
        shorter = _cut_body(text, room)
        cuts.append(f"{name} cut from {len(text)} to {len(shorter)} characters to fit the entry")
        fitted = fitted.model_copy(update={name: shorter})
        size = len(fitted.model_dump_json().encode("utf-8"))
    if len(cuts) == len(article.truncated):
        return article
    final: dict[str, object] = {"truncated": cuts}
    if fitted.body != article.body:
        words = fitted.body.split()  # once, for the count and the hash, as build_article does
        final |= {"word_count": len(words), "content_hash": words_hash(words)}
    return fitted.model_copy(update=final)


def fit_rejected(rejected: RejectedLink) -> RejectedLink:
    """A rejected-link record within bounds: a 9 MB link is named by its first 8 KiB."""
    cuts: list[str] = []
    return rejected.model_copy(
        update={
            "link": _text(rejected.link, LINK_CHARS, "link", cuts),
            "feed_url": _text(rejected.feed_url, LINK_CHARS, "feed_url", cuts),
            "guid": None
            if rejected.guid is None
            else _text(rejected.guid, GUID_CHARS, "guid", cuts),
            "title": _text(rejected.title, TITLE_CHARS, "title", cuts),
            "reason": _text(rejected.reason, REASON_CHARS, "reason", cuts),
        }
    )
