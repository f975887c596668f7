"""A worker process has at most NEWSWIRE_HOST_CONNECTIONS requests in flight to one server;
other servers do not wait on it, and waiting one's turn does not eat the fetch's deadline
(real HTTP to fixture sites)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from newswire.services.fetch.client import Fetcher
from newswire.services.fetch.slots import HostSlots
from newswire.services.settings import Settings

from tests.support.site import Site

DELAY = 0.4  # seconds each slow page takes


def test_requests_to_one_server_overlap_at_most_host_connections(site: Site) -> None:
    """Six slow pages with two slots: they are asked in three waves; a page of another server
    asked meanwhile is answered at once; no slot is kept once all are done."""
    other = Site()
    try:
        urls = [site.add(f"/p{n}.html", "<p>page</p>", delay=DELAY) for n in range(6)]
        quick = other.add("/q.html", "<p>quick</p>")
        settings = Settings(
            fetch_allow_hosts=f"{site.host_port},{other.host_port}",
            host_connections=2,
            fetch_deadline=DELAY * 2.5,  # less than three waves: waiting is not on the clock
        )
        with Fetcher(settings) as fetcher, ThreadPoolExecutor(7) as threads:
            slow = [threads.submit(fetcher.get, u) for u in urls]
            time.sleep(DELAY / 4)
            started = time.monotonic()
            assert fetcher.get(quick).status == 200
            assert time.monotonic() - started < DELAY / 2
            assert all(f.result().status == 200 for f in slow)
            assert len(fetcher._slots) == 0
        starts = sorted(h.at for h in site.hits)
        assert len(starts) == 6
        for wave in range(3):
            first, second = starts[2 * wave : 2 * wave + 2]
            assert second - first < DELAY / 2, starts  # two at once
        assert starts[2] - starts[1] > DELAY * 0.8, starts  # the third after one is done
        assert starts[4] - starts[3] > DELAY * 0.8, starts
    finally:
        other.close()


def test_a_turn_is_waited_for_max_wait_at_most() -> None:
    """A server whose one slot is held past `max_wait` (its page taking its whole deadline)
    delays the next request by `max_wait`, not by the whole hold, so a batch stays within
    its task's time limit; once both are done, nothing is kept."""
    slots = HostSlots(1, max_wait=0.3)
    holding, release = threading.Event(), threading.Event()

    def hold_long() -> None:
        with slots.hold("https://slow.example/a"):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_long)
    holder.start()
    assert holding.wait(5)
    started = time.monotonic()
    with slots.hold("https://slow.example/b"):
        waited = time.monotonic() - started
    assert 0.25 < waited < 2, waited
    release.set()
    holder.join(5)
    assert len(slots) == 0
