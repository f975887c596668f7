"""The shipped Prometheus alerts and Grafana dashboard: valid for promtool, firing when they
should, and using only metrics that `newswire monitor` exports."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import redis
import yaml
from newswire.services.metrics import HISTOGRAMS, Metrics
from prometheus_client.parser import text_string_to_metric_families

from tests.support.monitor import get, running_monitor
from tests.support.redis_server import RedisServer

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "newswire.json"
METRIC = re.compile(r"\bnewswire_[a-z_]+\b")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is required: `apt-get install prometheus` (.ci/run installs it)"
    return subprocess.run([binary, *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          check=False)  # fmt: skip


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p["targets"]]


def alert_exprs() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [str(rule["expr"]) for g in groups for rule in g["rules"]]


def test_alert_rules_check_and_fire(tmp_path: Path) -> None:
    checked = promtool("check", "rules", ALERTS.name, cwd=ALERTS.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout
    # alerts.test.yml: every alert fires on series that should fire it, with its text.
    tested = promtool("test", "rules", "alerts.test.yml", cwd=ALERTS.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    names = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]}
    covered = set(re.findall(r"alertname: (\w+)", (ALERTS.parent / "alerts.test.yml").read_text()))
    assert names == covered
    # The scrape configuration parses too (the token file it names is the deployer's).
    config = tmp_path / "prometheus.yml"
    config.write_text(
        (ALERTS.parent / "prometheus.yml")
        .read_text()
        .replace("/etc/prometheus/newswire-token", str(tmp_path / "token"))
    )
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    (tmp_path / "token").write_text("t")
    assert promtool("check", "config", str(config), cwd=tmp_path).returncode == 0


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel's query (as a recording rule: the same PromQL parser)."""
    exprs = dashboard_exprs()
    assert len(exprs) >= 15
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"newswire:panel_{i}", "expr": e} for i, e in enumerate(exprs)
    ]}]}  # fmt: skip
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    checked = promtool("check", "rules", str(path), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def exported_names(text: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


def test_dashboard_and_alerts_use_exported_metrics(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    metrics = Metrics(redis_client)
    for h in HISTOGRAMS:
        metrics.observe(h, 0.1, **dict.fromkeys(h.labels, "page"))
    metrics.flush()
    with running_monitor(redis_server.url) as base:
        code, _headers, text = get(base + "/metrics")
    assert code == 200
    exported = exported_names(text)
    used = {m for e in dashboard_exprs() + alert_exprs() for m in METRIC.findall(e)}
    assert used, "no metric found in the dashboard"
    assert used <= exported, f"not exported: {sorted(used - exported)}"
    # Prometheus naming: counters end in _total, durations are in seconds.
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("newswire_")
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
