"""Near-duplicate signatures: MinHash of a body's word shingles, cut into LSH bands.

The same wire story printed by several sites, lightly edited, shares most of its 3-word
shingles; two different stories on one topic share few. A band is a run of ROWS MinHash values:
two bodies whose shingle sets have Jaccard similarity J share at least one of BANDS bands with
probability 1 - (1 - J**ROWS)**BANDS (about 0.89 at J = 0.6, 0.99 at J = 0.7, 0.03 at J = 0.2).
The bands are what the publisher keeps in Redis; the cluster itself is decided atomically there.

One-permutation hashing (one 64-bit hash per shingle, split into BINS bins, the minimum kept
per bin, empty bins filled from their neighbour) gives the BINS MinHash values in one pass, at
a cost proportional to the text's length: ~0.4 ms for an 800-word story, the mixing in numpy.
"""

import hashlib
import re
import struct
import zlib
from typing import Any

import numpy as np

BANDS = 16
ROWS = 4
BINS = BANDS * ROWS
SHINGLE = 3
# Below this many words a body says too little to tell a copy from a namesake.
MIN_WORDS = 40
# Papers cut agency copy from the bottom (to 50-70%, often with a line of their own after
# it): the whole-body similarity of such a copy is about its share of the text, but its lead
# is the agency's. The lead's own bands, LEAD_BANDS of LEAD_ROWS values over its first
# LEAD_WORDS words (in bodies of 10 words more), match two leads of Jaccard 0.78 (a 4%
# word-edit rate) with probability 1 - (1 - 0.78**3)**10 = 0.998, two leads of Jaccard 0.05
# (same topic) with 0.001.
LEAD_WORDS = 50
LEAD_BINS = 32
LEAD_ROWS = 3
LEAD_BANDS = 10
WORD = re.compile(r"\w+")
# Marks that news text often has and that are never word characters: replaced by spaces, they
# leave most English bodies ASCII, whose words a byte table finds ~7x faster than WORD does.
MARKS = tuple(
    "\u2019\u2018\u201c\u201d\u2014\u2013\u2026\u00ab\u00bb\u201e\u201a\u00a0\u2022\u00b7"
    "\u2039\u203a\u2032\u2033\u00ad\u20ac\u00a3\u00b0\u00a9\u00ae\u2122\u00a7\u00d7\u2010"
    "\u2011\u2012\u2015\u200b\u2002\u2003\u2009\u202f"
)
# Each ASCII byte that is not a word character (letters, digits, underscore) becomes a space.
ASCII_WORDS = bytes(c if chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(256))
MASK = (1 << 64) - 1
EMPTY = MASK
U = np.uint64
# Odd 64-bit constants (from splitmix64) for mixing a word's hash.
MIX_A = 0x9E3779B97F4A7C15
MIX_B = 0xBF58476D1CE4E5B9
MIX_C = 0x94D049BB133111EB


def _mix(h: int) -> int:
    h = ((h ^ (h >> 30)) * MIX_B) & MASK
    h = ((h ^ (h >> 27)) * MIX_C) & MASK
    return h ^ (h >> 31)


def _mix_all(h: "np.ndarray[Any, np.dtype[np.uint64]]") -> "np.ndarray[Any, np.dtype[np.uint64]]":
    """`_mix` of every value at once (uint64 arithmetic wraps as `& MASK` does)."""
    h = (h ^ (h >> U(30))) * U(MIX_B)
    h = (h ^ (h >> U(27))) * U(MIX_C)
    return h ^ (h >> U(31))


def tokens(text: str) -> list[bytes]:
    """The lowercased text's words (what WORD finds), UTF-8 encoded, as shingles hash them."""
    lowered = text.lower()
    if not lowered.isascii():
        for mark in MARKS:
            if mark in lowered:
                lowered = lowered.replace(mark, " ")
        if not lowered.isascii():
            return [word.encode() for word in WORD.findall(lowered)]
    return lowered.encode("ascii").translate(ASCII_WORDS).split()


def _shingles(words: list[bytes]) -> "np.ndarray[Any, np.dtype[np.uint64]]":
    """A 64-bit hash of each of the (UTF-8) words' 3-shingles, in order."""
    # Each word is hashed (crc32, then mixed to a well-spread 64-bit value); a shingle's hash
    # is the XOR of its words' at three rotations (tabulation-style). numpy mixes and XORs all
    # of them at once; hashing a repeated word again costs less than looking it up.
    crcs = np.fromiter(map(zlib.crc32, words), dtype=U, count=len(words))
    h = _mix_all(crcs * U(MIX_A))
    second = (h << U(21)) | (h >> U(43))
    third = (h << U(42)) | (h >> U(22))
    shingles: np.ndarray[Any, np.dtype[np.uint64]] = h[:-2] ^ second[1:-1] ^ third[2:]
    return shingles


def _signature(shingles: "np.ndarray[Any, np.dtype[np.uint64]]", bins: int) -> list[int]:
    """`bins` (a power of two) MinHash values of the shingle hashes: the low bits pick a bin,
    the rest is the value, the least per bin kept."""
    mins = np.full(bins, U(EMPTY), dtype=U)
    np.minimum.at(mins, (shingles & U(bins - 1)).astype(np.intp), shingles >> U(6))
    return _densify([int(v) for v in mins.tolist()])


def _densify(mins: list[int]) -> list[int]:
    """Fill each empty bin from the next filled one to its right (circularly), shifted by the
    distance, so that two texts agree on a filled-in bin only when they agree on its source."""
    if all(m == EMPTY for m in mins):
        return mins
    filled = list(mins)
    size = len(mins)
    for i, m in enumerate(mins):
        if m != EMPTY:
            continue
        step = 1
        while mins[(i + step) % size] == EMPTY:
            step += 1
        filled[i] = _mix(mins[(i + step) % size] + step)
    return filled


def bands(text: str) -> list[bytes]:
    """The text's LSH band keys (1 byte band number + 7 bytes of the band's hash): BANDS of
    the whole body, then LEAD_BANDS of its lead; empty when the text is too short to compare."""
    words = tokens(text)
    if len(words) < max(MIN_WORDS, SHINGLE):
        return []
    shingles = _shingles(words)
    keys = _band_keys(_signature(shingles, BINS), ROWS, 0)
    if len(words) >= LEAD_WORDS + 10:  # a lead is a part of the story, not all of it
        lead = _signature(shingles[: LEAD_WORDS - SHINGLE + 1], LEAD_BINS)
        keys += _band_keys(lead[: LEAD_BANDS * LEAD_ROWS], LEAD_ROWS, BANDS)
    return keys


def _band_keys(values: list[int], rows: int, first: int) -> list[bytes]:
    keys = []
    for band in range(len(values) // rows):
        packed = struct.pack(f"<{rows}Q", *values[band * rows : (band + 1) * rows])
        keys.append(bytes([first + band]) + hashlib.blake2b(packed, digest_size=7).digest())
    return keys
