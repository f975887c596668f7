"""Fetch: one guarded HTTP GET with a deadline, a size cap, manual redirects and status mapping."""

import base64
import functools
import hashlib
import logging
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from newswire.schemas.feed import FeedOptions
from newswire.services.errors import (
    FetchError,
    FetchKind,
    PermanentFetch,
    RefusedURL,
    TransientFetch,
)
from newswire.services.fetch.cookies import HopCookies, KeepNone
from newswire.services.fetch.deadline import deadline as clock_limit
from newswire.services.fetch.decoding import ACCEPTED, read_capped
from newswire.services.fetch.guard import AllowList, GuardedBackend, check_url, pick_address
from newswire.services.fetch.slots import HostSlots
from newswire.services.fetch.transport import GuardedTransport
from newswire.services.hints import retry_after as parse_retry_after
from newswire.services.identity.urls import origin
from newswire.services.settings import Settings

log = logging.getLogger(__name__)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
REPLY_BYTES = 64 * 1024  # of an answer to a POST, read at most


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

    @functools.cached_property
    def digest(self) -> str:
        """A digest of the body (computed once): the same feed body is not parsed twice."""
        return hashlib.blake2b(self.content, digest_size=16).hexdigest()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


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


@dataclass(frozen=True)
class RequestOptions:
    """One feed's request settings. The credentials (extra headers, cookies, basic auth) go
    only to the feed's own origin (scheme, host and port of `site`) and to the origins its
    options list (`origins`), never over plain http for an https feed, and so never to a
    page or a redirect hop anywhere else."""

    site: str
    headers: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    user_agent: str | None = None
    proxy: str | None = None
    origins: frozenset[str] = frozenset()

    @classmethod
    def from_feed(cls, feed_url: str, options: FeedOptions) -> "RequestOptions | None":
        """None when the feed has no request option: the shared default client serves it."""
        auth = (options.username, options.password or "") if options.username else None
        listed = frozenset(filter(None, (origin(o) for o in options.credential_origins)))
        made = cls(feed_url, dict(options.headers), auth, dict(options.cookies),
                   options.user_agent, options.proxy, listed)  # fmt: skip
        return made if made != cls(feed_url) else None

    def credentials_go_to(self, url: str) -> bool:
        """Whether `url`'s origin is the feed's own or one listed, and not a downgrade."""
        target, own = origin(url), origin(self.site)
        if target is None or own is None:
            return False
        if own.startswith("https:") and not target.startswith("https:"):
            return False
        return target == own or target in self.origins

    @property
    def secrets(self) -> list[str]:
        """Every credential value, so that no error text can carry one."""
        values = [*self.headers.values(), *self.cookies.values()]
        if self.auth:
            values += [self.auth[1], self.auth[0]]
        return [v for v in values if len(v) >= 4]

    def headers_for(self, url: str) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent} if self.user_agent else {}
        if not self.credentials_go_to(url):
            return headers
        headers.update(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.auth:
            headers["Authorization"] = basic_auth(*self.auth)
        return headers


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret value in it masked."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def fetch_error(url: str, exc: Exception, *, proxied: bool = False) -> Exception:
    """The one place where what httpx (and the guard) raise becomes newswire's FetchError;
    anything else is handed back unchanged, to be raised as it was."""
    if isinstance(exc, RefusedURL):
        # The guard only knows host:port; report the link that led there.
        return RefusedURL(url, exc.reason)
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, httpx.TimeoutException):
        return TransientFetch(url, "timeout", kind=FetchKind.TIMEOUT)
    if isinstance(exc, httpx.DecodingError):
        return PermanentFetch(url, "undecodable content-encoding", kind=FetchKind.UNDECODABLE)
    if isinstance(exc, httpx.LocalProtocolError | httpcore.LocalProtocolError):
        # h11's text quotes the offending header, value and all: never copied.
        return PermanentFetch(
            url, "request refused by the HTTP library: a header, cookie or credential of this "
            "feed is malformed (set it again with `newswire feeds add`)",
        )  # fmt: skip
    if isinstance(exc, httpx.InvalidURL):
        return RefusedURL(url, f"malformed URL ({exc})")
    if isinstance(exc, httpx.ProxyError):
        return TransientFetch(url, f"proxy refused: {exc}", kind=FetchKind.PROXY)
    if isinstance(exc, httpx.ConnectError | httpcore.ConnectError):
        if proxied:
            return TransientFetch(url, f"proxy unreachable: {exc}", kind=FetchKind.PROXY)
        return TransientFetch(url, f"ConnectError: {exc}")
    if isinstance(exc, httpx.HTTPError):
        return TransientFetch(url, f"{type(exc).__name__}: {exc}")
    return exc


