"""Feedback events (applied, shortlisted, hired, rejected) from a job's employer or the
candidate: the data the learned ranker trains on."""

from __future__ import annotations

from matcher.errors import UnauthorizedError
from matcher.schemas import FeedbackIn
from matcher.services.access import own_candidate, owned_job
from matcher.services.runtime import Runtime
from matcher.store import Principal, Remember


def record_feedback(
    rt: Runtime,
    feedback: FeedbackIn,
    *,
    principal: Principal | None = None,
    candidate_token: str | None = None,
    remember: Remember | None = None,
) -> int:
    """Record a feedback event from the job's employer (or an admin) or the candidate."""
    if principal is not None:
        owned_job(rt, feedback.job_id, principal)
        actor = f"{principal.role}:{principal.employer_id or ''}"
    elif candidate_token is not None:
        own_candidate(rt, feedback.candidate_id, candidate_token)
        actor = "candidate"
    else:
        raise UnauthorizedError("send an employer key or the candidate's token")
    return rt.store.add_feedback(
        feedback.job_id, feedback.candidate_id, feedback.event, actor, remember=remember
    )
