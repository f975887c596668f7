"""The shared benchmark corpus through `newswire ingest`: body F1 at least bare trafilatura's."""

import gzip
import json
from pathlib import Path

import pytest
import redis
import trafilatura
from lxml import etree
from newswire.services.extract.page import parse_page
from newswire.services.fetch.charset import decode_html, decode_page
from trafilatura.utils import INVALID_XML_CHARS

from bench.corpus import BOM, bench_pages, corpus_root, load_pages
from bench.extraction import run
from tests.support.redis_server import RedisServer


@pytest.mark.timeout(900)
def test_corpus_f1_at_least_bare_trafilatura(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    root = corpus_root()
    if not (root / "ground-truth.json").exists():
        pytest.skip(
            f"benchmark corpus not found at {root} (set NEWSWIRE_SHARED or NEWSWIRE_CORPUS)"
        )
    pages = load_pages(root)

    result = run(pages, redis_server.url)

    print(f"\npipeline F1 {result.pipeline.f1:.4f}  bare trafilatura F1 {result.bare.f1:.4f}")
    assert result.published == len(pages)
    assert result.pipeline.f1 >= result.bare.f1
    assert result.pipeline.f1 > 0.9  # sanity: the metric and mapping work at all


ODD_INPUT = [
    "", "x", "<p>x</p>", "<div><p>a</p><p>b</p></div>", "plain text, no markup at all",
    "<?xml version='1.0' encoding='utf-8'?><html><body><p>é</p></body></html>",
    "<html><body><p>a\x00b\x0bc</p></body></html>", "<!DOCTYPE html>\n<html/>\n<body><p>x</p>",
    "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN' 'x/y'>\n<html><body><p>\ufffe</p>",
    "<html><body><form><input name=a></form><p>x</p><!-- c --></body></html>",
]  # fmt: skip


def same_tree(html: str) -> None:
    """Our parse equals trafilatura's, and so does the parse that skips the scan for
    characters XML refuses where `decode_page` vouches for the bytes."""
    theirs, ours = trafilatura.load_html(html), parse_page(html)
    assert (theirs is None) == (ours is None), html[:80]
    if ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs)
    raw = html.encode("utf-8", "surrogatepass")
    text, clean, utf8 = decode_page(raw, "text/html; charset=utf-8")
    assert clean == (INVALID_XML_CHARS.search(html) is None), html[:80]
    if clean:
        for vouched in (parse_page(text, clean=True), parse_page(text, clean=True, utf8=utf8)):
            assert (vouched is None) == (theirs is None), html[:80]
            if vouched is not None:
                assert etree.tostring(vouched) == etree.tostring(theirs)


def test_only_bytes_that_cannot_hide_a_refused_character_are_vouched_for() -> None:
    page = "<html><body><p>Caf\u00e9</p></body></html>"
    assert decode_page(page.encode("utf-8"), "text/html; charset=utf-8")[1]
    assert decode_page(page.encode("cp1252"), "text/html; charset=windows-1252")[1]
    assert not decode_page(b"<p>a\x0bb</p>", "text/html; charset=utf-8")[1]
    assert not decode_page("<p>\ufffe</p>".encode(), "text/html; charset=utf-8")[1]
    # A wide encoding: a control character is not its own byte there.
    assert not decode_page(page.encode("utf-16"), "text/html; charset=utf-16")[1]
    assert not decode_page(b"+AAs-", "text/html; charset=utf-7")[1]


def test_the_bytes_are_handed_on_only_where_they_are_the_text_s_utf8() -> None:
    page = "<html><body><p>Caf\u00e9 \ufffd</p></body></html>"
    plain = "<html><body><p>Caf\u00e9</p></body></html>"
    as_is = decode_page(plain.encode("utf-8"), "text/html; charset=utf-8")
    assert as_is.utf8 == plain.encode("utf-8")
    assert decode_page(BOM + plain.encode("utf-8")).utf8 == plain.encode("utf-8")  # no BOM
    assert decode_page(b"<p>caf\xe9</p>", "text/html; charset=utf-8").utf8 is None  # replaced
    assert decode_page(page.encode("utf-8"), "text/html; charset=utf-8").utf8 is None
    assert decode_page(plain.encode("cp1252"), "text/html; charset=windows-1252").utf8 is None


