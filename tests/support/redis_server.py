"""The tests' private redis-server: the same RedisProcess that `newswire up` runs."""

from workers.stack import RedisProcess as RedisServer
from workers.stack import free_port

__all__ = ["RedisServer", "free_port"]
