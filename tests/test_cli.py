"""The `newswire` command as a user runs it: a real process, real Redis, a fixture site."""

import argparse
import dataclasses
import json
from pathlib import Path

import pytest
import redis
from newswire.workers.cli_main import build_parser
from newswire.workers.cli_output import close_clients

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import newswire
from tests.support.redis_server import RedisServer, free_port
from tests.support.site import Site


def site_env(redis_server: RedisServer, site: Site) -> dict[str, str]:
    return {"NEWSWIRE_REDIS_URL": redis_server.url, "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port}


def test_ingest_then_tail(redis_server: RedisServer, redis_client: redis.Redis, site: Site) -> None:
    for n in range(3):
        site.add(f"/s{n}.html", article_page(f"Story {n}", paragraphs(f"Story {n}")))
    feed = site.add(
        "/rss.xml",
        rss2([item(site.url(f"/s{n}.html"), f"Story {n}") for n in range(3)]),
        "application/rss+xml",
    )
    env = site_env(redis_server, site)

    first = newswire("ingest", feed, env=env)
    second = newswire("ingest", feed, env=env)

    assert first.returncode == 0, first.stderr
    assert (
        f"{feed}: 3 new, 0 fell back, 0 updated, 0 duplicate, 0 rejected, 0 failed" in first.stdout
    )
    assert f"{feed}: 0 new, 0 fell back, 0 updated, 3 duplicate" in second.stdout

    tail = newswire("tail", "--json", "--from-start", "--count", "2", env=env)
    assert tail.returncode == 0, tail.stderr
    lines = tail.stdout.splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["Story 0", "Story 1"]

    group = newswire("tail", "--json", "--group", "g1", "--consumer", "c1", "--from-start", env=env)
    assert len(group.stdout.splitlines()) == 3
    assert redis_client.xpending("newswire:articles", "g1")["pending"] == 0  # all acked
    again = newswire("tail", "--json", "--group", "g1", "--consumer", "c1", env=env)
    assert again.stdout == ""  # the group has consumed everything

    # A member that died holding two entries: `tail --group` claims them (as Consumer does).
    redis_client.xgroup_create("newswire:articles", "g2", id="0")
    held = redis_client.xreadgroup("g2", "crashed", {"newswire:articles": ">"}, count=2)
    assert len(held[0][1]) == 2
    claim = newswire("tail", "--json", "--group", "g2", "--consumer", "c2", "--claim-idle", "0",
                     "--count", "2", env=env)  # fmt: skip
    assert claim.returncode == 0, claim.stderr
    assert [json.loads(x)["title"] for x in claim.stdout.splitlines()] == ["Story 0", "Story 1"]
    assert redis_client.xpending("newswire:articles", "g2")["pending"] == 0

    human = newswire("tail", "--from-start", env=env)
    assert "[full] Story 2" in human.stdout


def test_ingest_json_report(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site
) -> None:
    site.add("/a.html", article_page("Alpha", paragraphs("Alpha")))
    feed = site.add(
        "/rss.xml",
        rss2([item(site.url("/a.html"), "Alpha"), item("javascript:void(0)", "Bad")]),
        "application/rss+xml",
    )
    result = newswire("ingest", "--json", feed, env=site_env(redis_server, site))
    report = json.loads(result.stdout)
    assert report["counts"]["new"] == 1 and report["counts"]["rejected"] == 1
    assert {e["outcome"] for e in report["entries"]} == {"new", "rejected"}


def test_unusable_redis_or_settings_exit_nonzero_with_advice(site: Site) -> None:
    down = newswire(
        "ingest",
        site.url("/x.xml"),
        env={"NEWSWIRE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    )
    assert down.returncode == 3
    assert "cannot reach Redis" in down.stderr and "NEWSWIRE_REDIS_URL" in down.stderr

    bad = newswire("ingest", site.url("/x.xml"), env={"NEWSWIRE_FETCH_DEADLINE": "-1"})
    assert bad.returncode == 2
    assert "NEWSWIRE_FETCH_DEADLINE" in bad.stderr

    allow = newswire("ingest", site.url("/x.xml"), env={"NEWSWIRE_FETCH_ALLOW_HOSTS": "nonsense"})
    assert allow.returncode == 2 and "host:port" in allow.stderr


def test_help_reads_well() -> None:
    result = newswire("--help", env={})
    assert result.returncode == 0
    for command in ("ingest", "tail"):
        assert command in result.stdout


def test_ingest_extracts_on_every_core(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site
) -> None:
    """A feed of 16+ entries is extracted in a pool of processes: the same outcomes as in
    one process, failures included (they cross the process boundary)."""
    links = []
    for n in range(18):
        links.append(
            site.add(f"/p{n}.html", article_page(f"Parallel story {n}", paragraphs(f"P{n}")))
        )
    links.append(site.add("/data.json", '{"not": "html"}', "text/html"))  # PermanentFetch: not HTML
    links.append(site.add("/empty.html", "<html><body></body></html>"))  # ExtractionError
    feed = site.add(
        "/big.xml",
        rss2([item(u, f"Entry {n}", "The feed's own text.") for n, u in enumerate(links)]),
        "application/rss+xml",
    )
    result = newswire(
        "ingest", "--json", "--processes", "2", feed, env=site_env(redis_server, site)
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    outcomes = [(e["outcome"], e["reason"]) for e in report["entries"]]
    assert report["counts"]["new"] == 18 and report["counts"]["fell_back"] == 2, outcomes
    reasons = sorted(e["reason"] or "" for e in report["entries"] if e["outcome"] == "fell_back")
    assert reasons[0].startswith("extraction failed") and "not HTML" in reasons[1]
    bodies = {json.loads(f[b"data"])["title"]: json.loads(f[b"data"])["body"]
              for _id, f in redis_client.xrange("newswire:articles")}  # fmt: skip
    assert "P7: paragraph 5" in bodies["Entry 7"]


def _commands(
    parser: argparse.ArgumentParser, name: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                found += _commands(child, f"{name} {sub}".strip())
            return found
    return [(name, parser)]


def test_every_command_takes_a_typed_dataclass_of_exactly_its_options() -> None:
    """mypy checks a handler against its dataclass; this checks the dataclass against the
    parser, so an option added to one and not the other fails here, not at a user's prompt."""
    commands = _commands(build_parser())
    assert len(commands) >= 19
    for name, parser in commands:
        cls = parser.get_default("args_type")
        assert cls is not None and dataclasses.is_dataclass(cls), name
        options = {a.dest for a in parser._actions if not isinstance(a, argparse._HelpAction)}
        fields = {f.name for f in dataclasses.fields(cls)} - {"celery_args"}
        assert options == fields, (name, options ^ fields)


@pytest.mark.parametrize(
    "argv",
    [["status"], ["status", "--json"], ["dead"], ["dead", "--requeue-all"], ["feeds", "list"],
     ["feeds", "export"], ["ping", "--scheduler"], ["story", "0" * 32], ["tail"]],
)  # fmt: skip
def test_every_command_closes_its_redis_clients(
    argv: list[str], redis_server: RedisServer, redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """What main() does after any command: the clients the command opened are closed."""
    monkeypatch.setenv("NEWSWIRE_REDIS_URL", redis_server.url)
    ours = {c["id"] for c in redis_client.client_list()}
    args = build_parser().parse_args(argv)
    try:
        assert args.handler(args) in (0, 1, 4)  # ok, unhealthy, not found
    finally:
        close_clients()
    left = [c for c in redis_client.client_list() if c["id"] not in ours]
    assert left == [], (argv, left)


def test_commands_connect_through_the_closing_helper() -> None:
    for path in sorted((Path(__file__).parents[1] / "workers").glob("cli*.py")):
        if path.name != "cli_output.py":
            assert "open_redis(" not in path.read_text(encoding="utf-8"), path
