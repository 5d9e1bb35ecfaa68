"""Career transitions and skill gaps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import LangQuery, Service, Token, candidate_for
from api.schemas import SavedSkillGapsRequest, SkillGapsRequest, TransitionsRequest
from matcher.schemas import MAX_K, SkillGaps, Transitions

router = APIRouter(prefix="/v1", tags=["careers"])
K = Annotated[int, Query(ge=1, le=MAX_K, description="how many targets")]


@router.get("/occupations/{occupation_id:path}/transitions")
def occupation_transitions(
    occupation_id: Annotated[
        str, Path(description="ESCO occupation URI (URL-encoded) or its UUID", max_length=200)
    ],
    service: Service,
    k: K = 10,
    lang: LangQuery = "vi",
) -> Transitions:
    """Occupations a person could realistically move into from this one, each with the skills
    that carry over and those to learn (essential first), and a short reason."""
    return service.transitions(occupation_id, k=k, lang=lang, ids_only=True)


@router.post("/transitions")
def transitions(body: TransitionsRequest, service: Service, lang: LangQuery = "vi") -> Transitions:
    """The same from free text: a former position in Vietnamese or English resolves through
    the public-sector position map first, then the encoder."""
    return service.transitions(body.text, k=body.k, lang=lang)


@router.post("/skill-gaps")
def skill_gaps(
    body: SkillGapsRequest, service: Service, token: Token, lang: LangQuery = "vi"
) -> SkillGaps:
    """Missing skills ranked by how many open postings (matching the filters, closest to the
    profile) learning each would unlock or improve, with suggested training."""
    candidate = candidate_for(body, service, token)
    return service.skill_gaps(candidate, k=body.k, filters=body.filters, lang=lang)


@router.post("/candidates/{candidate_id}/skill-gaps")
def saved_skill_gaps(
    candidate_id: str,
    service: Service,
    token: Token,
    body: SavedSkillGapsRequest | None = None,
    lang: LangQuery = "vi",
) -> SkillGaps:
    """Skill gaps of a saved profile (its token as 'Authorization: Bearer <token>')."""
    body = body or SavedSkillGapsRequest()
    candidate = service.get_candidate(candidate_id, token)
    return service.skill_gaps(candidate, k=body.k, filters=body.filters, lang=lang)
