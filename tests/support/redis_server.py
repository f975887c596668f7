"""The tests' private redis-server: the same RedisProcess that `newswire up` runs."""

from newswire.workers.stack import RedisProcess as RedisServer
from newswire.workers.stack import free_port

__all__ = ["RedisServer", "free_port"]
