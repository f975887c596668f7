"""The monitor HTTP service (`newswire monitor`): FastAPI on uvicorn for probes, metrics, status."""

import asyncio
import ipaddress
import logging
import secrets
import threading
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from fastapi.templating import Jinja2Templates
from newswire.schemas.status import ApiError, FeedsPage, Readiness, Status
from newswire.services.broker import open_redis, redis_errors
from newswire.services.errors import BrokerError
from newswire.services.metrics import Metrics
from newswire.services.ops.exposition import NewswireCollector
from newswire.services.ops.status import StatusReader, feed_health
from newswire.services.polling.registry import Registry
from newswire.services.redact import redact_url
from newswire.services.settings import Settings
from newswire.workers.timefmt import ago, every, utc_clock
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

import newswire

log = logging.getLogger(__name__)
PAGE_FEEDS = 500  # the page lists at most this many feeds, worst first
PAGE_REFRESH = 10  # seconds between the page's own reloads
IDLE_TIMEOUT = 30  # seconds an idle keep-alive connection stays open
HEADER_TIMEOUT = 10  # seconds from a connection (or its last response) to a whole request head
# Host headers always answered (beside any IP literal): this machine, and compose's service.
LOCAL_HOSTS = frozenset({"localhost", "monitor", "newswire-monitor"})
TEMPLATES = Path(__file__).parent / "templates"
HEALTH_ORDER = {"failing": 0, "backing_off": 1, "disabled": 2, "healthy": 3}

# Documented on every protected operation, so clients (and schemathesis) know them.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ApiError, "description": "Credentials missing or wrong (auth is on)."},
    503: {"model": ApiError, "description": "Redis is unreachable."},
}


class BoundedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on every request head: uvicorn arms its
    keep-alive timer only after a response, so a connection that opens and says nothing, or
    sends its headers a byte at a time, would otherwise stay open for good."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # a whole request head arrived: the app's time now
        elif self._head_timer is None and not self.transport.is_closing():
            self._arm()  # part of the next head: the deadline runs from its first byte

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(HEADER_TIMEOUT, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host names the monitor answers (None: any), NEWSWIRE_MONITOR_ALLOWED_HOSTS added."""
    extra = [h.strip().lower() for h in settings.monitor_allowed_hosts.split(",") if h.strip()]
    if "*" in extra:
        return None
    return LOCAL_HOSTS | {settings.monitor_host.lower(), *extra}


def host_allowed(header: str, allowed: frozenset[str] | None) -> bool:
    """Whether a Host header names this monitor. Any IP literal is: DNS rebinding needs a
    name (the attacker's) that resolves to us, and a literal address is no such name."""
    if allowed is None:
        return True
    header = header.strip().lower()
    if header.startswith("["):
        name = header[1 : header.find("]")] if "]" in header else ""
    else:
        name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    name = name.rstrip(".")
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name in allowed


class HostCheck:
    """ASGI middleware: a request whose Host header is not this monitor's gets 400 (probes on
    /livez and /healthz excepted: they show nothing)."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in ("/livez", "/healthz"):
            host = Headers(scope=scope).get("host", "")
            if not host_allowed(host, self.allowed):
                response = PlainTextResponse(
                    "Host header not allowed: add the name this monitor is reached by to "
                    "NEWSWIRE_MONITOR_ALLOWED_HOSTS\n",
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BrokerUnavailable(Exception):
    """Raised by a handler whose Redis read failed; answered 503."""


def require_auth(settings: Settings) -> Any:
    """A dependency that lets a request through when auth is off or its credentials match
    the bearer token or the basic-auth password (compared in constant time)."""
    bearer = HTTPBearer(auto_error=False, description="NEWSWIRE_MONITOR_TOKEN")
    basic = HTTPBasic(auto_error=False, description="NEWSWIRE_MONITOR_PASSWORD")
    token = settings.monitor_token.get_secret_value() if settings.monitor_token else None
    password = settings.monitor_password.get_secret_value() if settings.monitor_password else None

    def check(
        request: Request,
        given_token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        given_basic: Annotated[HTTPBasicCredentials | None, Depends(basic)],
    ) -> None:
        if token is None and password is None:
            return
        if (
            token is not None
            and given_token is not None
            and secrets.compare_digest(given_token.credentials.encode(), token.encode())
        ):
            return
        if password is not None and given_basic is not None:
            user_ok = secrets.compare_digest(
                given_basic.username.encode(), settings.monitor_user.encode()
            )
            password_ok = secrets.compare_digest(given_basic.password.encode(), password.encode())
            if user_ok and password_ok:
                return
        raise Unauthorized(basic=password is not None)

    return check


class Unauthorized(Exception):
    def __init__(self, basic: bool) -> None:
        super().__init__("credentials required")
        self.basic = basic


def create_app(settings: Settings) -> FastAPI:
    """The monitor's application; one Redis client shared by the request threads."""
    client = open_redis(settings, check=False)
    reader = StatusReader(client, settings)
    metrics = Metrics(client, settings.key_prefix)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NewswireCollector(metrics.read, reader.collect, settings.stream_maxlen))
    templates = Jinja2Templates(directory=TEMPLATES)  # autoescape on for .html templates
    templates.env.filters["ago"] = ago
    templates.env.filters["utc_clock"] = utc_clock

    app = FastAPI(
        title="newswire monitor",
        version=newswire.__version__,
        description="Health probes, Prometheus metrics and the status of a newswire "
        "deployment. `/livez` is always open; everything else needs the bearer token or "
        "basic-auth password when `NEWSWIRE_MONITOR_TOKEN` or `NEWSWIRE_MONITOR_PASSWORD` "
        "is set.",
        # Served below, behind the same credentials as the rest.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(BrokerError)
    def broker_down(_request: Request, exc: BrokerError) -> JSONResponse:
        return JSONResponse({"detail": f"Redis unavailable: {exc}"}, status_code=503)

    @app.exception_handler(404)
    def not_found(_request: Request, _exc: Exception) -> PlainTextResponse:
        return PlainTextResponse(
            "not found: try /, /livez, /readyz, /metrics, /api/status, /api/feeds, /docs\n",
            status_code=404,
        )

    @app.exception_handler(Unauthorized)
    def unauthorized(_request: Request, exc: Unauthorized) -> JSONResponse:
        challenge = 'Basic realm="newswire"' if exc.basic else "Bearer"
        return JSONResponse(
            {"detail": "credentials required: a bearer token or basic auth (see the README)"},
            status_code=401,
            headers={"WWW-Authenticate": challenge},
        )

    @app.get(
        "/livez",
        response_class=PlainTextResponse,
        tags=["probes"],
        summary="Liveness: the process answers (never needs credentials)",
    )
    async def livez() -> str:
        # async: answered on the event loop, never queued behind Redis reads in the threadpool
        return "ok\n"

    app.add_api_route(
        "/healthz", livez, response_class=PlainTextResponse, include_in_schema=False
    )  # the name compose files and older probes use

    protected = APIRouter(dependencies=[Depends(require_auth(settings))], responses=ERRORS)

    @protected.get(
        "/readyz",
        response_model=Readiness,
        tags=["probes"],
        summary="Readiness: Redis, a worker and the scheduler up (503 when not)",
        responses={503: {"model": Readiness, "description": "Not ready: `reasons` says why."}},
    )
    def readyz() -> JSONResponse:
        try:
            with redis_errors("ping"):
                client.ping()
            reasons = reader.readiness()
        except BrokerError as exc:
            reasons = [f"Redis unreachable: {exc}"]
        body = Readiness(ready=not reasons, reasons=reasons)
        return JSONResponse(body.model_dump(), status_code=503 if reasons else 200)

    @protected.get(
        "/metrics",
        tags=["metrics"],
        summary="Prometheus metrics (text exposition format)",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def prometheus() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @protected.get(
        "/api/feeds", response_model=FeedsPage, tags=["status"], summary="Feeds and schedules"
    )
    def api_feeds(
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> FeedsPage:
        """Each feed's interval (learned or fixed), expected gap, what it was learned from and
        its next poll, by URL, `limit` from `offset`."""
        return reader.schedules(offset, limit)

    @protected.get("/api/status", response_model=Status, tags=["status"], summary="Status")
    def api_status() -> Status:
        """Workers, queues, scheduler, streams and feeds: the same as `newswire status --json`."""
        return reader.collect()

    @protected.get(
        "/",
        response_class=HTMLResponse,
        tags=["status"],
        summary="The status page (HTML, reloads itself)",
    )
    def page(request: Request) -> HTMLResponse:
        status = reader.collect()
        feeds = Registry(client, settings.key_prefix).all()
        feeds.sort(key=lambda f: (HEALTH_ORDER[feed_health(f)], f.url))
        now = status.generated_at
        rows = [
            {"url": redact_url(f.url), "health": feed_health(f), "errors": f.error_count,
             "last": f.last_error or f.last_status or "new", "polled": ago(f.last_polled, now),
             "every": every(f), "why": f.learned_from or "fixed interval",
             "due": "disabled" if not f.enabled else ago(f.next_due, now)}
            for f in feeds[:PAGE_FEEDS]
        ]  # fmt: skip
        stream = status.streams[0] if status.streams else None
        per_minute = stream.per_minute if stream else []
        cards = [
            ("articles on stream", stream.length if stream else 0),
            ("last hour", sum(per_minute)),
            ("workers online", f"{sum(w.online for w in status.workers)}/{len(status.workers)}"),
            ("feeds healthy", f"{status.feeds.healthy}/{status.feeds.total}"),
            ("queued", sum(q.length for q in status.queues)),
        ]
        return templates.TemplateResponse(
            request,
            "status.html",
            {
                "status": status, "now": now, "stream": stream, "per_minute": per_minute,
                "peak": max(per_minute or [0]) or 1, "cards": cards, "feeds": rows,
                "shown": len(rows), "f": status.feeds, "refresh": PAGE_REFRESH,
            },
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    @protected.get("/openapi.json", include_in_schema=False)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @protected.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="newswire monitor API")

    app.include_router(protected)
    app.add_middleware(HostCheck, allowed=allowed_hosts(settings))
    return app


def serve(settings: Settings, host: str, port: int, stop: threading.Event | None = None) -> None:
    """Run the monitor on uvicorn until SIGTERM/SIGINT (or `stop` is set)."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=IDLE_TIMEOUT,
        http=BoundedH11,
        backlog=1024,  # bursts of probes and scrapers
    )
    auth = "on" if settings.monitor_token or settings.monitor_password else "off"
    print(f"newswire monitor on http://{host}:{port}/ (auth {auth}, API at /docs)", flush=True)
    run_until(config, stop)


def run_until(config: uvicorn.Config, stop: threading.Event | None) -> None:
    """Run uvicorn with `config` until SIGTERM/SIGINT, or until `stop` is set."""
    server = uvicorn.Server(config)
    if stop is not None:

        def stop_when_asked() -> None:
            stop.wait()
            server.should_exit = True

        threading.Thread(target=stop_when_asked, daemon=True).start()
    server.run()
