"""The consumer API: read Articles off the stream in a group, with claiming and dead letters."""

from newswire.services.delivery.subscribe import (
    Consumer,
    DeadLetter,
    Delivery,
    dead_letters,
    requeue,
)

__all__ = ["Consumer", "DeadLetter", "Delivery", "dead_letters", "requeue"]
