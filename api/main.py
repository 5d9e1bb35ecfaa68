"""Builds the FastAPI app. Models load in the lifespan, never at import."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from api import errors
from api.deps import bearer_token
from api.metrics import Metrics
from api.routes import (
    admin,
    candidates,
    careers,
    centres,
    connections,
    feedback,
    health,
    jobs,
    pages,
    programmes,
    recommendations,
    taxonomy,
)
from matcher.services import ACKNOWLEDGEMENT, MatcherService, Worker, hash_secret, load_demo
from matcher.settings import Settings, get_settings

logger = logging.getLogger("matcher.api")

DESCRIPTION = f"""
Job matching and skills recommendations for Vietnamese career changers and overseas contract
workers, on the ESCO taxonomy, in Vietnamese and English.

- Job seekers: `POST /v1/candidates` (keep the token), `POST /v1/recommendations/jobs`.
- Employers (API key from `matcher keys create --employer NAME`): `POST /v1/jobs`,
  `POST /v1/jobs/bulk`, `POST /v1/jobs/{{id}}/candidates`.

Credentials go in `Authorization: Bearer <secret>`: an employer key, the admin key, or a
candidate's token. A route that needs none ignores whatever is sent (a wrong, revoked or
other kind of credential included). A route that needs one answers 401 when none that it
accepts is sent (missing, malformed, unknown or revoked key) and 403 when the credential is
valid but not allowed (another employer's posting, another person's profile, an employer key
on an admin route). Errors are JSON `{{"error": {{"code", "message"}}}}`; creates accept an
`Idempotency-Key` header so that a retry creates nothing twice.

{ACKNOWLEDGEMENT}
"""


def create_app(
    settings: Settings | None = None,
    *,
    demo: bool = False,
    worker: Worker | None = None,
    on_ready: Callable[[], object] | None = None,
) -> FastAPI:
    """The app. With ``demo``, the synthetic demo set is loaded at start-up (once per state).
    ``worker``: this process is one of several serving the same store (``matcher serve
    --workers N``, :mod:`api.serve`); its responses name it in ``X-Matcher-Worker``.
    ``on_ready``: called once the app is ready to serve."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = MatcherService(settings)
        app.state.service = service

        def progress(name: str, done: int, total: int) -> None:
            logger.info("indexing %s: %d/%d", name, done, total)

        report = await run_in_threadpool(partial(service.start, progress, worker=worker))
        logger.info("index reconciled with the store: %s", report)
        if settings.env == "production":
            revoked = await run_in_threadpool(service.revoke_demo_keys)
            if revoked:
                logger.warning("production: revoked %d demo key(s)", revoked)
        if demo:
            summary = await run_in_threadpool(load_demo, service)
            logger.info(
                "DEMO KEYS (synthetic demo data on this machine only; every record is marked "
                "[DEMO]): employer key %s, admin key %s, candidate %s with token %s; also in %s",
                summary["employer_key"], summary["admin_key"], summary["example_candidate_id"],
                summary["example_candidate_token"], settings.state_dir / "demo.json",
            )  # fmt: skip
        app.state.ready = True
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            app.state.ready = False
            service.close()  # stops the workers, saves the indexes, closes the store

    app = FastAPI(
        title="matcher",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "MIT; ESCO data © European Union, reused under Decision 2011/833/EU"},
    )
    app.state.ready = False
    app.state.in_flight = 0  # /v1 requests being served (the event loop's thread only)
    app.state.metrics = Metrics(lambda: health.gauges(app))
    errors.install(app)

    @app.middleware("http")
    async def guard_and_measure(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response: Response
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_body_bytes:
            response = JSONResponse(
                errors.error_body(
                    "too_large",
                    f"the request body is {int(length):,} bytes; the limit is {settings.max_body_bytes:,}",
                ),
                status_code=413,
            )
        elif request.method in ("POST", "PUT") and not _acceptable_type(request):
            response = JSONResponse(
                errors.error_body(
                    "unsupported_media_type",
                    "send the body as application/json (bulk imports: application/x-ndjson or text/csv)",
                ),
                status_code=415,
            )
        elif app.state.in_flight >= settings.max_in_flight and request.url.path.startswith("/v1/"):
            response = JSONResponse(
                errors.error_body(
                    "overloaded",
                    f"{app.state.in_flight} requests are being served; retry in a few seconds",
                ),
                status_code=503,
                headers={"Retry-After": "2"},
            )
        elif (
            not app.state.ready
            and request.url.path.startswith("/v1/")
            and request.url.path != "/v1/about"
        ):
            response = JSONResponse(
                errors.error_body(
                    "starting", "the service is still loading its models; retry shortly"
                ),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        elif request.url.path.startswith("/v1/") and (
            wait := await _over_rate_limit(request, settings)
        ):
            response = JSONResponse(
                errors.error_body("rate_limited", f"too many requests; retry in {wait} seconds"),
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        elif not request.url.path.startswith("/v1/"):  # health, metrics, pages: not bounded
            response = await call_next(request)
        else:
            app.state.in_flight += 1
            try:
                response = await call_next(request)
            finally:
                app.state.in_flight -= 1
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        app.state.metrics.observe(
            request.method, path, response.status_code, time.perf_counter() - started
        )
        if worker is not None:
            response.headers["X-Matcher-Worker"] = str(worker.number)
        return response

    for router in (
        health.router,
        taxonomy.router,
        jobs.router,
        candidates.router,
        recommendations.router,
        careers.router,
        programmes.router,
        feedback.router,
        connections.router,
        centres.router,
        admin.router,
        pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    errors.document(app)
    return app


async def _over_rate_limit(request: Request, settings: Settings) -> int | None:
    """Seconds to wait when this credential (or, without one, this client address) is over
    its per-minute limit; the counters live in the store, so every worker shares them."""
    service = getattr(request.app.state, "service", None)
    if service is None or not request.app.state.ready:
        return None
    token = bearer_token(request)
    if token:
        bucket, limit = f"key:{hash_secret(token)[:40]}", settings.rate_limit_per_key
    else:
        host = request.client.host if request.client else "-"
        bucket, limit = f"addr:{host}", settings.rate_limit_per_address
    if limit <= 0:
        return None
    return await run_in_threadpool(service.count_request, bucket, limit=limit)


def _acceptable_type(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().casefold()
    length = request.headers.get("content-length")
    if not content_type and (length in (None, "0")):
        return True  # no body at all
    if request.url.path.endswith("/bulk"):
        return content_type in ("application/x-ndjson", "application/jsonl", "application/json-lines",
                                "application/x-jsonlines", "text/csv", "application/csv")  # fmt: skip
    return content_type == "application/json"
