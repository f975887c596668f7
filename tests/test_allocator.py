"""A worker runs under jemalloc where it is installed: its entry starts it again with the
library preloaded (same pid), its heartbeat says so, and a choice that cannot hold stops it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from newswire.services.errors import ConfigError
from newswire.services.settings import Settings, default
from newswire.workers import allocator

from tests.support.processes import (
    Processes,
    newswire,
    pool_children,
    stack_env,
    wait_for,
    worker_info,
    worker_state,
)
from tests.support.redis_server import RedisServer
from tests.support.site import Site


def fake_libraries(tmp_path: Path, *names: str) -> list[Path]:
    for name in names:
        (tmp_path / name).write_bytes(b"")
    return [tmp_path]


def test_auto_prefers_jemalloc_then_mimalloc(tmp_path: Path) -> None:
    dirs = fake_libraries(tmp_path, "libmimalloc.so.2")
    assert allocator.library("auto", dirs) == tmp_path / "libmimalloc.so.2"
    fake_libraries(tmp_path, "libjemalloc.so.2")
    assert allocator.library("auto", dirs) == tmp_path / "libjemalloc.so.2"
    assert allocator.library("mimalloc", dirs) == tmp_path / "libmimalloc.so.2"
    assert allocator.library("system", dirs) is None
    assert allocator.library("tcmalloc", dirs) is None


def test_a_python_built_without_multiarch_still_looks_where_debian_installs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debian = sorted(Path("/usr/lib").glob("*-linux-gnu*"))
    if not debian:
        pytest.fail("no /usr/lib/<triplet> here: this test expects a Debian or Ubuntu machine")
    monkeypatch.setattr(allocator.sysconfig, "get_config_var", lambda name: None)
    dirs = allocator.search_dirs()
    assert set(debian) <= set(dirs)
    assert len(dirs) == len(set(dirs))


def test_the_preload_is_added_once_and_never_over_the_users_own(tmp_path: Path) -> None:
    dirs = fake_libraries(tmp_path, "libjemalloc.so.2")
    env = allocator.preloaded_env({"LD_PRELOAD": "/opt/libfaketime.so", "A": "b"}, dirs)
    assert env is not None
    assert env["LD_PRELOAD"] == f"{tmp_path}/libjemalloc.so.2 /opt/libfaketime.so"
    assert env["A"] == "b"
    # Started again with it: no second start, even when the loader refused the library.
    assert allocator.preloaded_env(env, dirs) is None
    assert allocator.preloaded_env({"LD_PRELOAD": "/x/libmimalloc.so.2"}, dirs) is None
    assert allocator.preloaded_env({allocator.ENV: "system"}, dirs) is None
    assert allocator.preloaded_env({allocator.ENV: "mimalloc"}, dirs) is None  # not installed
    assert allocator.preloaded_env({}, [tmp_path / "empty"]) is None


def test_the_settings_know_every_choice_the_entry_reads() -> None:
    # The entry reads the variable before Settings loads; Settings documents and checks it.
    assert default("worker_allocator") == allocator.DEFAULT
    for choice in ["auto", "system", *allocator.LIBRARIES, "/usr/lib/libfoo.so"]:
        assert Settings(worker_allocator=choice).worker_allocator == choice
    with pytest.raises(ValueError, match="is no allocator"):
        Settings(worker_allocator="tcmalloc")


def test_a_choice_not_in_effect_is_a_configuration_error() -> None:
    assert allocator.check("auto") == allocator.active()
    with pytest.raises(ConfigError, match="no file"):
        allocator.check("/nowhere/libmalloc.so")


def test_a_named_allocator_is_checked_against_the_one_preloaded() -> None:
    jemalloc = allocator.library("jemalloc")
    if jemalloc is None:
        pytest.fail("libjemalloc.so.2 is not installed: sudo apt-get install -y libjemalloc2")
    script = (
        "from newswire.workers import allocator\n"
        f"print(allocator.check({str(jemalloc)!r}), allocator.check('jemalloc'))\n"
        "allocator.check('mimalloc')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "LD_PRELOAD": str(jemalloc)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.stdout.split() == ["jemalloc", "jemalloc"]
    assert "NEWSWIRE_WORKER_ALLOCATOR=mimalloc, but it runs under jemalloc" in done.stderr


def test_the_worker_command_refuses_an_allocator_it_cannot_run_under() -> None:
    done = newswire("worker", env={allocator.ENV: "/nowhere/libmalloc.so"}, timeout=60)
    assert done.returncode != 0
    assert "NEWSWIRE_WORKER_ALLOCATOR=/nowhere/libmalloc.so" in done.stderr
    done = newswire("worker", env={allocator.ENV: "tcmalloc2"}, timeout=60)
    assert done.returncode != 0 and "is no allocator" in done.stderr


def test_a_worker_and_its_pool_run_under_jemalloc(
    redis_client: redis.Redis, redis_server: RedisServer, site: Site, tmp_path: Path
) -> None:
    if allocator.library("jemalloc") is None:
        pytest.fail("libjemalloc.so.2 is not installed: sudo apt-get install -y libjemalloc2")
    procs = Processes(stack_env(redis_server.url, site), tmp_path)
    try:
        worker = procs.worker("alloc")
        # Started again under jemalloc, the worker kept the pid its parent knows it by.
        wait_for(lambda: worker_state(redis_client, worker.pid) == "online", 60, "its heartbeat")
        assert (worker_info(redis_client, worker.pid) or {})["allocator"] == "jemalloc"
        children = pool_children(worker.pid)
        assert len(children) == 2
        for pid in [worker.pid, *children]:
            assert "libjemalloc" in Path(f"/proc/{pid}/maps").read_text()
    except AssertionError:
        print(procs.logs())
        raise
    finally:
        procs.stop_all()
