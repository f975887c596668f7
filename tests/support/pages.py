"""Fixture news pages and feeds, written for the tests (no publisher content)."""

from html import escape

LOREM = (
    "The city council met on Tuesday evening to discuss the new transit plan, which would add "
    "three bus lines and extend the tram network to the northern districts by next spring. "
    "Residents who spoke at the meeting were divided over the cost of the project and its "
    "effect on traffic along the main avenue during construction."
)


def paragraphs(topic: str, n: int = 5) -> list[str]:
    return [f"{topic}: paragraph {i + 1}. {LOREM}" for i in range(n)]


def article_page(
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
<li><a href="/sport">Sport</a></li><li><a href="/subscribe">Subscribe now</a></li></ul></nav></header>
<div class="ad-banner advertisement">ADVERTISEMENT Buy the amazing gadget today</div>
<main><article>
<h1>{escape(title)}</h1>
{byline}
{body}
</article>
<aside class="related-articles"><h3>Related articles</h3><ul>
<li><a href="/other-1">Unrelated story about the weather that nobody reads</a></li>
<li><a href="/other-2">Another related article headline about football results</a></li></ul></aside>
</main>
<footer class="site-footer"><p>Copyright 2026 The Daily Fixture. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>
</body></html>"""


def rss2(
    items: list[dict[str, str]], *, title: str = "Fixture News", encoding: str = "utf-8"
) -> str:
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.invalid/</link><description>d</description>"
        f"{''.join(parts)}</channel></rss>"
    )


def item(
    link: str, title: str, summary: str = "", pub: str = "Fri, 20 Nov 2026 13:35:07 GMT"
) -> dict[str, str]:
    fields = {"title": escape(title), "link": escape(link), "guid": escape(link), "pubDate": pub}
    if summary:
        fields["description"] = escape(summary)
    return fields
