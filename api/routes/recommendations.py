from __future__ import annotations

from fastapi import APIRouter

from api.deps import Employer, LangQuery, Service, Token
from api.schemas import (
    ProfileSource,
    RankCandidatesRequest,
    RankCandidatesResponse,
    RecommendJobsRequest,
    RecommendJobsResponse,
)
from matcher.errors import UnauthorizedError
from matcher.schemas import Candidate
from matcher.services import MatcherService

router = APIRouter(prefix="/v1", tags=["recommendations"])


@router.post("/recommendations/jobs")
def recommend_jobs(
    body: RecommendJobsRequest, service: Service, token: Token, lang: LangQuery = "vi"
) -> RecommendJobsResponse:
    """Ranked jobs for a saved candidate (with their token) or an inline profile, each with
    matched and missing skills and reasons."""
    candidate = candidate_for(body, service, token)
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
    ranking = service.rank_candidates(job_id, principal, k=k, lang=lang)
    return RankCandidatesResponse(job_id=job_id, lang=lang, results=ranking.results,
                                  notes=ranking.notes)  # fmt: skip


def candidate_for(body: ProfileSource, service: MatcherService, token: str | None) -> Candidate:
    """The inline profile of a request, or the saved one its token opens."""
    if body.profile is not None:
        return service.build_candidate(body.profile, thorough=False)
    if token is None:
        raise UnauthorizedError("a saved profile needs its token: 'Authorization: Bearer <token>'")
    return service.get_candidate(str(body.candidate_id), token)
