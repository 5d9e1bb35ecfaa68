"""The layers, checked on the source with ``ast`` (see docs/architecture.md):

- the library (``src/matcher``) never imports the API;
- ``matcher.training`` is imported only by the CLI and the ``training/`` entry points (and by
  itself): the services and the rest of the library never depend on training;
- the edges (``api/``, ``cli.py``, ``training/*.py``) reach the library through
  ``matcher.services`` and the small shared core (settings, errors, schemas, text) only;
- importing ``matcher.errors``, ``matcher.schemas`` or ``matcher.settings`` loads neither torch
  nor FAISS.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.settings import PROJECT_ROOT

LIBRARY = PROJECT_ROOT / "src" / "matcher"
CORE = ("matcher.services", "matcher.settings", "matcher.errors", "matcher.schemas", "matcher.text")
EDGE_FILES = [
    *sorted((PROJECT_ROOT / "api").rglob("*.py")),
    LIBRARY / "cli.py",
    *sorted((PROJECT_ROOT / "training").glob("*.py")),
]


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every import in a file, absolute (``from x import y`` gives x.y
    when y may be a module, and x)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(PROJECT_ROOT)}:{line}"


def test_the_library_never_imports_the_api() -> None:
    found = [f"{_where(p, n)} imports {m}" for p in LIBRARY.rglob("*.py")
             for n, m in imports(p) if _is(m, "api") or _is(m, "fastapi")]  # fmt: skip
    assert found == []


def test_only_the_cli_and_the_training_entry_points_import_training() -> None:
    allowed = {LIBRARY / "cli.py", *PROJECT_ROOT.joinpath("training").glob("*.py")}
    found = [
        f"{_where(p, n)} imports {m}"
        for p in LIBRARY.rglob("*.py")
        if p not in allowed and LIBRARY / "training" not in p.parents
        for n, m in imports(p)
        if _is(m, "matcher.training")
    ]
    assert found == []


@pytest.mark.parametrize("path", EDGE_FILES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_the_edges_call_the_library_through_the_services(path: Path) -> None:
    training_allowed = path.name == "cli.py" or path.parent.name == "training"
    found = [
        f"{_where(path, n)} imports {m}"
        for n, m in imports(path)
        if _is(m, "matcher") and m != "matcher"
        and not any(_is(m, allowed) for allowed in CORE)
        and not (training_allowed and _is(m, "matcher.training"))
        and not (training_allowed and m == "matcher.cli")  # the CLI is an edge too
    ]  # fmt: skip
    assert found == []


def test_the_use_cases_never_import_training_or_the_edges() -> None:
    found = [f"{_where(p, n)} imports {m}" for p in (LIBRARY / "services").rglob("*.py")
             for n, m in imports(p)
             if _is(m, "matcher.training") or _is(m, "api") or m == "matcher.cli"]  # fmt: skip
    assert found == []


@pytest.mark.parametrize("module", ["matcher.errors", "matcher.schemas", "matcher.settings"])
def test_the_shared_core_imports_no_heavy_library(module: str) -> None:
    code = (
        f"import sys, {module}; heavy = [m for m in ('torch', 'faiss', 'sentence_transformers',"
        " 'mlflow', 'onnxruntime') if m in sys.modules]; print(','.join(heavy))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120).stdout.strip()  # fmt: skip
    assert loaded == ""


@pytest.mark.parametrize("path", EDGE_FILES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_the_edges_never_reach_past_the_use_cases(path: Path) -> None:
    """No ``service.store``, ``service.catalog`` or ``service.runtime`` in an edge: what the
    store or the indexes do is a use case's business."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = [
        f"{_where(path, node.lineno)} uses service.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("store", "catalog", "runtime")
        and isinstance(node.value, ast.Name) and node.value.id in ("service", "live", "builder")
    ]  # fmt: skip
    assert found == []
