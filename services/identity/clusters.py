"""Near-duplicate signatures: MinHash of a body's word shingles, cut into LSH bands.

The same wire story printed by several sites, lightly edited, shares most of its 3-word
shingles; two different stories on one topic share few. A band is a run of ROWS MinHash values:
two bodies whose shingle sets have Jaccard similarity J share at least one of BANDS bands with
probability 1 - (1 - J**ROWS)**BANDS (about 0.89 at J = 0.6, 0.99 at J = 0.7, 0.03 at J = 0.2).
The bands are what the publisher keeps in Redis; the cluster itself is decided atomically there.

One-permutation hashing (one 64-bit hash per shingle, split into BINS bins, the minimum kept
per bin, empty bins filled from their neighbour) gives the BINS MinHash values in one pass, at
pure-Python cost proportional to the text's length: no numpy, well under a millisecond.
"""

import hashlib
import re
import struct
import zlib

BANDS = 16
ROWS = 4
BINS = BANDS * ROWS
SHINGLE = 3
# Below this many words a body says too little to tell a copy from a namesake.
MIN_WORDS = 40
WORD = re.compile(r"\w+")
MASK = (1 << 64) - 1
EMPTY = MASK
# Odd 64-bit constants (from splitmix64) for mixing a word's hash.
MIX_A = 0x9E3779B97F4A7C15
MIX_B = 0xBF58476D1CE4E5B9
MIX_C = 0x94D049BB133111EB


def _mix(h: int) -> int:
    h = ((h ^ (h >> 30)) * MIX_B) & MASK
    h = ((h ^ (h >> 27)) * MIX_C) & MASK
    return h ^ (h >> 31)


def minhash(text: str) -> list[int] | None:
    """BINS MinHash values of the text's word 3-shingles; None when the text is too short."""
    words = WORD.findall(text.lower())
    if len(words) < max(MIN_WORDS, SHINGLE):
        return None
    # Each distinct word is hashed once (a well-mixed 64-bit value and its rotations); a
    # shingle's hash is the XOR of its words' at three rotations (tabulation-style): two
    # XORs per shingle instead of a multiply-and-mix.
    table: dict[str, tuple[int, int, int]] = {}
    for word in words:
        if word not in table:
            h = _mix(zlib.crc32(word.encode("utf-8")) * MIX_A & MASK)
            table[word] = (h, (h << 21 | h >> 43) & MASK, (h << 42 | h >> 22) & MASK)
    first = [table[w][0] for w in words]
    second = [table[w][1] for w in words]
    third = [table[w][2] for w in words]
    mins = [EMPTY] * BINS
    for a, b, c in zip(first, second[1:], third[2:], strict=False):
        h = a ^ b ^ c
        slot = h & (BINS - 1)
        value = h >> 6
        if value < mins[slot]:  # noqa: PLR1730 -- a branch costs less than min() here
            mins[slot] = value
    return _densify(mins)


def _densify(mins: list[int]) -> list[int]:
    """Fill each empty bin from the next filled one to its right (circularly), shifted by the
    distance, so that two texts agree on a filled-in bin only when they agree on its source."""
    if all(m == EMPTY for m in mins):
        return mins
    filled = list(mins)
    for i, m in enumerate(mins):
        if m != EMPTY:
            continue
        step = 1
        while mins[(i + step) % BINS] == EMPTY:
            step += 1
        filled[i] = _mix(mins[(i + step) % BINS] + step)
    return filled


def bands(text: str) -> list[bytes]:
    """The text's LSH band keys (1 byte band number + 7 bytes of the band's hash); empty when
    the text is too short to compare."""
    values = minhash(text)
    if values is None:
        return []
    keys = []
    for band in range(BANDS):
        packed = struct.pack(f"<{ROWS}Q", *values[band * ROWS : (band + 1) * ROWS])
        keys.append(bytes([band]) + hashlib.blake2b(packed, digest_size=7).digest())
    return keys
