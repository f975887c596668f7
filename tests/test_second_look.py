"""The second look: a story trafilatura's fast pass misses is found by its thorough pass or
in the page's React payload; a short story is not taken for a missed one; hostile payloads
give nothing."""

import json
from typing import Any

import pytest
import trafilatura
from newswire.services.extract import secondpass
from newswire.services.extract.flight import flight_article
from newswire.services.extract.page import ExtractionError, extract, parse_page

URL = "https://www.paper.example/news/budget"
COUNCIL = "The council voted on the new budget after a long debate about schools and roads"
WORDS = COUNCIL.split(" ")


def _sentence(i: int) -> str:
    """A sentence of its own for each i: no two paragraphs read alike."""
    return " ".join(WORDS[i % 9 :] + WORDS[: i % 9]) + f" in ward {i}."


def _paragraph(i: int, sentences: int = 2) -> str:
    return " ".join(_sentence(i * 7 + n) for n in range(sentences))


LEAD = "The council passed the budget on Monday night after a debate that ran for hours."
STORY = [_paragraph(i) for i in range(14)]


def _hidden_story() -> str:
    """A story whose first paragraph shows and whose rest sits in a block the site's script
    reveals, with "hidden" in its id: trafilatura's fast pass drops that block."""
    rest = "".join(f"<p>{p}</p>" for p in STORY)
    return f"""<html><head><title>Budget passes</title></head><body>
<main class="post"><div class="container"><h1>Budget passes after long debate</h1>
<p class="lead">{LEAD}</p>
<div class="post-text" id="post-text"><p>{_paragraph(40, 6)}</p>
<div id="post-text-hidden" class="hideable">{rest}</div></div>
</div></main></body></html>"""


def test_a_story_the_fast_pass_cuts_to_its_opening_is_read_whole() -> None:
    body = extract(_hidden_story(), URL).body
    assert all(p in body for p in STORY), "the paragraphs of the hidden block are missing"
    assert _paragraph(40, 6) in body and LEAD in body


def test_without_the_second_look_the_story_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture does what it is for: the fast pass alone keeps the opening only."""
    monkeypatch.setattr("newswire.services.extract.page.missed_story", lambda *_: False)
    body = extract(_hidden_story(), URL).body
    assert _paragraph(40, 6) in body
    assert not any(p in body for p in STORY)


def test_a_thorough_pass_that_fails_leaves_the_fast_pass_s_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """trafilatura's fallback extractors failing on a page (here made to) cost the page its
    second look, not its text."""
    bare = trafilatura.bare_extraction

    def failing(*args: object, **kwargs: Any) -> object:
        if not kwargs.get("fast"):
            raise RecursionError("maximum recursion depth exceeded")
        return bare(*args, **kwargs)

    monkeypatch.setattr(trafilatura, "bare_extraction", failing)
    body = extract(_hidden_story(), URL).body
    assert _paragraph(40, 6) in body


def test_a_short_story_above_teasers_is_not_a_missed_story() -> None:
    """A one-paragraph story above a block of other stories' teasers: the teasers are not
    the story's text, so its short body is not taken for a missed story."""
    teasers = "".join(
        f'<div class="teaser"><h3>Other story {i}</h3><p>{_paragraph(100 + i, 3)}</p></div>'
        for i in range(12)
    )
    own = _paragraph(60, 4)
    html = f"""<html><body><div class="page"><article><h1>Short notice</h1><p>{own}</p>
<div class="related-stories">{teasers}</div></article></div></body></html>"""
    tree = parse_page(html)
    assert tree is not None
    assert secondpass.story_text(tree) == len(own)  # the teasers are not the story's text
    assert not secondpass.missed_story(own, tree)
    assert own in extract(html, URL).body


def test_readers_comments_are_not_the_story_s_text() -> None:
    """A short brief under a long thread of readers' comments: the comments are not text the
    fast pass missed (nor is a commenter's name a byline)."""
    comments = "".join(
        f'<li class="comment"><span class="author">Reader Number{i}</span>'
        f"<p>{_paragraph(200 + i, 3)}</p></li>"
        for i in range(30)
    )
    own = _paragraph(70, 4)
    html = f"""<html><body><article><h1>Short brief</h1><p>{own}</p>
<section id="comments" class="comments-area"><ol>{comments}</ol></section></article>
</body></html>"""
    tree = parse_page(html)
    assert tree is not None
    assert secondpass.story_text(tree) == len(own)
    assert not secondpass.missed_story(own, tree)


def _push(chunk: str) -> str:
    return f"<script>self.__next_f.push({json.dumps([1, chunk])})</script>"


def _rendered_in_the_browser(story: str, split_at: int = 0) -> str:
    """A Next.js page whose markup has a headline and no body: the story's HTML travels as a
    text row of the React payload (its length in UTF-8 bytes), split over two pushes."""
    row = f"1a:T{len(story.encode('utf-8')):x},{story}"
    payload = '0:["$","div",null,{}]\n' + row + '\n1b:["$","p",null,{"children":"$1a"}]\n'
    cut = split_at or len(payload) // 2
    return f"""<html><head><title>Budget</title>
<script>self.__next_f.push([0])</script>{_push(payload[:cut])}{_push(payload[cut:])}
</head><body><main><h1>Budget passes</h1><div id="story"></div></main></body></html>"""


def test_a_story_the_browser_renders_from_the_react_payload_is_read() -> None:
    paragraphs = [_paragraph(i) + " Café Zoë 서울 — ok." for i in range(8)]
    story = "".join(f'<p class="editor-p">{p}</p>' for p in paragraphs)
    with pytest.raises(ExtractionError):  # the markup alone holds no story
        extract(_rendered_in_the_browser("<span>x</span>"), URL)
    body = extract(_rendered_in_the_browser(story), URL).body
    assert body.split("\n\n") == paragraphs  # multi-byte text cut at the row's byte length


CUP = "Fans queued overnight outside the stadium as ticket sales for the final opened"


def _cup(i: int) -> str:
    """A sentence of another story, on its own words."""
    words = CUP.split(" ")
    return " ".join(words[i % 13 :] + words[: i % 13])


def test_another_story_in_the_react_payload_is_not_taken_for_the_page_s() -> None:
    """A short story in the markup, and a longer other story the page preloads in its
    payload: the payload's story does not hold the page's opening, so it is not this one."""
    other = "".join(f"<p>{_cup(i)}, {i}. {_cup(i + 5)}, {i + 50}.</p>" for i in range(24))
    row = f"2c:T{len(other.encode('utf-8')):x},{other}"
    brief = _paragraph(80, 4)
    html = f"""<html><head>{_push(row + chr(10))}</head><body><article><h1>Short brief</h1>
<p>{brief}</p></article></body></html>"""
    tree = parse_page(html)
    assert tree is not None and flight_article(tree) is not None  # the payload has a story
    assert extract(html, URL).body == brief


@pytest.mark.parametrize(
    "payload",
    [
        "not json at all",
        "1a:Tffffffff,<p>a row longer than the payload</p>",
        "".join(f"{i:x}:T5,<p>x</p>\n" for i in range(50_000)),  # rows without end
        "1a:T10,<p>short</p>",  # a row, not a story's length
    ],
)
def test_hostile_or_empty_payloads_give_no_article(payload: str) -> None:
    page = f"<html><head>{_push(payload)}<script>self.__next_f.push([1, 2, 3])</script>"
    page += "<script>self.__next_f.push([1, unquoted])</script></head><body></body></html>"
    tree = parse_page(page)
    assert tree is not None
    assert flight_article(tree) is None
