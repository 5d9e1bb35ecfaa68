from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from matcher.services import ACKNOWLEDGEMENT, COMMUNES_SOURCE

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
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests and latencies per route, index sizes, model id."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


GAUGE_HELP = {
    "index_jobs": "Postings in the job index.",
    "index_candidates": "Profiles in the candidate index.",
    "quarantined_records": "Stored records that could not be embedded (GET /v1/admin/quarantine).",
}


def gauges(app: Any) -> list[tuple[str, str, float, dict[str, str]]]:
    """The service's own sizes and its model, once it is ready (for :mod:`api.metrics`)."""
    service = getattr(app.state, "service", None)
    if not getattr(app.state, "ready", False) or service is None:
        return []
    found: list[tuple[str, str, float, dict[str, str]]] = [(f"matcher_{name}", GAUGE_HELP[name], float(value), {})
             for name, value in service.gauges().items()]  # fmt: skip
    found.append(("matcher_model_info", "The embedding model in use.", 1.0,
                  {"model": service.encoder.name}))  # fmt: skip
    found.append(("matcher_requests_in_flight", "API (/v1) requests being served now.",
                  float(app.state.in_flight), {}))  # fmt: skip
    return found


@router.get("/v1/about")
def about(request: Request) -> dict[str, object]:
    """What this service is, and the data it uses, with acknowledgements."""
    service = getattr(request.app.state, "service", None)
    return {
        "name": "matcher",
        "model": service.settings.model if service else None,
        "serving": dict(service.served)
        if service and getattr(request.app.state, "ready", False)
        else None,
        "data_sources": [
            {
                "name": "ESCO v1.1.1",
                "publisher": "European Commission",
                "url": "https://esco.ec.europa.eu",
                "licence": "Commission Decision 2011/833/EU (reuse with acknowledgement)",
            },
            {
                "name": "JobBERT vacancy titles, training part (jobbert_titles_dev.csv)",
                "publisher": "Decorte et al., 2021 (JobBERT evaluation set, dev half)",
                "url": None,
                "licence": "public research data, used under its terms",
                "note": "the 80% of the titles that may be trained on (split by a hash of the "
                "folded title) are example labels of their occupations in title matching; read "
                "from MATCHER_DATA_DIR, never copied into the project",
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
            {
                "name": "Communes since 1 July 2025 and the former provinces",
                "publisher": "dvhcvn (github.com/dvhcvn/20250701)",
                "url": "https://github.com/dvhcvn/20250701",
                "licence": "MIT, © 2025 dvhcvn",
                "note": COMMUNES_SOURCE,
            },
            {
                "name": "Overseas programme rules (data/programmes.yaml)",
                "publisher": "matcher project, citing the programmes' public sources",
                "url": None,
                "licence": "MIT",
                "note": "each fact is marked verified (page and date) or unverified",
            },
            {
                "name": "Enterprises licensed to send workers abroad (data/licensed_enterprises.csv)",
                "publisher": "a second-hand, undated copy of the Department of Overseas Labour "
                "Management's list, plus press reports of revocations",
                "url": None,
                "licence": "public information",
                "note": "about 72-78% of the licensed enterprises; listed, not re-checked at "
                "dolab.gov.vn (data/SOURCES-licensed-enterprises.md)",
            },
            {
                "name": "Scam-screening signals and the pay table (data/screening_signals.yaml, "
                "data/pay_reference.csv)",
                "publisher": "matcher project, citing the overseas-labour authorities' and the "
                "provinces' public warnings, press reports, and published wage figures",
                "url": None,
                "licence": "MIT",
                "note": "each signal names the warnings it comes from; each pay band its page",
            },
        ],
        "acknowledgement": ACKNOWLEDGEMENT,
    }
