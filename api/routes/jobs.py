from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Employer, Service
from api.schemas import BulkError, BulkImportResponse, JobListResponse
from matcher.ingest import parse_job_rows
from matcher.schemas import JobPosting, JobPostingIn

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", status_code=201)
def create_job(body: JobPostingIn, service: Service, principal: Employer) -> JobPosting:
    """Publish a posting (employer key). Required skills may be ESCO URIs or labels; skills in
    the description are found and added as optional."""
    return service.create_jobs([body], principal)[0]


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
async def bulk_import(request: Request, service: Service, principal: Employer) -> Response:
    """Import postings from JSON lines or CSV. Each bad row is reported with its line number;
    the good rows are imported (all together)."""
    data = await request.body()
    good, errors = parse_job_rows(data, request.headers.get("content-type", ""))
    postings = [job for _, job in good]
    jobs = await run_in_threadpool(service.create_jobs, postings, principal) if good else []
    report = BulkImportResponse(
        imported=len(jobs),
        ids=[job.id for job in jobs],
        errors=[BulkError(line=e.line, message=e.message) for e in errors],
    )
    return JSONResponse(report.model_dump(), status_code=201 if jobs else 422)


@router.get("")
def list_jobs(
    service: Service,
    principal: Employer,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobListResponse:
    """Your postings, newest first (employer key)."""
    total, jobs = service.list_jobs(principal, limit=limit, offset=offset)
    return JobListResponse(total=total, results=jobs)


@router.get("/{job_id}")
def get_job(job_id: str, service: Service) -> JobPosting:
    """A posting (public)."""
    return service.get_job(job_id)


@router.put("/{job_id}")
def replace_job(
    job_id: str, body: JobPostingIn, service: Service, principal: Employer
) -> JobPosting:
    """Replace your own posting."""
    return service.replace_job(job_id, body, principal)


@router.delete("/{job_id}", status_code=204)
def delete_job(job_id: str, service: Service, principal: Employer) -> Response:
    """Delete your own posting; it leaves the index at once."""
    service.delete_job(job_id, principal)
    return Response(status_code=204)
