from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import Service, Token
from api.idempotency import (
    IdempotencyKey,
    anonymous_scope,
    idempotency_for,
    remembering,
    respond_once,
)
from api.schemas import CandidateCreatedResponse
from matcher.schemas import Candidate, CandidateProfileIn
from matcher.services import Idempotency, Remember

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


@router.post("", status_code=201, response_model=CandidateCreatedResponse)
def create_candidate(
    request: Request,
    body: CandidateProfileIn,
    service: Service,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Save a profile. The response's token is the only way to read, change or delete it."""
    idempotency = idempotency_for(request, idempotency_key, anonymous_scope(request),
                                  body.model_dump_json())  # fmt: skip

    def render(candidate: Candidate, token: str) -> dict[str, Any]:
        return CandidateCreatedResponse(candidate=candidate, token=token).model_dump(mode="json")

    def create(key: Idempotency | None) -> JSONResponse:
        def answer(candidate: Candidate) -> Remember | None:
            return remembering(key, lambda token: (201, render(candidate, token)))

        candidate, token = service.create_candidate(body, remember=answer if key else None)
        return JSONResponse(render(candidate, token), status_code=201)

    return respond_once(service, idempotency, create)


@router.get("/{candidate_id}")
def get_candidate(candidate_id: str, service: Service, token: Token) -> Candidate:
    """Your profile (candidate token)."""
    return service.get_candidate(candidate_id, token)


@router.put("/{candidate_id}")
def replace_candidate(
    candidate_id: str, body: CandidateProfileIn, service: Service, token: Token
) -> Candidate:
    """Replace your profile (candidate token)."""
    return service.replace_candidate(candidate_id, token, body)


@router.delete("/{candidate_id}", status_code=204)
def delete_candidate(candidate_id: str, service: Service, token: Token) -> Response:
    """Erase your profile, its vectors and its links (candidate token)."""
    service.delete_candidate(candidate_id, token)
    return Response(status_code=204)
