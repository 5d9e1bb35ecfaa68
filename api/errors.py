"""Library errors → HTTP responses, in one place. Bad input is never a 500."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher.errors import (
    ConflictError,
    DataDirError,
    ForbiddenError,
    InvalidInputError,
    MatcherError,
    ModelNotReadyError,
    NotFoundError,
    OverloadedError,
    RateLimitedError,
    TextTooLongError,
    UnauthorizedError,
)

logger = logging.getLogger(__name__)

STATUS = [
    (UnauthorizedError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TextTooLongError, 413),
    (InvalidInputError, 422),
    (RateLimitedError, 429),
    (ModelNotReadyError, 503),
    (OverloadedError, 503),
    (DataDirError, 503),
]


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def status_for(error: MatcherError) -> int:
    return next((status for kind, status in STATUS if isinstance(error, kind)), 500)


def install(app: FastAPI) -> None:
    @app.exception_handler(MatcherError)
    async def matcher_error(_: Request, error: MatcherError) -> JSONResponse:
        status = status_for(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": "2"}
        if isinstance(error, RateLimitedError):
            headers = {"Retry-After": str(max(1, error.retry_after))}
        if status > 503 or status == 500:
            logger.error("service error: %s", error)
        return JSONResponse(error_body(error.code, str(error)), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors():
            if item.get("type") == "json_invalid":
                problems.append({"field": "body", "message": "the body is not valid JSON"})
                continue
            where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
            problems.append({"field": where or "body", "message": item.get("msg", "invalid")})
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        return JSONResponse(
            error_body(
                "invalid_request", f"the request is not valid: {summary}", problems=problems
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body that is not UTF-8 JSON: a 422 like any bad body
            return JSONResponse(
                error_body("invalid_request", "the body is not valid JSON (send UTF-8 JSON)",
                           problems=[{"field": "body", "message": str(error.detail)}]),
                status_code=422,
            )  # fmt: skip
        headers = getattr(error, "headers", None)
        if error.status_code == 405:  # every method of every route on this path
            headers = {"Allow": ", ".join(_allowed_methods(request))}
        codes = {
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            415: "unsupported_media_type",
        }
        return JSONResponse(
            error_body(codes.get(error.status_code, "http_error"), str(error.detail)),
            status_code=error.status_code,
            headers=headers,
        )


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "what went wrong, what to do"},
                "problems": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
#: Statuses every /v1 operation may answer, and those of operations with a body or path ids.
ALWAYS = {
    "401": "no credential this route accepts (missing, malformed, unknown or revoked)",
    "403": "the credential is valid but not allowed here",
    "422": "the request is not valid; `problems` names each field",
    "429": "too many requests for this credential or address; retry after `Retry-After` s",
    "503": "the service is starting or overloaded; retry after `Retry-After` seconds",
}
WITH_BODY = {"404": "a record named in the body does not exist (or is not yours to see)",
             "409": "conflicts with an earlier request (e.g. an Idempotency-Key reused)",
             "413": "the body or a text is too long", "415": "send application/json"}  # fmt: skip
WITH_ID = {"404": "no such record (or not yours to see)"}


def document(app: FastAPI) -> None:
    """Every status the server can answer is in the OpenAPI schema, with the error body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, license_info=app.license_info)  # fmt: skip
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/v1/"):
                continue
            for method, operation in operations.items():
                wanted = dict(ALWAYS)
                if method in ("post", "put", "patch"):
                    wanted |= WITH_BODY
                if "{" in path:
                    wanted |= WITH_ID
                responses = operation.setdefault("responses", {})
                for status, description in wanted.items():
                    entry = responses.setdefault(status, {"description": description})
                    entry["content"] = {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}  # fmt: skip
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI schema lists for this path (HEAD with GET)."""
    paths = request.app.openapi().get("paths", {})
    if request.url.path in paths:  # a fixed path (/v1/jobs/bulk) wins over a template
        methods = {method.upper() for method in paths[request.url.path]}
    else:
        methods = set()
        for template, operations in paths.items():
            pattern = re.sub(r"\{[^}:]+:path\}", ".+", template)
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
            if re.fullmatch(pattern, request.url.path):
                methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
