"""Metadata accuracy on the Fundus parser tests: 258 real pages from 181 publishers in ~25
languages, against what hand-written per-publisher parsers extract (title, authors,
publication time, lead image, body). newswire beside trafilatura alone, per field and per
language group. Run alone: `python -m bench.fundus [--misses FIELD]`."""

import argparse
import contextlib
import gzip
import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import trafilatura
from newswire.schemas.feed import FeedEntry
from newswire.services.extract.jsonld import jsonld_objects
from newswire.services.extract.normalize import build_article
from newswire.services.extract.page import Extracted, ExtractionError, extract
from newswire.services.extract.reconcile import AGENCIES, ORGANIZATION, names_the_site
from newswire.services.extract.sitenames import letters
from newswire.services.extract.titlehabit import SEEN, TitleHabit, agreeing
from newswire.services.identity.urls import site_of

from bench.corpus import shared_corpus
from bench.metric import page_counts, precision_recall

SITE_NAME = re.compile(r'<meta[^>]+property="og:site_name"[^>]+content="([^"]+)"')
FIELDS = ("title", "authors", "date", "image", "language", "body")
# The language a country's pages are in, where one language covers the country's publishers
# in the corpus (checked against the pages); other countries are not scored for language.
COUNTRY_LANGUAGE = {
    "de": "de", "at": "de", "li": "de", "us": "en", "uk": "en", "au": "en", "za": "en",
    "ind": "en", "na": "en", "ls": "en", "jp": "ja", "kr": "ko", "cn": "zh", "tw": "zh",
    "fr": "fr", "es": "es", "mx": "es", "py": "es", "it": "it", "no": "no", "se": "sv",
    "dk": "da", "pl": "pl", "cz": "cs", "tr": "tr", "ru": "ru", "ua": "uk", "vn": "vi",
    "id": "id", "pt": "pt", "lt": "lt", "isl": "is",
}  # fmt: skip
# Publishers that write in another language than their country's (read off their pages'
# text: German papers on Mallorca, in South Tyrol and Paraguay, English editions in Japan,
# Mexico, Portugal and Taiwan, Hindi in India, the Russian edition of a Ukrainian paper).
PUBLISHER_LANGUAGE = {
    "MallorcaMagazin": "de", "MallorcaZeitung": "de", "Tageszeitung": "de", "Wochenblatt": "de",
    "TheJapanNews": "en", "MexicoNewsDaily": "en", "ThePortugalNews": "en", "TaipeiTimes": "en",
    "Bhaskar": "hi", "Pravda": "ru",
}  # fmt: skip
GROUPS = {
    "en": "English", "de": "German", "es": "Romance", "fr": "Romance", "it": "Romance",
    "pt": "Romance", "no": "Nordic", "sv": "Nordic", "da": "Nordic", "is": "Nordic",
    "ja": "CJK", "ko": "CJK", "zh": "CJK",
}  # fmt: skip
# Country time zones, for "same local day" when the truth has a date only.
COUNTRY_TZ = {"de": "Europe/Berlin", "at": "Europe/Vienna", "ch": "Europe/Zurich",
              "us": "America/New_York", "uk": "Europe/London", "jp": "Asia/Tokyo",
              "kr": "Asia/Seoul", "au": "Australia/Sydney"}  # fmt: skip


def root() -> Path:
    return shared_corpus("fundus-parser-tests")


@dataclass(frozen=True)
class Case:
    name: str
    country: str
    url: str
    crawled: datetime
    html: str
    truth: dict  # type: ignore[type-arg]

    @property
    def language(self) -> str | None:
        publisher = self.name.split("/")[-1].split("_")[0]
        return PUBLISHER_LANGUAGE.get(publisher) or COUNTRY_LANGUAGE.get(self.country)

    @property
    def site(self) -> str | None:
        match = SITE_NAME.search(self.html)
        return match.group(1) if match else None

    @cached_property  # parses the page: once per case
    def publishers(self) -> list[str]:
        """The publisher names in the page's JSON-LD."""
        names = []
        for thing in jsonld_objects(lxml.html.document_fromstring(self.html)):
            publisher = thing.get("publisher")
            for item in publisher if isinstance(publisher, list) else [publisher]:
                name = item.get("name") if isinstance(item, dict) else item
                if isinstance(name, str):
                    names.append(name)
        return names

    @property
    def group(self) -> str:
        return GROUPS.get(self.language or "", "Other")


