"""The demo's news site: articles and feeds (RSS 2.0, Atom, RSS 1.0) written by this generator."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

TOPICS = [
    ("Harbour", "City council approves harbour bridge repairs", "Mara Lind"),
    ("Transit", "Night buses return to the northern districts", "Tomas Reyes"),
    ("Library", "Central library extends weekend opening hours", "Ana Sousa"),
    ("Rowing", "Local rowing club wins the regional championship", "Jon Berg"),
    ("Orchard", "Apple harvest is the largest in a decade", "Li Wei"),
    ("Solar", "School roofs to carry solar panels by summer", "Nadia Haddad"),
    ("Market", "Farmers market moves to the old tram depot", "Peter Novak"),
    ("Museum", "Maritime museum reopens after renovation", "Ines Ortega"),
    ("Cycling", "New cycle lane links the station and the university", "Sam Okafor"),
    ("Theatre", "Youth theatre stages an open-air Shakespeare", "Eva Kowalska"),
    ("Weather", "Storm warning lifted after a calm night on the coast", "Omar Farouk"),
    ("Startups", "Two local startups share an innovation prize", "Julia Brandt"),
    ("Parks", "Volunteers plant three hundred trees in the east park", "Kofi Mensah"),
    ("Housing", "Council publishes plans for affordable housing", "Hanna Virtanen"),
]
# Sentences are put together from these parts, differently for every story: different stories
# must not read as near-duplicates of each other (newswire clusters those).
WHO = [
    "Officials",
    "Residents",
    "A spokesperson",
    "Local traders",
    "Two councillors",
    "The planning office",
    "Neighbourhood groups",
    "Volunteers",
    "Engineers",
    "Teachers",
]
DID = [
    "welcomed",
    "questioned",
    "praised",
    "warned about",
    "asked for details of",
    "voted on",
    "celebrated",
    "criticised the timing of",
    "promised to review",
    "explained",
]
WHEN = [
    "on Tuesday",
    "late last night",
    "at a packed meeting",
    "in a written statement",
    "after weeks of debate",
    "before the weekend",
    "during a site visit",
    "this morning",
]
WHY = ["citing the cost", "pointing to similar projects elsewhere", "after a public survey",
       "because of the weather", "to the surprise of many", "with a show of hands",
       "following complaints", "as part of a wider plan"]  # fmt: skip


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    author: str
    published: datetime
    paragraphs: list[str]


def stories(now: datetime | None = None) -> list[Story]:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    result = []
    for i, (topic, title, author) in enumerate(TOPICS):
        rnd = random.Random(i)  # the same text on every run, different for every story
        paras = []
        for p in range(5):
            sentences = [
                f"{rnd.choice(WHO)} {rnd.choice(DID)} the {topic.lower()} plans "
                f"{rnd.choice(WHEN)}, {rnd.choice(WHY)}, and {rnd.randint(2, 900)} people "
                f"{rnd.choice(['signed up', 'turned out', 'wrote in', 'took part'])}."
                for _ in range(4)
            ]
            paras.append(" ".join(sentences) + f" ({title}, part {p + 1}.)")
        result.append(Story(f"{topic.lower()}-{i}", title, author, now - timedelta(hours=i), paras))
    return result


def article_html(
    title: str,
    paras: list[str],
    *,
    author: str | None = "Jane Reporter",
    published: str | None = "2026-11-20T14:35:07+01:00",
    lang: str | None = "en",
    canonical: str | None = None,
    site_name: str = "The Daily Fixture",
    charset: str | None = "utf-8",
) -> str:
    """A realistic article page: navigation, ads, related links and footer around the story."""
    meta = []
    if charset:
        meta.append(f'<meta charset="{charset}">')
    if published:
        meta.append(f'<meta property="article:published_time" content="{published}">')
    if author:
        meta.append(f'<meta name="author" content="{escape(author)}">')
    meta.append(f'<meta property="og:site_name" content="{escape(site_name)}">')
    meta.append(f'<meta property="og:title" content="{escape(title)}">')
    if canonical:
        meta.append(f'<link rel="canonical" href="{escape(canonical)}">')
    lang_attr = f' lang="{lang}"' if lang else ""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paras)
    byline = (
        f'<p class="byline">By <span class="author">{escape(author)}</span></p>' if author else ""
    )
    return f"""<!DOCTYPE html>
