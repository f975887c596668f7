"""`newswire feeds ...`: add, list, import (OPML, YAML), export, remove against a real Redis."""

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import redis

from tests.support.processes import newswire
from tests.support.redis_server import RedisServer

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader export</title></head><body>
  <outline text="News" title="News">
    <outline type="rss" text="One" xmlUrl="https://one.example/rss.xml" htmlUrl="https://one.example/"/>
    <outline type="rss" text="Two" xmlUrl="https://two.example/atom.xml"/>
  </outline>
  <outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/>
</body></opml>"""

YAML = """feeds:
  - https://three.example/feed
  - url: https://four.example/rss
    interval: 120
"""


def test_feeds_lifecycle(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    env = {"NEWSWIRE_REDIS_URL": redis_server.url}
    (tmp_path / "export.opml").write_text(OPML)
    (tmp_path / "feeds.yaml").write_text(YAML)

    added = newswire("feeds", "add", "https://five.example/rss", "--interval", "300", env=env)
    assert added.returncode == 0 and "every 300s" in added.stdout
    refused = newswire("feeds", "add", "file:///etc/passwd", env=env)
    assert refused.returncode == 2 and "not allowed" in refused.stderr

    opml = newswire("feeds", "import", str(tmp_path / "export.opml"), env=env)
    assert "imported 2 feeds" in opml.stdout and "skipped 1" in opml.stdout
    yml = newswire("feeds", "import", str(tmp_path / "feeds.yaml"), env=env)
    assert "imported 2 feeds" in yml.stdout

    listed = json.loads(newswire("feeds", "list", "--json", env=env).stdout)
    by_url = {f["url"]: f for f in listed}
    assert set(by_url) == {
        "https://one.example/rss.xml", "https://two.example/atom.xml",
        "https://three.example/feed", "https://four.example/rss", "https://five.example/rss",
    }  # fmt: skip
    assert by_url["https://four.example/rss"]["interval"] == 120
    assert by_url["https://three.example/feed"]["interval"] == 900  # the default

    table = newswire("feeds", "list", env=env).stdout.splitlines()
    assert table[0].split()[:3] == ["URL", "KIND", "EVERY"] and len(table) == 6

    exported = newswire("feeds", "export", env=env).stdout
    assert exported.count("<outline") == 5 and 'xmlUrl="https://four.example/rss"' in exported

    removed = newswire(
        "feeds", "remove", "https://five.example/rss", "https://nope.example/", env=env
    )
    assert removed.returncode == 1 and "was not registered" in removed.stderr
    assert len(json.loads(newswire("feeds", "list", "--json", env=env).stdout)) == 4

    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds: {not: a list}")
    broken = newswire("feeds", "import", str(bad), env=env)
    assert broken.returncode == 2 and "YAML feed list" in broken.stderr


def test_import_of_thousands_shows_progress_on_a_terminal_only(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n" + "".join(f"  - url: https://news{n}.example/rss.xml\n" for n in range(3000))
    )
    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_server.url}
    # stderr on a pseudo-terminal, as in a user's shell: a live bar.
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newswire.workers.cli", "feeds", "import", str(feeds)],
        env=env, stdout=subprocess.PIPE, stderr=slave, text=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(master)
    assert proc.returncode == 0
    assert "imported 3000 feeds" in out
    screen = seen.decode()
    assert "importing feeds [" in screen and "3000/3000" in screen
    assert redis_client.scard("newswire:feeds") == 3000
    # Piped (a script, CI): no bar, just the summary.
    piped = newswire("feeds", "import", str(feeds), env=env)
    assert piped.returncode == 0 and piped.stderr == ""
    assert "imported 3000 feeds" in piped.stdout
