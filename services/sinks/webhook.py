"""Webhook sink: each event POSTed to a URL in the wire format, signed (HMAC-SHA256 over the
timestamp and body, as Stripe and GitHub sign), with an idempotency key, bounded concurrency,
and retries where the receiver asks for them."""

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from newswire.services.backoff import Backoff
from newswire.services.delivery.subscribe import Delivery
from newswire.services.errors import RefusedURL
from newswire.services.fetch.guard import AllowList, GuardedBackend, check_url, pick_address
from newswire.services.fetch.transport import GuardedTransport
from newswire.services.hints import retry_after
from newswire.services.sinks.runner import Refused, TargetDown

SIGNATURE_HEADER = "Newswire-Signature"
# A receiver refuses a signature older than this (replays), as Stripe's libraries do.
TOLERANCE_SECONDS = 300
# Within one batch: 4 tries of the events a receiver asked to retry (1 s, doubling, at most the
# Retry-After it gave, capped at a minute); then the batch goes back to the runner's backoff.
TRIES = 4
# Of a receiver's answer, only a refusal's first bytes are kept (its reason, dead-lettered):
# the rest is never read, and nothing is inflated, whatever the receiver sends.
REPLY_BYTES = 4096
RETRY = Backoff(first=1.0, cap=60.0)


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The header value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: bytes, header: str, body: bytes, now: float | None = None) -> bool:
    """What a receiver checks (in any language, the same steps): the v1 HMAC of "<t>." + the
    raw body, compared in constant time, and t within TOLERANCE_SECONDS of now."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def wire_body(delivery: Delivery) -> bytes:
    """The event as consumers read it off the stream: its event, id, version and data."""
    a = delivery.article
    data = json.loads(delivery.raw)
    return json.dumps({"event": delivery.event, "id": a.id, "version": a.version,
                       "stream_id": delivery.entry_id, "data": data},
                      ensure_ascii=False, separators=(",", ":")).encode()  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """How one POST went: done, retry (after `wait`, if the receiver said), or refused."""

    done: bool = False
    retry: bool = False
    wait: float | None = None
    refusal: str = ""


class WebhookSink:
    """`write` for the sink runner. The URL passes the same SSRF guard as every fetch (a
    private or loopback address is refused) unless `allow_private` or NEWSWIRE_FETCH_ALLOW_HOSTS
    names it. 2xx is delivered; a timeout, 5xx or 429 is tried again (Retry-After honoured);
    any other 4xx is a refusal: that event goes to the dead letters with the response."""

    def __init__(
        self, url: str, secret: bytes, *, allow: list[str], allow_private: bool = False,
        concurrency: int = 8, timeout: float = 10.0, user_agent: str = "newswire",
    ) -> None:  # fmt: skip
        check_url(url)
        parts = httpx.URL(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        entries = [*allow, f"{parts.host}:{port}"] if allow_private else allow
        pick_address(parts.host, port, AllowList.parse(entries))  # RefusedURL: say so at start
        self.url = url
        self.secret = secret
        self.client = httpx.Client(
            transport=GuardedTransport(GuardedBackend(AllowList.parse(entries))),
            follow_redirects=False, trust_env=False, timeout=timeout,
            headers={"User-Agent": user_agent, "Content-Type": "application/json",
                     "Accept-Encoding": "identity"},
        )  # fmt: skip
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()

    def write(self, batch: list[Delivery]) -> int:
        todo = list(batch)
        refused: list[tuple[Delivery, str]] = []
        for attempt in range(1, TRIES + 1):
            answers = list(self.pool.map(self._post, todo))
            refused += [(d, a.refusal) for d, a in zip(todo, answers, strict=True) if a.refusal]
            again = [(d, a) for d, a in zip(todo, answers, strict=True) if a.retry]
            if not again:
                break
            if attempt == TRIES:
                raise TargetDown(f"webhook {self.url}: {len(again)} events not taken after "
                                 f"{TRIES} tries")  # fmt: skip
            asked = max((a.wait or 0.0) for _d, a in again)
            time.sleep(min(RETRY.cap, max(asked, RETRY.delay(attempt))))
            todo = [d for d, _a in again]
        if refused:
            raise Refused(refused)
        return len(batch)

    def _post(self, delivery: Delivery) -> Answer:
        body = wire_body(delivery)
        headers = {
            SIGNATURE_HEADER: signature(self.secret, int(time.time()), body),
            "Idempotency-Key": f"{delivery.article.id}:{delivery.article.version}",
        }
        try:
            with self.client.stream("POST", self.url, content=body, headers=headers) as response:
                # read, if short, to its end: the connection then serves the next event
                said = _first_bytes(response).decode("utf-8", "replace")
                if response.is_success:
                    return Answer(done=True)
                if response.status_code == 429 or response.status_code >= 500:
                    return Answer(retry=True, wait=retry_after(response.headers.get("retry-after")))
                return Answer(refusal=f"HTTP {response.status_code}: {said[:500]}")
        except (httpx.HTTPError, RefusedURL):  # a timeout, a refused connection, the guard
            return Answer(retry=True)


def _first_bytes(response: httpx.Response) -> bytes:
    """The first REPLY_BYTES of the answer's body as sent (a refusal's reason)."""
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= REPLY_BYTES:
            break
    return kept[:REPLY_BYTES]
