"""Charset: turn fetched HTML bytes into text the way browsers do (header, BOM, meta, sniff)."""

import codecs
import re
from typing import NamedTuple

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
    return decode_page(content, content_type)[0]


# C0 controls other than tab, newline and carriage return: XML (libxml2) refuses them, so
# trafilatura strips them, and U+FFFE/U+FFFF, from every page, a regex over the whole text.
CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# Codecs in which a control character is always its own byte, and no other byte decodes to
# one: for them the check can run on the bytes.
BYTEWISE_CONTROLS = ("utf-8", "utf-8-sig", "ascii", "cp125", "iso8859-", "koi8-", "mac-",
                     "shift_jis", "cp932", "euc_jp", "gb2312", "gbk", "gb18030", "big5",
                     "euc_kr", "cp949", "tis-620", "cp874")  # fmt: skip


class Decoded(NamedTuple):
    """A page's text, whether it is sure to hold none of the characters XML refuses, and its
    bytes where they are that text's UTF-8 as they are (a parser takes those, not the str)."""

    text: str
    clean: bool
    utf8: bytes | None


def decode_page(content: bytes, content_type: str | None = None) -> Decoded:
    """`decode_html`, whether the text is sure to hold none of the characters XML refuses
    (looked for in the bytes, several times faster than in the text, where the codec allows),
    and the bytes where they are the text's UTF-8."""
    codec = declared_charset(content, content_type) or sniff(content)
    if codec == "utf-8" and content.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    text = content.decode(codec, errors="replace")
    clean = (
        codec.startswith(BYTEWISE_CONTROLS)
        and len(content.translate(None, CONTROL_BYTES)) == len(content)
        and "\ufffe" not in text
        and "\uffff" not in text
    )
    # No U+FFFD: nothing was replaced (a page's own U+FFFD just loses the shortcut).
    if codec not in ("utf-8", "utf-8-sig") or "\ufffd" in text:
        return Decoded(text, clean, None)
    return Decoded(text, clean, content[3:] if codec == "utf-8-sig" else content)
