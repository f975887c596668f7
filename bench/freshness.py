"""Freshness by simulation: a population of feeds publishing at different paces, polled on a
fixed 15-minute schedule and on the adaptive one (the real after_poll and learning policy),
over simulated days: story latency (publication to the poll that finds it) per class, and
the polls each schedule makes. `python -m bench.freshness [--days N] [--seed S]`."""

import argparse
import bisect
import random
import statistics
from dataclasses import dataclass

from newswire.schemas.feed import FeedState
from newswire.services.polling.adaptive import Learning, Observation
from newswire.services.polling.schedule import PollResult, after_poll

SHOWN = 20  # stories a feed shows
CLASSES = (  # name, mean seconds between stories, feeds
    ("every minute", 60.0, 10),
    ("hourly", 3600.0, 60),
    ("daily", 86400.0, 330),
    ("weekly", 7 * 86400.0, 600),
)


@dataclass
class Outcome:
    latencies: list[float]
    polls: int
    missed: int


def stories(mean_gap: float, days: float, rng: random.Random) -> list[float]:
    """Publication times: a Poisson process, starting with a history of SHOWN stories."""
    t, out = -SHOWN * mean_gap, []
    while t < days * 86400:
        t += rng.expovariate(1 / mean_gap)
        out.append(t)
    return out


def simulate(
    times: list[float], days: float, adaptive: bool, rng: random.Random, policy: Learning
) -> Outcome:
    end = days * 86400
    state = FeedState(id="f", url="https://ex.com/rss", interval=900, adaptive=adaptive)
    now = rng.uniform(0, 900)  # registered at a random moment
    known = bisect.bisect_right(times, 0.0)  # stories before the start are known already
    latencies, polls, missed = [], 0, 0
    while now < end:
        polls += 1
        out = bisect.bisect_right(times, now)
        visible = times[max(0, out - SHOWN) : out]
        new = [t for t in times[known:out]]
        missed += max(0, len(new) - SHOWN)
        latencies += [now - t for t in new[-SHOWN:]]
        known = out
        seen = Observation(visible, len(visible), min(len(new), SHOWN))
        state = after_poll(state, PollResult("200", seen=seen), now, rng.random, learning=policy)
        state = state.model_copy(update={"last_polled": now})
        now = state.next_due
    return Outcome(latencies, polls, missed)


@dataclass
class Row:
    name: str
    feeds: int
    adaptive: bool
    p50: float
    p95: float
    polls_per_day: float
    missed: int


def run(days: float, seed: int, policy: Learning) -> tuple[list[Row], dict[bool, float]]:
    """One row per class and schedule, and each schedule's polls per second."""
    rng = random.Random(seed)
    rows, totals = [], {False: 0, True: 0}
    for name, gap, n in CLASSES:
        for adaptive in (False, True):
            lat: list[float] = []
            polls = missed = 0
            for _ in range(n):
                got = simulate(stories(gap, days, rng), days, adaptive, rng, policy)
                lat += got.latencies
                polls += got.polls
                missed += got.missed
            totals[adaptive] += polls
            q = statistics.quantiles(lat, n=20) if len(lat) > 1 else [0.0] * 19
            rows.append(Row(name, n, adaptive, statistics.median(lat), q[18], polls / n / days,
                            missed))  # fmt: skip
    return rows, {k: v / (days * 86400) for k, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-interval", type=int, default=Learning().maximum)
    parser.add_argument("--fraction", type=float, default=Learning().fraction)
    args = parser.parse_args()
    policy = Learning(Learning().minimum, args.max_interval, args.fraction)
    print(
        f"{sum(n for *_, n in CLASSES)} feeds, {args.days:g} simulated days; adaptive: "
        f"{policy.minimum}-{policy.maximum} s, {policy.fraction:g} of the expected gap\n"
    )
    print("| class | feeds | schedule | p50 latency | p95 latency | polls/feed/day |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows, per_second = run(args.days, args.seed, policy)
    for r in rows:
        label = "adaptive" if r.adaptive else "fixed 15 min"
        missed = f" ({r.missed} missed)" if r.missed else ""
        print(
            f"| {r.name} | {r.feeds} | {label} | {r.p50:.0f} s | {r.p95:.0f} s "
            f"| {r.polls_per_day:.1f}{missed} |"
        )
    print(f"\npolls/s: fixed {per_second[False]:.2f}, adaptive {per_second[True]:.2f}")


if __name__ == "__main__":
    main()
