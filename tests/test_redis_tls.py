"""TLS to Redis: `rediss://` verified against a CA by default, a client certificate when
Redis asks for one, an unverified connection only when explicitly allowed; for the services'
own clients and for a real Celery worker."""

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from newswire.services.broker import open_redis
from newswire.services.errors import BrokerError
from newswire.services.polling.registry import Registry
from newswire.services.settings import Settings
from newswire.workers.stack import redis_binary
from pydantic import ValidationError

from tests.support.monitor import get, running_monitor
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.pipeline import stream
from tests.support.processes import Processes, newswire, stack_env, wait_for
from tests.support.redis_server import RedisServer, free_port
from tests.support.site import Site


def openssl(*args: str, cwd: Path) -> None:
    binary = shutil.which("openssl")
    assert binary, "openssl is required: `apt-get install openssl`"
    subprocess.run([binary, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 signed by it, a client certificate, and a
    self-signed certificate no one trusts."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "2", "-subj", "/CN=newswire test CA", cwd=d)  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", f"/CN={name}", cwd=d)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", "san.ext",
                cwd=d)  # fmt: skip
    # Signed by the CA, but for another host: the host name check must refuse it.
    (d / "elsewhere.ext").write_text("subjectAltName=DNS:elsewhere.example\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "elsewhere.key", "-out",
            "elsewhere.csr", "-subj", "/CN=elsewhere.example", cwd=d)  # fmt: skip
    openssl("x509", "-req", "-in", "elsewhere.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "elsewhere.crt", "-days", "2", "-extfile",
            "elsewhere.ext", cwd=d)  # fmt: skip
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out",
            "other.crt", "-days", "2", "-subj", "/CN=someone else", cwd=d)  # fmt: skip
    return d


def tls_redis(
    pki: Path, data: Path, auth_clients: str, cert: str = "server"
) -> tuple[RedisServer, int]:
    tls_port = free_port()
    server = RedisServer(data, extra_args=[
        "--tls-port", str(tls_port), "--tls-cert-file", str(pki / f"{cert}.crt"),
        "--tls-key-file", str(pki / f"{cert}.key"), "--tls-ca-cert-file", str(pki / "ca.crt"),
        "--tls-auth-clients", auth_clients,
    ])  # fmt: skip
    server.start()
    return server, tls_port


@pytest.fixture
def tls_server(pki: Path, tmp_path: Path) -> Iterator[tuple[RedisServer, int]]:
    server, port = tls_redis(pki, tmp_path / "redis", "no")
    yield server, port
    server.stop()


@pytest.fixture
def tls(tls_server: tuple[RedisServer, int]) -> int:
    return tls_server[1]


def test_rediss_verifies_the_certificate_against_the_ca(pki: Path, tls: int) -> None:
    url = f"rediss://127.0.0.1:{tls}/0"
    client = open_redis(Settings(redis_url=url, redis_ca_file=str(pki / "ca.crt")))
    assert client.ping() and client.connection_pool.connection_class is redis.SSLConnection
    client.close()
    with pytest.raises(BrokerError, match="certificate verify failed"):
        open_redis(Settings(redis_url=url))  # the system's CAs do not know ours
    with pytest.raises(BrokerError, match="certificate verify failed"):
        open_redis(Settings(redis_url=url, redis_ca_file=str(pki / "other.crt")))


def test_a_plain_url_to_a_tls_port_says_to_use_rediss(tls: int) -> None:
    with pytest.raises(BrokerError, match=rf"127\.0\.0\.1:{tls} answers TLS: use rediss://"):
        open_redis(Settings(redis_url=f"redis://127.0.0.1:{tls}/0"))


def test_the_host_name_is_checked_too(pki: Path, tmp_path: Path) -> None:
    """A certificate the CA signed for another host is refused."""
    server, port = tls_redis(pki, tmp_path / "redis", "no", cert="elsewhere")
    try:
        settings = Settings(redis_url=f"rediss://127.0.0.1:{port}/0",
                            redis_ca_file=str(pki / "ca.crt"))  # fmt: skip
        with pytest.raises(BrokerError, match=r"certificate verify failed.*(IP address|match)"):
            open_redis(settings)
    finally:
        server.stop()


def test_an_unverified_connection_only_when_explicitly_allowed(tls: int) -> None:
    url = f"rediss://127.0.0.1:{tls}/0"
    client = open_redis(Settings(redis_url=url, redis_tls_insecure=True))
    assert client.ping()
    client.close()


def test_a_client_certificate_when_redis_asks_for_one(pki: Path, tmp_path: Path) -> None:
    server, port = tls_redis(pki, tmp_path / "redis", "yes")
    try:
        url = f"rediss://127.0.0.1:{port}/0"
        ca = str(pki / "ca.crt")
        with pytest.raises(BrokerError):
            open_redis(Settings(redis_url=url, redis_ca_file=ca))
        client = open_redis(Settings(redis_url=url, redis_ca_file=ca,
                                     redis_cert_file=str(pki / "client.crt"),
                                     redis_key_file=str(pki / "client.key")))  # fmt: skip
        assert client.ping()
        client.close()
    finally:
        server.stop()


