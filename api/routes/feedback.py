from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import MaybePrincipal, Service, Token
from api.idempotency import IdempotencyKey, idempotency_for, remembering, respond_once
from api.schemas import FeedbackResponse
from matcher.schemas import FeedbackIn
from matcher.services import Idempotency, body_digest

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", status_code=201, response_model=FeedbackResponse)
def record_feedback(
    request: Request,
    body: FeedbackIn,
    service: Service,
    principal: MaybePrincipal,
    token: Token,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record viewed / applied / shortlisted / hired / rejected, from the posting's employer
    (key) or the candidate (token). It is the training signal for the learned ranker."""
    scope = principal.actor if principal else f"candidate:{body_digest(token or '')[:24]}"
    idempotency = idempotency_for(request, idempotency_key, scope, body.model_dump_json())

    def create(key: Idempotency | None) -> JSONResponse:
        remember = remembering(key, lambda made: (201, {"id": made}))
        made = service.record_feedback(body, principal=principal, candidate_token=token,
                                       remember=remember)  # fmt: skip
        return JSONResponse({"id": made}, status_code=201)

    return respond_once(service, idempotency, create)
