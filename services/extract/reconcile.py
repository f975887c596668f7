"""Reconcile: one title, author list and publication time from the page's and the feed's claims.

The rules, in order of evidence (each is pinned by a unit test):

Title. Candidates are the page's <h1>, JSON-LD headline, og:title/twitter:title (one
"social" source) and <title>. Each loses a trailing site decoration ("... | CBC News",
"... - WELT", "...：朝日新聞デジタル", "... – DW – 13.06.2023", "... | by Jane Doe") when the
trailing part names the site (og:site_name, publisher, or the host's name), is a date or a
byline; HTML entities and invisible characters go. The text most sources agree on wins (a
claim that is another plus a trailing section label, "X - News", backs X); ties go to the
<h1>, then JSON-LD, social, <title>. A feed's own title beats them all (it is written for
readers); where the source has none, the candidate the site is known to use for its headlines
beats the vote (services/extract/titlehabit.py).

Publication time. Evidence: the page's published time (article:published_time, JSON-LD
datePublished, <meta> dates, <time datetime>), the feed entry's date, and a date in the URL
path (/2024/05/03/). A timestamp with a time of day beats a date without one; the page beats
the feed when both have a time (the feed's may be the time of its last edit), unless the
page's time names no zone and the feed's is within 14 hours of it (a wall-clock time is off
by the site's offset), and the feed's date is taken when the page has none. A date in the
URL caps the result: a page that says another day than its own URL does is wrong about the
day. A page with no claim at all gives the day its own title ends with ("... | DW |
28.04.2023"), else htmldate's guess, with the time printed beside that day ("Do 25.04.24 |
14:07 Uhr"; services/extract/dateline.py). A candidate later than the fetch (plus a day of
clock skew) or before 1995 is not a publication date. Finally published_at <= updated_at: an
update time earlier than the publication is dropped.

Authors. The article's own JSON-LD credits first; a WebPage's author (the CMS user who posted
it) and <meta> authors only when the article object names nobody (services/metadata.py).
People only: "By", "Von", "Par", "Por" and roles ("Reporter", "Staff Writer",
"Correspondent") are cut, lists split on "and"/"und"/"&"/","; a news agency (AP, Reuters,
AFP, dpa...), a desk ("red.", "Redaktion") or the publication itself is a source, not an
author; names that are URLs, e-mail addresses, a single letter, a byline's button ("Folgen")
or a token of markup ("{{ author.name }}", "byline__name") are dropped; HTML entities are
decoded and accents composed (NFC), names otherwise kept as written; duplicates (case,
accents) are merged.
"""

import html
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from newswire.services.extract import labels
from newswire.services.extract.metadata import NOT_A_NAME, TITLE_KEYS, Timestamp, is_address
from newswire.services.extract.people import (
    HANDLE,
    as_written,
    first_sentence,
    is_markup,
    is_no_person,
    same_person,
)
from newswire.services.extract.sitenames import letters, names_the_site

# -- titles ----------------------------------------------------------------------------------
# A trailing part after a separator: " | x", " - x", " – x", " — x", " · x", " * x", "｜x", "：x".
SEPARATOR = re.compile(r"\s+[|\-–—·•*:]{1,2}\s+|\s*[｜|ㅣ]\s*|\s*：\s*|(?<=\S)-(?=[^\s-]+$)")
DATE_PART = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
# A byline ending a title ("... | by Jane Doe"). Not every word of labels.BY: "Door", "AV"
# and "Af" also start headlines ("Review - Door Kickers 2", "Guide - AV receivers").
BYLINE_PART = re.compile(r"^(?:by|von|par|por|di)\s+\S", re.IGNORECASE)
INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero widths


