"""The NATS JetStream sink against a real `nats-server -js` the test starts: 500 events once in
the stream (counted by Nats-Msg-Id), also when a batch is published again after a crash and
when the sink is SIGKILLed and restarted; subjects by language."""

import asyncio
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import nats
import pytest
import redis
from newswire.schemas.article import Article
from newswire.services.delivery.publish import Publisher
from newswire.services.delivery.subscribe import Consumer
from newswire.services.extract.normalize import content_hash
from newswire.services.settings import Settings
from newswire.services.sinks.jetstream import NatsSink, subject_for
from newswire.workers.stack import free_port

from tests.support.processes import wait_for
from tests.support.redis_server import RedisServer

STREAM = "newswire:articles"


@pytest.fixture
def nats_url() -> Iterator[str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    assert os.path.exists(binary), "nats-server is required: `apt-get install nats-server`"
    store = tempfile.mkdtemp(prefix="newswire-nats-")
    port = free_port()
    server = subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"nats://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket_to(port):
                break
        except OSError:
            assert time.monotonic() < deadline, "nats-server did not start"
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(10)
    shutil.rmtree(store, ignore_errors=True)


def socket_to(port: int):  # type: ignore[no-untyped-def]
    import socket  # noqa: PLC0415

    return socket.create_connection(("127.0.0.1", port), timeout=1)


def article(n: int) -> Article:
    url = f"https://paper.example/story/{n}"
    body = f"Story {n} for the stream, with words of its own. " * 10
    return Article(
        id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, canonical_url=url,
        feed_url="https://paper.example/rss", title=f"Story {n}", body=body,
        language="de" if n % 2 else "en", source="The Paper", fetched_at=datetime.now(UTC),
        word_count=len(body.split()), content_hash=content_hash(body), extraction="full",
    )  # fmt: skip


def stored(url: str, stream: str) -> tuple[int, Counter[str], Counter[str]]:
    """(messages in the stream, by Nats-Msg-Id, by subject)."""

    async def read() -> tuple[int, Counter[str], Counter[str]]:
        nc = await nats.connect(url)
        js = nc.jetstream()
        info = await js.stream_info(stream)
        ids: Counter[str] = Counter()
        subjects: Counter[str] = Counter()
        sub = await js.pull_subscribe(">", durable=None, stream=stream)
        left = info.state.messages
        while left > 0:
            for msg in await sub.fetch(min(left, 200), timeout=5):
                ids[(msg.headers or {}).get("Nats-Msg-Id", "")] += 1
                subjects[msg.subject] += 1
                left -= 1
        await nc.close()
        return info.state.messages, ids, subjects

    return asyncio.run(read())


def test_500_events_once_in_jetstream_across_a_resend_and_a_sigkill(
    redis_server: RedisServer, redis_client: redis.Redis, nats_url: str
) -> None:
    publisher = Publisher(redis_client, Settings(redis_url=redis_server.url))
    for n in range(250):
        assert publisher.publish(article(n), []).new
    # A member that published a batch and died before its ack: the resend below is dropped.
    consumer = Consumer(redis_client, STREAM, "sink-nats", "n1", start="0", batch=50)
    early = NatsSink(nats_url, "NEWS", "news.{language}")
    assert early.write(consumer.take()) == 50
    early.close()
    env = {**os.environ, "NEWSWIRE_REDIS_URL": redis_server.url}
    cmd = [sys.executable, "-m", "newswire.workers.cli", "sink", "nats", nats_url, "--stream",
           "NEWS", "--subject", "news.{language}", "--name", "n1", "--batch", "20"]  # fmt: skip
    sink = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: redis_client.xpending(STREAM, "sink-nats")["pending"] == 0
                 and not redis_client.xinfo_groups(STREAM)[0]["lag"], 60, "the first 250")  # fmt: skip
        os.killpg(sink.pid, signal.SIGKILL)
        sink.communicate(timeout=10)
        for n in range(250, 500):
            assert publisher.publish(article(n), []).new
        sink = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        wait_for(lambda: stored(nats_url, "NEWS")[0] >= 500, 60, "all 500 in JetStream")
        wait_for(lambda: not redis_client.xinfo_groups(STREAM)[0]["lag"], 30, "caught up")
    finally:
        sink.send_signal(signal.SIGTERM)
        output = sink.communicate(timeout=30)[0].decode()
    assert "events written" in output, output
    count, ids, subjects = stored(nats_url, "NEWS")
    assert count == 500 and len(ids) == 500 and set(ids.values()) == {1}
    assert ids[f"{article(0).id}:1"] == 1
    assert subjects == Counter({"news.en": 250, "news.de": 250})


def test_subjects_are_templated_as_single_tokens() -> None:
    from newswire.services.delivery.subscribe import Delivery  # noqa: PLC0415

    delivery = Delivery("1-0", b"{}", article(1).model_copy(update={"source": "Le Monde.fr"}))
    assert subject_for("news.{language}.{source}", delivery) == "news.de.le_monde_fr"
    nameless = Delivery("1-0", b"{}", article(2).model_copy(update={"source": None}))
    assert subject_for("news.{source}.{event}", nameless) == "news.unknown.article_published"
