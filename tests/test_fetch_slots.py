"""A worker process has at most NEWSWIRE_HOST_CONNECTIONS requests in flight to one server;
other servers do not wait on it, and waiting one's turn does not eat the fetch's deadline
(real HTTP to fixture sites)."""

import time
from concurrent.futures import ThreadPoolExecutor

from newswire.services.fetch.client import Fetcher
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
