"""The people a fixture page credits, as an Article names them (for the byline tests)."""

import trafilatura
from newswire.services.extract.metadata import read_meta
from newswire.services.extract.reconcile import clean_authors


def credited(body: str, head: str = "", url: str | None = None) -> list[str]:
    """The page's metadata read, its credits cleaned: the people, agencies set apart. `url`:
    the page's address (else its canonical link), which names the site for the cleaning."""
    page = f"<html><head>{head}</head><body>{body}</body></html>"
    meta = read_meta(trafilatura.load_html(page), page)
    return clean_authors(meta.authors, meta.source, url or meta.canonical)[0]
