"""Wire copies: one story rendered by several sites' page templates with small edits, for the
near-duplicate tests and the labelled cluster set of `make bench`."""

import random
from dataclasses import dataclass
from html import escape

BOILERPLATE = [
    "Sign up for our morning newsletter and get the day's headlines in your inbox.",
    "Most read: the ten best walks near the city, and where to eat after them.",
    "Advertisement. Subscribe today and save half on your first year.",
]
SUBSTITUTES = {
    "said": "stated",
    "told": "said to",
    "on": "on",
    "about": "around",
    "more than": "over",
    "people": "residents",
    "also": "further",
    "the": "the",
}


@dataclass(frozen=True)
class Copy:
    """One site's rendering of a story: the site's host label, the page, the story it is."""

    site: str
    html: str
    story: int


def edit(paragraphs: list[str], seed: int, rate: float = 0.03) -> list[str]:
    """A lightly edited copy as a subscribing paper prints it: a dateline, a few words
    changed, the last paragraph sometimes cut, sometimes a line of its own added."""
    rnd = random.Random(seed)
    edited = []
    for para in paragraphs:
        words = para.split()
        for i, word in enumerate(words):
            if rnd.random() < rate:
                words[i] = SUBSTITUTES.get(word.lower(), word.upper() if rnd.random() < 0.5 else "")
        edited.append(" ".join(w for w in words if w))
    if len(edited) > 3 and rnd.random() < 0.5:
        edited.pop()
    if rnd.random() < 0.5:
        edited.append("This story has been updated with additional reporting.")
    dateline = rnd.choice(["(AP) — ", "LONDON (Reuters) - ", "", "PARIS (AFP) — "])
    if edited:
        edited[0] = dateline + edited[0]
    return edited


def render(template: int, title: str, paragraphs: list[str], site: str) -> str:
    """The story inside one of four page templates, each with its own boilerplate."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    head = (
        f'<head><meta charset="utf-8"><title>{escape(title)} - {site}</title>'
        f'<meta property="og:title" content="{escape(title)}">'
        f'<meta property="og:site_name" content="{site}"></head>'
    )
    extra = "".join(f"<li>{escape(line)}</li>" for line in BOILERPLATE)
    if template == 0:
        page = (
            f"<header><nav><a href='/'>Home</a> <a href='/world'>World</a></nav></header>"
            f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
            f"<aside><ul>{extra}</ul></aside><footer>© {site}</footer>"
        )
    elif template == 1:
        page = (
            f"<div id='wrap'><div class='top'>{site} | Today's paper</div>"
            f"<div class='story'><h2 class='headline'>{escape(title)}</h2>"
            f"<div class='story-body'>{body}</div></div>"
            f"<div class='more'><h3>More stories</h3><ul>{extra}</ul></div></div>"
        )
    elif template == 2:
        page = (
            f"<article class='post'><header><h1>{escape(title)}</h1>"
            f"<p class='byline'>By Staff and wire reports</p></header>"
            f"<section class='content'>{body}</section>"
            f"<section class='comments'><h4>Comments</h4><p>Be the first to comment.</p>"
            f"</section></article><footer><ul>{extra}</ul></footer>"
        )
    else:
        page = (
            f"<table><tr><td class='nav'><a href='/'>Front page</a></td></tr>"
            f"<tr><td><h1>{escape(title)}</h1><div itemprop='articleBody'>{body}</div>"
            f"</td></tr><tr><td class='promo'>{escape(BOILERPLATE[2])}</td></tr></table>"
        )
    return f"<!DOCTYPE html><html lang='en'>{head}<body>{page}</body></html>"


def copies(story: int, title: str, paragraphs: list[str], n: int = 4) -> list[Copy]:
    """`n` sites' copies of one story: each its own template, edits and headline tweak."""
    result = []
    for k in range(n):
        site = f"paper{k}"
        headline = title if k % 2 == 0 else f"{title}: what we know"
        text = edit(paragraphs, seed=story * 100 + k)
        result.append(Copy(site, render(k % 4, headline, text, site), story))
    return result


# The copy kinds of the labelled set, as papers print agency copy (issue: trimmed wire copy).
KINDS = ("as_sent", "reheadlined", "cut_local", "trimmed_note")
LOCAL = (
    "Local officials said they were monitoring the situation and would give an update on Friday."
)
NOTE = (
    "Editor's note: this story was edited for length. The full report is available from the agency."
)


def kind_copy(kind: str, story: int, title: str, paragraphs: list[str], site: int) -> Copy:
    """One paper's copy of a wire story, by kind: as sent (its dateline only); re-headlined
    with ~4% of words edited; cut to its first 50-70% with a local paragraph after it; or
    trimmed from the bottom with an editor's note."""
    rnd = random.Random(story * 1000 + site)
    text, headline = list(paragraphs), title
    if kind == "reheadlined":
        text = edit(paragraphs, seed=story * 100 + site, rate=0.04)
        headline = f"{title.rstrip('.')}, officials say"
    elif kind in ("cut_local", "trimmed_note"):
        keep = max(2, round(len(paragraphs) * rnd.uniform(0.5, 0.7)))
        text = edit(paragraphs[:keep], seed=story * 100 + site, rate=0.02)
        text.append(LOCAL if kind == "cut_local" else NOTE)
    name = f"paper{site}"
    return Copy(name, render(site % 4, headline, text, name), story)


def quoting(story: int, title: str, own: list[str], quoted: list[str]) -> Copy:
    """A different story on the same topic that quotes two paragraphs of another in its
    middle: not a copy."""
    middle = len(own) // 2
    text = [*own[:middle], *quoted[1:3], *own[middle:]]
    return Copy("paper9", render(story % 4, title, text, "paper9"), story)
