"""The OpenAPI schema states every limit the server enforces (fuzzers and clients read it)."""

from __future__ import annotations

from typing import Any

from api.main import create_app
from matcher.schemas import MAX_K
from matcher.settings import Settings


def _properties(node: Any) -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        for name, value in (node.get("properties") or {}).items():
            found.append((name, value))
        for value in node.values():
            found += _properties(value)
    elif isinstance(node, list):
        for value in node:
            found += _properties(value)
    return found


def test_every_k_states_its_bounds(fast_settings: Settings) -> None:
    schema = create_app(fast_settings).openapi()
    ks = [value for name, value in _properties(schema) if name == "k"]
    ks += [p["schema"] for path in schema["paths"].values() for op in path.values()
           for p in op.get("parameters", []) if p["name"] == "k"]  # fmt: skip
    assert len(ks) >= 6
    for k in ks:
        assert k["minimum"] == 1 and k["maximum"] == MAX_K, k
