"""The shared article-extraction-benchmark corpus, served behind RSS and Atom feeds on loopback."""

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"


def shared_corpus(name: str) -> Path:
    """`../shared/corpus/<name>` beside the repo, or under `NEWSWIRE_SHARED`."""
    return Path(os.environ.get("NEWSWIRE_SHARED", DEFAULT_SHARED)) / "corpus" / name


def corpus_root() -> Path:
    """`NEWSWIRE_CORPUS`, else ../shared/corpus/article-extraction-benchmark beside the repo."""
    override = os.environ.get("NEWSWIRE_CORPUS")
    if override:
        return Path(override)
    return shared_corpus("article-extraction-benchmark")


@dataclass(frozen=True)
class Page:
    id: str
    html: bytes
    truth: str
    original_url: str


def load_pages(root: Path) -> list[Page]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        html = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append(Page(page_id, html, item.get("articleBody") or "", item.get("url") or ""))
    return pages


# What a throughput bench can run on: the extraction benchmark's 181 pages (the default), the
# Fundus parser tests' 258 pages of 181 publishers in ~25 languages, or both (439 pages).
CORPORA = ("aeb", "fundus", "both")
BOM = b"\xef\xbb\xbf"


def fundus_pages() -> list[Page]:
    """The Fundus pages as Pages (no body truth here). Fundus stores each page as UTF-8 text,
    whatever charset its <meta> still declares (3 pages declare another): each is served
    with a UTF-8 byte order mark, which outranks the <meta> for every decoder."""
    base = shared_corpus("fundus-parser-tests")
    pages = []
    for item in json.loads((base / "index.json").read_text(encoding="utf-8")):
        raw = gzip.decompress((base / item["html"]).read_bytes())
        page_id = hashlib.sha256(item["html"].encode()).hexdigest()[:32]
        pages.append(Page(page_id, BOM + raw.removeprefix(BOM), "", item["url"]))
    return pages


def bench_pages(corpus: str = "aeb") -> list[Page]:
    """The pages of one of CORPORA."""
    if corpus not in CORPORA:
        raise ValueError(f"corpus {corpus!r} is not one of {', '.join(CORPORA)}")
    aeb = load_pages(corpus_root()) if corpus in ("aeb", "both") else []
    return aeb + (fundus_pages() if corpus in ("fundus", "both") else [])


def page_path(page_id: str) -> str:
    return f"/pages/{page_id}.html"


def write_site(pages: list[Page], out: Path, base: str, per_feed: int = 40) -> list[str]:
    """Write each page and feeds linking them (RSS 2.0 and Atom in turn); return feed URLs."""
    (out / "pages").mkdir(parents=True, exist_ok=True)
    for page in pages:
        (out / page_path(page.id).lstrip("/")).write_bytes(page.html)
    feeds = []
    for n, start in enumerate(range(0, len(pages), per_feed)):
        chunk = pages[start : start + per_feed]
        links = [base + page_path(p.id) for p in chunk]
        if n % 2 == 0:
            name = f"feed-{n}.rss"
            items = "".join(
                f"<item><link>{escape(u)}</link><guid>{escape(u)}</guid></item>" for u in links
            )
            text = f'<?xml version="1.0"?><rss version="2.0"><channel><title>corpus {n}</title>{items}</channel></rss>'
        else:
            name = f"feed-{n}.atom"
            entries = "".join(
                f'<entry><id>{escape(u)}</id><link href="{escape(u)}"/></entry>' for u in links
            )
            text = f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>corpus {n}</title>{entries}</feed>'
        (out / name).write_text(text, encoding="utf-8")
        feeds.append(f"{base}/{name}")
    return feeds
