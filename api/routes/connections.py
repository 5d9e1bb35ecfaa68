"""Invitations and applications: an employer invites a candidate from a ranked list, a
candidate applies; contact data moves only by the candidate's act."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Employer, Service, Token
from matcher.schemas import (
    Application,
    ApplicationIn,
    Invitation,
    InvitationDecision,
    InvitationIn,
)

router = APIRouter(prefix="/v1", tags=["connections"])
HELD: dict[int | str, dict[str, Any]] = {
    409: {"description": "the posting is held for review or rejected, or already invited"}
}


class InvitationList(BaseModel):
    results: list[Invitation]


class ApplicationList(BaseModel):
    results: list[Application]


@router.post("/jobs/{job_id}/invitations", status_code=201, responses=HELD)
def invite(job_id: str, body: InvitationIn, service: Service, principal: Employer) -> Invitation:
    """Invite a candidate from your posting's ranked list (someone who agreed to be found),
    with a short message. You see their name and contact only once they accept. A posting
    held for review cannot invite (409); an employer sends at most `MATCHER_INVITATIONS_PER_DAY`
    (default 50) in 24 hours (429, `Retry-After`)."""
    return service.invite(job_id, body, principal)


@router.get("/jobs/{job_id}/invitations")
def job_invitations(job_id: str, service: Service, principal: Employer) -> InvitationList:
    """Your posting's invitations and their answers; `shared` holds the name and contact of
    those who accepted (and have not withdrawn). Audit-logged."""
    return InvitationList(results=service.job_invitations(job_id, principal))


@router.get("/jobs/{job_id}/applications")
def job_applications(job_id: str, service: Service, principal: Employer) -> ApplicationList:
    """Your posting's applications: each with the profile (no free text) and the name and
    contact its candidate chose to share. Audit-logged."""
    return ApplicationList(results=service.job_applications(job_id, principal))


@router.get("/candidates/{candidate_id}/invitations")
def my_invitations(candidate_id: str, service: Service, token: Token) -> InvitationList:
    """Your invitations (with your profile's token), newest first."""
    return InvitationList(results=service.my_invitations(candidate_id, token))


@router.post(
    "/candidates/{candidate_id}/invitations/{invitation_id}",
    responses={409: {"description": "not a move this invitation can make now"}},
)
def decide_invitation(
    candidate_id: str, invitation_id: str, body: InvitationDecision, service: Service,
    token: Token,
) -> Invitation:  # fmt: skip
    """Accept (the employer sees your name and contact, for this posting only), decline
    (nothing is shared), or withdraw an acceptance (sharing stops)."""
    return service.decide_invitation(candidate_id, invitation_id, token, body)


@router.post(
    "/candidates/{candidate_id}/applications", status_code=201,
    responses={409: {"description": "you already applied to this posting"}},
)  # fmt: skip
def apply(candidate_id: str, body: ApplicationIn, service: Service, token: Token) -> Application:
    """Apply to a posting; `share_name` and `share_contact` say what its employer sees."""
    return service.apply(candidate_id, token, body)


@router.get("/candidates/{candidate_id}/applications")
def my_applications(candidate_id: str, service: Service, token: Token) -> ApplicationList:
    """Your applications, newest first."""
    return ApplicationList(results=service.my_applications(candidate_id, token))


@router.delete("/candidates/{candidate_id}/applications/{application_id}")
def withdraw_application(
    candidate_id: str, application_id: str, service: Service, token: Token
) -> Application:
    """Withdraw an application: its employer no longer sees what you shared."""
    return service.withdraw_application(candidate_id, application_id, token)
