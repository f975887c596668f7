"""A WebSub hub for the tests, written from the W3C Recommendation (sections 5-8): it takes
subscription requests (202), verifies intent at the callback with a challenge, and distributes
content signed with the subscriber's secret (X-Hub-Signature)."""

import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode

from newswire.services.push.signature import sign
from newswire.workers.site_server import LoopbackServer


@dataclass
class Sub:
    callback: str
    topic: str
    secret: str
    lease: int
    verified_at: float


@dataclass
class HubLog:
    requests: list[dict[str, str]] = field(default_factory=list)  # every subscription request
    verifications: list[tuple[str, int, bool]] = field(default_factory=list)  # mode, status, ok


class Hub(LoopbackServer):
    """`refuse` answers requests with 400; `deny` answers a subscribe with `hub.mode=denied`;
    `lease` caps the lease granted (seconds); `eager` verifies before answering."""

    def __init__(self) -> None:
        self.subs: dict[tuple[str, str], Sub] = {}  # (callback, topic) -> subscription
        self.log = HubLog()
        self.refuse = False
        self.deny = False
        self.lease: int | None = None
        self.eager = False  # verify before answering the request (a race a subscriber must win)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                hub.log.requests.append(form)
                mode = form.get("hub.mode")
                ok = mode in ("subscribe", "unsubscribe") and form.get("hub.callback")
                status = 400 if hub.refuse or not ok or not form.get("hub.topic") else 202
                if status == 202 and hub.eager:
                    hub.verify(form, 0.0)  # before the answer: a subscriber must be ready
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 202 and not hub.eager:
                    # Verification happens after the request is answered (5.3).
                    threading.Thread(target=hub.verify, args=(form,), daemon=True).start()

        super().__init__(Handler)

    def verify(self, form: dict[str, str], delay: float = 0.05) -> None:
        time.sleep(delay)
        mode, topic, callback = form["hub.mode"], form["hub.topic"], form["hub.callback"]
        challenge = secrets.token_urlsafe(16)
        lease = int(form.get("hub.lease_seconds") or 864000)
        if self.lease is not None:
            lease = min(lease, self.lease)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe" and self.deny:
            params = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": "not on this hub"}
        elif mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        sep = "&" if "?" in callback else "?"
        status, body = get(f"{callback}{sep}{urlencode(params)}")
        confirmed = 200 <= status < 300 and body == challenge
        self.log.verifications.append((params["hub.mode"], status, confirmed))
        if confirmed and mode == "subscribe":
            self.subs[(callback, topic)] = Sub(callback, topic, form.get("hub.secret", ""),
                                               lease, time.time())  # fmt: skip
        elif confirmed:
            self.subs.pop((callback, topic), None)

    def subscribers(self, topic: str) -> list[Sub]:
        return [s for s in self.subs.values() if s.topic == topic]

    def publish(
        self,
        topic: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        method: str | None = "sha256",
        secret: str | None = None,
    ) -> list[int]:
        """Distribute `body` (empty: a light ping) to every subscriber of `topic`, signed with
        its secret (or `secret`, or unsigned with `method=None`); the statuses they answered."""
        statuses = []
        for sub in self.subscribers(topic):
            headers = {"Content-Type": content_type, "Link": f'<{self.base}/>; rel="hub", '
                       f'<{topic}>; rel="self"'}  # fmt: skip
            if method is not None:
                headers["X-Hub-Signature"] = sign(secret or sub.secret, body, method)
            statuses.append(post(sub.callback, body, headers))
        return statuses


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except urllib.error.URLError:
        return 0, ""  # nothing listens (yet)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
