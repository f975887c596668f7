"""NATS JetStream sink: each event published with `Nats-Msg-Id: <id>:<version>`, so the stream's
duplicate window drops a resend, and counted as written only once JetStream acknowledged it."""

import asyncio
import contextlib
import re
import threading
from typing import Any

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from newswire.services.delivery.subscribe import Delivery
from newswire.services.sinks.runner import TargetDown
from newswire.services.sinks.webhook import wire_body

# A resend after a crash must fall inside the duplicate window to be dropped: the stream this
# sink creates keeps message ids for a day (JetStream's default is two minutes).
DUPLICATE_WINDOW_SECONDS = 86400
PLACEHOLDER = re.compile(r"\{(language|source|event|id)\}")
TOKEN = re.compile(r"[^a-z0-9_-]+")


def subject_for(template: str, delivery: Delivery) -> str:
    """The subject for one event: `{language}`, `{source}`, `{event}` and `{id}` filled in, each
    as one subject token (lower case, letters, digits, - and _; `unknown` when empty)."""
    a = delivery.article
    values = {"language": a.language, "source": a.source, "event": delivery.event, "id": a.id}

    def token(match: re.Match[str]) -> str:
        text = TOKEN.sub("_", (values[match[1]] or "").lower()).strip("_")
        return text or "unknown"

    return PLACEHOLDER.sub(token, template)


def wildcard(template: str) -> str:
    """The subjects a template can give, as the stream's subject filter."""
    return PLACEHOLDER.sub("*", template)


class NatsSink:
    """`write` for the sink runner, over one connection kept by an event loop of its own."""

    def __init__(self, url: str, stream: str, template: str, timeout: float = 10.0) -> None:
        self.url = url
        self.stream = stream
        self.template = template
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._nc: Client | None = None
        self._js: Any = None

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.timeout * 3)

    async def _connect(self) -> None:
        nc = Client()
        await nc.connect(self.url, connect_timeout=int(self.timeout), max_reconnect_attempts=0,
                         allow_reconnect=False)  # fmt: skip
        js = nc.jetstream(timeout=self.timeout)
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(StreamConfig(
                name=self.stream, subjects=[wildcard(self.template)],
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            ))  # fmt: skip
        self._nc, self._js = nc, js

    async def _publish(self, batch: list[Delivery]) -> int:
        if self._nc is None or not self._nc.is_connected:
            await self._connect()
        acks = await asyncio.gather(*(
            self._js.publish(subject_for(self.template, d), wire_body(d), stream=self.stream,
                             headers={"Nats-Msg-Id": f"{d.article.id}:{d.article.version}"})
            for d in batch
        ))  # fmt: skip
        return sum(1 for ack in acks if not ack.duplicate)

    def write(self, batch: list[Delivery]) -> int:
        try:
            return int(self._run(self._publish(batch)))
        except (NatsError, OSError, TimeoutError) as exc:
            self._drop()
            raise TargetDown(f"NATS {self.url}: {type(exc).__name__}: {exc}") from None

    def _drop(self) -> None:
        nc, self._nc = self._nc, None
        if nc is not None:
            # A connection already gone has nothing left to close.
            with contextlib.suppress(NatsError, OSError, TimeoutError, RuntimeError):
                self._run(nc.close())

    def close(self) -> None:
        self._drop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()  # its self-pipe sockets too
