"""Imported feed lists are data: `env:` reads only allowed names, YAML aliases and deep nesting
are refused, OPML errors are read, and every value is checked and capped."""

import resource
import time
from pathlib import Path

import pytest
from newswire.services.errors import ConfigError
from newswire.services.sources.feedlist import parse_feed_list, parse_opml, parse_yaml

from tests.support.processes import newswire
from tests.support.redis_server import RedisServer

ALIAS_BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
feeds:
  - url: https://a.example/rss
    headers: {X-Bomb: *g}
"""


def test_env_never_reads_newswires_own_settings() -> None:
    environ = {"NEWSWIRE_REDIS_URL": "redis://:hunter2@redis:6379/0", "HOME": "/root"}
    for name in ("NEWSWIRE_REDIS_URL", "HOME", "newswire_redis_url"):
        listing = f"- url: https://a.example/rss\n  headers: {{X-Leak: 'env:{name}'}}\n"
        with pytest.raises(ConfigError, match="env: reads only variables named FEED_") as caught:
            parse_yaml(listing.encode(), environ)
        assert "hunter2" not in str(caught.value)
    allowed = parse_yaml(b"- url: https://a.example/rss\n  password: env:ACME_PW\n  username: u\n",
                         {"ACME_PW": "pw"}, allowed=("ACME_",))  # fmt: skip
    assert allowed[0].options is not None and allowed[0].options.password == "pw"
    with pytest.raises(ConfigError, match="never NEWSWIRE_"):
        parse_yaml(b"- url: https://a.example/rss\n  password: env:NEWSWIRE_X\n",
                   {"NEWSWIRE_X": "x"}, allowed=("NEWSWIRE_",))  # fmt: skip


def test_an_imported_list_reaching_for_the_redis_url_is_refused_by_the_cli(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    listing = tmp_path / "third-party.yaml"
    listing.write_text(
        "- url: https://a.example/rss\n  headers: {X-Leak: 'env:NEWSWIRE_REDIS_URL'}\n"
    )
    env = {"NEWSWIRE_REDIS_URL": redis_server.url}
    done = newswire("feeds", "import", str(listing), env=env)
    assert done.returncode == 2 and "env: reads only" in done.stderr
    assert redis_server.url not in done.stdout + done.stderr
    assert newswire("feeds", "list", "--json", env=env).stdout.strip() == "[]"


def test_yaml_alias_bomb_is_refused_at_once() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ConfigError, match="aliases"):
        parse_feed_list(ALIAS_BOMB, "feeds.yaml")
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB


def test_deep_yaml_is_a_message_not_a_traceback() -> None:
    with pytest.raises(ConfigError, match="nested deeper"):
        parse_yaml(b"- url: https://a.example/\n  tags: " + b"[" * 5000 + b"]" * 5000)


@pytest.mark.parametrize(
    ("listing", "why"),
    [
        (b"- url: https://a.example/\n  interval: -5\n", "interval"),
        (b"- url: https://a.example/\n  interval: true\n", "interval"),
        (b"- url: https://a.example/\n  title: [1, 2]\n", "title"),
        (b"- url: https://a.example/\n  headers: {X: [1]}\n", "every value must be a string"),
        (b"- url: https://a.example/" + b"x" * 9000 + b"\n", "longer than"),
        (b"- url: https://a.example/\n  tags: [" + b"t," * 60 + b"t]\n", "at most 50 tags"),
        (b"- url: https://a.example/\n  headers: {X: '" + b"v" * 9000 + b"'}\n", "printable"),
    ],
)
def test_yaml_values_are_type_checked_and_capped(listing: bytes, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_yaml(listing)


OPML_HEAD = b'<?xml version="1.0"?><opml version="2.0"><body>'


def outline(n: int) -> bytes:
    return b'<outline text="f%d" xmlUrl="https://a.example/%d.xml"/>' % (n, n)


@pytest.mark.parametrize(
    "content",
    [
        OPML_HEAD + outline(1) + outline(2) + outline(3)[:30],  # truncated
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;'
        b'&a;&a;&a;&a;&a;&a;&a;">]><opml><body><outline text="&b;" xmlUrl="https://a.example/'
        b'x"/></body></opml>',  # billion laughs
        OPML_HEAD + b"<outline>" * 300 + outline(1) + b"</outline>" * 300 + b"</body></opml>",
        OPML_HEAD
        + b'<outline text="'
        + b"a" * 11_000_000
        + b'" xmlUrl="https://a.example/"/>'
        + b"</body></opml>",
    ],
    ids=["truncated", "billion-laughs", "deep", "huge-attribute"],
)
def test_opml_errors_are_read(content: bytes) -> None:
    with pytest.raises(ConfigError):
        parse_opml(content)


def test_a_truncated_opml_import_imports_nothing_and_says_so(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    path = tmp_path / "subscriptions.opml"
    path.write_bytes(OPML_HEAD + outline(1) + outline(2) + outline(3)[:30])
    env = {"NEWSWIRE_REDIS_URL": redis_server.url}
    done = newswire("feeds", "import", str(path), env=env)
    assert done.returncode == 2 and "not a well-formed OPML file: line 1" in done.stderr
    assert "Traceback" not in done.stderr
    assert newswire("feeds", "list", "--json", env=env).stdout.strip() == "[]"
    whole = tmp_path / "whole.opml"
    whole.write_bytes(OPML_HEAD + outline(1) + outline(2) + b"</body></opml>")
    assert newswire("feeds", "import", str(whole), env=env).stdout.startswith("imported 2 feeds")
