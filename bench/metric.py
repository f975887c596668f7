"""The article-extraction-benchmark's own metric: 4-token shingles, macro-averaged P and R."""

import re
from collections import Counter
from dataclasses import dataclass

TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)
NGRAM = 4


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + NGRAM]) for i in range(max(1, len(tokens) - NGRAM + 1)))


def page_counts(truth: str, predicted: str) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of shingles on one page."""
    t, p = shingles(truth), shingles(predicted)
    return sum((t & p).values()), sum((p - t).values()), sum((t - p).values())


def precision_recall(tp: int, fp: int, fn: int) -> tuple[float, float]:
    if fp == fn == 0:
        return 1.0, 1.0
    if tp == 0:
        return 0.0, 0.0
    return tp / (tp + fp), tp / (tp + fn)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    pages: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(truth: dict[str, str], predicted: dict[str, str]) -> Score:
    """Macro-averaged precision and recall over every ground-truth page (missing = empty)."""
    pairs = [precision_recall(*page_counts(truth[k], predicted.get(k, ""))) for k in truth]
    n = len(pairs)
    return Score(sum(p for p, _ in pairs) / n, sum(r for _, r in pairs) / n, n)
