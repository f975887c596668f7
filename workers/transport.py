"""The broker transport of every newswire Celery process: kombu's Redis transport, minus the bug
that silently kills a worker's consumer when Redis restarts.

The bug (kombu 5.x, seen with 5.7.0; upstream: celery/kombu#970, celery/celery#9054, #10205):
after a broker connection error, Celery's consumer calls `Connection.collect()`, which detaches
the transport from its connection (`transport.client = None`), and then `Connection.close()`.
If the first attempt to close the default channel was cut short (a BRPOP still in flight), the
second one gets to `QoS.restore_unacked`, which rebuilds a Redis pool from
`transport.client.hostname`: `AttributeError: 'NoneType' object has no attribute 'hostname'`.
That is not a connection error, so Celery logs "Unrecoverable error" and the consumer is gone
for good while the process lives on. A late `ack` of a task that was running during the outage
takes the same path.

The containment: the transport keeps the connection parameters it was made with, so a channel
that outlives its connection can still reach Redis (restoring its unacked messages, or acking),
or fails with a *connection* error that Celery handles by reconnecting. The test
`tests/test_transport.py` reproduces the upstream failure with kombu's own transport and shows
that this one survives it; when kombu fixes the bug, that test says so and this module can go.
The worker's consumer watchdog (`workers/liveness.py`) is the second line of defence.
"""

from typing import Any

from kombu.transport import redis as kombu_redis


class _KeepsClient:
    """Ignores `transport.client = None` from `Connection.collect()`/`close()`: channels of a
    collected connection still read their Redis address through it."""

    _client: Any = None

    @property
    def client(self) -> Any:
        return self._client

    @client.setter
    def client(self, value: Any) -> None:
        if value is not None:
            self._client = value


class Transport(_KeepsClient, kombu_redis.Transport):
    """`redis://` and `rediss://` brokers."""


class SentinelTransport(_KeepsClient, kombu_redis.SentinelTransport):
    """`sentinel://` brokers: the master is found through Redis Sentinel."""
