"""What the CLI prints: control characters from content escaped on every surface, and every
error a message and an exit code, never a traceback."""

import json

import redis
from newswire.services.settings import Settings
from newswire.workers.cli_output import printable
from newswire.workers.runtime import build_runtime

from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import newswire
from tests.support.redis_server import RedisServer
from tests.support.site import Site

CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;owned\x07"
LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
HOSTILE = f"Story {CLEAR}{TITLE}{LINK}\u202e"


def test_escape_sequences_from_feeds_are_shown_escaped(
    settings: Settings, redis_server: RedisServer, redis_client: redis.Redis, site: Site
) -> None:
    page = site.add("/news/x", article_page("Story", paragraphs("Story")))
    feed = site.add("/rss.xml", rss2([item(page, HOSTILE)], title=f"Feed {TITLE}"),
                    "application/rss+xml")  # fmt: skip
    site.add("/", f'<html><head><link rel="alternate" type="application/rss+xml" '
                  f'href="/rss.xml"></head><body>{CLEAR}</body></html>')  # fmt: skip
    runtime = build_runtime(settings)
    try:
        runtime.pipeline.ingest_feed(feed)
    finally:
        runtime.close()
    redis_client.xadd("newswire:articles:dead", {"id": "x", "group": "g", "original_id": "1-0",
                                                 "reason": f"boom {CLEAR}", "data": "{}"})  # fmt: skip
    env = {"NEWSWIRE_REDIS_URL": redis_server.url, "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port}

    outputs = [
        newswire("tail", "--from-start", env=env),
        newswire("feeds", "discover", site.url("/"), env=env),
        newswire("dead", env=env),
        newswire("ingest", feed, env=env),
    ]

    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
        assert "\u202e" not in done.stdout
    assert "\\x1b[2J" in outputs[0].stdout and "\\x1b]0;owned\\x07" in outputs[0].stdout
    assert "\\x1b" in outputs[2].stdout


def test_cli_errors_are_messages_not_tracebacks(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    redis_client.xadd("newswire:articles", {"event": "article.published"})  # no data
    redis_client.xadd("newswire:articles", {"data": "not json"})
    env = {"NEWSWIRE_REDIS_URL": redis_server.url}
    cases = {
        ("story", "http://a:99999/"): 4,
        ("dead", "--requeue", "garbage"): 2,
        ("dead", "--count", "0"): 2,
        ("tail", "--count", "-1"): 2,
        ("tail", "--from-start"): 0,
    }
    for args, code in cases.items():
        done = newswire(*args, env=env)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, (args, done.stderr)
    tail = newswire("tail", "--from-start", env=env)
    assert tail.stderr.count("skipped: stream entry") == 2, tail.stderr


def test_printable_escapes_controls_and_keeps_text() -> None:
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("x\x1b[31my\x9b\x7f") == "x\\x1b[31my\\x9b\\x7f"
    assert printable("\u202eabc") == "\\u202eabc"
    assert printable("café 東京") == "café 東京"
    assert json.loads(json.dumps(printable("\r"))) == "\\x0d"
