"""Starting and stopping the real server (``matcher serve``) on 127.0.0.1 for tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(state: Path, caches: Path, port: int, *args: str, **extra: str) -> subprocess.Popen:
    """``matcher serve`` on 127.0.0.1:``port`` with ``args`` (e.g. ``--workers 2``) and the
    environment ``extra``; returns once ``/readyz`` answers 200."""
    env = {**os.environ, "MATCHER_STATE_DIR": str(state), "MATCHER_CACHE_DIR": str(caches),
           "MATCHER_SERVE_CHAMPIONS": "false", **extra}  # fmt: skip
    matcher = str(Path(sys.executable).with_name("matcher"))
    # The log goes to a file (a pipe nobody reads would block a chatty server when it fills).
    log_path = Path(state).parent / f"server-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [matcher, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    process.log_path = log_path  # type: ignore[attr-defined]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {server_log(process)[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise AssertionError("server did not become ready in 240 s")


def server_log(process: subprocess.Popen) -> str:
    """Everything the server has logged so far (stdout and stderr)."""
    return Path(process.log_path).read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def create_key(state: Path, caches: Path, *args: str, operator_of: str | None = None) -> str:
    """A key made as an operator makes one: ``matcher keys create --employer NAME`` (or
    ``--admin``) against the server's state directory; ``operator_of``: then register the
    employer as that programme's operator (``matcher keys operator``)."""
    env = {**os.environ, "MATCHER_STATE_DIR": str(state), "MATCHER_CACHE_DIR": str(caches)}
    matcher = str(Path(sys.executable).with_name("matcher"))
    made = subprocess.run([matcher, "keys", "create", *args, "--json"], env=env,
                          capture_output=True, check=False)  # fmt: skip
    assert made.returncode == 0, f"matcher keys create failed: {made.stderr.decode()[-2000:]}"
    record = json.loads(made.stdout)
    if operator_of:
        subprocess.run([matcher, "keys", "operator", "--employer-id", record["employer_id"],
                        "--programme", operator_of], env=env, capture_output=True, check=True)  # fmt: skip
    return str(record["key"])
