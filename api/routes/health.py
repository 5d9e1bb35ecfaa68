from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from matcher.taxonomy import ACKNOWLEDGEMENT

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """The model, the taxonomy and the indexes are loaded."""
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> str:
    """Prometheus metrics: requests and latencies per route, index sizes, model id."""
    state = request.app.state
    gauges: dict[str, tuple[str, float, dict[str, str]]] = {}
    service = getattr(state, "service", None)
    if getattr(state, "ready", False) and service is not None:
        catalog = service.catalog
        gauges["matcher_index_jobs"] = ("Postings in the job index.", len(catalog.jobs), {})
        gauges["matcher_index_candidates"] = (
            "Profiles in the candidate index.",
            len(catalog.candidates),
            {},
        )
        gauges["matcher_quarantined_records"] = (
            "Stored records that could not be embedded (GET /v1/admin/quarantine).",
            len(service.store.quarantined()),
            {},
        )
        gauges["matcher_model_info"] = (
            "The embedding model in use.",
            1,
            {"model": service.encoder.name},
        )
    return state.metrics.render(gauges)  # type: ignore[no-any-return]


@router.get("/v1/about")
def about(request: Request) -> dict[str, object]:
    """What this service is, and the data it uses, with acknowledgements."""
    service = getattr(request.app.state, "service", None)
    return {
        "name": "matcher",
        "model": service.settings.model if service else None,
        "serving": dict(service.served) if service and getattr(request.app.state, "ready", False)
        else None,
        "data_sources": [
            {
                "name": "ESCO v1.1.1",
                "publisher": "European Commission",
                "url": "https://esco.ec.europa.eu",
                "licence": "Commission Decision 2011/833/EU (reuse with acknowledgement)",
            },
            {
                "name": "Vietnamese labels",
                "publisher": "matcher project",
                "url": None,
                "licence": "MIT",
            },
            {
                "name": "Vietnamese public-sector positions → ISCO-08 / ESCO",
                "publisher": "matcher project",
                "url": None,
                "licence": "MIT",
                "note": "each rank's duties are cited from the Vietnamese legal document that "
                "defines them (data/civil_service_positions.csv, column duties_source)",
            },
        ],
        "acknowledgement": ACKNOWLEDGEMENT,
    }
