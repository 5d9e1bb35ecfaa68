from __future__ import annotations

from fastapi import APIRouter

from api.deps import MaybePrincipal, Service, Token
from api.schemas import FeedbackResponse
from matcher.schemas import FeedbackIn

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", status_code=201)
def record_feedback(
    body: FeedbackIn, service: Service, principal: MaybePrincipal, token: Token
) -> FeedbackResponse:
    """Record viewed / applied / shortlisted / hired / rejected, from the posting's employer
    (key) or the candidate (token). It is the training signal for the learned ranker."""
    if principal is not None:
        return FeedbackResponse(id=service.record_feedback(body, principal=principal))
    return FeedbackResponse(id=service.record_feedback(body, candidate_token=token))
