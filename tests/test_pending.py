"""The pending ledger: entries handed on stay recorded until settled; overdue ones come back."""

import redis
from newswire.schemas.feed import FeedEntry
from newswire.services.polling.pending import PendingLedger, entry_key

NOW = 1_800_000_000.0


def entry(n: int, **extra: str) -> FeedEntry:
    return FeedEntry(feed_url="https://example.com/rss", link=f"https://example.com/{n}", **extra)


def test_settled_entries_never_come_back(redis_client: redis.Redis) -> None:
    ledger = PendingLedger(redis_client, "newswire", redeliver_after=60)
    ledger.add([entry(1), entry(2), entry(3)], NOW)
    ledger.settle(entry(2))
    assert ledger.size() == 2
    assert ledger.overdue(NOW + 59, 10) == []  # not yet
    overdue = ledger.overdue(NOW + 61, 10)
    assert sorted(e.link or "" for e in overdue) == [
        "https://example.com/1",
        "https://example.com/3",
    ]
    # Taken once: a second sweeper finds nothing until the new deadline passes.
    assert ledger.overdue(NOW + 62, 10) == []
    assert len(ledger.overdue(NOW + 61 + 61, 10)) == 2
    ledger.settle(entry(1))
    ledger.settle(entry(3))
    assert ledger.size() == 0 and redis_client.hlen(ledger.entries_key) == 0


def test_a_retry_pushes_the_deadline(redis_client: redis.Redis) -> None:
    ledger = PendingLedger(redis_client, "newswire", redeliver_after=60)
    ledger.add([entry(1)], NOW)
    ledger.extend(entry(1), NOW + 300)  # retried in 300 s on purpose
    assert ledger.overdue(NOW + 100, 10) == []
    [back] = ledger.overdue(NOW + 361, 10)
    assert back == entry(1)
    ledger.extend(entry(9), NOW)  # never added (or already settled): not brought back
    assert ledger.size() == 1


def test_entries_without_links_have_stable_distinct_keys() -> None:
    a = FeedEntry(feed_url="https://example.com/rss", guid="urn:1", title="A")
    b = FeedEntry(feed_url="https://example.com/rss", title="B")
    c = FeedEntry(feed_url="https://example.com/rss", title="C")
    assert len({entry_key(a), entry_key(b), entry_key(c)}) == 3
    assert entry_key(b) == entry_key(FeedEntry(feed_url="https://example.com/rss", title="B"))


def test_batch_limits_a_sweep(redis_client: redis.Redis) -> None:
    ledger = PendingLedger(redis_client, "newswire", redeliver_after=10)
    ledger.add([entry(n) for n in range(25)], NOW)
    assert len(ledger.overdue(NOW + 11, 10)) == 10
    assert len(ledger.overdue(NOW + 11, 100)) == 15