def load_cases(base: Path) -> list[Case]:
    cases = []
    for item in json.loads((base / "index.json").read_text(encoding="utf-8")):
        path, version = item["expected"].split("#")
        truth = json.loads((base / path).read_text(encoding="utf-8"))[version]
        raw = gzip.decompress((base / item["html"]).read_bytes())
        cases.append(
            Case(
                name=item["html"],
                country=item["html"].split("/")[0],
                url=item["url"],
                crawled=datetime.fromisoformat(item["crawl_date"]).replace(tzinfo=UTC),
                # Fundus stores each page as UTF-8 text, whatever charset its <meta> still
                # declares (the crawler decoded it), so the bytes are decoded as UTF-8 here.
                html=raw.decode("utf-8", errors="replace"),
                truth=truth,
            )
        )
    return cases


@dataclass
class Found:
    title: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    published_day: date | None = None  # trafilatura gives a day only
    image: str | None = None
    language: str | None = None
    body: str = ""


def newswire(case: Case) -> Found:
    try:
        page = extract(case.html, case.url)
    except ExtractionError:
        return Found()
    entry = FeedEntry(feed_url="https://feed.example/", link=case.url)
    article = build_article(
        entry, fetched_url=case.url, page=page, error=None, now=case.crawled, aliases=[]
    )
    return Found(
        title=article.title,
        authors=tuple(article.authors),
        published=article.published_at,
        image=article.image,
        language=article.language,
        body=article.body,
    )


def bare(case: Case) -> Found:
    doc = trafilatura.bare_extraction(case.html, url=case.url, with_metadata=True)
    if doc is None:
        return Found()
    day = None
    if doc.date:
        try:
            day = date.fromisoformat(str(doc.date)[:10])
        except ValueError:
            day = None
    authors = tuple(a.strip() for a in re.split(r";", doc.author or "") if a.strip())
    return Found(
        title=doc.title or "",
        authors=authors,
        published_day=day,
        image=doc.image,
        language=doc.language,
        body=doc.text or "",
    )


