"""RoundTrip: commands of several stages sent to Redis together, one pipeline, one round trip."""

from typing import Any

import redis
from newswire.services.broker import redis_errors
from redis.commands.core import Script
from redis.exceptions import NoScriptError


class RoundTrip:
    """Each stage queues its commands (`script`, `command`) and keeps the index it got; `run`
    sends them all at once and `reply(index)` reads one answer.

    Scripts go by EVALSHA straight into the pipeline: redis-py's own pipeline scripts would
    ask SCRIPT EXISTS first, a second round trip each time. A script Redis lost (a restart)
    fails without effect, so it alone is run again, loaded, after the rest.
    """

    def __init__(self, client: redis.Redis, what: str) -> None:
        self._client = client
        self._pipe = client.pipeline(transaction=False)
        self._scripts: dict[int, tuple[Script, int, list[Any]]] = {}
        self._replies: list[Any] = []
        self.what = what

    def script(self, script: Script, keys: list[str], args: list[Any]) -> int:
        index = len(self._pipe)
        self._pipe.evalsha(script.sha, len(keys), *keys, *args)
        self._scripts[index] = (script, len(keys), [*keys, *args])
        return index

    def command(self, *args: Any) -> int:
        index = len(self._pipe)
        self._pipe.execute_command(*args)  # type: ignore[no-untyped-call]
        return index

    def __len__(self) -> int:
        return len(self._pipe)

    def run(self) -> None:
        if not len(self._pipe):
            return
        with redis_errors(self.what):
            replies = self._pipe.execute(raise_on_error=False)
            for index, reply in enumerate(replies):
                if isinstance(reply, NoScriptError) and index in self._scripts:
                    replies[index] = self._again(*self._scripts[index])
                elif isinstance(reply, redis.RedisError):
                    raise reply
        self._replies = replies

    def _again(self, script: Script, nkeys: int, values: list[Any]) -> Any:
        script.sha = str(self._client.script_load(script.script))
        return self._client.evalsha(script.sha, nkeys, *values)

    def reply(self, index: int) -> Any:
        return self._replies[index]
