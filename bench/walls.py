"""Consent and paywall detection over real pages: every page of both shared corpora (articles,
so each detection is a false positive unless the page really is a wall) and the made-up wall
pages of the tests. Run alone: `python -m bench.walls`."""

import json
from dataclasses import dataclass

from newswire.services.extract.page import ExtractionError, extract
from newswire.services.fetch.charset import decode_html

from bench.corpus import corpus_root, load_pages
from bench.fundus import load_cases
from bench.fundus import root as fundus_root
from tests.support import walls as fixtures

FIXTURES = (
    fixtures.onetrust_wall, fixtures.didomi_wall, fixtures.quantcast_wall,
    fixtures.sourcepoint_wall, fixtures.subscription_wall, fixtures.login_wall,
    fixtures.paywalled_teaser,
)  # fmt: skip
NOT_WALLS = (fixtures.article_with_consent_banner, fixtures.bakery_story)


@dataclass
class WallScan:
    pages: int
    flagged: list[tuple[str, str]]  # (page, reason)
    fixtures_found: int
    fixtures: int
    not_walls_flagged: int


def run() -> WallScan:
    pages: list[tuple[str, str, str]] = []
    aeb = corpus_root()
    if (aeb / "ground-truth.json").exists():
        pages += [
            (f"aeb/{p.id[:12]}", decode_html(p.html), p.original_url) for p in load_pages(aeb)
        ]
    if (fundus_root() / "index.json").exists():
        pages += [(c.name, c.html, c.url) for c in load_cases(fundus_root())]
    flagged = []
    for name, html, url in pages:
        try:
            page = extract(html, url or "https://news.example/")
        except ExtractionError:
            continue
        if page.wall is not None:
            flagged.append((name, page.wall.reason()))
    found = sum(extract(f(), "https://news.example/a").wall is not None for f in FIXTURES)
    wrong = sum(extract(f(), "https://news.example/a").wall is not None for f in NOT_WALLS)
    return WallScan(len(pages), flagged, found, len(FIXTURES), wrong)


if __name__ == "__main__":
    scan = run()
    print(json.dumps(scan.__dict__, indent=2, ensure_ascii=False))
