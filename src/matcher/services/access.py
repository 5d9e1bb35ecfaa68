"""Who may do what: API keys to principals, ownership of postings and profiles.

The edges say how a credential arrives (a header, a CLI option); this module decides."""

from __future__ import annotations

from typing import Any

from matcher.errors import ForbiddenError, UnauthorizedError
from matcher.idempotency import Idempotency
from matcher.schemas import Candidate, JobPosting
from matcher.services.runtime import Runtime
from matcher.store import Principal


def authenticate(rt: Runtime, key: str | None) -> Principal:
    """The owner of an API key; :class:`UnauthorizedError` for none or an unknown one."""
    if key is None:
        raise UnauthorizedError("send your API key")
    principal = rt.store.principal(key)
    if principal is None:
        raise UnauthorizedError(
            "this API key is not valid; ask for a new one (matcher keys create)"
        )
    return principal


def principal_of(rt: Runtime, key: str | None) -> Principal | None:
    """The owner of an API key, or ``None`` (the key may be a candidate token)."""
    return rt.store.principal(key) if key else None


def count_request(rt: Runtime, bucket: str, *, limit: int) -> int | None:
    """Count a request against a rate limit shared by every worker (the store's counters):
    ``None`` within ``limit`` a minute, else the seconds until the window ends."""
    return rt.store.count_request(bucket, limit=limit)


def recall(rt: Runtime, idempotency: Idempotency) -> tuple[int, Any] | None:
    """The answer a create with this idempotency key already got, if any."""
    return rt.store.recall(idempotency)


def require_role(principal: Principal, *roles: str) -> Principal:
    if principal.role not in roles:
        raise ForbiddenError(
            "this needs the admin key" if roles == ("admin",) else "this needs an employer key"
        )
    return principal


def employer_of(principal: Principal) -> str | None:
    """The employer a new posting belongs to (``None`` for the admin)."""
    if principal.role == "employer":
        return principal.employer_id
    if principal.role == "admin":
        return None
    raise ForbiddenError("only employers and admins can publish postings")


def owned_job(rt: Runtime, job_id: str, principal: Principal) -> JobPosting:
    """The posting, if ``principal`` is its employer or the admin."""
    job = rt.store.get_job(job_id)
    if principal.role != "admin" and job.employer_id != principal.employer_id:
        raise ForbiddenError(f"job {job_id} belongs to another employer")
    return job


def own_candidate(rt: Runtime, candidate_id: str, token: str | None) -> Candidate:
    """The profile, if ``token`` is the one given to its owner when it was saved."""
    if not token:
        raise UnauthorizedError("this profile opens only with the token given when it was saved")
    if not rt.store.candidate_token_matches(candidate_id, token):
        raise ForbiddenError("this token does not open this profile")
    return rt.store.get_candidate(candidate_id)
