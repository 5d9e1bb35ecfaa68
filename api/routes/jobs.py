from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Employer, Limit, MaybePrincipal, Offset, Service
from api.idempotency import IdempotencyKey, idempotency_for, remembering, respond_once
from api.schemas import (
    BulkError,
    BulkImportResponse,
    JobListResponse,
    ReportRequest,
    ReportResponse,
)
from matcher.schemas import JobPosting, JobPostingIn
from matcher.services import Idempotency, Remember, parse_job_rows

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", status_code=201, response_model=JobPosting)
def create_job(
    request: Request,
    body: JobPostingIn,
    service: Service,
    principal: Employer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Publish a posting (employer key). Required skills may be ESCO URIs or labels; skills in
    the description are found and added as optional. Tagging a posting with a state
    programme needs an operator registration (403 otherwise).

    Every posting is screened for broker and scam signals (fees over the legal ceilings, any
    fee for a state programme, guaranteed visas, contact by private messaging only, look-alike
    names of licensed enterprises, ...). One that shows them is stored and **held for
    review**: `review.status` is `held`, `review.signals` says why, and no candidate sees it
    until an admin clears it. An employer in the registry of licensed enterprises gets
    `commercial`, with the legal fee ceilings."""
    idempotency = idempotency_for(request, idempotency_key, principal.actor,
                                  body.model_dump_json())  # fmt: skip

    def create(key: Idempotency | None) -> JSONResponse:
        def answer(jobs: list[JobPosting]) -> Remember | None:
            return remembering(key, lambda _: (201, jobs[0].model_dump(mode="json")))

        [job] = service.create_jobs([body], principal, remember=answer if key else None)
        return JSONResponse(job.model_dump(mode="json"), status_code=201)

    return respond_once(service, idempotency, create)


@router.post(
    "/bulk",
    status_code=201,
    responses={422: {"description": "no row could be imported; the report says why"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
async def bulk_import(
    request: Request,
    service: Service,
    principal: Employer,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Import postings from JSON lines or CSV. Each bad row is reported with its line number;
    the good rows are imported (all together). Each row is screened like a single posting;
    `held` lists those held for review."""
    data = await request.body()
    good, errors = parse_job_rows(data, request.headers.get("content-type", ""))
    postings = [job for _, job in good]
    problems = [BulkError(line=e.line, message=e.message) for e in errors]
    idempotency = idempotency_for(request, idempotency_key, principal.actor, data)

    def report(jobs: list[JobPosting]) -> tuple[int, dict[str, Any]]:
        held = [job.id for job in jobs if job.review is not None and job.review.hidden]
        made = BulkImportResponse(imported=len(jobs), ids=[job.id for job in jobs], held=held,
                                  errors=problems)  # fmt: skip
        return (201 if jobs else 422), made.model_dump()

    def create(key: Idempotency | None) -> JSONResponse:
        if not good:  # nothing is created, so there is nothing to remember
            status, body = report([])
            return JSONResponse(body, status_code=status)

        def answer(jobs: list[JobPosting]) -> Remember | None:
            return remembering(key, lambda _: report(jobs))

        jobs = service.create_jobs(postings, principal, remember=answer if key else None)
        status, body = report(jobs)
        return JSONResponse(body, status_code=status)

    return await run_in_threadpool(respond_once, service, idempotency, create)


@router.get("")
def list_jobs(
    service: Service,
    principal: Employer,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JobListResponse:
    """Your postings, newest first (employer key)."""
    total, jobs = service.list_jobs(principal, limit=limit, offset=offset)
    return JobListResponse(total=total, results=jobs)


@router.get("/{job_id}")
def get_job(job_id: str, service: Service, principal: MaybePrincipal) -> JobPosting:
    """A posting (public). A posting held for review or rejected is 404 to everyone but its
    employer and the admin, who also see its `review`."""
    return service.get_job(job_id, principal)


@router.post(
    "/{job_id}/report", status_code=202, responses={404: {"description": "no such posting"}}
)
def report_job(job_id: str, body: ReportRequest, service: Service) -> ReportResponse:
    """Report a posting that looks like a scam (no key needed). The report is a signal and puts
    the posting in the admins' review queue; a posting reported several times, or that also
    shows another signal, is held (hidden from candidates) until an admin checks it."""
    review = service.report_job(job_id, body.reason)
    return ReportResponse(status=review.status)


@router.put("/{job_id}", responses={409: {"description": "the posting was rejected by a review"}})
def replace_job(
    job_id: str, body: JobPostingIn, service: Service, principal: Employer
) -> JobPosting:
    """Replace your own posting. It is screened again, and may be held for review (a
    rejected posting cannot be edited: 409)."""
    return service.replace_job(job_id, body, principal)


@router.delete("/{job_id}", status_code=204)
def delete_job(job_id: str, service: Service, principal: Employer) -> Response:
    """Delete your own posting; it leaves the index at once."""
    service.delete_job(job_id, principal)
    return Response(status_code=204)
