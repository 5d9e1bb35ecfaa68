"""Employer invitations and candidate applications: how a match turns into a conversation,
with nothing moving without the candidate's act.

- An employer invites a consenting candidate from a ranked list to one of its postings (not
  one held for review), with a short message; at most ``invitations_per_day`` a day, so that
  invitations cannot be used to harvest contacts.
- The candidate sees their invitations with their token, and accepts (the employer then sees
  their name and contact, for that posting only), declines (nothing is shared) or withdraws an
  acceptance (sharing stops).
- A candidate applies to a posting, choosing whether the employer sees their name and contact;
  the employer sees the application with what was chosen, and the profile without free text.

Every act is audit-logged and recorded as a feedback event (``invited``, ``accepted``,
``declined``, ``applied``) in the same transaction: what the ranker trains on."""

from __future__ import annotations

import datetime as dt

from matcher.errors import NotFoundError, RateLimitedError
from matcher.schemas import (
    Application,
    ApplicationIn,
    Candidate,
    Invitation,
    InvitationDecision,
    InvitationIn,
    SharedContact,
)
from matcher.services import screening
from matcher.services.access import own_candidate, owned_job
from matcher.services.matching import candidate_view
from matcher.services.runtime import Runtime
from matcher.store import Principal
from matcher.store import connections as rows
from matcher.store.tables import ApplicationRow, InvitationRow, aware, now

DAY = dt.timedelta(days=1)


def invite(rt: Runtime, job_id: str, body: InvitationIn, principal: Principal) -> Invitation:
    """Invite a candidate who agreed to be found to your posting."""
    job = owned_job(rt, job_id, principal)
    screening.require_visible(rt, job)
    candidate = _findable(rt, body.candidate_id)
    limit = rt.settings.invitations_per_day
    employer = job.employer_id or principal.employer_id or "admin"
    with rt.store.session() as session, session.begin():
        since = now() - DAY
        if limit and rows.invitations_since(session, employer, since) >= limit:
            raise RateLimitedError(
                f"this employer sent its {limit} invitations of the last 24 hours: invite "
                "again tomorrow, or ask the candidates to apply",
                retry_after=3600,
            )
        row = rows.add_invitation(session, job_id=job.id, candidate_id=candidate.id,
                                  employer_id=employer, message=body.message,
                                  actor=principal.actor)  # fmt: skip
        return _invitation(row, job.title, job.employer)


def _findable(rt: Runtime, candidate_id: str) -> Candidate:
    """A candidate who agreed to be found; any other is not found (whether they exist is
    not told)."""
    try:
        candidate = rt.store.get_candidate(candidate_id)
    except NotFoundError:
        candidate = None
    if candidate is None or not candidate.consent_to_be_found:
        raise NotFoundError(
            f"no candidate {candidate_id} among those who agreed to be found: invite from "
            "your posting's ranked candidates"
        )
    return candidate


def job_invitations(rt: Runtime, job_id: str, principal: Principal) -> list[Invitation]:
    """Your posting's invitations: each one's answer, and the name and contact of those who
    accepted (audit-logged)."""
    job = owned_job(rt, job_id, principal)
    with rt.store.session() as session:
        found = rows.rows_for(session, InvitationRow, job_id=job.id)
    people = rt.store.get_candidates(
        [row.candidate_id for row in found if row.status == "accepted"]
    )
    rt.store.audit(principal.actor, "invitations_list", job.id, len(found))
    return [
        _invitation(row, job.title, job.employer, people.get(row.candidate_id)) for row in found
    ]


def my_invitations(rt: Runtime, candidate_id: str, token: str | None) -> list[Invitation]:
    """A candidate's invitations, newest first (with their token)."""
    own_candidate(rt, candidate_id, token)
    with rt.store.session() as session:
        found = rows.rows_for(session, InvitationRow, candidate_id=candidate_id)
        named = rows.titles(session, {row.job_id for row in found})
    return [_invitation(row, *named.get(row.job_id, ("", None))) for row in found]


