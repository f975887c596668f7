"""A worker loads, before its pool forks, what each child would otherwise load on its first
task: the language model (~0.5 s), the certificate store, and a first full collection."""

import textwrap

from newswire.services.fetch.guard import AllowList, GuardedBackend
from newswire.services.fetch.transport import GuardedTransport, tls_context

from tests.support.processes import fresh_python

# Run in a fresh process: the worker's start-up freezes the garbage collector's objects and
# loads a 75 MiB model, neither of which the test process should carry.
WORKER_START = textwrap.dedent(
    """
    import gc
    import py3langid.langid as langid
    from celery.signals import worker_init
    from newswire.services.fetch.transport import tls_context
    from newswire.services.settings import Settings
    from newswire.workers.celery_app import make_app

    app = make_app(Settings())
    app.loader.init_worker()  # imports the app's modules, as `celery worker` does first
    assert langid.IDENTIFIER is None and gc.get_freeze_count() == 0
    assert tls_context.cache_info().currsize == 0
    worker_init.send(sender=None)  # what the worker's main process sends before the pool
    assert langid.IDENTIFIER is not None, "language model not loaded"
    assert gc.get_freeze_count() > 0
    assert tls_context.cache_info().currsize == 1
    print("warm")
    """
)


def test_the_worker_loads_what_its_pool_children_need_before_forking() -> None:
    done = fresh_python(WORKER_START)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "warm"


def test_every_connection_pool_shares_one_certificate_store() -> None:
    backend = GuardedBackend(AllowList.parse([]))
    first, second = GuardedTransport(backend), GuardedTransport(backend, "http://proxy:3128")
    assert first._pool._ssl_context is tls_context()
    assert second._pool._ssl_context is tls_context()
