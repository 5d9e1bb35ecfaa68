"""The ``Idempotency-Key`` header on the routes that create records (see matcher.idempotency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import JSONResponse

from matcher.services import (
    MAX_KEY_CHARS,
    Answer,
    DuplicateRequestError,
    Idempotency,
    MatcherService,
    Remember,
    body_digest,
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_CHARS, pattern="^[!-~]+$",
        description="Send a new random key (e.g. a UUID) with each create, and the same key "
        "when you retry it: a retry returns the first answer and creates nothing. Keys are "
        "scoped to your credential; the same key with a different body answers 409.",
    ),
]  # fmt: skip
REPLAYED = "Idempotent-Replayed"


def idempotency_for(
    request: Request, key: str | None, scope: str, body: bytes | str
) -> Idempotency | None:
    if key is None:
        return None
    route = getattr(request.scope.get("route"), "path", request.url.path)
    return Idempotency(scope, key, f"{request.method} {route} {body_digest(body)}")


def anonymous_scope(request: Request) -> str:
    return f"anonymous:{request.client.host if request.client else '-'}"


def respond_once(
    service: MatcherService,
    idempotency: Idempotency | None,
    create: Callable[[Idempotency | None], JSONResponse],
) -> JSONResponse:
    """Run ``create`` once per key; a retry gets the first answer back, with the header
    ``Idempotent-Replayed: true``. ``create`` hands the key and its answer to the library,
    which stores them in the same transaction as the records."""
    if idempotency is not None:
        replay = service.recall(idempotency)
        if replay is not None:
            return JSONResponse(replay[1], status_code=replay[0], headers={REPLAYED: "true"})
    try:
        return create(idempotency)
    except DuplicateRequestError:  # a concurrent retry with the same key committed first
        replay = service.recall(idempotency) if idempotency else None
        if replay is None:
            raise
        return JSONResponse(replay[1], status_code=replay[0], headers={REPLAYED: "true"})


def remembering(idempotency: Idempotency | None, answer: Answer) -> Remember | None:
    return (idempotency, answer) if idempotency is not None else None
