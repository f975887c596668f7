"""Broker seam: the one Redis client of a process (directly or through Redis Sentinel), checked
at start with an actionable error."""

import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import redis
from newswire.services.errors import BrokerError, CommandRefused
from newswire.services.redact import redact_url
from newswire.services.settings import Settings
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

CONNECT_TIMEOUT = 5.0
SOCKET_TIMEOUT = 30.0
PROBE_TIMEOUT = 1.0


def where(settings: Settings) -> str:
    """Where Redis is said to be, password left out."""
    if settings.sentinels:
        hosts = ",".join(f"{h}:{p}" for h, p in settings.sentinels)
        return f"master {settings.redis_sentinel_master!r} via sentinels {hosts}"
    return redact_url(settings.redis_url)


def open_redis(settings: Settings, *, check: bool = True) -> redis.Redis:
    """A Redis client for the configured Redis; with `check`, PING it now rather than fail
    later. With NEWSWIRE_REDIS_SENTINELS the client asks the sentinels for the master on every
    new connection, so it follows a failover by itself."""
    options: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": SOCKET_TIMEOUT,
        "health_check_interval": 30,
    }
    tls = settings.redis_tls
    try:
        if settings.sentinels:
            url = urlsplit(settings.redis_url)
            db = int(url.path.strip("/") or 0)
            # rediss://: TLS to the sentinels and to the master they name, verified alike.
            over_tls = {"ssl": True, **tls} if tls else {}
            timeouts = {
                "socket_connect_timeout": CONNECT_TIMEOUT,
                "socket_timeout": CONNECT_TIMEOUT,
            }
            sentinel = Sentinel(  # type: ignore[no-untyped-call]
                settings.sentinels,
                **timeouts,
                # Given at all, sentinel_kwargs replace the socket options it would copy.
                sentinel_kwargs={**timeouts, **over_tls} if over_tls else None,
            )
            client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
                settings.redis_sentinel_master,
                username=url.username,
                password=url.password,
                db=db,
                **options,
                **over_tls,
            )
        else:
            client = redis.Redis.from_url(settings.redis_url, **options, **tls)
    except ValueError as exc:
        raise BrokerError(
            f"NEWSWIRE_REDIS_URL={redact_url(settings.redis_url)!r} is not a usable Redis URL: "
            f"{exc}"
        ) from exc
    if check:
        if tls and not settings.sentinels:
            check_tls(client, settings)
        try:
            client.ping()
        except redis.RedisError as exc:
            why = f"cannot reach Redis ({where(settings)}): {exc}; {advice(settings)}"
            raise BrokerError(why) from exc
    return client


def check_tls(client: redis.Redis, settings: Settings) -> None:
    """rediss:// straight to a server: one TLS connection, tried once, its handshake bounded
    by CONNECT_TIMEOUT. A server that speaks no TLS on that port reads the TLS hello as the
    start of a command line and waits for its end; redis-py shakes hands under the 30 s socket
    timeout and retries, so the ping alone fails after ~30 s with a bare "Timeout connecting".
    A failed handshake here is followed by a plain PING, and a Redis answer names the mistake."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "retry": Retry(NoBackoff(), 0)}
    once = pool.connection_class(**{**kwargs, "socket_timeout": CONNECT_TIMEOUT})
    try:
        once.connect()
    except redis.RedisError as exc:  # whatever it is, the PING below reports it if not this
        host, port = host_port(settings)
        if plain_redis_at(host, port):
            raise BrokerError(
                f"cannot reach Redis ({where(settings)}): {exc}; {host}:{port} answers plain "
                "Redis, not TLS: use redis:// for it, or rediss:// with the server's TLS port "
                "(redis-server --tls-port)"
            ) from None
    finally:
        once.disconnect()


def advice(settings: Settings) -> str:
    """What to do when Redis cannot be reached: use rediss:// where a redis:// URL names a
    port that speaks TLS (it resets the plain connection at once), else start Redis."""
    host, port = host_port(settings)
    plain_url = urlsplit(settings.redis_url).scheme == "redis"
    if not settings.sentinels and plain_url and tls_at(host, port):
        return (
            f"{host}:{port} answers TLS: use rediss:// for it (and NEWSWIRE_REDIS_CA_FILE when "
            "its certificate is signed by a private CA)"
        )
    return (
        "start redis-server or set NEWSWIRE_REDIS_URL (or NEWSWIRE_REDIS_SENTINELS) to a "
        "running one"
    )


def host_port(settings: Settings) -> tuple[str, int]:
    """The host and port NEWSWIRE_REDIS_URL names (redis-py's defaults where it names none)."""
    url = urlsplit(settings.redis_url)
    return url.hostname or "localhost", url.port or 6379


def tls_at(host: str, port: int) -> bool:
    """Whether `host:port` completes a TLS handshake (its certificate not checked: this only
    asks which protocol the port speaks)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as sock:
            context.wrap_socket(sock, server_hostname=host).close()
            return True
    except OSError:  # ssl.SSLError among them
        return False


def plain_redis_at(host: str, port: int) -> bool:
    """Whether `host:port` answers a plain-text PING as Redis does: '+PONG', or an error
    reply such as '-NOAUTH' (a TLS port closes the connection or answers with an alert)."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(1) in (b"+", b"-")
    except OSError:
        return False


# Error replies that mean "not now" (a replica, a failover, a load, a busy script), not "never";
# also inside a script's error text. BUSYGROUP (the group exists) is not BUSY.
TRANSIENT_REPLY = re.compile(
    r"(?:^|[\s:])(?:LOADING|MASTERDOWN|TRYAGAIN|BUSY|NOREPLICAS|CLUSTERDOWN|READONLY|NOSCRIPT)\b"
)


def is_outage(exc: redis.RedisError) -> bool:
    """Whether a Redis error is Redis being away or in transition (worth waiting out), rather
    than Redis refusing this very command (a value out of range, a wrong type)."""
    if not isinstance(exc, redis.ResponseError):
        return True  # connection, timeout: the server is away
    if isinstance(exc, redis.exceptions.ReadOnlyError | redis.exceptions.OutOfMemoryError):
        return True  # a demoted master during failover; memory freed by eviction or trim
    return TRANSIENT_REPLY.search(str(exc)) is not None


@contextmanager
def redis_errors(what: str) -> Iterator[None]:
    """The one place where a Redis failure becomes newswire's error, as httpx's
    `map_exceptions` does for HTTP: BrokerError ("Redis <what> failed: ...") when Redis is
    away, CommandRefused when it answered that the command itself is wrong, so that a bad
    value is never waited out as an outage."""
    try:
        yield
    except redis.RedisError as exc:
        if is_outage(exc):
            raise BrokerError(f"Redis {what} failed: {exc}") from exc
        raise CommandRefused(f"Redis refused {what}: {exc}") from exc
