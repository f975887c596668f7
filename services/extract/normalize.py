"""Normalize: build the one Article of a story from its feed entry and what the page gave."""

import hashlib
from datetime import datetime

from newswire.schemas.article import Article
from newswire.schemas.feed import FeedEntry
from newswire.services.extract.metadata import PageMeta
from newswire.services.extract.page import Extracted, detect_language
from newswire.services.extract.reconcile import (
    clean_authors,
    pick_published,
    pick_title,
    pick_updated,
)
from newswire.services.extract.titlehabit import TitleHabit
from newswire.services.identity.urls import canonical_url, clean_url, site_of, story_id, web_url
from newswire.services.redact import redact_url

# Fewer words than this from the page, and a longer text in the feed, means extraction missed.
MIN_BODY_WORDS = 25


def content_hash(text: str) -> str:
    """sha256 of the text with whitespace normalized, so reflowed copies hash alike."""
    return words_hash(text.split())


def words_hash(words: list[str]) -> str:
    """`content_hash` of a text already split into its words."""
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def extraction_is_useful(page: Extracted, entry: FeedEntry) -> bool:
    """False when the page gave next to nothing while the feed itself has more to say."""
    wanted = min(MIN_BODY_WORDS, len(entry.summary.split()))
    # Split no further than the words wanted: the body is a whole story, ~0.1 ms to split.
    return len(page.body.split(None, wanted)) >= wanted


def article_identity(
    entry: FeedEntry, fetched_url: str | None, page: Extracted | None
) -> tuple[str | None, str]:
    """(canonical URL, story id). Entries without any link are identified by feed and guid/title."""
    if fetched_url:
        canonical = canonical_url(fetched_url, page.meta.canonical if page else None)
        return canonical, story_id(canonical)
    if entry.link:
        canonical = clean_url(entry.link)
        return canonical, story_id(canonical)
    return None, story_id(f"{entry.feed_url}\n{entry.guid or entry.title}\n{entry.summary[:200]}")


def build_article(
    entry: FeedEntry,
    *,
    fetched_url: str | None,
    page: Extracted | None,
    error: str | None,
    now: datetime,
    aliases: list[str] | None = None,
    title_habit: TitleHabit | None = None,
) -> Article:
    """The Article for a story: the page's body when `page` is given, else the feed's text.
    The title: the feed's own; else the page's candidate its site is known to use for
    headlines (`title_habit`); else the candidate the page's sources agree on."""
    canonical, article_id = article_identity(entry, fetched_url, page)
    url = fetched_url or entry.link
    meta = page.meta if page is not None else PageMeta()
    if page is not None:
        body = page.body
        extraction = "full"
    else:
        body = entry.summary
        extraction = "feed_summary"
    words = body.split()  # once, for the count and the hash
    language = meta.language or entry.language
    if language is None and page is None:
        language = detect_language(body)
    published = pick_published(meta.published, entry.published_at or entry.updated_at, url, now)
    authors, agencies = clean_authors(meta.authors or entry.authors, meta.source, url)
    return Article(
        id=article_id,
        url=url,
        canonical_url=canonical,
        feed_url=redact_url(entry.feed_url),
        guid=entry.guid,
        title=entry.title
        or (title_habit and title_habit.title(meta.title_claims, meta.source, url))
        or pick_title(meta.title_claims, meta.source, url),
        body=body,
        summary=entry.summary or meta.description,
        authors=authors,
        agencies=agencies,
        published_at=published,
        updated_at=pick_updated(meta.modified, entry.updated_at, published, now),
        fetched_at=now,
        language=language,
        source=meta.source or (site_of(url) if url else None),
        tags=list(dict.fromkeys([*entry.tags, *meta.tags])),
        image=web_url(meta.image, url) or entry.image,
        word_count=len(words),
        content_hash=words_hash(words),
        extraction=extraction,
        extraction_error=error,
        cluster_id=article_id,
        aliases=[a for a in dict.fromkeys(aliases or []) if a != canonical],
    )
