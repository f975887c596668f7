"""Scripts: the Redis Lua scripts, read once from `services/lua/*.lua` and registered per client.

Each file starts with comments that state its KEYS, ARGV and reply; one Python function at its
call site builds those arguments. A line `-- uses: NAME` puts the file `NAME.lua` (shared
Lua functions) before the script's own text.
"""

import functools
import re
from pathlib import Path

import redis
from redis.commands.core import Script

LUA_DIR = Path(__file__).parent / "lua"
USES = re.compile(r"^-- uses: ([a-z_]+)$", re.MULTILINE)


@functools.cache
def source(name: str) -> str:
    """The text of `name`.lua with the files it uses before it."""
    text = (LUA_DIR / f"{name}.lua").read_text(encoding="utf-8")
    return "".join(source(used) + "\n" for used in USES.findall(text)) + text


def register(client: redis.Redis, name: str) -> Script:
    """The script `name`, run by SHA (EVALSHA, loaded again by redis-py if Redis lost it)."""
    return client.register_script(source(name))
