from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

from matcher.services import MatcherService
from matcher.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The real settings: real ESCO data, the imported model, the prepared state directory
    (the base model and hand-set weights, whatever a local training run has promoted)."""
    return Settings(serve_champions=False)


@pytest.fixture(scope="session")
def service(settings: Settings) -> MatcherService:
    return MatcherService(settings)
