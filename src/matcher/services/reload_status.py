"""What a reload is doing, for the admin's reload status."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from matcher.store import now


@dataclass
class ReloadStatus:
    """What a reload is doing, for the admin's reload status (thread-safe)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _state: dict[str, Any] = field(default_factory=lambda: {"state": "idle"})
    _started: float = 0.0

    def begin(self, before: dict[str, str]) -> None:
        with self._lock:
            self._state = {"state": "running", "phase": "starting", "before": before,
                           "started_at": now().isoformat(), "done": 0, "total": 0}  # fmt: skip
            self._started = time.perf_counter()

    def update(self, **values: Any) -> None:
        with self._lock:
            self._state |= values

    def finish(self, served: dict[str, str], *, changed_encoder: bool) -> None:
        with self._lock:
            self._state |= {"state": "done", "phase": "swapped", "served": served,
                            "changed_encoder": changed_encoder, "finished_at": now().isoformat(),
                            "seconds": round(time.perf_counter() - self._started, 1)}  # fmt: skip

    def fail(self, error: Exception) -> None:
        with self._lock:
            self._state |= {"state": "failed", "error": f"{type(error).__name__}: {error}",
                            "finished_at": now().isoformat()}  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state)
