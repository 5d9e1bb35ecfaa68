"""Named fault-injection points, for the crash tests only.

``MATCHER_FAULT_POINT=<name>`` makes the process kill itself (SIGKILL: no clean-up, no
flush, as a power cut or the OOM killer would) when it reaches :func:`point` with that name.
Unset, :func:`point` does nothing. With ``MATCHER_FAULT_PAUSE_S=<seconds>`` also set, the
point pauses that long instead of killing (a slow write, for the replica tests). The names in
use:

- ``index-save``: inside :meth:`matcher.search.index.VectorIndex.save`, the new file (or
  segment) written but not yet renamed into place;
- ``store-commit``: inside a postings transaction, before its commit;
- ``store-to-index``: a write committed to the store, not yet in the index, not yet answered;
- ``reload-swap``: inside a reload's final catch-up and swap.
"""

from __future__ import annotations

import os
import signal
import time

VARIABLE = "MATCHER_FAULT_POINT"
PAUSE = "MATCHER_FAULT_PAUSE_S"


def point(name: str) -> None:
    if os.environ.get(VARIABLE) == name:
        pause = os.environ.get(PAUSE)
        if pause:
            time.sleep(float(pause))
            return
        os.kill(os.getpid(), signal.SIGKILL)