def clean_title(title: str, site: str | None, url: str | None) -> str:
    """The title without the site's name, a date or a byline tacked on at its end."""
    title = " ".join(INVISIBLE.sub("", html.unescape(title)).split())
    for _ in range(3):
        cuts = list(SEPARATOR.finditer(title))
        if not cuts:
            break
        last = cuts[-1]
        head, part = title[: last.start()].strip(), title[last.end() :].strip()
        if not head or not part or len(head) < len(part) / 2:
            break  # "Site | Headline" or a headline that is mostly the tail: leave it
        if DATE_PART.match(part) or BYLINE_PART.match(part) or names_the_site(part, site, url):
            title = head
        else:
            break
    return title


SOURCE_ORDER = ("h1", "jsonld", "social", "title")  # ties go to the first


def family(source: str) -> str:
    """The source a title claim votes as: og:title, twitter:title and the like are one."""
    return "social" if source in TITLE_KEYS else source


def _heads(text: str) -> list[str]:
    """What is left of a headline when a trailing label ("... - Politik") is cut off."""
    return [head for cut in SEPARATOR.finditer(text) if (head := text[: cut.start()].strip())]


def cleaned_claims(
    claims: list[tuple[str, str]], site: str | None, url: str | None
) -> list[tuple[str, str, str]]:
    """(tag, cleaned text, its letters) of each title claim, in order."""
    cleaned = []
    for tag, raw in claims:
        text = clean_title(raw, site, url)
        cleaned.append((tag, text, letters(text)))
    return cleaned


def pick_title(claims: list[tuple[str, str]], site: str | None, url: str | None) -> str:
    """The cleaned headline most sources agree on (og:title and twitter:title count as one
    source, the social one); ties go to the page's own <h1> (what readers see), then the
    JSON-LD headline, the social title, <title>.

    A claim that is another claim plus a trailing label ("X - Politik", "X | World News"
    beside "X") supports that other claim too, and loses a tie with it: a section name is
    not part of the headline. (A leading kicker, "Nahost: X" beside "X", is not cut:
    publishers count it in the title as often as not.)"""
    return vote(cleaned_claims(claims, site, url))


def vote(cleaned: list[tuple[str, str, str]]) -> str:
    """`pick_title` on claims cleaned already (`cleaned_claims`)."""
    cleaned = [claim for claim in cleaned if claim[2]]  # no letters, no title
    votes: dict[str, set[str]] = {}
    text_of: dict[str, str] = {}
    rank: dict[str, int] = {}
    for tag, text, key in cleaned:
        source = family(tag)
        votes.setdefault(key, set()).add(source)
        text_of.setdefault(key, text)
        order = SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)
        rank[key] = min(rank.get(key, order), order)
    if not votes:
        return ""
    heads: set[str] = set()  # claims that another claim is, plus a trailing label
    for tag, text, key in cleaned:
        for form in _heads(text):
            inner = letters(form)
            if inner != key and inner in votes:
                votes[inner].add(family(tag))
                rank[inner] = min(rank[inner], rank[key])
                heads.add(inner)
    # On a tie, "X" beats "X-정치": every source behind the labelled form is behind X too.
    best = max(votes, key=lambda k: (len(votes[k]), -rank[k], k in heads))
    return text_of[best]


# -- publication time ------------------------------------------------------------------------
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # before news sites; a date this old is junk
SKEW = timedelta(days=1)  # servers' and publishers' clocks and time zones
ZONES = timedelta(hours=14)  # the widest gap between a wall-clock time and UTC
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:/|[^\d])")


def url_date(url: str | None) -> datetime | None:
    """A publication day written into the URL's path (/2024/05/03/, /20240503-...)."""
    match = URL_DATE.search(urlsplit(url or "").path + "/")
    if match is None:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        return None


def plausible(value: datetime | None, now: datetime) -> bool:
    return value is not None and EARLIEST <= value <= now + SKEW


