"""Fixture pages and feeds written for the tests (no publisher content); pages as the demo's."""

from html import escape

from newswire.workers.demo_site import article_html as article_page

__all__ = ["article_page", "item", "paragraphs", "rss2"]

LOREM = (
    "The city council met on Tuesday evening to discuss the new transit plan, which would add "
    "three bus lines and extend the tram network to the northern districts by next spring. "
    "Residents who spoke at the meeting were divided over the cost of the project and its "
    "effect on traffic along the main avenue during construction."
)


def paragraphs(topic: str, n: int = 5) -> list[str]:
    return [f"{topic}: paragraph {i + 1}. {LOREM}" for i in range(n)]


def rss2(
    items: list[dict[str, str]], *, title: str = "Fixture News", encoding: str = "utf-8"
) -> str:
    parts = []
    for entry in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in entry.items())
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
