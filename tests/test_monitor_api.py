"""The monitor's HTTP API: access control, its OpenAPI document checked by schemathesis against
the running server, exact counters and histograms on /metrics, an autoescaped page."""

import base64
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, given, settings
from newswire.services.metrics import FETCH_SECONDS, Metrics
from newswire.services.polling.registry import Registry
from prometheus_client.parser import text_string_to_metric_families
from schemathesis.checks import not_a_server_error

from tests.support.monitor import get, metric_samples, running_monitor
from tests.support.redis_server import RedisServer

TOKEN = "s3cret-monitor-token"
PASSWORD = "monitor-pass"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
PROTECTED = ["/", "/readyz", "/metrics", "/api/status", "/openapi.json", "/docs"]


@pytest.fixture(scope="module")
def guarded_monitor(redis_server: RedisServer) -> Iterator[str]:
    with running_monitor(
        redis_server.url, NEWSWIRE_MONITOR_TOKEN=TOKEN, NEWSWIRE_MONITOR_PASSWORD=PASSWORD
    ) as base:
        yield base


def test_auth_on_everything_but_livez(guarded_monitor: str) -> None:
    base = guarded_monitor
    assert get(base + "/livez")[::2] == (200, "ok\n")
    assert get(base + "/healthz")[0] == 200
    basic = base64.b64encode(f"newswire:{PASSWORD}".encode()).decode()
    for path in PROTECTED:
        code, headers, body = get(base + path)
        assert code == 401, path
        assert "credentials required" in json.loads(body)["detail"]
        assert headers["www-authenticate"].startswith("Basic"), path  # a browser asks for it
        assert get(base + path, {"Authorization": "Bearer wrong"})[0] == 401, path
        wrong = base64.b64encode(b"newswire:nope").decode()
        assert get(base + path, {"Authorization": f"Basic {wrong}"})[0] == 401, path
        assert get(base + path, BEARER)[0] in (200, 503), path  # 503: /readyz, no worker
        assert get(base + path, {"Authorization": f"Basic {basic}"})[0] in (200, 503), path
    # The token is not in the process's command line (what `ps` shows).
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert TOKEN not in ps.stdout and PASSWORD not in ps.stdout


def test_readyz_documents_not_ready(guarded_monitor: str) -> None:
    code, _headers, body = get(guarded_monitor + "/readyz", BEARER)
    assert code == 503
    assert json.loads(body) == {"ready": False, "reasons": json.loads(body)["reasons"]}
    assert "no worker online" in json.loads(body)["reasons"]


def check(operation: Any, excluded: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=BEARER, excluded_checks=excluded)

    run()


def test_openapi_document_matches_the_server(guarded_monitor: str) -> None:
    """schemathesis generates requests for every documented operation and checks the answers
    against the document: status codes, content types and bodies matching the pydantic models,
    no 5xx. /readyz's 503 *is* its documented answer here (no worker runs), so only there the
    no-5xx check is off; its body is still checked against the Readiness model."""
    schema = schemathesis.openapi.from_url(guarded_monitor + "/openapi.json", headers=BEARER)
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        check(operation, [not_a_server_error] if operation.path == "/readyz" else [])
    assert sorted(labels) == [
        "GET /",
        "GET /api/feeds",
        "GET /api/status",
        "GET /livez",
        "GET /metrics",
        "GET /readyz",
    ]


def test_openapi_uses_the_contract_models(guarded_monitor: str) -> None:
    code, _headers, body = get(guarded_monitor + "/openapi.json", BEARER)
    assert code == 200
    doc = json.loads(body)
    schemas = doc["components"]["schemas"]
    assert {"Status", "WorkerStatus", "Readiness", "ApiError"} <= set(schemas)
    assert "security" not in doc["paths"]["/livez"]["get"]
    assert doc["paths"]["/api/status"]["get"]["security"]


def test_metrics_exact_counters_and_histograms(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    metrics = Metrics(redis_client)
    for seconds in (0.03, 0.03, 0.2, 12.0):
        metrics.observe(FETCH_SECONDS, seconds, kind="page")
    metrics.incr("fetches", kind="page", result="ok")
    metrics.flush()
    # A long-lived deployment's counter, far past where `%g` formatting would round it.
    redis_client.hincrby(metrics.key, "fetches|kind=page|result=ok", 12_345_678_900)
    with running_monitor(redis_server.url) as base:
        code, headers, text = get(base + "/metrics")
    assert code == 200 and headers["content-type"].startswith("text/plain")
    samples = metric_samples(text)
    assert (
        samples[("newswire_fetches_total", (("kind", "page"), ("result", "ok")))] == 12_345_678_901
    )
    bucket = "newswire_fetch_duration_seconds_bucket"
    assert samples[(bucket, (("kind", "page"), ("le", "0.025")))] == 0
    assert samples[(bucket, (("kind", "page"), ("le", "0.05")))] == 2
    assert samples[(bucket, (("kind", "page"), ("le", "0.25")))] == 3
    assert samples[(bucket, (("kind", "page"), ("le", "10.0")))] == 3
    assert samples[(bucket, (("kind", "page"), ("le", "+Inf")))] == 4
    assert samples[("newswire_fetch_duration_seconds_count", (("kind", "page"),))] == 4
    assert samples[("newswire_fetch_duration_seconds_sum", (("kind", "page"),))] == pytest.approx(
        12.26
    )
    # No unbounded labels: no URL or host anywhere in a label value.
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            assert not any("://" in v or "127.0.0.1" in v for v in s.labels.values()), s


def test_page_escapes_what_feeds_say(redis_server: RedisServer, redis_client: redis.Redis) -> None:
    """A feed's recorded error is a stranger's text: the template escapes it."""
    registry = Registry(redis_client)
    state = registry.add("http://127.0.0.1:9/feed.xml", 3600)
    registry.save(state.model_copy(update={"last_error": '<script>alert("x")</script>'}))
    with running_monitor(redis_server.url) as base:
        code, _headers, page = get(base + "/")
    assert code == 200
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert '<meta http-equiv="refresh"' in page
