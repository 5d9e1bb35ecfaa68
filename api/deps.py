"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from api.schemas import ProfileSource
from matcher.errors import ForbiddenError, UnauthorizedError
from matcher.schemas import Candidate, Lang
from matcher.services import MatcherService, Principal


def get_service(request: Request) -> MatcherService:
    return request.app.state.service  # type: ignore[no-any-return]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _principal(service: MatcherService, token: str | None) -> Principal:
    if token is None:
        raise UnauthorizedError("send your API key as 'Authorization: Bearer <key>'")
    return service.authenticate(token)


def employer(
    service: Annotated[MatcherService, Depends(get_service)],
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal:
    principal = _principal(service, token)
    if principal.role not in ("employer", "admin"):
        raise ForbiddenError("this route needs an employer key")
    return principal


def admin(
    service: Annotated[MatcherService, Depends(get_service)],
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal:
    principal = _principal(service, token)
    if principal.role != "admin":
        raise ForbiddenError("this route needs the admin key")
    return principal


def centre(
    service: Annotated[MatcherService, Depends(get_service)],
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal:
    principal = _principal(service, token)
    if principal.role != "centre":
        raise ForbiddenError("this route needs an employment service centre's key")
    return principal


def optional_principal(
    service: Annotated[MatcherService, Depends(get_service)],
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal | None:
    """The key's owner, if the bearer token is an API key (it may be a candidate token)."""
    return service.principal_of(token)


Service = Annotated[MatcherService, Depends(get_service)]
Employer = Annotated[Principal, Depends(employer)]
Admin = Annotated[Principal, Depends(admin)]
Centre = Annotated[Principal, Depends(centre)]
Token = Annotated[str | None, Depends(bearer_token)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
LangQuery = Annotated[Lang, Query(description="language of the reasons: vi or en")]
#: Paging of lists: a page of at most 200, and an offset the store can represent.
Limit = Annotated[int, Query(ge=1, le=200, description="results per page")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="results to skip")]


def candidate_for(body: ProfileSource, service: MatcherService, token: str | None) -> Candidate:
    """The inline profile of a request (with the full skill extraction, as for a saved one),
    or the saved one its token opens."""
    if body.profile is not None:
        return service.build_candidate(body.profile, per_request=True)
    if token is None:
        raise UnauthorizedError("a saved profile needs its token: 'Authorization: Bearer <token>'")
    return service.get_candidate(str(body.candidate_id), token)
