from __future__ import annotations

from fastapi import APIRouter

from api.deps import Service
from api.schemas import (
    CommuneListResponse,
    OccupationMatchResponse,
    ProvinceListResponse,
    SkillExtractResponse,
    TextQueryRequest,
)
from matcher.services import COMMUNES_SOURCE

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
    """Vietnam's 34 provinces and centrally run cities, with their region (for forms), and the
    63 former provinces each mapped to the one it became on 1 July 2025."""
    return ProvinceListResponse(provinces=[{"name": p.name, "region": p.region}
                                           for p in service.provinces],
                                former_provinces=service.former_provinces)  # fmt: skip


@router.get("/provinces/{province}/communes")
def communes(province: str, service: Service) -> CommuneListResponse:
    """The communes (xã, phường, đặc khu) of a province since 1 July 2025, for a profile's
    optional commune; a former province's name answers with the province it became."""
    current, found = service.communes(province)
    return CommuneListResponse(province=current, source=COMMUNES_SOURCE,
                               communes=[{"code": c.code, "name": c.name} for c in found])  # fmt: skip
