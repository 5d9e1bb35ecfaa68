"""Admin routes: switch the service to the current champion models without downtime."""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Admin, Service
from matcher.errors import ConflictError

router = APIRouter(prefix="/v1/admin", tags=["admin"])
logger = logging.getLogger("matcher.api")


@router.post("/reload", status_code=202)
def reload_models(service: Service, _: Admin) -> JSONResponse:
    """Switch to the registered champions (``matcher-encoder@champion``,
    ``matcher-ranker@champion``). A new encoder re-embeds every posting and profile in the
    background while requests keep being answered; the new index is swapped in at once when it
    is complete. Follow it with ``GET /v1/admin/reload``. 409 while one is running."""
    if service.reload_status.as_dict().get("state") == "running":
        raise ConflictError("a reload is already running; follow it at GET /v1/admin/reload")

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

    service.reload_status.update(state="running", phase="queued")
    threading.Thread(target=run, name="matcher-reload", daemon=True).start()
    return JSONResponse(_status(service), status_code=202)


@router.get("/reload")
def reload_status(service: Service, _: Admin) -> dict[str, Any]:
    """The last reload: state (idle, running, done, failed), phase, progress and the models
    served now."""
    return _status(service)


def _status(service: Any) -> dict[str, Any]:
    return service.reload_status.as_dict() | {"serving": dict(service.served)}
