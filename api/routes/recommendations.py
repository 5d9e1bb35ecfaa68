from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Employer, Service, Token
from api.schemas import (
    RankCandidatesRequest,
    RankCandidatesResponse,
    RecommendJobsRequest,
    RecommendJobsResponse,
)
from matcher.errors import UnauthorizedError
from matcher.schemas import Lang

router = APIRouter(prefix="/v1", tags=["recommendations"])
LangQuery = Annotated[Lang, Query(description="language of the reasons: vi or en")]


@router.post("/recommendations/jobs")
def recommend_jobs(
    body: RecommendJobsRequest, service: Service, token: Token, lang: LangQuery = "vi"
) -> RecommendJobsResponse:
    """Ranked jobs for a saved candidate (with their token) or an inline profile, each with
    matched and missing skills and reasons."""
    if body.profile is not None:
        candidate = service.build_candidate(body.profile, thorough=False)
    elif token is None:
        raise UnauthorizedError("a saved profile needs its token: 'Authorization: Bearer <token>'")
    else:
        candidate = service.get_candidate(str(body.candidate_id), token)
    results = service.recommend_jobs(candidate, k=body.k, filters=body.filters, lang=lang)
    return RecommendJobsResponse(lang=lang, results=results)


@router.post("/jobs/{job_id}/candidates")
def rank_candidates(
    job_id: str,
    service: Service,
    principal: Employer,
    body: RankCandidatesRequest | None = None,
    lang: LangQuery = "vi",
) -> RankCandidatesResponse:
    """Ranked consenting candidates for your posting (employer key). No contact details."""
    k = body.k if body else 10
    results = service.rank_candidates(job_id, principal, k=k, lang=lang)
    return RankCandidatesResponse(job_id=job_id, lang=lang, results=results)
