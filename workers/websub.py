"""The WebSub callback receiver (`newswire websub`): the one endpoint strangers reach from outside.

Its own process and port, so that nothing of the monitor is exposed with it: it answers only
`/websub/<feed id>.<token>` (verification of intent, pushes) and `/livez`. A push is ruled on
here (services/push/intake.py) and handed to the workers; nothing is fetched or parsed here.
"""

import base64
import logging
import threading
import time

import uvicorn
from newswire.services.broker import open_redis
from newswire.services.errors import BrokerError
from newswire.services.metrics import Metrics
from newswire.services.polling.registry import Registry
from newswire.services.push.intake import STATUS, Intake, Push
from newswire.services.push.subscriptions import Subscriptions
from newswire.services.settings import Settings
from newswire.workers.celery_app import PUSH_TASK, make_app
from newswire.workers.monitor import HEADER_TIMEOUT, BoundedH11, run_until
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)


async def read_capped(request: Request, cap: int) -> bytes | None:
    """The body, or None as soon as it is known to be over `cap` (the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: Settings) -> Starlette:
    client = open_redis(settings, check=False)
    subscriptions = Subscriptions(client, settings.key_prefix)
    registry = Registry(client, settings.key_prefix, settings.poll_interval)
    intake = Intake(
        subscriptions, registry, Metrics(client, settings.key_prefix),
        max_body=settings.websub_max_body_bytes, per_minute=settings.websub_pushes_per_minute,
    )  # fmt: skip
    celery = make_app(settings)

    async def verify(request: Request) -> Response:
        params = {k: v for k, v in request.query_params.items() if k.startswith("hub.")}
        name = request.path_params["name"]
        try:
            answer = await run_in_threadpool(intake.verify_intent, name, params, time.time())
        except BrokerError:
            return PlainTextResponse("unavailable, try again", status_code=503)
        return PlainTextResponse(answer.body, status_code=answer.status)

    async def push(request: Request) -> Response:
        body = await read_capped(request, settings.websub_max_body_bytes)
        signature = request.headers.get("x-hub-signature")
        now = time.time()
        try:
            outcome, sub = await run_in_threadpool(
                intake.receive, request.path_params["name"], body, signature, now
            )
            if outcome == Push.FAT and sub is not None and body is not None:
                args = [sub.feed_id, base64.b64encode(body).decode(),
                        request.headers.get("content-type"), now]  # fmt: skip
                await run_in_threadpool(celery.send_task, PUSH_TASK, args=args)
        except (BrokerError, OSError) as exc:
            # The hub retries a failed delivery: better than taking what cannot be kept.
            log.warning("push not taken, Redis unavailable: %s", exc)
            return PlainTextResponse("unavailable, try again", status_code=503)
        headers = {"Retry-After": str(60 - int(now) % 60)} if outcome == Push.RATE_LIMITED else {}
        return PlainTextResponse(outcome.value, status_code=STATUS[outcome], headers=headers)

    async def livez(_request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [
        Route("/websub/{name}", verify, methods=["GET"]),
        Route("/websub/{name}", push, methods=["POST"]),
        Route("/livez", livez, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.close = client.close
    return app


def serve(settings: Settings, host: str, port: int, stop: threading.Event | None = None) -> None:
    """Run the receiver on uvicorn until SIGTERM/SIGINT (or `stop` is set)."""
    app = create_app(settings)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False,
        timeout_keep_alive=HEADER_TIMEOUT, http=BoundedH11, backlog=1024,
    )  # fmt: skip
    public = settings.websub_public_url or "(NEWSWIRE_WEBSUB_PUBLIC_URL unset: no subscriptions)"
    print(f"newswire websub receiver on http://{host}:{port}/websub/ for {public}", flush=True)
    try:
        run_until(config, stop)
    finally:
        app.state.close()
