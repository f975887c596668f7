"""Broker seam: the one Redis client of a process, checked at start with an actionable error."""

import redis

from services.errors import BrokerError
from services.settings import Settings


def open_redis(settings: Settings, *, check: bool = True) -> redis.Redis:
    """A Redis client for `settings.redis_url`; with `check`, PING it now rather than fail later."""
    try:
        client = redis.Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=5,
            socket_timeout=30,
            health_check_interval=30,
        )
    except ValueError as exc:
        raise BrokerError(
            f"NEWSWIRE_REDIS_URL={settings.redis_url!r} is not a usable Redis URL: {exc}"
        ) from exc
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise BrokerError(
                f"cannot reach Redis at {settings.redis_url} ({exc}); start redis-server or set "
                "NEWSWIRE_REDIS_URL to a running one"
            ) from exc
    return client
