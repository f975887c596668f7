"""Story: the pure decision step, (entry, download, extraction) to what is published, or why not."""

import dataclasses
import logging
import time
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from newswire.schemas.article import Article
from newswire.schemas.feed import FeedEntry
from newswire.services.errors import FetchKind, PermanentFetch, RefusedURL
from newswire.services.extract.normalize import build_article, extraction_is_useful
from newswire.services.extract.page import Extracted, ExtractionError, extract
from newswire.services.extract.titlehabit import TitleHabit
from newswire.services.fetch.charset import decode_page
from newswire.services.fetch.client import FetchResult
from newswire.services.ingest.downloader import Download
from newswire.services.ingest.outcomes import EntryResult, Spent

log = logging.getLogger(__name__)


def looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith("<") or "<html" in head or "<body" in head or "<p" in head


def extract_page(result: FetchResult) -> tuple[Extracted, Spent]:
    """Decode and extract a fetched page, and what it took; PermanentFetch when it is not
    HTML after all. A plain function, so a process pool can run it."""
    started, cpu = time.perf_counter(), time.thread_time()
    html, clean, utf8 = decode_page(result.content, result.headers.get("content-type"))
    if not looks_like_html(html):
        raise PermanentFetch(
            result.url, f"not HTML ({result.content_type or 'undeclared'})",
            kind=FetchKind.NOT_HTML,
        )  # fmt: skip
    page = extract(html, result.url, clean, utf8)
    cpu = time.thread_time() - cpu  # read first: the CPU's window lies inside the clock's
    return page, Spent(time.perf_counter() - started, cpu)


@dataclass(frozen=True)
class Extraction:
    """What the downloaded page gave: the story's body, or why it is not used. `result` is
    the extraction's class (full, wall, too_short, failed) when a page was extracted."""

    page: Extracted | None = None
    error: str | None = None
    kind: str | None = None
    result: str | None = None
    seconds: float | None = None
    cpu_seconds: float | None = None

    def onto(self, result: EntryResult) -> EntryResult:
        """`result` with this extraction's class and what it took (for the Meter)."""
        return dataclasses.replace(
            result, extraction=self.result, extract_seconds=self.seconds,
            extract_cpu_seconds=self.cpu_seconds,
        )  # fmt: skip


def judge(entry: FeedEntry, page: Extracted, spent: Spent) -> Extraction:
    """Whether an extracted page is the story: a wall's text is not (the feed's own text is
    published instead; a paywalled teaser is the story's own opening, though, kept and
    flagged when the feed has no text to offer), nor is a page too short to be one."""
    if page.wall is not None:
        keep = page.wall.kind == "paywalled teaser" and not entry.summary.strip()
        kept = page if keep else None
        return Extraction(kept, page.wall.reason(), None, "wall", spent.seconds, spent.cpu)
    if not extraction_is_useful(page, entry):
        why = f"extraction too short ({len(page.body.split())} words)"
        return Extraction(None, why, None, "too_short", spent.seconds, spent.cpu)
    return Extraction(page, None, None, "full", spent.seconds, spent.cpu)


def failed_extraction(exc: PermanentFetch | ExtractionError, seconds: float) -> Extraction:
    """An extraction that raised: the page turned out not to be HTML, or the extractor failed."""
    if isinstance(exc, PermanentFetch):
        return Extraction(error=f"page unavailable: {exc.reason}", kind=exc.kind.value)
    return Extraction(error=f"extraction failed: {exc}", result="failed", seconds=seconds)


def extract_download(entry: FeedEntry, got: Download) -> Extraction:
    """The downloaded page's extraction: the pool's, or one run here (also when the pool
    broke: a crashed extraction process fails its pages' futures, not the stories)."""
    if entry.link is None or got.error is not None or got.result is None:
        return Extraction()
    started = time.perf_counter()
    try:
        if got.extracted is not None:
            try:
                return judge(entry, *got.extracted.result())
            except BrokenExecutor:
                log.warning("extraction process lost; extracting %s here", got.result.url)
        return judge(entry, *extract_page(got.result))
    except (PermanentFetch, ExtractionError) as exc:
        return failed_extraction(exc, time.perf_counter() - started)


class Action(StrEnum):
    DUPLICATE = "duplicate"  # nothing to do: known, or no new version
    REJECT = "reject"  # recorded on the rejected stream
    PUBLISH = "publish"  # a new story
    REVISE = "revise"  # maybe the next version of a known story


@dataclass(frozen=True)
class Decision:
    """What to do with an entry: `article` to publish (or revise), or the reason not to."""

    action: Action
    link: str | None
    article: Article | None = None
    reason: str | None = None
    kind: str | None = None
    story_id: str | None = None


def decide(
    entry: FeedEntry,
    got: Download,
    extraction: Extraction,
    now: datetime,
    title_habit: TitleHabit | None = None,
) -> Decision:
    """The one place that says what an entry becomes, from what was downloaded and extracted
    (and, for an untitled entry, which headline candidate its site uses); no I/O."""
    link = entry.link
    if got.duplicate:
        return Decision(Action.DUPLICATE, link)
    if isinstance(got.error, RefusedURL):
        return Decision(Action.REJECT, link or "", reason=got.error.reason,
                        kind=got.error.kind.value)  # fmt: skip
    error, kind = extraction.error, extraction.kind
    if link is None:
        error = "entry has no link"
    elif got.error is not None:
        error, kind = f"page unavailable: {got.error.reason}", got.error.kind.value
    has_text = bool(entry.title.strip() or entry.summary.strip())
    if extraction.page is None and link and got.known is None and not has_text:
        # Nothing to publish: no page, and a source with no text of its own (a sitemap URL,
        # typically). Recorded, and known, so it is not fetched again each poll.
        why = f"{error or 'no page fetched'}; the source has no text of its own"
        return Decision(Action.REJECT, link, reason=why)
    article = build_article(
        entry,
        fetched_url=got.result.url if got.result is not None else None,
        page=extraction.page,
        error=error,
        now=now,
        aliases=got.aliases,
        title_habit=title_habit,
    )
    if got.known is None:
        return Decision(Action.PUBLISH, link, article, error, kind)
    if article.extraction != "full" and article.extraction_error is not None:
        # A fallback to the feed's text is no new version of a page extracted before.
        reason = f"not re-extracted: {article.extraction_error}"
        return Decision(Action.DUPLICATE, link, reason=reason, story_id=got.known.story_id)
    return Decision(Action.REVISE, link, article, story_id=got.known.story_id)
