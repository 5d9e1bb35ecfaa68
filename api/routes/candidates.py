from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Service, Token
from api.schemas import CandidateCreatedResponse
from matcher.schemas import Candidate, CandidateProfileIn

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


@router.post("", status_code=201)
def create_candidate(body: CandidateProfileIn, service: Service) -> CandidateCreatedResponse:
    """Save a profile. The response's token is the only way to read, change or delete it."""
    candidate, token = service.create_candidate(body)
    return CandidateCreatedResponse(candidate=candidate, token=token)


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
