"""The project's hand-edited YAML data files (programme rules, certificates): read, validated
by a pydantic model, and every mistake reported with the line it is on."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from matcher.errors import DataFormatError

M = TypeVar("M", bound=BaseModel)


def load_yaml_model(path: Path, model: type[M]) -> tuple[M, Any]:
    """The file validated as ``model``, and its YAML node tree (for :func:`line_of`)."""
    import yaml

    if not path.exists():
        raise DataFormatError(f"{path} is missing: it ships with the repository (data/)")
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DataFormatError(f"{path}{line}: not valid YAML ({problem})") from None
    try:
        return model.model_validate(raw), root
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DataFormatError(
            f"{path}:{line_of(root, first['loc'])}: {where}: {first['msg']}"
        ) from None


def line_of(node: Any, loc: tuple[Any, ...]) -> int:
    """The line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    import yaml

    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1 if node is not None else 1
