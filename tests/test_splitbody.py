"""A body that ads cut into same-class containers is joined before extraction; teaser lists,
the next story of an endless page and sibling blocks are left alone (made-up pages)."""

from newswire.services.extract.page import extract, parse_page
from newswire.services.extract.splitbody import join_split_body


def paragraphs(topic: str, n: int = 4) -> str:
    return "".join(
        f"<p>{topic} paragraph {i}: the council met again on Tuesday evening and argued at "
        f"length about the budget, the buses and the bridge over the river, then voted.</p>"
        for i in range(n)
    )


def slot(body: str, cls: str = "grid--item body__container article__body") -> str:
    return f'<div class="grid"><div class="{cls}">{body}</div><div class="aside">Most popular</div></div>'


AD = '<div class="row full-bleed-ad"><div class="ad"><span>Advertisement</span></div></div>'


def page(inner: str) -> str:
    return f"<html lang='en'><head><title>Council</title></head><body><main><article><h1>Council</h1>{inner}</article></main></body></html>"


def test_a_body_split_by_an_ad_is_extracted_whole() -> None:
    html = page(slot(paragraphs("First part")) + AD + slot(paragraphs("Second part")))
    tree = parse_page(html)
    assert tree is not None and join_split_body(tree) == 1
    body = extract(html, "https://news.example/council").body
    assert "First part paragraph 3" in body and "Second part paragraph 0" in body
    assert body.index("First part paragraph 3") < body.index("Second part paragraph 0")
    assert "Advertisement" not in body


def test_teasers_next_stories_and_siblings_are_not_joined() -> None:
    teasers = (
        "<ul>"
        + "".join(f"<li>{slot(paragraphs(f'Teaser {i}', 3))}</li>" for i in range(3))
        + "</ul>"
    )
    endless = (
        f"<html><body><article>{slot(paragraphs('Story'))}</article>"
        f"<article>{slot(paragraphs('Next story'))}</article></body></html>"
    )
    body_cls = "grid--item body__container article__body"
    siblings = page(
        f'<div class="grid"><div class="{body_cls}">{paragraphs("A")}</div>'
        f'<div class="{body_cls}">{paragraphs("B")}</div></div>'
    )
    many = page("".join(slot(paragraphs(f"Block {i}", 2)) + AD for i in range(8)))
    short = page(slot(paragraphs("Body")) + AD + slot("<p>A caption-sized line.</p>"))
    for html in (page(teasers), endless, siblings, many, short):
        tree = parse_page(html)
        assert tree is not None and join_split_body(tree) == 0


def test_text_outside_the_moved_elements_is_kept() -> None:
    # Text directly inside a continuation (before its first paragraph) moves with it; text
    # after it stays where it was.
    second = "Loose opening words of part two. " + paragraphs("Second part")
    html = page(slot(paragraphs("First part")) + AD + slot(second) + "Closing words after.")
    tree = parse_page(html)
    assert tree is not None and join_split_body(tree) == 1
    text = tree.text_content()
    assert "Loose opening words of part two." in text and "Closing words after." in text
    assert text.index("First part paragraph 3") < text.index("Loose opening words")
