"""The Lua scripts: each file states its contract, compiles in a real Redis, and its shared
functions are put before it."""

from pathlib import Path

import pytest
import redis
from newswire.services.scripts import LUA_DIR, source

SCRIPTS = sorted(p.stem for p in LUA_DIR.glob("*.lua"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_each_script_states_its_contract_and_compiles(name: str, redis_client: redis.Redis) -> None:
    head = (LUA_DIR / f"{name}.lua").read_text(encoding="utf-8").split("\n\n")[0]
    assert head.startswith(f"-- {name}: "), head
    assert "KEYS[" in head and "ARGV[" in head
    if name != "append":  # shared functions, no reply of their own
        assert "Reply:" in head
    sha = redis_client.script_load(source(name))
    assert redis_client.script_exists(sha) == [True]


def test_uses_puts_the_shared_functions_first() -> None:
    text = source("publish_new")
    assert text.index("local function append") < text.index("-- publish_new:")
    assert "local function append" not in source("claim_due")


def test_no_python_module_spells_lua() -> None:
    """Scripts live in services/lua only: a script kept in a Python string would escape the
    contract checks above."""
    root = Path(__file__).resolve().parents[1]
    for layer in ("services", "workers"):
        for path in sorted((root / layer).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            assert "redis.call(" not in text, path
