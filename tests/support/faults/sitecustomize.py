"""Test seam: a worker started with this folder on PYTHONPATH and NEWSWIRE_TEST_FAULT set
arms the consumer fault hook (workers.liveness) on SIGUSR2. Production code has the hook,
never the arming: no setting turns a fault on."""

import os

KIND = os.environ.get("NEWSWIRE_TEST_FAULT", "")

if KIND in ("wedge", "crash"):
    from celery.signals import worker_init

    def _arm(**_: object) -> None:
        from newswire.workers.liveness import enable_fault_injection  # noqa: PLC0415

        enable_fault_injection(KIND)  # type: ignore[arg-type]

    worker_init.connect(_arm, weak=False)
