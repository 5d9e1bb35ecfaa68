"""MLflow: where runs are tracked, registered model names, and the gated ``champion`` alias.

By default the tracking store is a SQLite file in the state directory and artifacts are kept
next to it (``<state>/mlartifacts``); ``MATCHER_MLFLOW_URI`` points at a tracking server
instead. MLflow is imported only when a function here is called (it takes seconds).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError

logger = logging.getLogger(__name__)

ENCODER_MODEL = "matcher-encoder"
RANKER_MODEL = "matcher-ranker"
CHAMPION = "champion"
EXPERIMENTS = {"encoder": "matcher-encoder-training", "ranker": "matcher-ranker-training"}


class TrackingError(MatcherError, RuntimeError):
    code = "tracking"


def configure(tracking_uri: str, state_dir: Path) -> None:
    """Point MLflow at ``tracking_uri`` (quietly)."""
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import mlflow

    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def experiment(kind: str, state_dir: Path) -> str:
    """The experiment id for ``kind`` (``encoder`` or ``ranker``), created on first use with
    its artifacts under the state directory when tracking is local."""
    import mlflow

    name = EXPERIMENTS[kind]
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if mlflow.get_tracking_uri().startswith("sqlite:"):
        location = (Path(state_dir) / "mlartifacts").resolve().as_uri()
    return str(mlflow.create_experiment(name, artifact_location=location))


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as ``a.b=value`` strings (MLflow params are flat, ≤ 6,000 chars)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = str(value)[:6000]
    return flat


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    run_id: str | None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def champion(name: str) -> Champion | None:
    """The version that holds the ``champion`` alias, or ``None`` (no model registered yet)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None
    return Champion(name, str(version.version), version.run_id)


def promote(name: str, version: str) -> None:
    from mlflow import MlflowClient

    MlflowClient().set_registered_model_alias(name, CHAMPION, version)


def registered_version(name: str, run_id: str) -> str:
    """The registry version created from ``run_id``'s model."""
    from mlflow import MlflowClient

    versions = MlflowClient().search_model_versions(f"name='{name}' and run_id='{run_id}'")
    if not versions:
        raise TrackingError(f"run {run_id} registered no version of {name}")
    return str(max(int(v.version) for v in versions))


def has_local_store(tracking_uri: str) -> bool:
    """False for a local SQLite store that does not exist yet (nothing registered, and
    nothing to import MLflow for)."""
    if tracking_uri.startswith("sqlite:///"):
        return Path(tracking_uri.removeprefix("sqlite:///")).exists()
    return True