def norm(text: str) -> str:
    # Invisible characters (soft hyphens, zero-width spaces) aside: a reader cannot see them.
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").casefold()
    text = re.sub(r"[\u2018\u2019\u201c\u201d\"'«»„“]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def macro(language: str | None) -> str:
    """The macrolanguage of a code: Norwegian Bokmål and Nynorsk (nb, nn) are Norwegian."""
    code = (language or "")[:2]
    return {"nb": "no", "nn": "no"}.get(code, code)


def truth_body(truth: dict) -> str:  # type: ignore[type-arg]
    body = truth.get("body") or {}
    parts = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return "\n\n".join(parts)


def truth_time(case: Case) -> tuple[datetime | None, bool]:
    """(instant, has a time of day) of the truth's publishing date."""
    raw = case.truth.get("publishing_date")
    if not raw:
        return None, False
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    has_time = (value.hour, value.minute, value.second) != (0, 0, 0)
    return value, has_time


def date_right(case: Case, found: Found) -> bool:
    want, has_time = truth_time(case)
    if want is None:
        return found.published is None and found.published_day is None
    if found.published is not None:
        if has_time and case.truth["publishing_date"][-6:-5] not in "+-":
            # The truth names no zone (a wall-clock time): the same time in some zone.
            gap = abs(found.published - want)
            return gap <= timedelta(hours=14, minutes=1) and (
                gap % timedelta(minutes=30) <= timedelta(minutes=1)
                or timedelta(minutes=30) - gap % timedelta(minutes=30) <= timedelta(minutes=1)
            )
        if has_time:
            return abs(found.published - want) <= timedelta(minutes=1)
        zone = want.tzinfo or ZoneInfo(COUNTRY_TZ.get(case.country, "UTC"))
        return found.published.astimezone(zone).date() == want.date()
    if found.published_day is not None:  # trafilatura: a day, in the page's own terms
        return found.published_day == want.date()
    return False


SIZE_SUFFIX = re.compile(r"[-_.]?\d{2,4}x\d{2,4}$")


def image_ids(url: str) -> set[str]:
    """What names an image across its renditions (crops, sizes, CDN proxies): its file name
    without extension and size suffix, and the path's long tokens that carry digits (ids,
    hashes). Two URLs sharing one are taken for the same picture."""
    path = unquote(unquote(url)).casefold()
    path = urlsplit(path).path + "?" + urlsplit(path).query
    stem = re.sub(r"\.(?:jpe?g|png|webp|gif|avif)$", "", urlsplit(path).path.rsplit("/", 1)[-1])
    ids = {SIZE_SUFFIX.sub("", stem)} if len(stem) >= 6 else set()
    for token in re.split(r"[/_,=?&.:]", path):
        if (
            len(token) >= 6
            and sum(ch.isdigit() for ch in token) >= 3
            and not SIZE_SUFFIX.fullmatch(token)
        ):
            ids.add(token)
    return ids


def image_right(case: Case, found: Found) -> bool | None:
    """The cover image in any of its renditions (Fundus names one size, pages link others)."""
    covers = [i for i in case.truth.get("images") or [] if i.get("is_cover")]
    if not covers or found.image is None:
        return None if not covers else False
    wanted = {t for i in covers[:1] for v in i.get("versions") or [] for t in image_ids(v["url"])}
    return bool(wanted & image_ids(found.image))


def people(names: list[str] | tuple[str, ...], case: Case) -> set[str]:
    """The persons among author credits: Fundus' parsers also credit news agencies, desks
    ("Redaktion", "staff", "Team") and the publication itself (by its og:site_name, its JSON-LD
    publisher or its host), which newswire records apart or leaves out (as the issue asks);
    both sides are compared without them, by their letters ("Dr. Max" and "Dr Max" alike).
    Some parsers also keep a dateline's place as the last credit ("Anna Martel, Lea Wagner,
    Nairobi", "AFP, MANILA"): one word after a name of several, or after an agency, which
    newswire leaves out, is left out on both sides too."""
    sites = [case.site, *case.publishers]
    return {
        letters(a)
        for n, a in enumerate(names)
        if not (n > 0 and len(a.split()) == 1 and len(names[n - 1].split()) >= 2)
        and norm(a) not in AGENCIES
        and norm(a.split(",")[0]) not in AGENCIES  # an agency with its dateline: "AFP, MANILA"
        and not ORGANIZATION.search(a)
        and not any(names_the_site(a, site, case.url) for site in sites)
    }


def authors_right(case: Case, found: Found) -> bool | None:
    if "authors" not in case.truth:
        return None
    return people(case.truth["authors"], case) == people(found.authors, case)


def judge(case: Case, found: Found) -> dict[str, float | None]:
    tp, fp, fn = page_counts(truth_body(case.truth), found.body)
    p, r = precision_recall(tp, fp, fn)
    lang = case.language
    return {
        "title": float(norm(found.title) == norm(case.truth.get("title") or "")),
        "authors": None if (a := authors_right(case, found)) is None else float(a),
        "date": float(date_right(case, found)),
        "image": None if (i := image_right(case, found)) is None else float(i),
        "language": None if lang is None else float(macro(found.language) == lang),
        "body_p": p,
        "body_r": r,
    }


def aggregate(rows: list[dict[str, float | None]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in ("title", "authors", "date", "image", "language"):
        values = [r[key] for r in rows if r[key] is not None]
        out[key] = sum(values) / len(values) if values else float("nan")  # type: ignore[arg-type]
    p = sum(r["body_p"] for r in rows) / len(rows)  # type: ignore[misc]
    r_ = sum(r["body_r"] for r in rows) / len(rows)  # type: ignore[misc]
    out["body"] = 2 * p * r_ / (p + r_) if p + r_ else 0.0
    out["pages"] = len(rows)
    return out


def run(base: Path | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """{"newswire"|"trafilatura": {group: {field: accuracy}}}, group "all" included."""
    cases = load_cases(base or root())
    result: dict[str, dict[str, dict[str, float]]] = {}
    for name, fn in (("newswire", newswire), ("trafilatura", bare)):
        by_group: dict[str, list[dict[str, float | None]]] = defaultdict(list)
        for case in cases:
            row = judge(case, fn(case))
            by_group["all"].append(row)
            by_group[case.group].append(row)
        result[name] = {g: aggregate(rows) for g, rows in by_group.items()}
    return result


def learned_titles(base: Path | None = None) -> dict[str, dict[str, float]]:
    """Title accuracy when the page has no feed title: the consensus rule alone, and with
    the habit learned from the site's other pages in the corpus (their true titles stand in
    for the feed titles the service learns from; the page itself is never evidence).
    {"all"|"learnable": {"pages", "rule", "learned"}}; "learnable": pages whose site has
    another page here (a site with one page has nothing to learn from)."""
    cases = load_cases(base or root())
    pages: dict[str, Extracted] = {}
    for case in cases:
        with contextlib.suppress(ExtractionError):
            pages[case.name] = extract(case.html, case.url)
    evidence: dict[str, list[str]] = {}
    by_site: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_site[site_of(case.url)].append(case)
        if (page := pages.get(case.name)) is not None:
            meta = page.meta
            truth = case.truth.get("title") or ""
            evidence[case.name] = agreeing(truth, meta.title_claims, meta.source, case.url)
    scores: dict[str, dict[str, float]] = {k: defaultdict(float) for k in ("all", "learnable")}
    entry = FeedEntry(feed_url="https://feed.example/", link="https://feed.example/")
    for site_cases in by_site.values():
        for case in site_cases:
            others = [c for c in site_cases if c is not case and c.name in evidence]
            counts: Counter[str] = Counter({SEEN: len(others)})
            for other in others:
                counts.update(evidence[other.name])
            habit = TitleHabit.from_counts(counts)
            page = pages.get(case.name)
            got = {}
            for how, used in (("rule", None), ("learned", habit)):
                title = ""
                if page is not None:
                    title = build_article(
                        entry, fetched_url=case.url, page=page, error=None, now=case.crawled,
                        title_habit=used,
                    ).title  # fmt: skip
                got[how] = float(norm(title) == norm(case.truth.get("title") or ""))
            for group in ("all", "learnable") if others else ("all",):
                scores[group]["pages"] += 1
                scores[group]["rule"] += got["rule"]
                scores[group]["learned"] += got["learned"]
    return {
        group: {"pages": s["pages"], "rule": s["rule"] / s["pages"],
                "learned": s["learned"] / s["pages"]}
        for group, s in scores.items()
    }  # fmt: skip


def misses(field: str) -> None:
    for case in load_cases(root()):
        found = newswire(case)
        row = judge(case, found)
        if row[field] == 0.0:
            want = {
                "title": case.truth.get("title"),
                "authors": case.truth.get("authors"),
                "date": case.truth.get("publishing_date"),
                "image": [
                    v["url"]
                    for i in case.truth.get("images") or []
                    if i.get("is_cover")
                    for v in i["versions"][:1]
                ][:1],
                "language": case.language,
            }[field]
            got = {"title": found.title, "authors": found.authors, "date": found.published,
                   "image": found.image, "language": found.language}[field]  # fmt: skip
            print(f"{case.name}\n  want {want!r}\n  got  {got!r}")


def table(result: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    groups = ["all", *sorted(g for g in result["newswire"] if g != "all")]
    lines = ["| Group (pages) | " + " | ".join(FIELDS) + " |", "|---" * (len(FIELDS) + 1) + "|"]
    for g in groups:
        ours, theirs = result["newswire"][g], result["trafilatura"][g]
        cells = [
            f"**{ours[f]:.3f}** ({theirs[f]:.3f})" if ours[f] == ours[f] else "-" for f in FIELDS
        ]
        lines.append(f"| {g} ({int(ours['pages'])}) | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", choices=("title", "authors", "date", "image", "language"))
    args = parser.parse_args()
    if args.misses:
        misses(args.misses)
    else:
        print("\n".join(table(run())))
        for group, row in learned_titles().items():
            print(f"title without a feed title, {group} ({int(row['pages'])} pages): "
                  f"rule {row['rule']:.3f}, learned habit {row['learned']:.3f}")  # fmt: skip
