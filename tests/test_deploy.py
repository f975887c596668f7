"""Deployment files, checked without a Docker engine: schema, lint, and the compose services
run as local processes exactly as their commands and environment say."""

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
import yaml

from tests.support.compose import MissingVariable, load, read_env_file
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import wait_for
from tests.support.redis_server import RedisServer, free_port
from tests.support.site import Site

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is a test dependency (pip install -e '.[test]')"
    return found


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_shape() -> None:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "version" not in raw
    services = raw["services"]
    assert set(services) == {"redis", "acl", "worker", "scheduler", "monitor", "websub", "flower",
                             "postgres", "sink-postgres"}  # fmt: skip
    assert services["flower"]["profiles"] == ["flower"]
    assert services["websub"]["profiles"] == ["websub"]
    for name, service in services.items():
        assert "container_name" not in service, f"{name} could not scale"
        if name not in ("flower", "acl", "sink-postgres"):  # the sink serves nothing to probe
            assert service["healthcheck"]["test"], name
        if name not in ("redis", "acl", "flower", "postgres"):  # each waits for its Redis user
            assert service["depends_on"]["acl"]["condition"] == "service_completed_successfully"
        if name not in ("redis", "postgres"):
            assert service["depends_on"]["redis"]["condition"] == "service_healthy", name
    # The archive by default: the sink waits for Postgres, as its own Redis user.
    sink = services["sink-postgres"]
    assert sink["command"] == ["newswire", "sink", "postgres"]
    assert sink["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "//newswire-sink:" in sink["environment"]["NEWSWIRE_REDIS_URL"]
    assert "@postgres:5432/" in sink["environment"]["NEWSWIRE_POSTGRES_DSN"]
    assert "postgres-data" in raw["volumes"]
    assert "--appendonly" in " ".join(services["redis"]["command"])
    assert "redis-data:/data" in services["redis"]["volumes"] and "redis-data" in raw["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        dockerfile.count("FROM ") == 2
        and "HEALTHCHECK" in dockerfile
        and "USER 10001" in dockerfile
    )
    assert (ROOT / ".dockerignore").exists() and (ROOT / "feeds.example.yaml").exists()
    # The page archive: a named volume at the path the workers are told, made writable for
    # the image's non-root user.
    archive = services["worker"]["environment"]["NEWSWIRE_ARCHIVE_DIR"]
    assert (
        f"page-archive:{archive}" in services["worker"]["volumes"]
        and "page-archive" in raw["volumes"]
    )
    assert f"install -d -o 10001 -g 10001 {archive}" in dockerfile


def test_missing_monitor_token_fails_loudly() -> None:
    env = {k: v for k, v in read_env_file(ROOT / ".env.example").items() if k != "MONITOR_TOKEN"}
    with pytest.raises(MissingVariable, match="MONITOR_TOKEN"):
        load(ROOT / "docker-compose.yml", env)


def test_missing_redis_password_fails_loudly() -> None:
    env = {k: v for k, v in read_env_file(ROOT / ".env.example").items() if k != "REDIS_PASSWORD"}
    with pytest.raises(MissingVariable, match="REDIS_PASSWORD"):
        load(ROOT / "docker-compose.yml", env)


def test_compose_services_run_as_local_processes(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    """worker, scheduler and monitor with the compose file's own commands and environment."""
    for n in range(3):
        site.add(f"/c{n}.html", article_page(f"Compose story {n}", paragraphs(f"C{n}")))
    feed = site.add(
        "/compose.xml",
        rss2([item(site.url(f"/c{n}.html"), f"Compose story {n}") for n in range(3)]),
        "application/rss+xml",
    )
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(f"feeds:\n  - {feed}\n")
    compose = load(ROOT / "docker-compose.yml", read_env_file(ROOT / ".env.example"))
    port = free_port()
    hostname = socket.gethostname()
    local = {  # what differs from a container: addresses and paths
        "NEWSWIRE_FEEDS_FILE": str(feeds_file),
        "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port,
        "HOSTNAME": hostname,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # `newswire` as in the image
    }

    def argv(command: list[str]) -> list[str]:
        return [c.replace("8787", str(port)) for c in command]

    here = redis_server.url.split("//", 1)[1].split("/", 1)[0]  # 127.0.0.1:<port>

    def environment(service: dict) -> dict[str, str]:  # type: ignore[type-arg]
        env = {k: str(v) for k, v in service.get("environment", {}).items()}
        url = env["NEWSWIRE_REDIS_URL"]
        if "NEWSWIRE_FEEDS_FILE" in env:
            assert env["NEWSWIRE_FEEDS_FILE"] == "/etc/newswire/feeds.yaml"
        base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
        # Each part as its own ACL user, on this machine's Redis instead of `redis`.
        return {**base, **read_env_file(ROOT / ".env.example"), **env, **local,
                "NEWSWIRE_REDIS_URL": url.replace("@redis:6379", f"@{here}")}  # fmt: skip

    roles = {name: compose["services"][name]["environment"]["NEWSWIRE_REDIS_URL"]
             for name in ("worker", "scheduler", "monitor")}  # fmt: skip
    assert [u.split("//")[1].split(":")[0] for u in roles.values()] == [
        "newswire-worker", "newswire-scheduler", "newswire-monitor"
    ]  # fmt: skip
    # The acl service first, as compose runs it (the operator's user: this Redis has no
    # password, so its URL is the test's own).
    acl_service = compose["services"]["acl"]
    installed = subprocess.run(
        acl_service["command"], capture_output=True, text=True, timeout=60, check=False,
        env={**environment(acl_service), "NEWSWIRE_REDIS_URL": redis_server.url},
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert "installed newswire-worker" in installed.stdout
    assert "change-me" not in installed.stdout  # passwords from .env are not printed back

    procs = []
    try:
        for name in ("worker", "scheduler", "monitor"):
            service = compose["services"][name]
            log = (tmp_path / f"{name}.log").open("wb")
            procs.append(subprocess.Popen(argv(service["command"]), env=environment(service), stdout=log, stderr=log,
                                          start_new_session=True))  # fmt: skip
            log.close()
        wait_for(
            lambda: redis_client.xlen("newswire:articles") == 3, 60, "the fixture feed's stories"
        )

        token = read_env_file(ROOT / ".env.example")["MONITOR_TOKEN"]

        def ready() -> bool:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/readyz", headers={"Authorization": f"Bearer {token}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    return resp.status == 200 and json.loads(resp.read())["ready"]
            except OSError:
                return False

        wait_for(ready, 30, "/readyz to say ready")
        # The compose file turns auth on: without the token, 401.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5)
        assert refused.value.code == 401
        refused.value.close()
        for name in ("worker", "scheduler", "monitor"):  # each service's own health check passes
            service = compose["services"][name]
            test = service["healthcheck"]["test"]
            check = ["sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
            result = subprocess.run(
                argv(check),
                env=environment(service),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, (
                f"{name} health check failed: {result.stdout}{result.stderr}"
            )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        print("\n".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log")))


def merged(base: dict, override: dict) -> dict:  # type: ignore[type-arg]
    """Compose's merge of an override file: mappings merge key by key, the rest is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def test_ha_variant_matches_the_specification_and_points_everything_at_the_sentinels() -> None:
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.ha.yml")],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    env = read_env_file(ROOT / ".env.example")
    compose = merged(
        load(ROOT / "docker-compose.yml", env), load(ROOT / "docker-compose.ha.yml", env)
    )
    services = compose["services"]
    sentinels = {"sentinel1", "sentinel2", "sentinel3"}
    assert sentinels <= set(services) and "redis-replica" in services
    for name in ("worker", "scheduler", "monitor", "sink-postgres"):
        service_env = services[name]["environment"]
        listed = {hp.split(":")[0] for hp in service_env["NEWSWIRE_REDIS_SENTINELS"].split(",")}
        assert listed == sentinels, name
        assert set(services[name]["depends_on"]) - {"postgres"} == {"redis", "acl", *sentinels}
        assert services[name]["environment"]["NEWSWIRE_REDIS_URL"].startswith(
            f"redis://newswire-{name.removesuffix('-postgres')}:"
        ), name  # its own ACL user, also through the sentinels
        assert service_env["NEWSWIRE_REDIS_WAIT_REPLICAS"] == "1", name
    master = services["worker"]["environment"]["NEWSWIRE_REDIS_SENTINEL_MASTER"]
    sentinel_command = " ".join(services["sentinel1"]["command"])
    assert f"sentinel monitor {master} redis 6379 2" in sentinel_command
    assert services["scheduler"]["environment"]["NEWSWIRE_FEEDS_FILE"]  # kept from the base
    assert "masterauth" in " ".join(services["redis"]["command"])  # can rejoin as a replica
    for node in ("redis", "redis-replica"):  # each node keeps the role users
        assert "--aclfile /data/users.acl" in " ".join(services[node]["command"]), node
    assert "redis-replica:6379" in " ".join(services["acl"]["command"])


def test_no_secret_on_a_command_line_and_no_open_admin_port() -> None:
    env = read_env_file(ROOT / ".env.example")
    for path in ("docker-compose.yml", "docker-compose.ha.yml"):
        compose = load(ROOT / path, env)
        for name, service in compose["services"].items():
            command = service.get("command", [])
            words = command if isinstance(command, list) else [command]
            # Interpolated by compose, a password would sit in argv for `ps` to show; the
            # shell's own `$REDIS_PASSWORD` (expanded by a builtin printf) is fine.
            for secret in (env["REDIS_PASSWORD"], env["FLOWER_PASSWORD"], env["MONITOR_TOKEN"]):
                assert secret not in " ".join(words), f"{path}: {name} has a secret in its command"
            assert "--requirepass" not in " ".join(words) and "--broker=" not in " ".join(words)
    services = load(ROOT / "docker-compose.yml", env)["services"]
    for name in ("monitor", "websub", "flower"):
        assert all(p.startswith("127.0.0.1:") for p in services[name]["ports"]), name
    assert (
        services["flower"]["environment"]["FLOWER_BASIC_AUTH"] == f"admin:{env['FLOWER_PASSWORD']}"
    )
    assert services["flower"]["environment"]["CELERY_BROKER_URL"].startswith(
        "redis://newswire-worker:"
    )
