"""The shared corpora's pages for tests, one decoded page at a time."""

import gzip
from collections.abc import Iterator

from bench.corpus import corpus_root, load_pages, shared_corpus


def corpus_pages() -> Iterator[tuple[str, str]]:
    """The article-extraction benchmark's and Fundus's pages (439) as (html, url): held all at
    once, decoded, they would take a few hundred MiB and raise the test process's peak RSS,
    which the memory tests read. Nothing where the corpora are absent."""
    if (corpus_root() / "ground-truth.json").exists():
        for page in load_pages(corpus_root()):
            yield page.html.decode("utf-8", "replace"), page.original_url
    for path in sorted(shared_corpus("fundus-parser-tests").rglob("*.html.gz")):
        yield gzip.decompress(path.read_bytes()).decode("utf-8", "replace"), "https://example.com/"
