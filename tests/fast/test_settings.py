"""Settings that cannot work together are refused when they are read, with what to set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matcher.settings import Settings


def test_a_replica_without_a_shared_store_is_refused_with_what_to_set() -> None:
    """``MATCHER_REPLICA`` on the default SQLite file would follow nobody: refused at start."""
    with pytest.raises(ValidationError, match="MATCHER_STORE_URL to postgresql"):
        Settings(replica=True)
    assert Settings(replica=True, store_url="postgresql+psycopg://u@localhost/m").replica