def pick_published(
    page: Timestamp | None,
    feed: datetime | None,
    url: str | None,
    now: datetime,
) -> datetime | None:
    """The publication time from the page's claim, the feed's, and the URL's day (rules above)."""
    page_value = page.value if page is not None and plausible(page.value, now) else None
    feed_value = feed if plausible(feed, now) else None
    on_url = url_date(url)
    # A wall-clock time without a zone is off by the site's offset; a feed time near it names
    # the same moment exactly (or is a later edit, as off as the guess would be).
    near_feed = (
        page is not None and page.offset is None and page_value is not None
        and feed_value is not None and abs(page_value - feed_value) <= ZONES
    )  # fmt: skip
    if page_value is not None and page is not None and page.has_time and not near_feed:
        chosen: datetime | None = page_value
    elif feed_value is not None:
        chosen = feed_value
    else:
        chosen = page_value
    if chosen is not None and on_url is not None and abs(chosen - on_url) > timedelta(days=2):
        # The URL is written once, at publication: trust its day over a far-off claim
        # (usually a "last updated" shown as published, or another article's date).
        others = [v for v in (page_value, feed_value) if v is not None]
        near = [v for v in others if abs(v - on_url) <= timedelta(days=2)]
        chosen = near[0] if near else on_url
    return chosen


def pick_updated(
    page: Timestamp | None, feed: datetime | None, published: datetime | None, now: datetime
) -> datetime | None:
    """The last update: page first, then feed; never before the publication, never future."""
    for value in (page.value if page is not None else None, feed):
        if plausible(value, now) and (published is None or value >= published):  # type: ignore[operator]
            return value
    return None


# -- authors ---------------------------------------------------------------------------------
BY = re.compile(
    rf"^(?:{labels.LEAD}\s+)?(?:{labels.BY}|{labels.AUTHOR}|{labels.SOURCE}|as\s+told\s+to)"
    r"\s*:?\s+",
    re.IGNORECASE,
)
ROLE = re.compile(
    r"\s*(?:[,|/(–-]\s*|\s+)(?:(?:senior|chief|staff|special|political|foreign|local|executive|"
    r"managing|deputy|associate|assistant|contributing|content|digital|news|features?|sports?|"
    r"business|science|health|technology|opinion|investigative|national|international|"
    r"metro|copy|data|video|photo|audience|social media) )*"
    r"(?:reporter|correspondent|writer|editor|redakteur(?:in)?|korrespondent(?:in)?|"
    r"journalist(?:in)?|columnist|contributor|reporterin|autor(?:in)?|rédacteur|rédactrice|"
    r"corresponsal|redactor[a]?|staff)\b.*$",
    re.IGNORECASE,
)
# Korean bylines put the role after the one-word name ("신현주 기자", reporter; 특파원,
# correspondent; 논설위원, editorial writer): a name alone is left.
KOREAN_ROLE = re.compile(r"\s+(?:선임|객원|인턴|수습)?(?:기자|특파원|논설위원|편집위원)(?:\s.*)?$")
# Degrees and post-nominals written after a name ("Rachael Link, MS, RD"): no person. As
# written (case and dots), so that a surname such as "Ma" or "Do" is still one.
CREDENTIAL = re.compile(
    r"^(?:Ph\.?\s?D|M\.?D|D\.?O|R\.?N|N\.?P|PA-C|M\.?S|MSc|M\.?A|MBA|MPH|MSN|BSN|R\.?D|RDN|"
    r"LDN?|CPT|CSCS|CNS|DrPH|PharmD|DDS|DMD|DVM|J\.?D|LCSW|LMFT|PsyD|EdD|FACS|FACP|FRCP|CRNP|"
    r"CDCES|CDE|IBCLC|OBE|MBE|CBE|FRS|Esq|CPA|CFA|CFP)\.?$"
)
SPLIT = re.compile(r"\s*(?:;|,|、|，|\s&\s|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bog\b|\boch\b|/)\s*")
AGENCIES = {
    "ap", "associated press", "the associated press", "reuters", "afp", "agence france-presse",
    "dpa", "dpa-afx", "epd", "kna", "apa", "sda", "ansa", "efe", "europa press", "ntb", "tt",
    "ritzau", "pap", "ctk", "anadolu", "bloomberg", "upi", "pa", "pa media", "aap", "sapa",
    "xinhua", "kyodo", "yonhap", "tass", "ria novosti", "afp/dpa", "dpa/afp", "reuters/dpa",
    "sid", "anadolu agency", "anadolu ajansı", "aa", "belga", "anp", "cna", "pti",
    "press trust of india", "ians",
    # agencies' full names, as bylines spell them out
    "deutsche presse-agentur", "austria presse agentur", "schweizerische depeschenagentur",
    "keystone-sda", "katholische nachrichten-agentur", "evangelischer pressedienst",
    "sport-informations-dienst", "agencia efe", "the canadian press", "canadian press",
    "australian associated press", "press association", "united press international",
    "agenzia nazionale stampa associata", "polska agencja prasowa", "kyodo news",
    "algemeen nederlands persbureau", "norsk telegrambyrå", "tidningarnas telegrambyrå",
    "yonhap news agency", "xinhua news agency", "agenzia italia", "dapd",
}  # fmt: skip
PARENTHESES = re.compile(r"\s*\([^)]*\)?\s*$")  # "Jane Doe (jd)", a trailing "(Reuters)"
# Words that make a credit an organization or a desk, not a person.
ORGANIZATION = re.compile(
    r"\b(?:gmbh|ag|ltd|inc|llc|plc|s\.a|media|medien|verlag|redaktion|nachrichten|news|"
    r"newsroom|desk|staff|team|editorial|online|digital|agenturen|agencies|agences|agencias|"
    r"istock\w*|getty|shutterstock|imago|picture alliance|condé nast|conde nast|"
    # public bodies whose press releases a page runs as they came
    r"assessoria|coordenadoria|secretaria|prefeitura|departamento|department|ministry|"
    r"minist[eéè]rio|ministère|ministerium|pressestelle|polizei|police|pol[ií]c[ií]a|"
    r"government|governo|gobierno)\b",
    re.IGNORECASE,
)
# Buttons and labels that sit in a byline's markup ("Folgen", "Veröffentlicht"): not names.
BYLINE_WORDS = {
    "folgen", "follow", "veröffentlicht", "published", "aktualisiert", "updated", "teilen",
    "share", "mehr", "more", "autor", "autorin", "author", "authors", "von", "by", "기자",
    "특파원",
}  # fmt: skip
DESKS = {"red", "redaktion", "rédaction", "redazione", "redacción"}  # "(red, Agenturen)"
LAST_FIRST = re.compile(r"^([^\W\d][\w'’-]*), ([^\W\d][\w.'’-]*(?: [\w.'’-]+)?)$")
MAX_NAME_WORDS = 5  # "Name, professor of the faculty of human studies at..." is a description


