from __future__ import annotations

from fastapi import APIRouter

from api.deps import Employer, LangQuery, Service, Token, candidate_for
from api.schemas import (
    RankCandidatesRequest,
    RankCandidatesResponse,
    RecommendJobsRequest,
    RecommendJobsResponse,
)

router = APIRouter(prefix="/v1", tags=["recommendations"])


@router.post("/recommendations/jobs")
def recommend_jobs(
    body: RecommendJobsRequest, service: Service, token: Token, lang: LangQuery = "vi"
) -> RecommendJobsResponse:
    """Ranked jobs for a saved candidate (with their token) or an inline profile, each with
    matched and missing skills and reasons. Programme postings a declared fact rules out (the
    age limit, a lower test score) are held back and counted in `held_back`, with why."""
    candidate = candidate_for(body, service, token)
    found = service.recommend_jobs(candidate, k=body.k, filters=body.filters, lang=lang)
    return RecommendJobsResponse(lang=lang, results=found.results, held_back=found.held_back)


@router.post(
    "/jobs/{job_id}/candidates",
    responses={409: {"description": "the posting is held for review or was rejected"}},
)
def rank_candidates(
    job_id: str,
    service: Service,
    principal: Employer,
    body: RankCandidatesRequest | None = None,
    lang: LangQuery = "vi",
) -> RankCandidatesResponse:
    """Ranked consenting candidates for your posting (employer key). No contact details.
    `filters` narrows the list: a language (and its level), a country worked in, years
    abroad. A posting held for review or rejected cannot be used (409): see its `review`."""
    body = body or RankCandidatesRequest()
    ranking = service.rank_candidates(job_id, principal, k=body.k, lang=lang,
                                      filters=body.filters)  # fmt: skip
    return RankCandidatesResponse(job_id=job_id, lang=lang, results=ranking.results,
                                  notes=ranking.notes)  # fmt: skip
