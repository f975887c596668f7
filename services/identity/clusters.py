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


def minhash(text: str) -> list[int] | None:
    """BINS MinHash values of the text's word 3-shingles; None when the text is too short."""
    words = WORD.findall(text.lower())
    if len(words) < max(MIN_WORDS, SHINGLE):
        return None
    return _signature(_shingles(words), BINS)


def _shingles(words: list[str]) -> "np.ndarray[Any, np.dtype[np.uint64]]":
    """A 64-bit hash of each of the words' 3-shingles, in order."""
    # Each distinct word is hashed once (a well-mixed 64-bit value and its rotations); a
    # shingle's hash is the XOR of its words' at three rotations (tabulation-style). numpy
    # does the mixing and the XORs for all of them at once: a third of the pure-Python time.
    index: dict[str, int] = {}
    order = [index.setdefault(word, len(index)) for word in words]
    crcs = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in index), dtype=U, count=len(index))
    h = _mix_all(crcs * U(MIX_A))
    second = (h << U(21)) | (h >> U(43))
    third = (h << U(42)) | (h >> U(22))
    at = np.asarray(order, dtype=np.intp)
    shingles: np.ndarray[Any, np.dtype[np.uint64]] = h[at[:-2]] ^ second[at[1:-1]] ^ third[at[2:]]
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
    words = WORD.findall(text.lower())
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
