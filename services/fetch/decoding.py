"""Decoding: a body read in chunks, its content-encoding undone, never past the size cap."""

import time
import zlib
from collections.abc import Callable
from itertools import chain

import httpx
from newswire.services.errors import FetchKind, PermanentFetch, TransientFetch
from newswire.services.hints import bounded_int

# What we ask servers for (the Accept-Encoding we send): what `Decoder` undoes.
ACCEPTED = "gzip, deflate"
# Codings a server may send unasked that we cannot undo: refused, never passed on as text.
# Any other token (a misconfigured "utf-8", "identity") is left alone, as browsers and httpx do.
UNSUPPORTED = frozenset({"br", "zstd", "compress", "x-compress"})


class Undecodable(PermanentFetch):
    """The body does not decode under the content-encoding its server declared."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, f"undecodable content-encoding: {reason}", kind=FetchKind.UNDECODABLE)


class _Inflate:
    """One gzip or deflate layer. Concatenated gzip members are read in turn; deflate is
    tried with its zlib header first, then raw, as servers send both under that name."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._first = True
        self._ended = False  # what follows the stream's end is padding, not text
        self._z = self._new()

    def _new(self, raw: bool = False) -> "zlib._Decompress":
        if self._coding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """At most `room` bytes of output for `data` (more would be over the cap: the caller
        stops there, so the rest of a bomb is never inflated)."""
        if self._ended:
            return b""
        try:
            out = self._z.decompress(data, room)
        except zlib.error:
            if not (self._first and self._coding == "deflate"):
                raise
            self._z = self._new(raw=True)
            out = self._z.decompress(data, room)
        self._first = False
        # A gzip stream may hold several members: the next one starts where this one ended.
        # Bytes after the end that start no member (NUL padding, junk after a deflate
        # stream) are left out, as browsers and httpx leave them.
        while self._z.eof and self._z.unused_data and len(out) < room:
            following = self._new()
            try:
                if self._coding == "deflate":
                    raise zlib.error("a deflate stream has one member")
                more = following.decompress(self._z.unused_data, room - len(out))
            except zlib.error:
                self._ended = True
                break
            self._z = following
            out += more
        return out

    def end(self) -> bytes:
        # A stream cut before its end marker keeps what arrived, as browsers and httpx do:
        # the body's own length (or chunked framing) already says whether it all came.
        return self._z.flush()


class Decoder:
    """Undoes a response's content-encoding (gzip, x-gzip, deflate, in any order and number)
    as its chunks arrive; the output is bounded by the caller's `room`, so a small compressed
    body that inflates to gigabytes costs at most the cap."""

    def __init__(self, url: str, content_encoding: str) -> None:
        self._url = url
        self._layers: list[_Inflate] = []
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        for coding in reversed(codings):  # the last coding applied is undone first
            if coding in ("gzip", "x-gzip", "deflate"):
                self._layers.append(_Inflate("deflate" if coding == "deflate" else "gzip"))
            elif coding in UNSUPPORTED:
                raise Undecodable(url, f"{coding} was not asked for")

    def feed(self, chunk: bytes, room: int) -> bytes:
        return self._guarded(lambda: self._through(chunk, room, 0))

    def end(self, room: int) -> bytes:
        """What the layers still hold once the body has all arrived."""
        return self._guarded(lambda: self._drain(room))

    def _through(self, data: bytes, room: int, first: int) -> bytes:
        for layer in self._layers[first:]:
            data = layer.feed(data, room)
        return data

    def _drain(self, room: int) -> bytes:
        # Each layer's remainder goes through the layers after it before they end in turn.
        out = b""
        for i, layer in enumerate(self._layers):
            out += self._through(layer.end(), room, i + 1)
        return out

    def _guarded(self, call: Callable[[], bytes]) -> bytes:
        try:
            return call()
        except zlib.error as exc:
            raise Undecodable(self._url, str(exc)) from None


def read_capped(
    url: str, resp: httpx.Response, deadline: float, max_bytes: int, prefix: int | None = None
) -> bytes:
    """Read the body in chunks, its content-encoding undone; stop at `max_bytes` decoded bytes
    or the deadline, not after (or, with `prefix`, once that many bytes are in: the rest is
    never read nor inflated)."""
    cap = max_bytes if prefix is None else prefix
    declared = bounded_int(resp.headers.get("content-length", ""))
    if prefix is None and declared is not None and declared > cap:
        raise PermanentFetch(
            url, f"too large (declared {declared} bytes > {cap})", kind=FetchKind.TOO_LARGE
        )
    assert isinstance(resp.stream, httpx.SyncByteStream)
    decoder = Decoder(url, resp.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    size = 0
    for raw in chain(resp.stream, [None]):  # None: the body is all in, the decoder's rest
        room = cap - size + 1  # one byte over the cap says "too large"
        chunk = decoder.end(room) if raw is None else decoder.feed(raw, room)
        size += len(chunk)
        if size > cap and prefix is not None:
            chunks.append(chunk)
            break  # the first `prefix` bytes are all that is wanted
        if size > cap:
            raise PermanentFetch(url, f"too large (over {cap} bytes)", kind=FetchKind.TOO_LARGE)
        if time.monotonic() > deadline:
            raise TransientFetch(url, "deadline exceeded while reading", kind=FetchKind.TIMEOUT)
        chunks.append(chunk)
    return b"".join(chunks)[:cap]