def decide(rt: Runtime, candidate_id: str, invitation_id: str, token: str | None,
           body: InvitationDecision) -> Invitation:  # fmt: skip
    """Accept (share name and contact with that employer, for that posting), decline, or
    withdraw an acceptance."""
    own_candidate(rt, candidate_id, token)
    with rt.store.session() as session, session.begin():
        row = rows.decide_invitation(session, invitation_id, candidate_id, body.decision)
        named = rows.titles(session, {row.job_id})
        return _invitation(row, *named.get(row.job_id, ("", None)))


def apply(rt: Runtime, candidate_id: str, token: str | None, body: ApplicationIn) -> Application:
    """Apply to a posting shown to candidates, sharing what you chose."""
    own_candidate(rt, candidate_id, token)
    job = screening.visible_job(rt, body.job_id, None)  # one held for review: 404
    with rt.store.session() as session, session.begin():
        row = rows.add_application(session, job_id=job.id, candidate_id=candidate_id,
                                   employer_id=job.employer_id, message=body.message,
                                   share_name=body.share_name,
                                   share_contact=body.share_contact)  # fmt: skip
        return _application(row, job.title)


def withdraw_application(rt: Runtime, candidate_id: str, application_id: str,
                         token: str | None) -> Application:  # fmt: skip
    own_candidate(rt, candidate_id, token)
    with rt.store.session() as session, session.begin():
        row = rows.withdraw_application(session, application_id, candidate_id)
        named = rows.titles(session, {row.job_id})
        return _application(row, named.get(row.job_id, ("", None))[0])


def my_applications(rt: Runtime, candidate_id: str, token: str | None) -> list[Application]:
    own_candidate(rt, candidate_id, token)
    with rt.store.session() as session:
        found = rows.rows_for(session, ApplicationRow, candidate_id=candidate_id)
        named = rows.titles(session, {row.job_id for row in found})
    return [_application(row, named.get(row.job_id, ("", None))[0]) for row in found]


def job_applications(rt: Runtime, job_id: str, principal: Principal) -> list[Application]:
    """Your posting's applications: each with the profile (no free text, no contact) and what
    its candidate chose to share (audit-logged)."""
    job = owned_job(rt, job_id, principal)
    with rt.store.session() as session:
        found = rows.rows_for(session, ApplicationRow, job_id=job.id)
    people = rt.store.get_candidates([row.candidate_id for row in found])
    rt.store.audit(principal.actor, "applications_list", job.id, len(found))
    return [_application(row, job.title, people.get(row.candidate_id)) for row in found]


def _invitation(row: InvitationRow, title: str, employer: str | None,
                person: Candidate | None = None) -> Invitation:  # fmt: skip
    shared = (SharedContact(name=person.name, contact=person.contact)
              if person is not None and row.status == "accepted" else None)  # fmt: skip
    return Invitation(id=row.id, job_id=row.job_id, job_title=title, employer=employer,
                      candidate_id=row.candidate_id, message=row.message, status=row.status,  # type: ignore[arg-type]
                      created_at=aware(row.created_at), updated_at=aware(row.updated_at),
                      shared=shared)  # fmt: skip


def _application(row: ApplicationRow, title: str, person: Candidate | None = None) -> Application:
    """``person``: for the employer (what was chosen to share, and the profile's view)."""
    shared = None
    if person is not None and row.status == "active":
        shared = SharedContact(name=person.name if row.share_name else None,
                               contact=person.contact if row.share_contact else None)  # fmt: skip
    return Application(id=row.id, job_id=row.job_id, job_title=title,
                       candidate_id=row.candidate_id, message=row.message, status=row.status,  # type: ignore[arg-type]
                       created_at=aware(row.created_at), shared=shared,
                       candidate=candidate_view(person) if person is not None else None)  # fmt: skip
