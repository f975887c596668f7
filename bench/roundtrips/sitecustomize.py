"""Counts a process's Redis round trips (each send to the server: one command, or one whole
pipeline) by first word, into NEWSWIRE_BENCH_ROUNDTRIPS/<pid>.json every half second; loaded
by the benchmark's worker processes only (on their PYTHONPATH), never by newswire itself."""

import collections
import json
import os
import time

import redis.connection

_DIR = os.environ.get("NEWSWIRE_BENCH_ROUNDTRIPS")
_counts: collections.Counter[str] = collections.Counter()
_last = [0.0]
_send = redis.connection.AbstractConnection.send_packed_command


def _name(command: object) -> str:
    """The first command's name, with how many more went in the same send (a pipeline)."""
    chunks = command if isinstance(command, list) else [command]
    data = b"".join(bytes(c) for c in chunks if isinstance(c, (bytes, memoryview)))
    lines = data.split(b"\r\n")
    first = lines[2].decode(errors="replace").upper() if len(lines) > 2 else "?"
    if first in ("EVALSHA", "EVAL") and len(lines) > 4:
        first += ":" + lines[4].decode(errors="replace")[:8]
    more = sum(1 for line in lines if line.startswith(b"*")) - 1
    return f"{first}+{more}" if more > 0 else first


def _counted(self, command, check_health=True):  # type: ignore[no-untyped-def]
    _counts[_name(command)] += 1
    now = time.monotonic()
    if _DIR and now - _last[0] > 0.5:
        _last[0] = now
        path = os.path.join(_DIR, f"{os.getpid()}.json")
        with open(path + ".tmp", "w") as out:
            json.dump(dict(_counts), out)
        os.replace(path + ".tmp", path)
    return _send(self, command, check_health)


if _DIR:
    redis.connection.AbstractConnection.send_packed_command = _counted  # type: ignore[method-assign]
