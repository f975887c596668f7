"""Fetch: one guarded HTTP GET with a deadline, a size cap, manual redirects and status mapping."""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import httpx

from services.deadline import deadline as clock_limit
from services.errors import FetchError, PermanentFetch, RefusedURL, TransientFetch
from services.guard import AllowList, GuardedBackend, check_url
from services.settings import Settings

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchResult:
    """What came back: the final URL after redirects, status, headers and the (decoded) body."""

    url: str
    status: int
    headers: dict[str, str]
    content: bytes = b""
    # The URL a chain of only permanent redirects (301/308) leads to: where a feed has moved.
    moved_to: str | None = None
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify_status(url: str, response: httpx.Response) -> None:
    """Map every non-success status to a typed error, in one place; 2xx and 304 pass."""
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise TransientFetch(url, f"HTTP {status}", status=status, retry_after=retry_after)
    if status >= 500 or status == 408:
        raise TransientFetch(url, f"HTTP {status}", status=status)
    if status == 410:
        raise PermanentFetch(url, "HTTP 410 gone", status=status)
    raise PermanentFetch(url, f"HTTP {status}", status=status)


class Fetcher:
    """A pooled HTTP client whose every connection passes the SSRF guard.

    Redirects are followed here, not by httpx, so each hop's scheme is checked and the hop count
    is ours; the guard itself sits in the connection backend, so it checks each hop's address.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        transport = httpx.HTTPTransport(trust_env=False, retries=0)
        # httpx has no public hook for the socket layer; the pool's backend is the only place
        # where the address checked is also the address connected to.
        transport._pool._network_backend = GuardedBackend(AllowList.parse(settings.allow_hosts))
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers={
                "User-Agent": settings.user_agent,
                "Accept-Encoding": "gzip, deflate",
            },
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        allowed_types: frozenset[str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET `url` within the deadline; raise a FetchError subclass for anything but success.

        `allowed_types` refuses other declared content types before the body is read, so a
        PDF or a video linked from a feed costs one response header, not its size. The deadline
        holds by the clock, whatever the server does: every socket operation (connect, TLS,
        headers, body) is bounded by what is left of it.
        """
        with clock_limit(self._settings.fetch_deadline) as deadline:
            try:
                return self._get(
                    url,
                    accept=accept,
                    allowed_types=allowed_types,
                    etag=etag,
                    last_modified=last_modified,
                    deadline=deadline,
                )
            except TransientFetch as exc:
                if time.monotonic() >= deadline:
                    raise TransientFetch(exc.url, "deadline exceeded") from None
                raise

    def _get(
        self,
        url: str,
        *,
        accept: str,
        allowed_types: frozenset[str] | None,
        etag: str | None,
        last_modified: str | None,
        deadline: float,
    ) -> FetchResult:
        settings = self._settings
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[str] = []
        permanent = True
        current = url
        for _hop in range(settings.fetch_max_redirects + 1):
            check_url(current)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransientFetch(url, "deadline exceeded")
            timeout = httpx.Timeout(
                min(settings.fetch_read_timeout, remaining),
                connect=min(settings.fetch_connect_timeout, remaining),
            )
            try:
                with self._client.stream("GET", current, headers=headers, timeout=timeout) as resp:
                    if resp.status_code in REDIRECTS and "location" in resp.headers:
                        permanent = permanent and resp.status_code in PERMANENT_REDIRECTS
                        current = urljoin(current, resp.headers["location"])
                        redirects.append(current)
                        continue
                    classify_status(current, resp)
                    moved_to = current if redirects and permanent else None
                    if resp.status_code == 304:
                        return FetchResult(
                            current, 304, dict(resp.headers), b"", moved_to, redirects
                        )
                    content_type = resp.headers.get("content-type", "").split(";")[0].strip()
                    if allowed_types and content_type and content_type.lower() not in allowed_types:
                        raise PermanentFetch(current, f"unsupported content type {content_type}")
                    body = self._read_capped(current, resp, deadline)
                    return FetchResult(
                        current, resp.status_code, dict(resp.headers), body, moved_to, redirects
                    )
            except RefusedURL as exc:
                # The guard only knows host:port; report the link that led there.
                raise RefusedURL(current, exc.reason) from None
            except FetchError:
                raise
            except httpx.TimeoutException:
                raise TransientFetch(current, "timeout") from None
            except httpx.DecodingError:
                raise PermanentFetch(current, "undecodable content-encoding") from None
            except httpx.InvalidURL as exc:
                raise RefusedURL(current, f"malformed URL ({exc})") from None
            except httpx.HTTPError as exc:
                raise TransientFetch(current, f"{type(exc).__name__}: {exc}") from None
        raise PermanentFetch(url, f"more than {settings.fetch_max_redirects} redirects")

    def _read_capped(self, url: str, resp: httpx.Response, deadline: float) -> bytes:
        """Read the decoded body in chunks; stop at the cap or the deadline, not after."""
        cap = self._settings.fetch_max_bytes
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise PermanentFetch(url, f"too large (declared {int(declared)} bytes > {cap})")
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_bytes(CHUNK):
            size += len(chunk)
            if size > cap:
                raise PermanentFetch(url, f"too large (over {cap} bytes)")
            if time.monotonic() > deadline:
                raise TransientFetch(url, "deadline exceeded while reading")
            chunks.append(chunk)
        return b"".join(chunks)