def precheck_proxied(url: str, allow: AllowList) -> None:
    """A proxy resolves the name itself: refuse what resolves to a private address here first
    (the best check possible when the proxy connects, not us)."""
    target = urlsplit(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    pick_address(target.hostname or "", port, allow)


class Fetcher:
    """A pooled HTTP client whose every connection passes the SSRF guard.

    Redirects are followed here, not by httpx, so each hop's scheme is checked and the hop count
    is ours; the guard itself sits in the connection backend, so it checks each hop's address.
    A GET goes straight to the guarded transport, not through httpx.Client: the client's
    redirect, auth, cookie and hook machinery is all unused here, and cost 0.15-0.3 ms of CPU
    a page; the body's content-encoding is undone here too, bounded by the cap.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._allow = AllowList.parse(settings.allow_hosts)
        self._defaults = {"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPTED}
        self._transport = self._new_transport(None)
        # Only for the rare POST (a WebSub subscription), which wants httpx's form encoding.
        self._client = httpx.Client(
            transport=self._transport, follow_redirects=False, trust_env=False,
            cookies=KeepNone(), headers=self._defaults,
        )  # fmt: skip
        self._proxied: dict[str, GuardedTransport] = {}
        self._lock = threading.Lock()
        self._slots = HostSlots(settings.host_connections)

    def _new_transport(self, proxy: str | None) -> GuardedTransport:
        allow = self._allow
        if proxy:
            # The proxy is the operator's own choice: its address may be private.
            parts = urlsplit(proxy)
            port = parts.port or (1080 if parts.scheme.startswith("socks") else 80)
            allow = AllowList.parse([*self._settings.allow_hosts, f"{parts.hostname}:{port}"])
        # The guard is the pool's network backend: the one place where the address checked is
        # also the address connected to.
        return GuardedTransport(GuardedBackend(allow), proxy)

    def _transport_for(self, options: RequestOptions | None) -> GuardedTransport:
        if options is None or not options.proxy:
            return self._transport
        with self._lock:
            transport = self._proxied.get(options.proxy)
            if transport is None:
                transport = self._proxied[options.proxy] = self._new_transport(options.proxy)
            return transport

    def close(self) -> None:
        self._client.close()  # and its transport, the shared one
        with self._lock:
            for transport in self._proxied.values():
                transport.close()
            self._proxied.clear()

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
        options: RequestOptions | None = None,
        prefix: int | None = None,
    ) -> FetchResult:
        """GET `url` within the deadline; raise a FetchError subclass for anything but success.

        With `prefix`, only the body's first `prefix` bytes are read, whatever its size (RFC
        9309's 500 KiB of a robots.txt), instead of refusing a body over the size cap.

        `allowed_types` refuses other declared content types before the body is read, so a
        PDF or a video linked from a feed costs one response header, not its size. The deadline
        holds by the clock, whatever the server does: every socket operation (connect, TLS,
        headers, body) is bounded by what is left of it.
        """
        # The server's slot is had before the clock starts: waiting one's turn behind a slow
        # server's other pages is no fault of this fetch.
        with self._slots.hold(url), clock_limit(self._settings.fetch_deadline) as deadline:
            try:
                return self._get(
                    url,
                    accept=accept,
                    allowed_types=allowed_types,
                    etag=etag,
                    last_modified=last_modified,
                    deadline=deadline,
                    options=options,
                    prefix=prefix,
                )
            except TransientFetch as exc:
                if time.monotonic() >= deadline:
                    raise TransientFetch(
                        exc.url, "deadline exceeded", kind=FetchKind.TIMEOUT
                    ) from None
                raise

    def post_form(self, url: str, form: dict[str, str]) -> FetchResult:
        """POST `form` to `url` (a WebSub hub), guarded and timed like any fetch; no redirect
        followed, 64 KiB of the answer read at most, any status returned for the caller."""
        limits = self._settings
        timeout = httpx.Timeout(limits.fetch_read_timeout, connect=limits.fetch_connect_timeout)
        with clock_limit(limits.fetch_deadline) as deadline:
            check_url(url)
            try:
                with self._client.stream("POST", url, data=form, timeout=timeout) as resp:
                    body = read_capped(url, resp, deadline, limits.fetch_max_bytes, REPLY_BYTES)
                    return FetchResult(url, resp.status_code, dict(resp.headers), body)
            except Exception as exc:
                raise fetch_error(url, exc) from None

    def _get(
        self,
        url: str,
        *,
        accept: str,
        allowed_types: frozenset[str] | None,
        etag: str | None,
        last_modified: str | None,
        deadline: float,
        options: RequestOptions | None = None,
        prefix: int | None = None,
    ) -> FetchResult:
        settings = self._settings
        transport = self._transport_for(options)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[str] = []
        permanent = True
        current = url
        cookies = HopCookies()
        for _hop in range(settings.fetch_max_redirects + 1):
            check_url(current)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransientFetch(url, "deadline exceeded", kind=FetchKind.TIMEOUT)
            read = min(settings.fetch_read_timeout, remaining)
            timeout = {"connect": min(settings.fetch_connect_timeout, remaining),
                       "read": read, "write": read, "pool": read}  # fmt: skip
            hop_headers = {**headers, **options.headers_for(current)} if options else headers
            hop_headers = cookies.add_to(current, hop_headers)
            try:
                if options is not None and options.proxy:
                    precheck_proxied(current, self._allow)
                request = get_request(current, self._defaults, hop_headers, timeout)
                with closing(transport.handle_request(request)) as resp:
                    resp.request = request  # for the cookies a redirect sets
                    # httpx's client logged this line; operators grep for it (URLs are
                    # redacted by the handlers' filter, services/redact.py)
                    log.info('HTTP Request: GET %s "%s %d %s"', request.url, resp.http_version,
                             resp.status_code, resp.reason_phrase)  # fmt: skip
                    if resp.status_code in REDIRECTS and "location" in resp.headers:
                        cookies.take(resp)
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
                        raise PermanentFetch(
                            current, f"unsupported content type {content_type}",
                            kind=FetchKind.NOT_HTML,
                        )  # fmt: skip
                    body = read_capped(current, resp, deadline, settings.fetch_max_bytes, prefix)
                    return FetchResult(
                        current, resp.status_code, dict(resp.headers), body, moved_to, redirects
                    )
            except Exception as exc:
                error = fetch_error(current, exc, proxied=bool(options and options.proxy))
                if options is not None and isinstance(error, FetchError):
                    error.reason = scrub(error.reason, options.secrets)
                    error.args = (f"{error.reason}: {error.url}",)
                raise error from None
        raise PermanentFetch(
            url, f"more than {settings.fetch_max_redirects} redirects", kind=FetchKind.REDIRECTS
        )


def get_request(
    url: str, defaults: dict[str, str], extra: dict[str, str], timeout: dict[str, float]
) -> httpx.Request:
    """A GET with the client's `defaults` under the hop's headers (names matched in any case).
    Credentials written into the URL ("http://user:pass@host/feed") are sent as Basic auth to
    that URL only, as httpx's client did, unless the feed's options set their own."""
    headers = httpx.Headers(defaults)
    headers.update(extra)
    request = httpx.Request("GET", url, headers=headers, extensions={"timeout": timeout})
    user, password = request.url.username, request.url.password
    if (user or password) and "authorization" not in request.headers:
        request.headers["Authorization"] = basic_auth(user, password)
    return request


def basic_auth(user: str, password: str) -> str:
    """The Authorization header's value for HTTP Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