def test_tls_settings_say_what_is_wrong(pki: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(redis_url="rediss://h:1/0", redis_cert_file=str(pki / "client.crt"))
    with pytest.raises(ValidationError, match="no such file"):
        Settings(redis_url="rediss://h:1/0", redis_ca_file="/nonexistent/ca.pem")
    assert Settings(redis_url="redis://h:1/0", redis_ca_file=str(pki / "ca.crt")).redis_tls == {}


def test_a_real_worker_and_scheduler_over_tls(
    pki: Path, tls_server: tuple[RedisServer, int], site: Site, tmp_path: Path
) -> None:
    """The Celery broker (kombu), the worker's services and the scheduler all on rediss://;
    then a consumer in its group, `newswire status` and the monitor over it too."""
    server, tls = tls_server
    plain_port = server.port
    page = site.add("/news/tls.html", article_page("Over TLS", paragraphs("Over TLS", 6)))
    feed = site.add("/rss.xml", rss2([item(page, "Over TLS")]), "application/rss+xml")
    settings = Settings(redis_url=f"rediss://127.0.0.1:{tls}/0",
                        redis_ca_file=str(pki / "ca.crt"))  # fmt: skip
    client = open_redis(settings)
    Registry(client).add(feed, 600)
    env = stack_env(settings.redis_url, site, NEWSWIRE_REDIS_CA_FILE=str(pki / "ca.crt"))
    procs = Processes(env, tmp_path)
    try:
        procs.worker("tls")
        procs.scheduler()
        wait_for(lambda: client.xlen("newswire:articles") >= 1, 60, "the story over TLS")
        [article] = stream(client)
        assert article.title == "Over TLS" and article.extraction == "full"
        # A consumer in its group, the status read and the monitor: all over TLS too.
        tls_env = {"NEWSWIRE_REDIS_URL": settings.redis_url,
                   "NEWSWIRE_REDIS_CA_FILE": str(pki / "ca.crt")}  # fmt: skip
        read = newswire("tail", "--group", "readers", "--from-start", "--count", "1", "--json",
                        env=tls_env)  # fmt: skip
        assert read.returncode == 0 and json.loads(read.stdout)["title"] == "Over TLS", read.stderr
        assert client.xpending("newswire:articles", "readers")["pending"] == 0  # acked
        shown = newswire("status", "--json", env=tls_env)
        assert shown.returncode == 0 and json.loads(shown.stdout)["streams"][0]["length"] == 1
        with running_monitor(
            settings.redis_url, NEWSWIRE_REDIS_CA_FILE=str(pki / "ca.crt")
        ) as base:
            code, _headers, body = get(base + "/api/status")
            assert code == 200 and json.loads(body)["streams"][0]["length"] == 1
        # No plaintext fallback: rediss:// to the plain port is refused, not downgraded, and
        # the error says the port speaks plain Redis (not a bare timeout after ~30 s).
        plain = newswire("status", env={**tls_env, "NEWSWIRE_REDIS_URL":
                                        f"rediss://127.0.0.1:{plain_port}/0"})  # fmt: skip
        assert plain.returncode != 0
        assert f"127.0.0.1:{plain_port} answers plain Redis, not TLS" in plain.stderr, plain.stderr
    finally:
        procs.stop_all()
        print(procs.logs())
        client.close()


def test_a_worker_finds_the_master_through_sentinels_over_tls(
    pki: Path, tls_server: tuple[RedisServer, int], site: Site, tmp_path: Path
) -> None:
    """rediss:// with NEWSWIRE_REDIS_SENTINELS: the sentinels are asked over TLS and the
    master they name is reached over TLS, by the Celery broker (kombu's Sentinel transport)
    and by the services' own clients alike; a story gets through."""
    _server, tls = tls_server
    sentinel_port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port 0\ntls-port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"tls-cert-file {pki / 'server.crt'}\ntls-key-file {pki / 'server.key'}\n"
        f"tls-ca-cert-file {pki / 'ca.crt'}\ntls-auth-clients no\ntls-replication yes\n"
        f"sentinel monitor newswire 127.0.0.1 {tls} 1\n"
        f"logfile {tmp_path / 'sentinel.log'}\n"
    )
    sentinel = subprocess.Popen([redis_binary(), str(conf), "--sentinel"],
                                start_new_session=True)  # fmt: skip
    page = site.add("/news/ha.html", article_page("Via sentinels", paragraphs("Sentinels", 6)))
    feed = site.add("/ha.xml", rss2([item(page, "Via sentinels")]), "application/rss+xml")
    tls_env = {
        "NEWSWIRE_REDIS_URL": "rediss://127.0.0.1:1/0",  # only the sentinels lead to Redis
        "NEWSWIRE_REDIS_SENTINELS": f"127.0.0.1:{sentinel_port}",
        "NEWSWIRE_REDIS_SENTINEL_MASTER": "newswire",
        "NEWSWIRE_REDIS_CA_FILE": str(pki / "ca.crt"),
    }
    settings = Settings(redis_url=tls_env["NEWSWIRE_REDIS_URL"],
                        redis_sentinels=tls_env["NEWSWIRE_REDIS_SENTINELS"],
                        redis_sentinel_master="newswire",
                        redis_ca_file=str(pki / "ca.crt"))  # fmt: skip
    procs = Processes(stack_env(tls_env["NEWSWIRE_REDIS_URL"], site, **tls_env), tmp_path)
    client: redis.Redis | None = None
    try:
        deadline = time.monotonic() + 20
        while client is None:
            try:
                client = open_redis(settings)
            except BrokerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        Registry(client).add(feed, 600)
        procs.worker("ha")
        procs.scheduler()
        wait_for(lambda: client.xlen("newswire:articles") >= 1, 60, "the story via sentinels")
        [article] = stream(client)
        assert article.title == "Via sentinels"
        shown = newswire("status", "--json", env=tls_env)
        assert shown.returncode == 0 and json.loads(shown.stdout)["streams"][0]["length"] == 1
    finally:
        procs.stop_all()
        print(procs.logs())
        if client is not None:
            client.close()
        sentinel.terminate()
        sentinel.wait(10)
