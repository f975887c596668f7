"""A worker's state is its consumer's: consuming, reconnecting (since when), stalled."""

import time

import pytest
from newswire.workers.liveness import LOOP_STALE, Liveness

STALL = 60.0


def test_a_turning_loop_of_a_running_consumer_is_consuming() -> None:
    live = Liveness(running=True, has_loop=True, last_loop=time.monotonic())
    assert live.state(STALL) == "consuming" and live.not_consuming_since is None


def test_a_silent_loop_is_reconnecting_since_its_last_tick_then_stalled() -> None:
    now = time.time()
    live = Liveness(running=True, has_loop=True, last_loop=time.monotonic() - 20)
    assert live.state(STALL, now) == "reconnecting"
    assert live.not_consuming_since == pytest.approx(now - 20, abs=1)
    assert live.state(STALL, now + 39) == "reconnecting"
    assert live.state(STALL, now + 41) == "stalled"


def test_a_stopped_consumer_counts_from_when_it_was_noticed_and_recovers() -> None:
    live = Liveness(running=False, has_loop=True)
    now = time.time()
    assert live.state(STALL, now) == "reconnecting" and live.not_consuming_since == now
    assert live.state(STALL, now + STALL + 1) == "stalled"
    live.running, live.last_loop = True, time.monotonic()  # reconnected
    assert live.state(STALL, now + STALL + 2) == "consuming"
    assert live.not_consuming_since is None


def test_without_an_event_loop_running_is_enough() -> None:
    """Solo and thread pools have no hub to tick: the step's state alone counts."""
    live = Liveness(running=True, has_loop=False, last_loop=time.monotonic() - 10 * LOOP_STALE)
    assert live.state(STALL) == "consuming"


WEDGE = 10.0


def test_not_consuming_while_redis_answers_is_stalled_sooner() -> None:
    now = time.time()
    live = Liveness(running=False, has_loop=True)
    # Redis has answered all along: the consumer is wedged, not waiting for the broker
    assert live.state(STALL, now, reachable_since=now - 600, wedge_seconds=WEDGE) == (
        "reconnecting"
    )
    assert live.state(STALL, now + WEDGE + 1, now - 600, WEDGE) == "stalled"
    # Redis unreachable (no answer since): only the stall limit applies
    assert live.state(STALL, now + WEDGE + 1, None, WEDGE) == "reconnecting"
    # Redis back a moment ago: the consumer has Celery's reconnect time from then
    back = now + 30
    assert live.state(STALL, back + WEDGE - 1, back, WEDGE) == "reconnecting"
    assert back + WEDGE + 1 < now + STALL
    assert live.state(STALL, back + WEDGE + 1, back, WEDGE) == "stalled"
    assert live.state(STALL, now + STALL + 1, None, WEDGE) == "stalled"
