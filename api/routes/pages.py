"""The web pages for job seekers (``/``), employers (``/employers``) and admins (``/admin``).

Plain HTML, CSS and ES modules from ``api/web``: no build step, nothing loaded from elsewhere
(the content security policy says so to the browser too). The pages call the same public API
as everyone else, so they can do nothing an API client could not."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/")
def job_seekers() -> FileResponse:
    return _page("index.html")


@router.get("/employers")
def employers() -> FileResponse:
    return _page("employers.html")


@router.get("/admin")
def admin() -> FileResponse:
    """The admin page (the fairness audit); every call it makes needs an admin key."""
    return _page("admin.html")
