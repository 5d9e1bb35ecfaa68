"""The fairness audit as a background job of the service (``POST /v1/admin/fairness``).

The audit itself is offline work (:mod:`matcher.training.audit`, which the library does not
import): the service runs ``matcher audit`` in a child process, with the service's own
settings, and reads its progress and report from the state directory. Every worker of a
multi-worker server sees the same status, and the report survives a restart. The child reads
the store and the indexes and writes nothing but the report."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from matcher.errors import ConflictError, NotFoundError
from matcher.services.runtime import Runtime
from matcher.store import Principal, now

STATUS_FILE = "status.json"
SETTINGS_FILE = "settings.json"
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
REPORT_FILES = {"json": "audit.json", "markdown": "audit.md", "svg": "audit.svg"}


def audit_dir(rt: Runtime) -> Path:
    return rt.settings.state_dir / "audit"


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a child that ended but was not reaped yet is no longer running
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:  # not our child (another worker's): the signal check decides
        return True


def begin_audit(rt: Runtime, principal: Principal, *, preset: str | None = None) -> dict[str, Any]:
    """Start the audit of the served models in the background; :class:`ConflictError` while
    one runs."""
    folder = audit_dir(rt)
    folder.mkdir(parents=True, exist_ok=True)
    # the check and the start under one lock on a file: two workers (or two threads) asked
    # at the same instant start one audit, and the other is told it runs
    with (folder / "start.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if audit_status(rt).get("state") == "running":
            raise ConflictError("a fairness audit is already running; follow its status")
        _start(rt, folder, preset)
    rt.store.audit(principal.actor, "fairness_audit")
    return audit_status(rt)


def _start(rt: Runtime, folder: Path, preset: str | None) -> None:
    settings_file = folder / SETTINGS_FILE
    settings_file.write_text(rt.settings.model_dump_json(), encoding="utf-8")
    settings_file.chmod(0o600)
    status = folder / STATUS_FILE
    _write(status, {"state": "running", "phase": "starting", "done": 0, "total": 0,
                    "started_at": now().isoformat()})  # fmt: skip
    with (folder / "audit.log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "matcher", "audit", "--preset",
             preset or rt.settings.audit_preset, "--settings-file", str(settings_file),
             "--progress-file", str(status), "--out", str(folder),
             "--parent-pid", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    _CHILDREN[process.pid] = process  # kept, so that it is reaped (and not warned about)
    _write(status, _read(status) | {"pid": process.pid})


def stop_audits() -> None:
    """Stop the audits this process started (the server's shutdown): an audit never outlives
    the service that started it. Its status then reads failed; nothing else was written."""
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        _CHILDREN.pop(pid, None)


def audit_status(rt: Runtime) -> dict[str, Any]:
    """The last audit: state (idle, running, done, failed), phase and progress, and the last
    report (``report``) when there is one."""
    folder = audit_dir(rt)
    state = _read(folder / STATUS_FILE) or {"state": "idle"}
    pid = state.get("pid")
    if state.get("state") == "running" and isinstance(pid, int) and not _alive(pid):
        state |= {"state": "failed", "error": "the audit process ended without a report; see "
                  f"{folder / 'audit.log'}"}  # fmt: skip
    report = _read(folder / REPORT_FILES["json"])
    return state | ({"report": report} if report else {})


def audit_file(rt: Runtime, kind: str) -> Path:
    """The last report as ``markdown`` or ``svg``; :class:`NotFoundError` before the first."""
    path = audit_dir(rt) / REPORT_FILES[kind]
    if not path.exists():
        raise NotFoundError("no fairness audit has finished yet; start one with "
                            "POST /v1/admin/fairness")  # fmt: skip
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


def _write(path: Path, values: dict[str, Any]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(values), encoding="utf-8")
    partial.replace(path)
