"""``matcher serve``: one process, or ``--workers N`` processes on one listening socket.

Several workers share the store (SQLite or PostgreSQL) and each keeps its own copy of the job
and candidate indexes, kept in line through the store's change log
(:meth:`matcher.search.catalog.Catalog.follow`): a write is searchable at once on the worker
that accepted it and on the others within ``follow_interval_ms`` (200 ms; at most 1 s).
Worker 0 is the primary: it writes the index files, and it starts first (the start-up
reconcile, the demo set); the others start once it is ready, or with it when the store holds
the stamp the index files were saved with (nothing to compare, embed or write at start-up).
A worker that dies is started again.
``/metrics`` sums the request counts of every worker (``PROMETHEUS_MULTIPROC_DIR``, set to
``<state>/metrics`` unless given).

The listening socket is made here, with ``IPPROTO_TCP``: uvicorn's own ``--workers`` binds it
without, so connections accepted from it lose ``TCP_NODELAY`` and every keep-alive response
waits ~40 ms for a delayed ACK (Kludex/uvicorn#3149; ``docs/benchmarks.md`` measures it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import time
from typing import Any

from matcher.services import Worker, store_as_saved
from matcher.settings import Settings, configure_logging

logger = logging.getLogger("matcher.serve")

PR_SET_PDEATHSIG = 1  # prctl(2)
#: How long the primary may take to become ready (the first start embeds ESCO and the demo).
PRIMARY_READY_SECONDS = 1800


def serve(settings: Settings, host: str, port: int, *, workers: int = 1, demo: bool = False
          ) -> None:  # fmt: skip
    """Serve on ``host:port`` until SIGINT or SIGTERM."""
    import uvicorn

    from api.main import create_app

    if workers <= 1:
        uvicorn.run(create_app(settings, demo=demo), host=host, port=port, workers=1,
                    log_level="info")  # fmt: skip
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics sums every worker's counts
        metrics = settings.state_dir / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)  # inherited by the workers
    listener = listening_socket(host, port)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited threads
    stopping = False

    def start(number: int) -> Any:
        # a pipe, not an Event: an Event's semaphores were reported leaked at every shutdown
        ready, told = spawn.Pipe(duplex=False)
        process = spawn.Process(target=_run_worker, name=f"matcher-worker-{number}",
                                args=(listener, host, port, number, demo and number == 0, told))  # fmt: skip
        process.start()
        told.close()  # the worker's end: EOF here once it exits
        return process, ready

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    together = not demo and store_as_saved(settings)
    processes = [start(number) for number in range(workers if together else 1)]
    if together:
        logger.info("the store is as the index files were saved: %d workers start together",
                    workers)  # fmt: skip
    deadline = time.monotonic() + PRIMARY_READY_SECONDS
    while not stopping and not _told_ready(processes[0][1], 0.5):  # the primary first
        if not processes[0][0].is_alive() or time.monotonic() > deadline:
            logger.error("worker 0 did not start; stopping")
            stopping = True
    if not stopping:
        processes += [start(number) for number in range(len(processes), workers)]
        logger.info("serving on http://%s:%d with %d workers", host, port, workers)
    while not stopping:
        time.sleep(0.5)
        for number, (process, _) in enumerate(processes):
            if not process.is_alive() and not stopping:
                logger.warning("worker %d exited (%s); starting it again", number,
                               process.exitcode)  # fmt: skip
                processes[number] = start(number)
    for process, _ in processes:  # uvicorn's graceful shutdown: the primary saves the indexes
        if process.is_alive():
            process.terminate()
    for process, _ in processes:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
    listener.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections get ``TCP_NODELAY`` from asyncio."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _told_ready(ready: Any, seconds: float) -> bool:
    """Whether the worker at the other end of ``ready`` said it is ready (within
    ``seconds``); a worker that exited only closes its end."""
    if not ready.poll(seconds):
        return False
    try:
        return bool(ready.recv())
    except EOFError:
        time.sleep(seconds)  # it exited: the caller sees it is not alive
        return False


def _run_worker(listener: socket.socket, host: str, port: int, number: int, demo: bool,
                ready: Any) -> None:  # fmt: skip
    import uvicorn

    from api.main import create_app

    configure_logging(f"[worker {number}] ")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops workers with SIGTERM
    _stop_with_parent()
    app = create_app(Settings(), demo=demo, worker=Worker(number, primary=number == 0),
                     on_ready=lambda: ready.send(True))  # fmt: skip
    config = uvicorn.Config(app, host=host, port=port, log_level="info")
    uvicorn.Server(config).run(sockets=[listener])


def _stop_with_parent() -> None:
    """SIGTERM this worker when the supervisor dies, even by SIGKILL (Linux's
    ``PR_SET_PDEATHSIG``): an orphaned worker would go on holding the port, and the next
    ``matcher serve`` could not bind it."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's own shutdown stops them
        return
    if os.getppid() == 1:  # the supervisor died before the call
        os.kill(os.getpid(), signal.SIGTERM)
