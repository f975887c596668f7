"""SIGTERM and Ctrl-C stop the long-running commands, also when the signal lands while the main
thread is inside a wait on the very event the handler sets."""

import signal
import threading

from newswire.workers.stopping import stop_on


def test_the_handler_never_waits_for_a_lock_its_own_thread_holds() -> None:
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        stop_on(stop, signal.SIGUSR1)
        handler = signal.getsignal(signal.SIGUSR1)
        assert callable(handler)
        returned = threading.Event()

        def land_inside_wait() -> None:
            # A signal handled inside Event.wait runs while its thread holds the event's own
            # lock (threading's private `_cond`); setting the event there waited forever.
            with stop._cond:  # type: ignore[attr-defined]
                handler(signal.SIGUSR1, None)
            returned.set()

        threading.Thread(target=land_inside_wait, daemon=True).start()
        assert returned.wait(5), "the handler waited for a lock its own thread holds"
        assert stop.wait(5), "the stop was not set"
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_a_real_signal_sets_the_stop() -> None:
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        stop_on(stop, signal.SIGUSR1)
        signal.raise_signal(signal.SIGUSR1)
        assert stop.wait(5)
    finally:
        signal.signal(signal.SIGUSR1, previous)
