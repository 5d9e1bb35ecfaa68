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


def start_server(state: Path, caches: Path, port: int, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "MATCHER_STATE_DIR": str(state), "MATCHER_CACHE_DIR": str(caches),
           "MATCHER_SERVE_CHAMPIONS": "false", **extra}  # fmt: skip
    matcher = str(Path(sys.executable).with_name("matcher"))
    process = subprocess.Popen(
        [matcher, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise AssertionError("server did not become ready in 240 s")


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def create_key(state: Path, caches: Path, *args: str) -> str:
    """A key made as an operator makes one: ``matcher keys create --employer NAME`` (or
    ``--admin``) against the server's state directory."""
    env = {**os.environ, "MATCHER_STATE_DIR": str(state), "MATCHER_CACHE_DIR": str(caches)}
    made = subprocess.run(
        [str(Path(sys.executable).with_name("matcher")), "keys", "create", *args, "--json"],
        env=env, capture_output=True, check=True,
    )  # fmt: skip
    return str(json.loads(made.stdout)["key"])
