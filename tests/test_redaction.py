"""Secrets stay secret: credentials in feed URLs, story links and the Redis URL never reach a
log line, a status surface, an export, an error message or the stream."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from newswire.schemas.feed import FeedOptions
from newswire.services.polling.registry import Registry
from newswire.services.redact import redact_text, redact_url, without_userinfo

from tests.support.monitor import get, running_monitor
from tests.support.pages import article_page, item, paragraphs, rss2
from tests.support.processes import Processes, stack_env, wait_for
from tests.support.proxy import closed_port
from tests.support.redis_server import RedisServer
from tests.support.site import Site

SECRETS = ("s3cr3t-PASS", "TOPSECRET", "LINKPASS", "bobs-token", "OPT-HEADER-SECRET",
           "OPT-COOKIE-SECRET", "OPT-PASSWORD-SECRET", "OPT-PROXY-SECRET")  # fmt: skip


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@example.com/rss", "https://***@example.com/rss"),
        ("https://TOKEN@example.com:8443/rss", "https://***@example.com:8443/rss"),
        ("https://example.com/rss?token=abc&page=2", "https://example.com/rss?token=***&page=2"),
        ("https://example.com/rss?api_key=abc", "https://example.com/rss?api_key=***"),
        (
            "https://example.com/rss?X-Amz-Signature=abc",
            "https://example.com/rss?X-Amz-Signature=***",
        ),
        (
            "https://example.com/story.php?id=101&keyword=x",
            "https://example.com/story.php?id=101&keyword=x",
        ),
        ("redis://:hunter2@redis:6379/0", "redis://***@redis:6379/0"),
        ("https://example.com/rss", "https://example.com/rss"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_and_userinfo() -> None:
    line = (
        'HTTP Request: GET http://u:p4ss@h/f.xml?token=t0k "HTTP/1.1 200 OK" and redis://:pw@r:6379'
    )
    assert (
        redact_text(line)
        == 'HTTP Request: GET http://***@h/f.xml?token=*** "HTTP/1.1 200 OK" and redis://***@r:6379'
    )
    assert redact_text("nothing to hide: a@b and x=1") == "nothing to hide: a@b and x=1"
    assert without_userinfo("https://bob:pw@example.com/a?x=1") == "https://example.com/a?x=1"


def test_no_surface_shows_a_feed_or_link_credential(
    redis_server: RedisServer, redis_client: redis.Redis, site: Site, tmp_path: Path
) -> None:
    site.add("/a.html", article_page("Private story", paragraphs("Private")))
    link = site.url("/a.html").replace("http://", "http://bob:LINKPASS@")
    site.add("/private.xml", rss2([item(link, "Private story")]), "application/rss+xml")
    feed = site.url("/private.xml?token=TOPSECRET&ticket=bobs-token").replace(
        "http://", "http://reader:s3cr3t-PASS@"
    )
    site.add("/broken.xml", "not a feed", "text/plain")
    broken = site.url("/broken.xml?key=TOPSECRET").replace("http://", "http://reader:s3cr3t-PASS@")
    Registry(redis_client).add(feed, 600)
    # A feed's own options hold secrets too (and a proxy that refuses, so its error shows).
    secret_options = FeedOptions(
        headers={"X-Api-Key": "OPT-HEADER-SECRET"}, cookies={"sid": "OPT-COOKIE-SECRET"},
        username="reader", password="OPT-PASSWORD-SECRET",
        proxy=f"http://proxyuser:OPT-PROXY-SECRET@127.0.0.1:{closed_port()}",
    )  # fmt: skip
    Registry(redis_client).add(broken, 600, options=secret_options)
    env = stack_env(redis_server.url, site)
    procs = Processes(env, tmp_path)
    procs.worker("w1")
    procs.scheduler()
    try:
        wait_for(lambda: redis_client.xlen("newswire:articles") == 1, 60, "the private story")
        wait_for(lambda: any(f.last_error for f in Registry(redis_client).all()), 30, "an error")
        errors = [f.last_error for f in Registry(redis_client).all() if f.last_error]
        assert any("proxy unreachable" in e for e in errors), errors

        # The feed was fetched with its credentials; the story link's were never sent.
        feed_hits = [h for h in site.hits if h.path.startswith("/private.xml")]
        assert feed_hits and feed_hits[0].headers.get("authorization", "").startswith("Basic ")
        page_hits = [h for h in site.hits if h.path == "/a.html"]
        assert page_hits and "authorization" not in page_hits[0].headers

        surfaces: dict[str, str] = {}
        run_env = {**os.environ, **procs.env}
        for args in (["status"], ["status", "--json"], ["feeds", "list"], ["feeds", "list", "--json"],
                     ["feeds", "export"]):  # fmt: skip
            out = subprocess.run([sys.executable, "-m", "newswire.workers.cli", *args], env=run_env,
                                 capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
            surfaces[" ".join(args)] = out.stdout + out.stderr
        with running_monitor(redis_server.url) as base:
            for path in ("/api/status", "/", "/metrics"):
                code, _headers, surfaces[path] = get(base + path)
                assert code == 200, path
        surfaces["stream"] = repr(redis_client.xrange("newswire:articles"))
        surfaces["rejected stream"] = repr(redis_client.xrange("newswire:rejected"))
    finally:
        procs.stop_all()
    surfaces["logs"] = procs.logs()
    assert "HTTP Request: GET" in surfaces["logs"]  # the lines that used to leak are there
    assert "***@127.0.0.1" in surfaces["feeds list"]  # shown, masked
    for name, text in surfaces.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked on {name}"


def test_redis_password_never_printed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env["NEWSWIRE_REDIS_URL"] = "redis://:hunter2-PASSWORD@127.0.0.1:1/0"
    for args in (["status"], ["ping"], ["ingest", "http://example.com/rss"], ["tail"]):
        out = subprocess.run([sys.executable, "-m", "newswire.workers.cli", *args], env=env,
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert out.returncode == 3, (args, out.stderr)
        assert "cannot reach Redis" in out.stderr
        assert "hunter2-PASSWORD" not in out.stdout + out.stderr, args
