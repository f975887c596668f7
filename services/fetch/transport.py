"""Transport: httpx requests carried by an httpcore pool built on the guarded network backend."""

import functools
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

# httpx's defaults for one client (httpx.Limits()), spelled once here.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)

# What httpcore raises, as the httpx exception callers catch: most specific first.
MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


# httpcore's errors have no common base (ProxyError and UnsupportedProtocol stand alone).
HTTPCORE_ERRORS = tuple(source for source, _target in MAPPED)


@contextmanager
def httpx_errors(request: httpx.Request | None = None) -> Iterator[None]:
    """httpcore's exceptions raised inside as httpx's (anything else passes unchanged: the
    guard's RefusedURL among them)."""
    try:
        yield
    except HTTPCORE_ERRORS as exc:
        target = next(t for s, t in MAPPED if isinstance(exc, s))
        raise target(str(exc), request=request) from exc


class _Body(httpx.SyncByteStream):
    """A response body read from httpcore, its errors mapped."""

    def __init__(self, stream: httpcore.Response, request: httpx.Request) -> None:
        self._response = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with httpx_errors(self._request):
            yield from self._response.iter_stream()

    def close(self) -> None:
        with httpx_errors(self._request):
            self._response.close()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The system's certificate store, loaded once a process (~35 ms a time): shared by every
    pool (an SSLContext is thread-safe), and by a worker's pool children when built before
    the fork (`workers/warmup.py`)."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport whose pool (direct, HTTP proxy or SOCKS proxy) is handed `backend`
    through httpcore's public `network_backend` parameter: every TCP connection, including
    each redirect hop and each proxy connection, is opened by that backend."""

    def __init__(self, backend: httpcore.NetworkBackend, proxy: str | None = None) -> None:
        self.backend = backend
        common: dict[str, Any] = {
            "ssl_context": tls_context(),
            "max_connections": LIMITS.max_connections,
            "max_keepalive_connections": LIMITS.max_keepalive_connections,
            "keepalive_expiry": LIMITS.keepalive_expiry,
            "network_backend": backend,
        }
        self._pool: httpcore.ConnectionPool
        if proxy is None:
            self._pool = httpcore.ConnectionPool(retries=0, **common)
            return
        parsed = httpx.Proxy(proxy)
        url = httpcore.URL(
            scheme=parsed.url.raw_scheme,
            host=parsed.url.raw_host,
            port=parsed.url.port,
            target=parsed.url.raw_path,
        )
        if parsed.url.scheme in ("http", "https"):
            self._pool = httpcore.HTTPProxy(
                proxy_url=url,
                proxy_auth=parsed.raw_auth,
                proxy_headers=parsed.headers.raw,
                proxy_ssl_context=parsed.ssl_context,
                **common,
            )
        elif parsed.url.scheme in ("socks5", "socks5h"):
            self._pool = httpcore.SOCKSProxy(
                proxy_url=url,
                proxy_auth=parsed.raw_auth,
                **common,
            )
        else:
            raise ValueError(f"proxy scheme {parsed.url.scheme!r} is not http, https or socks5")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with httpx_errors(request):
            response = self._pool.handle_request(core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        with httpx_errors():
            self._pool.close()