def _key(name: str) -> str:
    """A credit's letters and digits, case-folded and without accents: "José Pérez" and "Jose
    Perez" are one person, "Agência Brasil" one agency, whoever typed them. `sitenames.letters`
    keeps accents (NFKC): it compares copies of one text (a feed's title and the page's, a
    site's name and a credit naming it), which carry the same ones."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


AGENCY_KEYS = frozenset(_key(a) for a in AGENCIES)
AGENCY_IN = re.compile(r"\s+in\s+[^\W\d][\w .'-]*$")  # "Associated Press in Valencia"


def _agency_desk(credit: str) -> str | None:
    """The agency of a credit that is an agency's desk or role ("AP National Security
    Writer", "Reuters Health Correspondent"): the agency's name, else None."""
    words = credit.split()
    if len(words) < 2 or not ROLE.search(" " + " ".join(words[1:])):
        return None
    for k in range(1, min(3, len(words) - 1) + 1):
        head = " ".join(words[:k])
        if (key := _key(head)) in AGENCY_KEYS and (len(key) >= 3 or head.isupper()):
            return head
    return None


def _dateline_place(parts: list[str], n: int) -> bool:
    """Whether a credit's part `n` is the place of a dateline: one word after an agency's
    name ("AFP, MANILA", "Jane Doe, AP, Washington")."""
    return n > 0 and len(parts[n].split()) == 1 and _key(parts[n - 1]) in AGENCY_KEYS


