"""Admin routes: model reloads without downtime, and the records set aside at start-up."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from api.deps import Admin, Limit, Offset, Service
from api.schemas import (
    AuditResponse,
    OperatorRequest,
    QuarantineResponse,
    ReviewQueueResponse,
    ReviewRequest,
    RevokeKeyRequest,
    RevokeKeysResponse,
)
from matcher.errors import ConflictError
from matcher.schemas import JobPosting
from matcher.services import MatcherService

router = APIRouter(prefix="/v1/admin", tags=["admin"])
logger = logging.getLogger("matcher.api")


@router.post("/reload", status_code=202)
def reload_models(service: Service, principal: Admin) -> JSONResponse:
    """Switch to the registered champions (``matcher-encoder@champion``,
    ``matcher-ranker@champion``). A new encoder re-embeds every posting and profile in the
    background while requests keep being answered; the new index is swapped in at once when it
    is complete. Follow it with ``GET /v1/admin/reload``. 409 while one is running, and on a
    server of several workers (``matcher serve --workers N``: restart it instead)."""
    service.begin_reload(principal)  # 409: one is running, or several workers serve

    def run() -> None:
        def progress(name: str, done: int, total: int) -> None:
            logger.info("reload: embedding %s %d/%d", name, done, total)

        try:
            result = service.reload(progress)
            logger.info("reload done: %s", result)
        except ConflictError:
            pass
        except Exception:  # the status says what failed; the old models keep serving
            logger.exception("reload failed; the previous models keep serving")

    threading.Thread(target=run, name="matcher-reload", daemon=True).start()
    return JSONResponse(_status(service), status_code=202)


@router.get("/reload")
def reload_status(service: Service, _: Admin) -> dict[str, Any]:
    """The last reload: state (idle, running, done, failed), phase, progress and the models
    served now."""
    return _status(service)


def _status(service: MatcherService) -> dict[str, Any]:
    return service.reload_info()


FAIRNESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "an audit is already running; follow GET /v1/admin/fairness"},
}


@router.post("/fairness", status_code=202, responses=FAIRNESS_RESPONSES)
def start_fairness_audit(
    service: Service,
    principal: Admin,
    preset: Annotated[
        Literal["full", "quick"] | None,
        Query(description="the audit's corpus: full (default, a few minutes) or quick"),
    ] = None,
) -> JSONResponse:
    """Audit the served models for fairness, in the background, both directions (jobs for
    candidates, candidates for employers): counterfactual invariance (gender, name, ethnicity,
    age, province) and parity by gender, age band, region and priority group (MAP gap,
    exposure, four-fifths impact ratio). Follow it with ``GET /v1/admin/fairness``; the plot is
    at ``GET /v1/admin/fairness/plot.svg``, the table at ``/v1/admin/fairness/report.md``."""
    try:
        status = service.begin_audit(principal, preset=preset)
    except ConflictError as error:
        raise ConflictError(f"{error} at GET /v1/admin/fairness") from None
    return JSONResponse(status, status_code=202)


@router.get("/fairness")
def fairness_status(service: Service, _: Admin) -> dict[str, Any]:
    """The last fairness audit: state (idle, running, done, failed), phase and progress
    (``done`` of ``total``), and its report (``report``) once one has finished."""
    return service.audit_status()


@router.get("/fairness/plot.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}},
                       404: {"description": "no audit has finished yet"}})  # fmt: skip
def fairness_plot(service: Service, _: Admin) -> Response:
    """The last audit's selection rates per group, with the four-fifths line (SVG)."""
    return Response(service.audit_file("svg").read_bytes(), media_type="image/svg+xml")


@router.get("/fairness/report.md", response_class=Response,
            responses={200: {"content": {"text/markdown": {}}},
                       404: {"description": "no audit has finished yet"}})  # fmt: skip
def fairness_report(service: Service, _: Admin) -> Response:
    """The last audit's tables (Markdown)."""
    return Response(service.audit_file("markdown").read_bytes(),
                    media_type="text/markdown; charset=utf-8")  # fmt: skip


@router.get("/quarantine")
def quarantine(service: Service, _: Admin) -> QuarantineResponse:
    """Stored records that could not be embedded (e.g. text with nothing readable left),
    found when the indexes were reconciled with the store. They are kept in the store but not
    searchable; fix them with PUT or delete them. Ids and error codes only, no content."""
    found = service.quarantined()
    return QuarantineResponse(total=len(found), results=found)


@router.post("/keys/revoke")
def revoke_key(body: RevokeKeyRequest, service: Service, principal: Admin) -> RevokeKeysResponse:
    """Revoke one key (send the key itself). It takes effect on the next request, in every
    worker. `revoked` is 0 when the key was unknown or already revoked."""
    revoked = service.revoke_key(body.key, principal)
    return RevokeKeysResponse(revoked=revoked)


@router.post("/employers/{employer_id}/keys/revoke")
def revoke_employer_keys(
    employer_id: Annotated[str, Path(min_length=1, max_length=64)],
    service: Service,
    principal: Admin,
) -> RevokeKeysResponse:
    """Revoke every key of an employer (404 for an unknown employer); effective on the next
    request, in every worker."""
    revoked = service.revoke_employer_keys(employer_id, principal)
    return RevokeKeysResponse(revoked=revoked)


@router.post("/operators", status_code=204)
def add_operator(body: OperatorRequest, service: Service, principal: Admin) -> Response:
    """Register an employer as an operator of a state programme: only operators may tag
    postings with the programme's id (others get 403)."""
    service.add_operator(body.employer_id, body.programme, principal)
    return Response(status_code=204)


@router.get("/audit")
def audit(
    service: Service,
    _: Admin,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditResponse:
    """The audit log, newest first: employers' candidate searches (who, when, which posting,
    how many results) and admins' actions."""
    total, entries = service.audit_log(limit=limit, offset=offset)
    return AuditResponse(total=total, results=entries)


@router.get("/jobs/review")
def review_queue(service: Service, _: Admin, limit: Limit = 50, offset: Offset = 0
                 ) -> ReviewQueueResponse:  # fmt: skip
    """Postings held for review (screening found signals) or reported by job seekers, oldest
    first, each with its signals and the words that show them."""
    total, jobs = service.review_queue(limit=limit, offset=offset)
    return ReviewQueueResponse(total=total, results=jobs)


@router.post("/jobs/{job_id}/review", responses={404: {"description": "no such posting"}})
def review_job(job_id: str, body: ReviewRequest, service: Service, principal: Admin
               ) -> JobPosting:  # fmt: skip
    """Clear a posting (it is shown to candidates at once) or reject it (it is never shown).
    Every review is in the audit log (`review_clear`, `review_reject`)."""
    return service.review_job(job_id, body.decision, principal, body.note)
