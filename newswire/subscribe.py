"""The consumer API: read Articles off the stream in a group, with claiming and dead letters."""

from newswire.services.delivery.deadletters import DeadLetter, dead_letters, requeue
from newswire.services.delivery.subscribe import Consumer, Delivery

__all__ = ["Consumer", "DeadLetter", "Delivery", "dead_letters", "requeue"]
