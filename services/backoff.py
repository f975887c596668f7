"""Backoff: the one capped, jittered exponential wait that every retry loop in newswire uses."""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Attempt n waits `first` * 2^(n-1), at most `cap`, spread by ±`jitter` (a fraction) so
    that many clients retrying one server do not arrive together."""

    first: float
    cap: float
    jitter: float = 0.25

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """The wait before attempt `attempt` (1: the first retry)."""
        base = min(self.cap, self.first * 2.0 ** min(60, max(0, attempt - 1)))
        return min(self.cap, base * (1 - self.jitter + 2 * self.jitter * rng()))

    def waits(self, rng: Callable[[], float] = random.random) -> Iterator[float]:
        """The waits of attempts 1, 2, 3 ..., without end: a loop takes `next` of it per
        failure and starts a new one after a success."""
        attempt = 0
        while True:
            attempt += 1
            yield self.delay(attempt, rng)