def _after_a_full_name(name: str, before: str) -> bool:
    """Whether a credit's part is one word after a name of several: the dateline's place or
    the outlet the writer works for ("Anna Martel, Lea Wagner, Nairobi"), no person. Names
    of one word each ("ssi, dan", "박준석 기자, 김태연") are people."""
    return len(name.split()) == 1 and len(before.split()) >= 2


def _without_credentials(name: str) -> str:
    """The name without the degrees written after it ("Rachael Link MS RD")."""
    words = name.split()
    while len(words) > 2 and CREDENTIAL.match(words[-1].strip(".,")):
        words.pop()
    return " ".join(words)


def _split_agency(name: str) -> tuple[str, str | None]:
    """(person, agency) of a credit: ("", agency) for an agency alone ("Associated Press in
    Valencia"), the two apart for a name run together with its agency's, as a byline's markup
    reads without separators ("Tom Davies Associated Press"), (name, None) otherwise."""
    credit = AGENCY_IN.sub("", name)
    if _key(credit) in AGENCY_KEYS:
        return "", credit
    words = name.split()
    for k in range(2, len(words)):  # the longest agency name that ends the credit
        key = _key(tail := " ".join(words[k:]))
        if key in AGENCY_KEYS and (len(key) >= 3 or tail.isupper()):  # not a surname "Pa"
            return " ".join(words[:k]), tail
    return name, None


def clean_authors(
    names: list[str], site: str | None = None, url: str | None = None
) -> tuple[list[str], list[str]]:
    """(people, agencies) from raw author claims."""
    people: list[str] = []
    agencies: list[str] = []
    seen: set[str] = set()
    for claim in names:
        text = " ".join(as_written(claim).split())
        if " " in text:  # "Jane Doe @janedoe"; an address alone is dropped just below
            text = HANDLE.sub("", text).strip()
        if is_address(text):
            continue  # a profile URL or an e-mail address
        swapped = LAST_FIRST.match(text)  # "You, Xiaoying" in citation meta
        if swapped and not {_key(swapped[1]), _key(swapped[2])} & AGENCY_KEYS:  # "AFP, Manila"
            text = f"{swapped[2]} {swapped[1]}"
        parts = SPLIT.split(BY.sub("", first_sentence(text)))
        cleaned = [""] * len(parts)  # each part's name, its role and degrees cut
        for n, part in enumerate(parts):
            if CREDENTIAL.match(part.strip(" .")) or _dateline_place(parts, n):
                continue  # a degree after the name ("Rachael Link, MS, RD"), a place
            name = KOREAN_ROLE.sub("", PARENTHESES.sub("", BY.sub("", part)))
            if (desk := _agency_desk(name)) is not None:  # "AP Sports Writer": the agency
                if desk not in agencies:
                    agencies.append(desk)
                continue
            name = _without_credentials(name)
            without_role = ROLE.sub("", name)
            if len(without_role.split()) >= 2 or len(name.split()) < 2:
                name = without_role  # but "Jane Reporter" is a name, not "Jane" and a role
            name = cleaned[n] = name.strip(" .,:;|-–()\"'")
            if not name or NOT_A_NAME.search(name) or is_markup(name):
                continue
            key = _key(name)
            if len(key) < 2 or len(name.split()) > MAX_NAME_WORDS:
                continue
            name, agency = _split_agency(name)
            if agency and agency not in agencies:
                agencies.append(agency)
            if not name or (n > 0 and _after_a_full_name(name, cleaned[n - 1])):
                continue  # a place or an outlet after a name ("Jane Doe, Futurism")
            key = _key(name)
            if names_the_site(name, site, url) or ORGANIZATION.search(name) or key in DESKS:
                continue  # the publication credited as the author, an organization, a desk
            if name.casefold() in BYLINE_WORDS or is_no_person(name):
                continue
            if ROLE.sub("", " " + name).strip() == "":  # a role alone ("Journalist")
                continue
            if key not in seen:
                seen.add(key)
                people.append(name)
    return [p for p in people if not same_person(p, people)], agencies
