"""Invitations and applications: the rows that turn a match into a conversation. Each write
goes with its feedback event (what the ranker learns from) and its audit entry in one
transaction; contact data is never copied here: it is read from the profile, and only while
the candidate's act (an accepted invitation, an application) stands."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.errors import ConflictError, NotFoundError
from matcher.store.tables import (
    ApplicationRow,
    AuditRow,
    EmployerRow,
    FeedbackRow,
    InvitationRow,
    JobRow,
    now,
)

#: invitation status → the statuses it may move to, and the candidate's word for the move
MOVES = {"accept": ("pending", "accepted"), "decline": ("pending", "declined"),
         "withdraw": ("accepted", "withdrawn")}  # fmt: skip


def _log(session: Session, *, actor: str, action: str, target: str, event: str | None = None,
         job_id: str = "", candidate_id: str = "") -> None:  # fmt: skip
    """The act's audit entry, and its feedback event (in the same transaction)."""
    stamp = now()
    session.add(AuditRow(at=stamp, actor=actor, action=action, target=target, results=None))
    if event:
        session.add(FeedbackRow(job_id=job_id, candidate_id=candidate_id, event=event,
                                actor=actor, created_at=stamp))  # fmt: skip


def invitations_since(session: Session, employer_id: str, since: dt.datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(InvitationRow).where(
            InvitationRow.employer_id == employer_id, InvitationRow.created_at >= since)
    ) or 0  # fmt: skip


def add_invitation(session: Session, *, job_id: str, candidate_id: str, employer_id: str,
                   message: str, actor: str) -> InvitationRow:  # fmt: skip
    stamp = now()
    row = InvitationRow(id=str(uuid.uuid4()), job_id=job_id, candidate_id=candidate_id,
                        employer_id=employer_id, message=message, status="pending",
                        created_at=stamp, updated_at=stamp)  # fmt: skip
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(
            f"candidate {candidate_id} was already invited to job {job_id}: see the "
            "posting's invitations for their answer"
        ) from None
    _log(session, actor=actor, action="invite", target=f"{job_id}:{candidate_id}",
         event="invited", job_id=job_id, candidate_id=candidate_id)  # fmt: skip
    return row


def decide_invitation(session: Session, invitation_id: str, candidate_id: str,
                      decision: str) -> InvitationRow:  # fmt: skip
    row = session.get(InvitationRow, invitation_id)
    if row is None or row.candidate_id != candidate_id:
        raise NotFoundError(f"invitation {invitation_id} does not exist for this profile")
    before, after = MOVES[decision]
    if row.status != before:
        raise ConflictError(
            f"this invitation is {row.status}: only a {before} invitation can be {after}"
        )
    row.status, row.updated_at = after, now()
    event = {"accept": "accepted", "decline": "declined"}.get(decision)
    _log(session, actor="candidate", action=f"invitation_{decision}", target=invitation_id,
         event=event, job_id=row.job_id, candidate_id=candidate_id)  # fmt: skip
    return row


def add_application(session: Session, *, job_id: str, candidate_id: str,
                    employer_id: str | None, message: str, share_name: bool,
                    share_contact: bool) -> ApplicationRow:  # fmt: skip
    stamp = now()
    row = ApplicationRow(id=str(uuid.uuid4()), job_id=job_id, candidate_id=candidate_id,
                         employer_id=employer_id, message=message, share_name=share_name,
                         share_contact=share_contact, status="active", created_at=stamp,
                         updated_at=stamp)  # fmt: skip
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(f"you already applied to job {job_id}") from None
    _log(session, actor="candidate", action="apply", target=f"{job_id}:{candidate_id}",
         event="applied", job_id=job_id, candidate_id=candidate_id)  # fmt: skip
    return row


def quiet_application(session: Session, job_id: str, candidate_id: str,
                      employer_id: str | None) -> None:  # fmt: skip
    """The application behind a candidate's ``applied`` feedback event: nothing shared (the
    candidate chose nothing); none if they already applied."""
    found = session.scalar(select(ApplicationRow.id).where(
        ApplicationRow.job_id == job_id, ApplicationRow.candidate_id == candidate_id))  # fmt: skip
    if found is None:
        stamp = now()
        session.add(ApplicationRow(id=str(uuid.uuid4()), job_id=job_id,
                                   candidate_id=candidate_id, employer_id=employer_id,
                                   message="", share_name=False, share_contact=False,
                                   status="active", created_at=stamp, updated_at=stamp))  # fmt: skip


def withdraw_application(session: Session, application_id: str, candidate_id: str
                         ) -> ApplicationRow:  # fmt: skip
    row = session.get(ApplicationRow, application_id)
    if row is None or row.candidate_id != candidate_id:
        raise NotFoundError(f"application {application_id} does not exist for this profile")
    if row.status == "active":
        row.status, row.updated_at = "withdrawn", now()
        _log(session, actor="candidate", action="application_withdraw", target=application_id)
    return row


def rows_for(session: Session, table: type[Any], *, job_id: str | None = None,
             candidate_id: str | None = None) -> list[Any]:  # fmt: skip
    """Invitations or applications of a posting or of a profile, newest first."""
    where = [table.job_id == job_id] if job_id else [table.candidate_id == candidate_id]
    return list(session.scalars(select(table).where(*where).order_by(table.created_at.desc())))


def titles(session: Session, job_ids: set[str]) -> dict[str, tuple[str, str | None]]:
    """Each posting's title and its employer's name."""
    found = session.execute(
        select(JobRow.id, JobRow.data, EmployerRow.name)
        .join(EmployerRow, EmployerRow.id == JobRow.employer_id, isouter=True)
        .where(JobRow.id.in_(job_ids))
    )  # fmt: skip
    return {job_id: (data.get("title", ""), name or data.get("employer"))
            for job_id, data, name in found}  # fmt: skip


def forget_candidate(session: Session, candidate_id: str) -> None:
    for table in (InvitationRow, ApplicationRow):
        session.execute(delete(table).where(table.candidate_id == candidate_id))


def forget_job(session: Session, job_id: str) -> None:
    for table in (InvitationRow, ApplicationRow):
        session.execute(delete(table).where(table.job_id == job_id))
