"""Charset: turn fetched HTML bytes into text the way browsers do (header, BOM, meta, sniff)."""

import codecs
import re

from charset_normalizer import from_bytes

# WHATWG: these labels mean windows-1252, which is what servers sending them really use.
WINDOWS_1252_ALIASES = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}
)
LATIN_LOOKALIKES = frozenset(
    {
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "iso8859-1",
        "iso8859-2",
        "iso8859-15",
        "mac-roman",
        "mac-latin2",
        "iso8859-9",
        "iso8859-13",
    }
)
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)
HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE)
# A meta tag must be in the first 1024 bytes per the HTML spec; real pages put it later.
META_WINDOW = 4096


def normalize_label(label: str) -> str | None:
    """A Python codec name for a charset label, or None when Python knows no such codec."""
    label = label.strip().strip("\"'").lower()
    if label in WINDOWS_1252_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charset(content: bytes, content_type: str | None) -> str | None:
    """The charset the response declares: HTTP header first, then BOM, then <meta>."""
    header = HEADER_CHARSET.search(content_type or "")
    if header and (codec := normalize_label(header.group(1))):
        return codec
    for bom, bom_codec in BOMS:
        if content.startswith(bom):
            return bom_codec
    if meta := META_CHARSET.search(content[:META_WINDOW]):
        return normalize_label(meta.group(1).decode("ascii", "replace"))
    return None


def sniff(content: bytes) -> str:
    """Guess an undeclared charset: UTF-8 when it decodes, else a detector, else windows-1252."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = from_bytes(content[:65536]).best()
    if best is not None and best.encoding not in ("utf_8", "ascii"):
        guessed = normalize_label(best.encoding)
        # The detector confuses Latin single-byte codecs with each other on short pages, and
        # undeclared Western pages are by far the common case: it is trusted for other scripts.
        if guessed and guessed not in LATIN_LOOKALIKES:
            return guessed
    return "cp1252"


def decode_html(content: bytes, content_type: str | None = None) -> str:
    """Decode HTML bytes; never raises: undecodable bytes become U+FFFD."""
    codec = declared_charset(content, content_type) or sniff(content)
    if codec == "utf-8" and content.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    return content.decode(codec, errors="replace")
