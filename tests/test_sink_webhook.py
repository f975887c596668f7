"""The webhook sink against a receiver the test runs: signed POSTs that the receiver verifies
with the documented scheme, every event once by its Idempotency-Key also across a SIGKILL,
retries on 503 and 429, a 400 dead-lettered with the response, and the SSRF guard."""

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler

import pytest
import redis
from newswire.schemas.article import Article
from newswire.services.delivery.deadletters import dead_letters
from newswire.services.delivery.publish import Publisher
from newswire.services.delivery.subscribe import Delivery
from newswire.services.extract.normalize import content_hash
from newswire.services.settings import Settings
from newswire.services.sinks.runner import Refused
from newswire.services.sinks.webhook import SIGNATURE_HEADER, WebhookSink, verify
from newswire.workers.site_server import LoopbackServer

from tests.support.processes import newswire, wait_for
from tests.support.redis_server import RedisServer

STREAM = "newswire:articles"
SECRET = "whsec-test-secret"


class Receiver:
    """What a user's endpoint does: verify, deduplicate by Idempotency-Key, answer."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()  # accepted deliveries by key
        self.calls: Counter[int] = Counter()  # requests by story number
        self.bad_signatures = 0
        self.hold = threading.Event()  # story 300 waits for it
        self.lock = threading.Lock()

    def answer(self, number: int, key: str, body: bytes, header: str) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.calls[number] += 1
            calls = self.calls[number]
            if not verify(SECRET.encode(), header, body):
                self.bad_signatures += 1
                return 401, {}
        if number == 300:
            self.hold.wait(30)
        if number == 7 and calls == 1:
            return 503, {}
        if number == 8 and calls == 1:
            return 429, {"Retry-After": "1"}
        if number == 9:
            return 400, {}
        with self.lock:
            self.keys[key] += 1
        return 204, {}


def handler(receiver: Receiver, *args: object) -> BaseHTTPRequestHandler:
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            number = int(json.loads(body)["data"]["title"].split()[-1])
            status, headers = receiver.answer(
                number, self.headers["Idempotency-Key"], body, self.headers[SIGNATURE_HEADER]
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            payload = b'{"error": "story 9 is not wanted here"}' if status == 400 else b""
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return Hook(*args)  # type: ignore[arg-type]


def article(n: int) -> Article:
    url = f"https://paper.example/story/{n}"
    body = f"Story {n} of the webhook test, with words of its own. " * 10
    return Article(
        id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, canonical_url=url,
        feed_url="https://paper.example/rss", title=f"Story {n}", body=body, language="en",
        fetched_at=datetime.now(UTC), word_count=len(body.split()),
        content_hash=content_hash(body), extraction="full",
    )  # fmt: skip


def test_500_events_once_signed_retried_and_refused_across_a_sigkill(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    receiver = Receiver()
    server = LoopbackServer(partial(handler, receiver))
    publisher = Publisher(redis_client, Settings(redis_url=redis_server.url))
    for n in range(500):
        assert publisher.publish(article(n), []).new
    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_server.url, "HOOK_SECRET": SECRET}
    cmd = [sys.executable, "-m", "newswire.workers.cli", "sink", "webhook", server.url("/hook"),
           "--secret", "env:HOOK_SECRET", "--allow-private", "--batch", "50"]  # fmt: skip
    sink = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        # Story 300's request hangs: its batch is in flight when the sink is killed.
        wait_for(lambda: receiver.calls[300] >= 1, 60, "the batch with story 300 in flight")
        os.killpg(sink.pid, signal.SIGKILL)
        sink.communicate(timeout=10)
        assert len(receiver.keys) < 499
        receiver.hold.set()
        sink = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        wait_for(lambda: len(receiver.keys) == 499, 60, "every event but the refused one")
        wait_for(lambda: redis_client.xpending(STREAM, "sink-webhook")["pending"] == 0, 30,
                 "every entry acked or dead-lettered")  # fmt: skip
    finally:
        receiver.hold.set()
        sink.send_signal(signal.SIGTERM)
        output = sink.communicate(timeout=30)[0].decode()
        server.close()
    assert "events written" in output, output
    assert receiver.bad_signatures == 0
    assert receiver.calls[7] == 2 and receiver.calls[8] == 2  # 503 and 429: tried again
    assert receiver.calls[9] == 1  # 400: not again
    assert set(receiver.keys) == {f"{article(n).id}:1" for n in range(500) if n != 9}
    [dead] = dead_letters(redis_client, STREAM)
    assert dead.group == "sink-webhook" and "HTTP 400" in dead.reason
    assert "not wanted here" in dead.reason  # the receiver's own answer, for the operator


def test_the_ssrf_guard_refuses_a_private_receiver_unless_allowed(
    redis_server: RedisServer,
) -> None:
    env = {"NEWSWIRE_REDIS_URL": redis_server.url, "HOOK_SECRET": SECRET}
    refused = newswire("sink", "webhook", "http://127.0.0.1:9/hook", "--secret",
                       "env:HOOK_SECRET", env=env)  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "not public" in refused.stderr and "--allow-private" in refused.stderr
    no_secret = newswire("sink", "webhook", "https://hooks.example/x", "--secret", "plain",
                         env=env)  # fmt: skip
    assert no_secret.returncode == 2 and "env:NAME" in no_secret.stderr


def test_a_refusal_is_read_capped_and_never_inflated() -> None:
    """A receiver that refuses with an endless or a gzip-bomb body costs the sink its first
    bytes, not the body."""
    bomb = gzip.compress(bytes(64 * 1024 * 1024), 9)

    class Bomb(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(400)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(bomb)))
            self.end_headers()
            self.wfile.write(bomb)

        def log_message(self, *args: object) -> None:
            pass

    server = LoopbackServer(Bomb)
    sink = WebhookSink(server.url("/hook"), SECRET.encode(), allow=[server.host_port])
    delivery = Delivery("1-0", article(1).model_dump_json().encode(), article(1))
    tracemalloc.start()
    try:
        with pytest.raises(Refused) as refused:
            sink.write([delivery])
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sink.close()
        server.close()
    [(_delivery, reason)] = refused.value.events
    assert reason.startswith("HTTP 400: ") and len(reason) <= 510
    assert peak < 8 * 1024 * 1024  # inflated, the answer alone is 64 MiB
