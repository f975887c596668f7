"""The broker containment: kombu's Redis transport loses its consumer on a Redis restart, ours not.

This replays, step by step against a real redis-server, what Celery's consumer does when the
broker connection breaks while a task is unacked and a BRPOP is in flight.
"""

import contextlib
from pathlib import Path

import pytest
import redis
from kombu import Connection, Exchange, Producer, Queue
from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import Channel
from newswire.workers.transport import Transport

from tests.support.redis_server import RedisServer


def connection_lost_under_load(
    server: RedisServer, transport: type
) -> tuple[Connection, list[Channel]]:
    """A connection whose default channel holds one unacked task message, and which has a
    second channel (as the worker's remote-control one), both with a BRPOP in flight when
    Redis dies; and the two channels."""
    conn = Connection(server.url, transport=transport)
    channel = conn.default_channel
    channels = []
    for name in ("probe", "control"):
        chan = channel if name == "probe" else conn.channel()
        channels.append(chan)
        queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
        queue(chan).declare()
        Producer(chan).publish({"n": 1}, exchange=queue.exchange, routing_key=name)
        message = chan.basic_get(name, no_ack=False)
        assert message is not None  # delivered, not acked: in the QoS and the unacked hash
        chan.basic_consume(name, False, lambda *_: None, f"{name}-consumer")
        conn.transport.cycle._register_BRPOP(chan)  # the event loop, while a slot is free
        assert chan._in_poll
    server.kill()
    return conn, channels


def no_restore_at_exit(channels: list[Channel]) -> None:
    """kombu gives a channel's unacked messages back when the interpreter exits; the test's
    Redis is long gone by then, and that would only print a traceback after the run."""
    for chan in channels:
        chan.qos.restore_at_shutdown = False


def celery_cleanup(conn: Connection) -> None:
    """celery.worker.consumer.Consumer.on_connection_error_after_connected, in order."""
    with contextlib.suppress(Exception):  # Celery ignores everything here
        conn.collect(socket_timeout=5)
    conn.close()  # Celery only ignores connection and channel errors here


def test_stock_kombu_loses_the_consumer(tmp_path: Path) -> None:
    """The upstream bug is still there: if this fails, kombu fixed it and workers/transport.py
    can be retired."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        conn, channels = connection_lost_under_load(server, kombu_redis.Transport)
        with pytest.raises(AttributeError, match="hostname"):
            celery_cleanup(conn)
        no_restore_at_exit(channels)
    finally:
        server.stop()


def test_our_transport_survives_and_keeps_the_message(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        conn, channels = connection_lost_under_load(server, Transport)
        celery_cleanup(conn)  # connection errors at most, which Celery handles by reconnecting
        no_restore_at_exit(channels)
        server.start()  # same port, same append-only file
        client = redis.Redis.from_url(server.url)
        # The unacked message is still in Redis: back on its queue, or in the unacked hash that
        # the visibility-timeout sweep restores.
        assert client.llen("probe") + client.llen("control") + client.hlen("unacked") == 2
        client.close()
    finally:
        server.stop()


def test_late_ack_after_reconnect_reaches_redis(tmp_path: Path) -> None:
    """A task that ran through the outage is acked on its old channel after Redis is back."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        conn = Connection(server.url, transport=Transport)
        channel = conn.default_channel
        queue = Queue("probe", Exchange("probe", type="direct"), routing_key="probe")
        queue(channel).declare()
        Producer(channel).publish({"n": 1}, exchange=queue.exchange, routing_key="probe")
        message = channel.basic_get("probe", no_ack=False)
        assert message is not None
        server.kill()
        with contextlib.suppress(Exception):
            conn.collect(socket_timeout=5)
        server.start()
        message.ack()  # kombu's own transport: AttributeError
        client = redis.Redis.from_url(server.url)
        assert client.hlen("unacked") == 0 and client.llen("probe") == 0
        client.close()
    finally:
        server.stop()
