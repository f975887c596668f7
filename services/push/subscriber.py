"""Subscriber: asks a feed's hub to subscribe, renew or unsubscribe, and keeps the answer."""

import dataclasses
import logging
from dataclasses import dataclass

from newswire.schemas.feed import FeedState
from newswire.services.backoff import Backoff
from newswire.services.errors import FetchError
from newswire.services.fetch.client import Fetcher
from newswire.services.metrics import HUB_REQUESTS, Metrics
from newswire.services.polling.registry import Registry
from newswire.services.push.subscriptions import Mode, State, Subscription, Subscriptions
from newswire.services.redact import redact_url

log = logging.getLogger(__name__)

# A hub that refuses, fails or never verifies is asked again: 5 minutes, doubling, a day at most.
RETRY = Backoff(first=300.0, cap=86400.0)
VERIFY_WAIT = 300.0  # a hub that accepted a request verifies within this, or it is asked again


def renew_at(now: float, lease: float) -> float:
    """When to renew a lease of `lease` seconds verified at `now`: a tenth of it early (a
    minute at least, a day at most, half a short lease), so a slow hub still renews in time."""
    return now + lease - min(max(lease * 0.1, 60.0), 86400.0, lease / 2)


@dataclass(frozen=True)
class Hubs:
    """What subscribing needs to know: where the callback receiver is reached, the lease to ask
    for. `public_url` empty: WebSub is off, and every subscription is ended."""

    public_url: str
    lease_seconds: int

    def callback(self, sub: Subscription) -> str:
        return f"{self.public_url}/websub/{sub.feed_id}.{sub.token}"


class Subscriber:
    """Acts on one feed's subscription when it is due: subscribe to the hub its feed names,
    renew a lease before it ends, retry a refusal later, end it when the feed is gone."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        registry: Registry,
        fetcher: Fetcher,
        hubs: Hubs,
        metrics: Metrics | None = None,
    ) -> None:
        self.subscriptions = subscriptions
        self.registry = registry
        self.fetcher = fetcher
        self.hubs = hubs
        self.metrics = metrics

    def wanted(self, feed: FeedState | None) -> bool:
        return bool(feed and feed.enabled and feed.hub and feed.topic and self.hubs.public_url)

    def act(self, feed_id: str, now: float) -> str:
        """Do what the feed's subscription needs now; what was done, for the log."""
        sub = self.subscriptions.get(feed_id)
        feed = self.registry.get(feed_id)
        if not self.wanted(feed):
            return self._end(feed_id, sub, now)
        assert feed is not None and feed.hub and feed.topic
        if sub is None or (sub.hub, sub.topic) != (feed.hub, feed.topic):
            if sub is not None and sub.state == State.ACTIVE:
                self._request(sub, Mode.UNSUBSCRIBE)  # the old hub; best effort
            sub = Subscription.new(feed_id, feed.hub, feed.topic)
        return self._subscribe(sub, now)

    def _subscribe(self, sub: Subscription, now: float) -> str:
        # Recorded before the request: a hub may verify before its answer reaches us, and
        # the verification must find what we asked (an active lease stays active meanwhile).
        state = (
            sub.state if sub.state == State.ACTIVE and sub.expires_at > now else State.SUBSCRIBING
        )
        asked = dataclasses.replace(
            sub, state=state, pending=Mode.SUBSCRIBE, requested_at=now, attempts=sub.attempts + 1,
        )  # fmt: skip
        # Not verified by then: asked again, backing off like a refusal. A verification
        # reschedules it (to its renewal).
        self.subscriptions.save(asked, now + max(VERIFY_WAIT, RETRY.delay(asked.attempts)))
        error = self._request(asked, Mode.SUBSCRIBE)
        if error is None:
            return f"asked {redact_url(sub.hub)} to subscribe"
        failed = State.FAILED if error.startswith("unreachable") else State.REFUSED
        keep = state == State.ACTIVE
        refused = dataclasses.replace(asked, state=State.ACTIVE if keep else failed, error=error)
        retry = now + RETRY.delay(asked.attempts)
        self.subscriptions.save(refused, min(retry, sub.expires_at) if keep else retry)
        log.warning("WebSub hub %s: %s (polling goes on)", redact_url(sub.hub), error)
        return f"hub {redact_url(sub.hub)}: {error}"

    def _end(self, feed_id: str, sub: Subscription | None, now: float) -> str:
        if sub is None:
            self.subscriptions.forget(feed_id)
            return "nothing to do"
        live = sub.state in (State.ACTIVE, State.SUBSCRIBING) and sub.pending == Mode.SUBSCRIBE
        if not live:
            # Asked already and not verified in time, or never subscribed: the lease lapses.
            self.subscriptions.forget(feed_id)
            return "forgotten"
        leaving = dataclasses.replace(
            sub, state=State.UNSUBSCRIBING, pending=Mode.UNSUBSCRIBE, requested_at=now
        )
        self.subscriptions.save(leaving, now + VERIFY_WAIT)  # before the hub can verify it
        self._request(leaving, Mode.UNSUBSCRIBE)
        return f"asked {redact_url(sub.hub)} to unsubscribe"

    def _request(self, sub: Subscription, mode: Mode) -> str | None:
        """Send one request to the hub; None when it accepted (2xx), else why not."""
        form = {
            "hub.mode": mode.value,
            "hub.topic": sub.topic,
            "hub.callback": self.hubs.callback(sub),
        }
        if mode == Mode.SUBSCRIBE:
            form |= {"hub.secret": sub.secret, "hub.lease_seconds": str(self.hubs.lease_seconds)}
        try:
            answer = self.fetcher.post_form(sub.hub, form)
        except FetchError as exc:
            self._count(mode, "failed")
            return f"unreachable ({exc.reason})"
        if 200 <= answer.status < 300:
            self._count(mode, "accepted")
            return None
        self._count(mode, "refused")
        said = answer.content[:200].decode("utf-8", "replace").strip()
        return f"refused: HTTP {answer.status}" + (f" ({said})" if said else "")

    def _count(self, mode: Mode, result: str) -> None:
        if self.metrics is not None:
            self.metrics.incr(HUB_REQUESTS, mode=mode.value, result=result)
            self.metrics.flush()