<html{lang_attr}><head>{"".join(meta)}<title>{escape(title)} | {escape(site_name)}</title></head>
<body>
<header><nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/subscribe">Subscribe now</a></li></ul></nav>
</header>
<div class="ad-banner advertisement">ADVERTISEMENT Buy the amazing gadget today</div>
<main><article>
<h1>{escape(title)}</h1>
{byline}
{body}
</article>
<aside class="related-articles"><h3>Related articles</h3><ul>
<li><a href="/other-1">Unrelated story about the weather that nobody reads</a></li>
<li><a href="/other-2">Another related article headline about football results</a></li></ul>
</aside>
</main>
<footer class="site-footer"><p>Copyright 2026 The Daily Fixture. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>
</body></html>"""


def _rss(items: list[tuple[Story, str]]) -> str:
    body = "".join(
        f"<item><title>{escape(s.title)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{s.published:%a, %d %b %Y %H:%M:%S} GMT</pubDate>"
        f"<description>{escape(s.paragraphs[0][:160])}</description></item>"
        for s, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Demo Gazette</title><link>/</link><description>Local news</description><ttl>1</ttl>"
        f"{body}</channel></rss>"
    )


def _atom(items: list[tuple[Story, str]]) -> str:
    body = "".join(
        f"<entry><title>{escape(s.title)}</title><id>urn:demo:{s.slug}</id>"
        f'<link rel="alternate" href="{escape(link)}"/><updated>{s.published.isoformat()}</updated>'
        f"<author><name>{escape(s.author)}</name></author>"
        f"<summary>{escape(s.paragraphs[0][:160])}</summary></entry>"
        for s, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Demo Gazette (Atom)</title><id>urn:demo</id>"
        f"<updated>{datetime.now(UTC).isoformat()}</updated>{body}</feed>"
    )


def _rdf(items: list[tuple[Story, str]]) -> str:
    seq = "".join(f'<rdf:li rdf:resource="{escape(link)}"/>' for _s, link in items)
    body = "".join(
        f'<item rdf:about="{escape(link)}"><title>{escape(s.title)}</title>'
        f"<link>{escape(link)}</link><dc:date>{s.published.isoformat()}</dc:date></item>"
        for s, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<channel rdf:about="/"><title>Demo Gazette (RDF)</title><link>/</link>'
        f"<description>d</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>"
        f"{body}</rdf:RDF>"
    )


def write_demo_site(root: Path, base: str) -> tuple[list[str], int]:
    """Write pages and four feeds whose stories overlap; return (feed URLs, distinct stories)."""
    all_stories = stories()
    (root / "news").mkdir(parents=True, exist_ok=True)
    for s in all_stories:
        html = article_html(
            s.title, s.paragraphs, author=s.author, published=s.published.isoformat(),
            site_name="Demo Gazette",
        )  # fmt: skip
        (root / "news" / f"{s.slug}.html").write_text(html, encoding="utf-8")

    def link(s: Story, tracking: str = "") -> str:
        return f"{base}/news/{s.slug}.html{tracking}"

    feeds = {
        "rss.xml": _rss([(s, link(s)) for s in all_stories[0:6]]),
        # The same stories again, with campaign parameters: deduplicated to one entry each.
        "atom.xml": _atom([(s, link(s, "?utm_source=atom")) for s in all_stories[4:10]]),
        "rdf.xml": _rdf([(s, link(s)) for s in all_stories[8:14]]),
        "world.xml": _rss([(s, link(s, "#top")) for s in all_stories[::3]]),
    }
    for name, text in feeds.items():
        (root / name).write_text(text, encoding="utf-8")
    return [f"{base}/{name}" for name in feeds], len(all_stories)
