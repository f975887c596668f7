"""A soft time limit (SIGUSR1 from the worker's main process) stops a pool process's running
task, and is ignored, with one line, when it arrives after the task ended."""

import textwrap

from tests.support.processes import fresh_python

# In a fresh process: it installs a SIGUSR1 handler, which the test process should not keep.
POOL_CHILD = textwrap.dedent(
    """
    import os, signal, time
    from celery.exceptions import SoftTimeLimitExceeded
    from billiard.pool import soft_timeout_sighandler
    from celery.signals import task_postrun, task_prerun
    from newswire.services.settings import Settings
    from newswire.workers.celery_app import make_app

    make_app(Settings()).loader.init_worker()  # imports the app's modules, as a worker does
    before = signal.getsignal(signal.SIGUSR1)
    task_prerun.send(sender=None)  # not a pool child (a solo worker): Celery's handler stays
    assert signal.getsignal(signal.SIGUSR1) is before
    task_postrun.send(sender=None)
    signal.signal(signal.SIGUSR1, soft_timeout_sighandler)  # what a billiard pool process has
    task_prerun.send(sender=None)
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(5)
        print("running task not stopped")
    except SoftTimeLimitExceeded:
        print("stopped")
    task_postrun.send(sender=None)
    os.kill(os.getpid(), signal.SIGUSR1)  # late: the task is over
    time.sleep(0.1)
    print("idle process lives")
    """
)


def test_a_soft_limit_stops_a_running_task_and_spares_an_idle_process() -> None:
    done = fresh_python(POOL_CHILD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["stopped", "idle process lives"], done.stdout
    assert done.stderr.count("a task this process already finished; ignored") == 1, done.stderr
