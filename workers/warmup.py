"""Worker start-up: what each pool child would load on its first task, loaded before the fork."""

from typing import Any

from celery.signals import worker_init
from newswire.workers.memory import freeze


def warm() -> None:
    """Load the language model and the certificate store, then hide what is loaded from the
    garbage collector.

    A pool child inherits all of it from the parent (copy-on-write, one copy for all), instead
    of paying on its first tasks: ~0.5 s for the model on the first page that declares no
    language, ~35 ms for the certificates, ~90 ms for the first full collection
    (`memory.freeze_once`). A story polled by an idle worker waited for those (bench.idle).
    Freezing before the fork is what gc.freeze is for: a collection in a child does not
    touch, and so copy, the parent's pages.
    """
    from newswire.services.extract.page import load_language_model  # noqa: PLC0415
    from newswire.services.fetch.transport import tls_context  # noqa: PLC0415

    load_language_model()
    tls_context()
    freeze()


def _before_pool(**_kw: Any) -> None:
    warm()


# Sent by the worker's main process once its modules are imported, before the pool starts.
worker_init.connect(_before_pool, weak=False)
