"""Extraction against an earlier revision, page by page in one process: `python -m bench.versus
REV [aeb|fundus|both] [--passes N]` prints both revisions' CPU a page for decode + `extract()`
(REV `trafilatura`: bare `trafilatura.extract` as it ships, decode included).

These VMs drift by 10-30% within minutes, so two runs of a benchmark minutes apart cannot
tell a 10% change from noise (`bench.workers` gave 1.43x-2.92x bare trafilatura for the
same code). Here the revision's `services/` and `schemas/` are loaded beside the working
tree's under another package name, and each page is extracted by both, in alternating
order, so drift falls on both alike."""

import argparse
import contextlib
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from importlib import import_module
from io import BytesIO
from pathlib import Path
from typing import Any

import trafilatura
from newswire.services.extract import fastpaths
from newswire.services.extract import page as current_page
from newswire.services.fetch import charset as current_charset

from bench.corpus import CORPORA, Page, bench_pages

ALIAS = "newswire_then"  # the earlier revision's package name
URL = "https://news.example/a"


def load_revision(rev: str, into: Path) -> tuple[Any, Any]:
    """The revision's extract page and charset modules, imported as ALIAS from `into`."""
    archive = subprocess.run(
        ["git", "archive", rev, "services", "schemas"], check=True, capture_output=True
    ).stdout
    root = into / ALIAS
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    (root / "__init__.py").write_text("")
    for path in root.rglob("*.py"):  # its own imports point at its own copy
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\bnewswire\.", f"{ALIAS}.", text), encoding="utf-8")
    sys.path.insert(0, str(into))
    return (
        import_module(f"{ALIAS}.services.extract.page"),
        import_module(f"{ALIAS}.services.fetch.charset"),
    )


def runner(page_module: Any, charset: Any) -> Callable[[Page], None]:
    """Decode and extract a page as that revision's story step does."""

    def run(page: Page) -> None:
        decoded = charset.decode_page(page.html)  # (text, clean) or (text, clean, utf8)
        with contextlib.suppress(page_module.ExtractionError):
            page_module.extract(decoded[0], page.original_url or URL, *decoded[1:])

    return run


def bare_trafilatura(page: Page) -> None:
    """Bare trafilatura as it ships, from the page's bytes as decode_html reads them."""
    html = current_charset.decode_html(page.html)
    with fastpaths.bare():
        trafilatura.extract(html)


def interleaved(
    runs: dict[str, Callable[[Page], None]], pages: list[Page], passes: int
) -> dict[str, float]:
    """CPU ms a page of each run, every page run by each in turn (the order alternating)."""
    for page in pages[:20]:  # warm each: caches, lazily built regexes
        for run in runs.values():
            run(page)
    spent = dict.fromkeys(runs, 0.0)
    order = list(runs.items())
    for n in range(passes):
        for i, page in enumerate(pages):
            for name, run in order if (i + n) % 2 else order[::-1]:
                started = time.thread_time()
                run(page)
                spent[name] += time.thread_time() - started
    return {name: 1000 * total / (passes * len(pages)) for name, total in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "rev", help="the git revision to compare with, e.g. HEAD~3 (or: trafilatura)"
    )
    parser.add_argument("corpus", nargs="?", default="both", choices=CORPORA)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    pages = bench_pages(args.corpus)
    current_page.load_language_model()
    now = runner(current_page, current_charset)
    with tempfile.TemporaryDirectory() as tmp:
        then = (
            bare_trafilatura
            if args.rev == "trafilatura"
            else runner(*load_revision(args.rev, Path(tmp)))
        )
        spent = interleaved({"then": then, "now": now}, pages, args.passes)
    then_ms, now_ms = spent["then"], spent["now"]
    print(
        f"decode + extract() a page, {len(pages)} pages ({args.corpus}) x {args.passes}: "
        f"{args.rev} {then_ms:.2f} ms, working tree {now_ms:.2f} ms "
        f"({100 * (now_ms - then_ms) / then_ms:+.1f}%)"
    )


if __name__ == "__main__":
    main()
