from __future__ import annotations

from fastapi import APIRouter

from api.deps import Service
from api.schemas import (
    OccupationMatchResponse,
    ProvinceListResponse,
    SkillExtractResponse,
    TextQueryRequest,
)

router = APIRouter(prefix="/v1", tags=["taxonomy"])


@router.post("/occupations/match")
def match_occupations(body: TextQueryRequest, service: Service) -> OccupationMatchResponse:
    """ESCO occupations for a job title or short description, Vietnamese or English."""
    return OccupationMatchResponse(results=service.match_occupations([body.text], body.k)[0])


@router.post("/skills/extract")
def extract_skills(body: TextQueryRequest, service: Service) -> SkillExtractResponse:
    """ESCO skills found in a CV or posting, each with the span of text that supports it."""
    return SkillExtractResponse(results=service.extract_skills([body.text], body.k)[0])


@router.get("/provinces")
def provinces(service: Service) -> ProvinceListResponse:
    """Vietnam's provinces and centrally run cities, with their region (for forms)."""
    return ProvinceListResponse(provinces=[{"name": p.name, "region": p.region}
                                           for p in service.provinces])  # fmt: skip
