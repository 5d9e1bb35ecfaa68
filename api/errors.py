"""Library errors → HTTP responses, in one place. Bad input is never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
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
    (ModelNotReadyError, 503),
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
        if status >= 500:
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
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            415: "unsupported_media_type",
        }
        return JSONResponse(
            error_body(codes.get(error.status_code, "http_error"), str(error.detail)),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )
