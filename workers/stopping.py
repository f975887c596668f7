"""Stopping: SIGTERM and Ctrl-C turned into a threading.Event that a long-running command waits on.

A signal handler runs in the main thread between two bytecodes, possibly while that thread is
inside `Event.wait` holding the event's internal lock: setting the event from the handler
itself then waits for that lock forever (a scheduler that ignored SIGTERM in a fault loop,
stuck in `Condition._acquire_restore` -> handler -> `Event.set`). The handler hands the set
to a short-lived thread instead, which takes the lock once the main thread lets it go.
"""

import signal
import threading
from types import FrameType


def stop_on(stop: threading.Event, *signums: int) -> None:
    """Set `stop` when one of the signals (default SIGINT and SIGTERM) arrives."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=stop.set, name="stop-signal", daemon=True).start()

    for signum in signums or (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)
