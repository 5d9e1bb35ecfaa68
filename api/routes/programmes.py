"""Overseas contract-work programmes: their rules, and who is eligible; the certificates
earned abroad that the service maps."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LangQuery, Service, Token, candidate_for
from api.schemas import (
    CertificateListResponse,
    EligibilityListResponse,
    EligibilityRequest,
    ProgrammeListResponse,
)
from matcher.schemas import Eligibility
from matcher.services import Programme

router = APIRouter(prefix="/v1", tags=["programmes"])


@router.get("/programmes")
def list_programmes(service: Service) -> ProgrammeListResponse:
    """Every programme with its rules, the sources they cite and the priority groups; each fact
    says whether it was checked against a public page (its address and date), and `facts`
    counts how many were and were not."""
    catalog = service.programmes
    return ProgrammeListResponse(
        facts=catalog.fact_count(), programmes=catalog.programmes,
        sources=catalog.sources, priority_groups=catalog.priority_groups,
    )  # fmt: skip


@router.get("/certificates")
def list_certificates(service: Service) -> CertificateListResponse:
    """Tests and certificates earned abroad that the service maps (TOPIK, JLPT, JFT-Basic,
    Goethe, the Specified Skilled Worker skills tests, ...): the language level or ESCO skills
    each shows in a profile's overseas contract, with its source; a mapping nobody checked
    against a public page says so (`verified: false`)."""
    book = service.certificates
    return CertificateListResponse(certificates=book.certificates, sources=book.sources)


@router.post("/programmes/eligibility")
def all_eligibility(
    body: EligibilityRequest, service: Service, token: Token, lang: LangQuery = "vi"
) -> EligibilityListResponse:
    """Every programme for one person (saved with its token, or inline), eligible ones first:
    each requirement met or not, and the route to meet it."""
    candidate = candidate_for(body, service, token)
    return EligibilityListResponse(results=service.all_eligibility(candidate, lang))


@router.get("/programmes/{programme_id}")
def get_programme(programme_id: str, service: Service) -> Programme:
    """One programme's rules: age, language test, education, health, disqualifiers, contract,
    costs and support, each citing a source."""
    return service.programme(programme_id)


@router.post("/programmes/{programme_id}/eligibility")
def eligibility(
    programme_id: str,
    body: EligibilityRequest,
    service: Service,
    token: Token,
    lang: LangQuery = "vi",
) -> Eligibility:
    """Eligible or not, every unmet requirement and the route to meet it, for a saved
    candidate (with its token) or an inline profile."""
    service.programme(programme_id)  # 404 before any work on the profile
    candidate = candidate_for(body, service, token)
    return service.eligibility(programme_id, candidate, lang)
