"""Content-encoding: gzip and deflate bodies read as text, bombs stopped at the size cap without
being inflated, broken or unasked codings reported as undecodable, never passed on as text."""

import gzip
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import pytest
from newswire.services.errors import FetchKind, PermanentFetch
from newswire.services.fetch.client import Fetcher
from newswire.services.fetch.decoding import Decoder, Undecodable
from newswire.services.settings import Settings

from tests.support.site import Route, Site

PAGE = (
    b"<html><body>"
    + b"<p>A paragraph of the story, long enough to compress.</p>" * 200
    + b"</body>"
)
CAP = 1024 * 1024


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """One site for the module: each test sets its one route again."""
    s = Site()
    yield s
    s.close()


def fetch(site: Site, body: bytes, coding: str, prefix: int | None = None) -> bytes:
    site.routes["/p"] = Route(
        body, headers={"Content-Type": "text/html", "Content-Encoding": coding}
    )
    settings = Settings(fetch_allow_hosts=site.host_port, fetch_max_bytes=CAP)
    with Fetcher(settings) as fetcher:
        return fetcher.get(site.url("/p"), prefix=prefix).content


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib.compress),  # with its zlib header, as the RFC says
        ("deflate", raw_deflate),  # without, as many servers send it
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("deflate, gzip", lambda b: gzip.compress(zlib.compress(b))),
        ("identity", lambda b: b),
        ("utf-8", lambda b: b),  # a misconfigured server's charset in the wrong header
    ],
)
def test_encoded_bodies_are_read_as_sent(site: Site, coding: str, encode: object) -> None:
    assert callable(encode)
    assert fetch(site, encode(PAGE), coding) == PAGE


def test_concatenated_gzip_members_are_all_read(site: Site) -> None:
    half = len(PAGE) // 2
    assert fetch(site, gzip.compress(PAGE[:half]) + gzip.compress(PAGE[half:]), "gzip") == PAGE


@pytest.mark.parametrize(
    ("coding", "encode"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
def test_padding_after_the_end_of_the_stream_is_left_out(
    site: Site, coding: str, encode: Callable[[bytes], bytes]
) -> None:
    assert fetch(site, encode(PAGE) + bytes(100) + b"junk", coding) == PAGE


def test_a_gzip_bomb_stops_at_the_cap_without_being_inflated(site: Site) -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024), 9)  # 64 MiB of zeros in 64 KiB
    tracemalloc.start()
    try:
        with pytest.raises(PermanentFetch) as refused:
            fetch(site, bomb, "gzip")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.kind is FetchKind.TOO_LARGE
    # Inflated whole (or one read of it at a time), the bomb would take 64 MiB at once.
    assert peak < 8 * 1024 * 1024


def test_a_prefix_of_an_encoded_body_is_its_decoded_start(site: Site) -> None:
    assert fetch(site, gzip.compress(PAGE), "gzip", prefix=1000) == PAGE[:1000]


@pytest.mark.parametrize(
    ("body", "coding"),
    [
        (b"this is not gzip at all, just text" * 10, "gzip"),
        (b"neither is this deflate" * 10, "deflate"),
        (gzip.compress(PAGE)[:40] + b"garbage" * 100, "gzip"),
        (PAGE, "br"),  # a coding we never asked for and cannot undo
        (PAGE, "zstd"),
    ],
)
def test_broken_or_unasked_codings_are_reported(site: Site, body: bytes, coding: str) -> None:
    with pytest.raises(PermanentFetch) as refused:
        fetch(site, body, coding)
    assert refused.value.kind is FetchKind.UNDECODABLE


def test_the_decoder_never_returns_more_than_the_room_given() -> None:
    decoder = Decoder("https://paper.example/", "gzip")
    out = decoder.feed(gzip.compress(b"a" * 100_000), 10)
    assert out == b"a" * 10


def test_an_unknown_coding_of_the_unsupported_kind_is_named() -> None:
    with pytest.raises(Undecodable, match="br was not asked for"):
        Decoder("https://paper.example/", "gzip, br")
