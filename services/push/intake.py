"""Intake: the callback receiver's decisions on verifications of intent and on pushed content."""

import dataclasses
import hmac
from dataclasses import dataclass
from enum import StrEnum

from newswire.services.metrics import INTENTS, PUSHES, Metrics
from newswire.services.polling.registry import Registry
from newswire.services.push.signature import Verdict, verify
from newswire.services.push.subscriber import RETRY, renew_at
from newswire.services.push.subscriptions import Mode, State, Subscription, Subscriptions
from newswire.services.settinggroups import MAX_INTERVAL

MAX_CHALLENGE = 1024  # characters of hub.challenge echoed at most


class Push(StrEnum):
    """What became of one push; the refusals are counted by these names."""

    FAT = "fat"  # content: its entries go the way of a poll's
    LIGHT = "light"  # no content: the feed is polled at once
    UNKNOWN = "unknown"  # no such subscription (or a wrong token)
    INACTIVE = "inactive"  # a subscription not (or no longer) verified
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    UNSIGNED = Verdict.UNSIGNED.value
    BAD_SIGNATURE = Verdict.BAD_SIGNATURE.value


# The HTTP answer for each outcome. 410 tells a hub to stop sending for a subscription we no
# longer hold; a bad signature is refused outright, so a misconfigured hub shows in its logs.
STATUS = {
    Push.FAT: 202, Push.LIGHT: 202, Push.UNKNOWN: 404, Push.INACTIVE: 410, Push.TOO_LARGE: 413,
    Push.RATE_LIMITED: 429, Push.UNSIGNED: 403, Push.BAD_SIGNATURE: 403,
}  # fmt: skip


@dataclass(frozen=True)
class Answer:
    status: int
    body: str = ""


class Intake:
    """Looks up the subscription a callback names and rules on what the hub (or anybody who
    found the URL) sends to it."""

    def __init__(
        self,
        subscriptions: Subscriptions,
        registry: Registry,
        metrics: Metrics,
        *,
        max_body: int,
        per_minute: int,
    ) -> None:
        self.subscriptions = subscriptions
        self.registry = registry
        self.metrics = metrics
        self.max_body = max_body
        self.per_minute = per_minute

    def subscription(self, name: str) -> Subscription | None:
        """The subscription a callback path names (`<feed id>.<token>`), the token compared
        in constant time; None for anything else."""
        feed_id, _, token = name.partition(".")
        if not feed_id.isalnum() or len(feed_id) > 64 or not token:
            return None
        sub = self.subscriptions.get(feed_id)
        if sub is None or not hmac.compare_digest(sub.token.encode(), token.encode()):
            return None
        return sub

    def verify_intent(self, name: str, params: dict[str, str], now: float) -> Answer:
        """A hub's GET: the challenge is echoed only for the request we last made for that
        subscription, same mode and topic; `denied` is taken only for a pending subscribe."""
        mode = params.get("hub.mode", "")
        sub = self.subscription(name)
        topic_ok = sub is not None and params.get("hub.topic") == sub.topic
        challenge = params.get("hub.challenge", "")
        answer = Answer(404)
        if sub is None or not topic_ok:
            pass
        elif mode == "denied" and sub.pending == Mode.SUBSCRIBE:
            reason = params.get("hub.reason", "")[:200]
            refused = dataclasses.replace(
                sub, state=State.REFUSED, expires_at=0.0, error=f"denied by the hub: {reason}"
            )
            self.subscriptions.save(refused, now + RETRY.delay(max(sub.attempts, 1)))
            answer = Answer(200)
        elif mode != sub.pending.value or not challenge or len(challenge) > MAX_CHALLENGE:
            pass
        elif mode == Mode.UNSUBSCRIBE:
            self.subscriptions.forget(sub.feed_id)
            answer = Answer(200, challenge)
        else:
            lease = params.get("hub.lease_seconds", "")
            if lease.isascii() and lease.isdigit() and int(lease[:12]) > 0:
                seconds = min(int(lease[:12]), MAX_INTERVAL)
                active = dataclasses.replace(
                    sub, state=State.ACTIVE, expires_at=now + seconds, attempts=0, error=""
                )
                self.subscriptions.save(active, renew_at(now, seconds))
                answer = Answer(200, challenge)
        result = "confirmed" if answer.status == 200 else "refused"
        self.metrics.incr(INTENTS, mode=mode if mode in ("subscribe", "unsubscribe", "denied")
                          else "other", result=result)  # fmt: skip
        self.metrics.flush()
        return answer

    def receive(
        self, name: str, body: bytes | None, signature: str | None, now: float
    ) -> tuple[Push, Subscription | None]:
        """A hub's POST. `body` is None when it was over the size cap (not read past it).
        Returns the outcome and, for FAT and LIGHT, the subscription it came for."""
        sub = self.subscription(name)
        if sub is None:
            outcome = Push.UNKNOWN
        elif sub.pushed_until(now) is None:
            outcome = Push.INACTIVE
        elif body is None:
            outcome = Push.TOO_LARGE
        elif self.subscriptions.count_rate(sub.feed_id, now) > self.per_minute:
            outcome = Push.RATE_LIMITED
        else:
            verdict = verify(sub.secret, body, signature)
            if verdict != Verdict.VALID:
                outcome = Push(verdict.value)
            elif body.strip():
                outcome = Push.FAT
            else:
                outcome = Push.LIGHT
                self.registry.poll_now(sub.feed_id, now)
        self.metrics.incr(PUSHES, outcome=outcome.value)
        self.metrics.flush()
        return outcome, (sub if outcome in (Push.FAT, Push.LIGHT) else None)
