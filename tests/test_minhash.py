"""The cluster bands are a stored format: bands written by one version must match those of the
next, or stories published across an upgrade stop joining their clusters. The numpy MinHash
is checked value for value against the algorithm written out plainly, one shingle at a time."""

import random
import zlib

import pytest
from newswire.services.identity import clusters

MASK = (1 << 64) - 1


def plain_mix(h: int) -> int:
    h = ((h ^ (h >> 30)) * clusters.MIX_B) & MASK
    h = ((h ^ (h >> 27)) * clusters.MIX_C) & MASK
    return h ^ (h >> 31)


def plain_signature(words: list[str], bins: int) -> list[int]:
    """One-permutation MinHash of the words' 3-shingles, in plain Python: each word hashed by
    crc32 and mixed, a shingle the XOR of its words at rotations 0, 21 and 42, its low bits the
    bin and the rest the value, the least per bin kept, empty bins filled from the right."""

    def word_hash(word: str) -> int:
        return plain_mix(zlib.crc32(word.encode("utf-8")) * clusters.MIX_A & MASK)

    def rotate(h: int, by: int) -> int:
        return (h << by | h >> (64 - by)) & MASK

    mins = [MASK] * bins
    for a, b, c in zip(words, words[1:], words[2:], strict=False):
        h = word_hash(a) ^ rotate(word_hash(b), 21) ^ rotate(word_hash(c), 42)
        mins[h & (bins - 1)] = min(mins[h & (bins - 1)], h >> 6)
    filled = list(mins)
    for i, m in enumerate(mins):
        if m == MASK and any(v != MASK for v in mins):
            step = 1
            while mins[(i + step) % bins] == MASK:
                step += 1
            filled[i] = plain_mix(mins[(i + step) % bins] + step)
    return filled


@pytest.mark.parametrize("length", [3, 40, 55, 60, 61, 200, 1500])
def test_the_numpy_signature_is_the_plain_algorithm(length: int) -> None:
    rng = random.Random(length)
    vocabulary = ["agency", "Häuser", "東京", "storm", "council", "vote", "2026", "naïve", "x"]
    vocabulary += [f"w{i}" for i in range(300)]
    words = [rng.choice(vocabulary).lower() for _ in range(length)]
    shingles = clusters._shingles([word.encode() for word in words])
    assert clusters._signature(shingles, clusters.BINS) == plain_signature(words, clusters.BINS)
    lead = shingles[: clusters.LEAD_WORDS - clusters.SHINGLE + 1]
    assert clusters._signature(lead, clusters.LEAD_BINS) == plain_signature(
        words[: clusters.LEAD_WORDS], clusters.LEAD_BINS
    )


# Text as news bodies have it: ASCII words and punctuation, the marks the fast path replaces,
# and letters, digits and symbols that keep a text off it.
ALPHABET = list("abcXYZ019_ .,;:'\"-()!?/\n\t") + list(clusters.MARKS) + list("éüßИ東٣²½€🙂\u200d")


@pytest.mark.parametrize("seed", range(40))
def test_tokens_are_the_words_the_pattern_finds(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ALPHABET if seed % 2 else [c for c in ALPHABET if c.isascii() or c in clusters.MARKS]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 400)))
    assert clusters.tokens(text) == [w.encode() for w in clusters.WORD.findall(text.lower())]


def test_the_marks_are_never_word_characters() -> None:
    assert not [m for m in clusters.MARKS if clusters.WORD.search(m)]


@pytest.mark.parametrize(
    "text",
    [
        "The council\u2019s vote \u2014 \u201cfinal\u201d, said 2026_report\u2026 " * 12,
        "Die H\u00e4user am Fluss wurden ger\u00e4umt, sagte die Stadt am Montag. " * 9,
    ],
)
def test_bands_hash_the_words_the_pattern_finds(text: str) -> None:
    words = clusters.WORD.findall(text.lower())
    lead = plain_signature(words[: clusters.LEAD_WORDS], clusters.LEAD_BINS)
    expected = clusters._band_keys(plain_signature(words, clusters.BINS), clusters.ROWS, 0)
    expected += clusters._band_keys(
        lead[: clusters.LEAD_BANDS * clusters.LEAD_ROWS], clusters.LEAD_ROWS, clusters.BANDS
    )
    assert clusters.bands(text) == expected