def test_a_repaired_page_is_parsed_from_the_repair_not_the_bytes() -> None:
    """A doctype trafilatura removes (a "/" in it; libxml2 reads this one as text), an
    <html .../> it opens: the page's own bytes no longer spell the text that is parsed."""
    for html in (
        "< !DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN' 'x/y'>\n<html><body><p>x</p>",
        '<html lang="en"/>\n<body><p>one</p><p>two</p></body>',
        "<!DOCTYPE html><html><body><p>one line</p></body></html>",
    ):
        text, clean, utf8 = decode_page(html.encode(), "text/html; charset=utf-8")
        assert clean
        assert utf8 is not None
        ours = parse_page(text, clean, utf8)
        theirs = trafilatura.load_html(html)
        assert ours is not None
        assert etree.tostring(ours) == etree.tostring(theirs), html


@pytest.mark.parametrize("html", ODD_INPUT)
def test_the_fast_parser_reads_odd_input_as_trafilatura_does(html: str) -> None:
    same_tree(html)


def test_the_fast_parser_builds_the_tree_trafilatura_builds() -> None:
    """`parse_page` (lxml's class lookup in C) against `trafilatura.load_html` on every corpus
    page: the same tree, and the same extracted body."""
    root = corpus_root()
    if not (root / "ground-truth.json").exists():
        pytest.skip(f"benchmark corpus not found at {root}")
    pages = load_pages(root)
    for page in pages:
        same_tree(page.html.decode("utf-8", "replace"))
    options = {"fast": True, "favor_recall": True, "include_tables": True}
    for page in pages[:40]:
        html = page.html.decode("utf-8", "replace")
        want = trafilatura.extract(html, **options)
        assert trafilatura.extract(parse_page(html), **options) == want, page.id


def test_fundus_bench_pages_decode_as_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fundus stores its pages as UTF-8 whatever charset their <meta> declares; the throughput
    bench serves them with a byte order mark, so a page declaring another decodes as stored
    (without the mark it would not), and `both` is the two corpora together. A small corpus
    of each kind, laid out as the shared ones are (the real ones take ~200 MB at once)."""
    declared = '<html><head><meta charset="iso-8859-1"></head><body><p>Grüße, naïve café</p>'
    fundus = tmp_path / "corpus" / "fundus-parser-tests"
    (fundus / "de").mkdir(parents=True)
    (fundus / "de" / "a.html.gz").write_bytes(gzip.compress(declared.encode()))
    (fundus / "de" / "b.html.gz").write_bytes(gzip.compress(BOM + b"<html><p>x</p></html>"))
    (fundus / "index.json").write_text(json.dumps([
        {"html": "de/a.html.gz", "url": "https://a.example/1"},
        {"html": "de/b.html.gz", "url": "https://b.example/2"},
    ]))  # fmt: skip
    aeb = tmp_path / "corpus" / "article-extraction-benchmark"
    (aeb / "html").mkdir(parents=True)
    (aeb / "html" / "p1.html.gz").write_bytes(gzip.compress(b"<html><p>y</p></html>"))
    (aeb / "ground-truth.json").write_text(json.dumps({"p1": {"articleBody": "y", "url": "u"}}))
    monkeypatch.setenv("NEWSWIRE_SHARED", str(tmp_path))
    monkeypatch.delenv("NEWSWIRE_CORPUS", raising=False)

    pages = bench_pages("fundus")
    assert [p.original_url for p in pages] == ["https://a.example/1", "https://b.example/2"]
    assert all(p.html.startswith(BOM) and not p.html[3:].startswith(BOM) for p in pages)
    assert len({p.id for p in pages}) == 2
    assert decode_html(pages[0].html) == declared
    assert decode_html(pages[0].html.removeprefix(BOM)) != declared  # what the mark is for
    assert [p.id for p in bench_pages("both")] == ["p1"] + [p.id for p in pages]
    assert [p.id for p in bench_pages("aeb")] == ["p1"]
    with pytest.raises(ValueError, match="not one of"):
        bench_pages("held-out")


def test_a_lone_surrogate_does_not_end_the_page() -> None:
    """A UTF-7 page can decode to a lone surrogate; the parse keeps the text after it (a
    parse of the str, as trafilatura's, ends the text there)."""
    text, _clean, _utf8 = decode_page(
        b"<html><body><p>before +2AA- after</p></body></html>", "text/html; charset=utf-7"
    )
    assert "\ud800" in text
    tree = parse_page(text)
    assert tree is not None
    assert "after" in tree.text_content()
