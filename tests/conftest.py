"""Fixtures: a private redis-server per session, fresh keys per test, fixture sites on loopback."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from newswire.services.settings import Settings
from newswire.workers.runtime import Runtime, build_runtime

from tests.support.processes import Processes, stack_env
from tests.support.redis_server import RedisServer
from tests.support.site import Site


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every process the tests start keeps its data (the page archive...) under the test run's
    temporary directory, never in the user's own data directory."""
    path = tmp_path_factory.mktemp("data")
    saved = os.environ.get("NEWSWIRE_DATA_DIR")
    os.environ["NEWSWIRE_DATA_DIR"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("NEWSWIRE_DATA_DIR", None)
    else:
        os.environ["NEWSWIRE_DATA_DIR"] = saved


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    yield s
    s.close()


@pytest.fixture
def settings(redis_server: RedisServer, redis_client: redis.Redis, site: Site) -> Settings:
    """Settings for a run against the test's Redis, letting the fixture site through the guard."""
    return Settings(
        redis_url=redis_server.url,
        fetch_allow_hosts=site.host_port,
        fetch_deadline=3.0,
        fetch_read_timeout=2.0,
        fetch_max_bytes=2 * 1024 * 1024,
    )


@pytest.fixture
def procs(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> Iterator[Processes]:
    """Real worker and scheduler processes on the test's Redis and site; their logs are
    printed at the end (pytest shows them only when the test failed)."""
    p = Processes(stack_env(redis_server.url, site), tmp_path)
    yield p
    p.stop_all()
    print(p.logs())


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """The services of one worker process, built from the test's settings, in this process."""
    rt = build_runtime(settings)
    yield rt
    rt.close()
