"""What the fast paths save: newswire's `extract()` and bare trafilatura with trafilatura's own
regex XPath expressions and with newswire's stand-ins, passes alternated in one process (this
VM's speed drifts by 10% between runs). `python -m bench.fastpaths [--passes N]`."""

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable

import trafilatura
from newswire.services.extract import fastpaths
from newswire.services.extract.page import ExtractionError, extract, load_language_model
from newswire.services.fetch.charset import decode_page

from bench.corpus import corpus_root, load_pages


def cpu_ms(
    pages: list[tuple[str, bool, str]], call: Callable[[str, bool, str], object], bare: bool
) -> float:
    """CPU ms per page of `call` over the pages, with trafilatura's own expressions if `bare`."""
    with fastpaths.bare() if bare else contextlib.nullcontext():
        started = time.process_time()
        for html, clean, url in pages:
            with contextlib.suppress(ExtractionError):
                call(html, clean, url)
        return 1000 * (time.process_time() - started) / len(pages)


def saving(passes: int = 4) -> dict[str, tuple[float, float]]:
    """Median CPU ms a page of newswire's `extract()` and of bare `trafilatura.extract()`,
    with trafilatura's own expressions and with the stand-ins, passes alternated."""
    load_language_model()
    pages = []
    for page in load_pages(corpus_root()):
        html, clean, _utf8 = decode_page(page.html, "text/html")
        pages.append((html, clean, page.original_url))
    calls: dict[str, Callable[[str, bool, str], object]] = {
        "newswire extract()": lambda html, clean, url: extract(html, url, clean),
        "trafilatura.extract()": lambda html, _clean, _url: trafilatura.extract(html),
    }
    times: dict[tuple[str, bool], list[float]] = {(n, b): [] for n in calls for b in (True, False)}
    for _ in range(passes):
        for (name, bare), found in times.items():
            found.append(cpu_ms(pages, calls[name], bare))
    return {
        name: (statistics.median(times[(name, True)]), statistics.median(times[(name, False)]))
        for name in calls
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=6)
    args = parser.parse_args()
    print(f"{len(load_pages(corpus_root()))} pages, {args.passes} passes each, alternated; "
          "median CPU ms a page")  # fmt: skip
    for name, (own, fast) in saving(args.passes).items():
        print(f"  {name:22s} trafilatura's XPath {own:.2f}, stand-ins {fast:.2f}: "
              f"{1 - fast / own:.0%} less")  # fmt: skip


if __name__ == "__main__":
    main()
