"""Pool processes: a soft time limit interrupts the task it was set for, never an idle process."""

import logging
import signal
from types import FrameType
from typing import Any

from billiard.pool import soft_timeout_sighandler
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun

log = logging.getLogger(__name__)

# The worker's main process times each task and sends its pool process SIGUSR1 when the soft
# limit passes. While the main process is away from its event loop (reconnecting through a
# Redis outage), it reads no results: when it comes back, its timers fire before it reads the
# results that say those tasks ended long ago. billiard's handler then raises in a process
# that sits idle waiting for work, and the process dies with a traceback (it is replaced, but
# its warm state goes with it). Outside a task, the late signal is said once and ignored.
_state = {"running": False}


def _on_soft_limit(_signum: int, _frame: FrameType | None) -> None:
    if _state["running"]:
        raise SoftTimeLimitExceeded()
    log.warning("a soft time limit arrived for a task this process already finished; ignored")


def _task_starts(**_kw: Any) -> None:
    _state["running"] = True
    # billiard installs its handler in a pool process after worker_process_init, so ours
    # takes its place here, at the first task. Only billiard's: a solo worker's main process
    # keeps Celery's own SIGUSR1 (dump threads).
    if signal.getsignal(signal.SIGUSR1) is soft_timeout_sighandler:
        signal.signal(signal.SIGUSR1, _on_soft_limit)


def _task_ends(**_kw: Any) -> None:
    _state["running"] = False


task_prerun.connect(_task_starts, weak=False)
task_postrun.connect(_task_ends, weak=False)
