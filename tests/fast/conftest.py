"""The fast tier: every use case against a small slice of the real ESCO files, a real SQLite
store and real FAISS indexes, with a deterministic fake encoder instead of the model. Runs in
well under a minute (``make test-fast``); ``make test`` runs the real-model suite as well."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.reference.taxonomy import ESCO_FILES
from matcher.services import MatcherService
from matcher.settings import PROJECT_ROOT, Settings
from tests.fast.fakes import FakeEncoder

#: The occupations of the slice (besides those the project's data files name).
OCCUPATIONS = {
    "primary school teacher", "accountant", "welder", "nurse responsible for general care",
    "web developer", "metal production supervisor", "social worker",
}  # fmt: skip


def _esco_dir() -> Path:
    return Path(os.environ.get("MATCHER_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"))


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)


def _named(kind: str) -> set[str]:
    """ESCO URIs of ``kind`` (occupation, skill) that the project's data files refer to."""
    pattern = re.compile(rf"http://data\.europa\.eu/esco/{kind}/[0-9a-f-]{{36}}")
    return {uri for path in (PROJECT_ROOT / "data").rglob("*.csv")
            for uri in pattern.findall(path.read_text(encoding="utf-8"))}  # fmt: skip


@pytest.fixture(scope="session")
def esco_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred occupations and their skills, in ESCO v1.1.1's own files and format."""
    source = _esco_dir() / "esco-v1.1.1"
    out = tmp_path_factory.mktemp("data")
    target = out / "esco-v1.1.1"
    target.mkdir()
    header, occupations = _read(source / "occupations_en.csv")
    named = _named("occupation")
    kept = [
        r for r in occupations if r["preferredLabel"] in OCCUPATIONS or r["conceptUri"] in named
    ]
    uris = {r["conceptUri"] for r in kept}
    _write(target / "occupations_en.csv", header, kept)
    header, relations = _read(source / "occupationSkillRelations.csv")
    relations = [r for r in relations if r["occupationUri"] in uris]
    skills = {r["skillUri"] for r in relations} | _named("skill")
    _write(target / "occupationSkillRelations.csv", header, relations)
    header, rows = _read(source / "skills_en.csv")
    _write(target / "skills_en.csv", header, [r for r in rows if r["conceptUri"] in skills])
    header, rows = _read(source / "broaderRelationsSkillPillar.csv")
    _write(target / "broaderRelationsSkillPillar.csv", header,
           [r for r in rows if r["conceptUri"] in skills or r["conceptType"] != "KnowledgeSkillCompetence"])  # fmt: skip
    for name in ESCO_FILES:
        if not (target / name).exists():  # the small ones (ISCO and skill groups), whole
            (target / name).write_bytes((source / name).read_bytes())
    return out


@pytest.fixture(scope="session")
def fast_settings(esco_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    state = tmp_path_factory.mktemp("state")
    return Settings(data_dir=esco_slice, state_dir=state, serve_champions=False,
                    model="fake", inference_workers=False)  # fmt: skip


@pytest.fixture
def fresh_settings(fast_settings: Settings, tmp_path: Path) -> Settings:
    """The slice with a state directory of its own (its own store and indexes)."""
    return fast_settings.model_copy(
        update={"state_dir": tmp_path, "cache_dir": fast_settings.caches}
    )


@pytest.fixture(scope="session")
def fast_service(fast_settings: Settings) -> Iterator[MatcherService]:
    service = MatcherService(
        fast_settings,
        encoder=FakeEncoder(),  # type: ignore[arg-type]
        load_encoder=lambda spec: FakeEncoder(),
    )  # type: ignore[arg-type,return-value]
    service.start()
    yield service
    service.stop()
    service.store.close()
