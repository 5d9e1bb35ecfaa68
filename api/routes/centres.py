"""Employment service centres: the consenting candidates of a centre's provinces (JSON or
CSV, audit-logged), the admin route that creates a centre, and the public aggregates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import Admin, Centre, Service
from matcher.schemas import Aggregates, CentreCandidate, CentreCreated, CentreFilters, CentreIn

router = APIRouter(prefix="/v1", tags=["centres"])
Filters = Annotated[CentreFilters, Query()]


class CentrePage(CentreFilters):
    """The filters, and a page of the list."""

    limit: int = Field(50, ge=1, le=200, description="results per page")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="results to skip")


class CentreList(BaseModel):
    total: int
    results: list[CentreCandidate]


@router.post("/admin/centres", status_code=201)
def create_centre(body: CentreIn, service: Service, principal: Admin) -> CentreCreated:
    """Create an employment service centre serving `provinces`, and its key (shown once).
    Audit-logged."""
    return service.create_centre(body, principal)


@router.get("/centre/candidates")
def centre_candidates(
    service: Service, principal: Centre, page: Annotated[CentrePage, Query()]
) -> CentreList:
    """The candidates of your provinces who agreed that centres may list and contact them:
    id, province, commune, programmes of interest, readiness, returnee status, and the name
    and contact they gave. Filters: `province` (one of yours; another is 403), `commune`,
    `programme`, `readiness`, `returnee`. Audit-logged."""
    filters = CentreFilters(**page.model_dump(exclude={"limit", "offset"}))
    total, rows = service.centre_candidates(principal, filters, limit=page.limit,
                                            offset=page.offset)  # fmt: skip
    return CentreList(total=total, results=rows)


@router.get(
    "/centre/candidates.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the list as CSV (UTF-8)"}},
)
def centre_export(service: Service, principal: Centre, filters: Filters) -> Response:
    """The same list as CSV, with exactly those columns. Audit-logged."""
    text = service.centre_export(principal, filters)
    return Response(
        text.encode("utf-8"), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="candidates.csv"'},
    )  # fmt: skip


@router.get("/aggregates")
def aggregates(
    service: Service,
    province: Annotated[str | None, Query(max_length=80, description="one province")] = None,
) -> Aggregates:
    """Public counts without personal data, by province, commune and programme of interest:
    people interested and people ready, and the skills they most often lack for the
    programmes' occupations. Counts under `MATCHER_AGGREGATE_MIN_CELL` (5) are null."""
    return service.aggregates(province)
