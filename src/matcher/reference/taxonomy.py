"""ESCO v1.1.1 (occupations, skills, relations, ISCO groups, skill hierarchy) plus the
project's Vietnamese labels.

The CSVs are parsed once and cached as a pickle in the state directory, keyed by the size and
modification time of every source file, so later starts take about a second.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import pickle
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from matcher.errors import DataDirError, DataFormatError
from matcher.text import fold

logger = logging.getLogger(__name__)

ESCO_VERSION = "1.1.1"
CACHE_VERSION = 4
ESCO_FILES = (
    "occupations_en.csv",
    "skills_en.csv",
    "occupationSkillRelations.csv",
    "ISCOGroups_en.csv",
    "skillsHierarchy_en.csv",
    "skillGroups_en.csv",
    "broaderRelationsSkillPillar.csv",
)
ACKNOWLEDGEMENT = (
    "This service uses the ESCO classification of the European Commission "
    "(ESCO v1.1.1, https://esco.ec.europa.eu), reused under Commission Decision 2011/833/EU. "
    "Vietnamese labels are the matcher project's own work."
)


@dataclass(slots=True)
class Occupation:
    uri: str
    label: str
    alt_labels: list[str]
    description: str
    isco_group: str
    code: str
    vi_labels: list[str] = field(default_factory=list)

    @property
    def skill_level(self) -> int:
        """ISCO-08 skill level (1 elementary … 4 professional), from the major group."""
        major = self.isco_group[:1]
        return {"1": 4, "2": 4, "3": 3, "9": 1, "0": 2}.get(major, 2)


@dataclass(slots=True)
class Skill:
    uri: str
    label: str
    alt_labels: list[str]
    description: str
    skill_type: str
    reuse_level: str
    vi_labels: list[str] = field(default_factory=list)
    broader: list[str] = field(default_factory=list)
    #: a machine-suggested Vietnamese name not yet reviewed: shown (marked as such) where no
    #: reviewed name exists, never matched against
    vi_suggested: str | None = None


@dataclass(slots=True)
class IscoGroup:
    uri: str
    code: str
    label: str
    description: str


@dataclass(slots=True)
class SkillGroup:
    uri: str
    code: str
    label: str


@dataclass
class Taxonomy:
    occupations: dict[str, Occupation]
    skills: dict[str, Skill]
    #: occupation uri → skill uris, by relation type ("essential", "optional")
    essential: dict[str, list[str]]
    optional: dict[str, list[str]]
    isco_groups: dict[str, IscoGroup]
    #: skill groups of the skill hierarchy (and their broader links in ``skill_group_parent``)
    skill_groups: dict[str, SkillGroup]
    skill_group_parent: dict[str, str]
    source_key: str = ""

    def skill_group_path(self, skill_uri: str) -> list[SkillGroup]:
        """The skill's hierarchy path, broadest first (empty if the skill has no group). A
        skill under a broader *skill* (``understand spoken Korean`` → ``Korean``) gets the path
        of its nearest ancestor that is in a group."""
        skill = self.skills.get(skill_uri)
        if skill is None:
            return []
        path: list[SkillGroup] = []
        current = next((uri for uri in skill.broader if uri in self.skill_groups), None)
        parents, visited = list(skill.broader), {skill_uri}
        while current is None and parents:  # a narrower skill: climb its broader skills
            parent = parents.pop(0)
            if parent in visited or parent not in self.skills:
                continue
            visited.add(parent)
            broader = self.skills[parent].broader
            current = next((uri for uri in broader if uri in self.skill_groups), None)
            parents.extend(broader)
        seen: set[str] = set()
        while current and current not in seen:
            seen.add(current)
            path.append(self.skill_groups[current])
            current = self.skill_group_parent.get(current)
        return list(reversed(path))

    @cached_property
    def _narrower(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = defaultdict(list)
        for skill in self.skills.values():
            for parent in skill.broader:
                if parent in self.skills:
                    children[parent].append(skill.uri)
        return dict(children)

    @cached_property
    def _by_vi_label(self) -> dict[str, list[str]]:
        owners: dict[str, list[str]] = defaultdict(list)
        for skill in self.skills.values():
            for name in skill.vi_labels:
                key = fold(name)
                if skill.uri not in owners[key]:
                    owners[key].append(skill.uri)
        return dict(owners)

    def related_skills(self, uri: str) -> tuple[tuple[str, str], ...]:
        """Skills one step away from ``uri``: ``(other uri, relation)``, the relation being
        what ``uri`` is to the other: ``"narrower"`` (``uri`` is a kind of it), ``"broader"``
        (it is a kind of ``uri``) or ``"synonym"`` (a shared reviewed Vietnamese name).
        Worked out once per skill: every ranked posting asks it of each of its skills."""
        found = self._related.get(uri)
        if found is None:
            found = self._related[uri] = self._relations_of(uri)
        return found

    @cached_property
    def _related(self) -> dict[str, tuple[tuple[str, str], ...]]:
        return {}

    def _relations_of(self, uri: str) -> tuple[tuple[str, str], ...]:
        skill = self.skills.get(uri)
        if skill is None:
            return ()
        found = [(parent, "narrower") for parent in skill.broader if parent in self.skills]
        found += [(child, "broader") for child in self._narrower.get(uri, [])]
        for name in skill.vi_labels:
            found += [(other, "synonym") for other in self._by_vi_label.get(fold(name), [])
                      if other != uri]  # fmt: skip
        return tuple(found)

    def find_occupation(self, key: str) -> Occupation | None:
        """By uri, by the uri's UUID, or by exact (case-folded) English/Vietnamese label."""
        if key in self.occupations:
            return self.occupations[key]
        by_uuid = f"http://data.europa.eu/esco/occupation/{key}"
        if by_uuid in self.occupations:
            return self.occupations[by_uuid]
        folded = fold(key)
        for occupation in self.occupations.values():
            if folded == fold(occupation.label) or folded in map(fold, occupation.vi_labels):
                return occupation
        return None

    @property
    def counts(self) -> dict[str, int]:
        return {
            "occupations": len(self.occupations),
            "skills": len(self.skills),
            "essential_relations": sum(map(len, self.essential.values())),
            "optional_relations": sum(map(len, self.optional.values())),
            "isco_groups": len(self.isco_groups),
            "skill_groups": len(self.skill_groups),
            "occupations_with_vi": sum(bool(o.vi_labels) for o in self.occupations.values()),
            "skills_with_vi": sum(bool(s.vi_labels) for s in self.skills.values()),
        }


# ---------------------------------------------------------------------- reading
def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.split("\n") if line.strip()]


def _rows(path: Path) -> Iterable[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def esco_dir_or_raise(data_dir: Path) -> Path:
    esco = Path(data_dir) / f"esco-v{ESCO_VERSION}"
    missing = [name for name in ESCO_FILES if not (esco / name).exists()]
    if missing:
        raise DataDirError(
            f"ESCO v{ESCO_VERSION} was not found: expected {esco / missing[0]}. "
            "Put the shared data beside the checkout (../shared/data) or point to it with "
            "MATCHER_DATA_DIR=/path/to/data (the folder that holds esco-v1.1.1/)."
        )
    return esco


def vietnamese_label_files(project_data_dir: Path) -> list[Path]:
    folder = Path(project_data_dir) / "vi"
    return sorted(folder.glob("occupations_vi*.csv")) + sorted(folder.glob("skills_vi*.csv"))


def _source_key(files: list[Path]) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


#: The ``status`` of a row whose names a model suggested and nobody has reviewed yet.
MACHINE_SUGGESTED = "machine-suggested"
REVIEWED = "reviewed"


def read_vietnamese_labels(
    path: Path, known: set[str], *, status: str = REVIEWED
) -> dict[str, list[str]]:
    """Read a ``uri,label_en,label_vi,variants_vi[,status]`` file into uri → Vietnamese
    labels, keeping the rows of ``status`` (a row without a status column is reviewed)."""
    labels: dict[str, list[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = {"uri", "label_vi", "variants_vi"}
        if not expected <= set(reader.fieldnames or ()):
            raise DataFormatError(
                f"{path}:1: the header must have the columns uri,label_en,label_vi,variants_vi"
            )
        for row in reader:
            line = reader.line_num
            uri = (row["uri"] or "").strip()
            if uri not in known:
                raise DataFormatError(f"{path}:{line}: {uri!r} is not an ESCO uri of this kind")
            row_status = (row.get("status") or REVIEWED).strip()
            if row_status not in (REVIEWED, MACHINE_SUGGESTED):
                raise DataFormatError(
                    f"{path}:{line}: status must be {REVIEWED!r} or {MACHINE_SUGGESTED!r}"
                )
            if row_status != status:
                continue
            names = [row["label_vi"] or ""] + (row["variants_vi"] or "").split("|")
            names = [" ".join(name.split()) for name in names if name.strip()]
            if not names:
                raise DataFormatError(f"{path}:{line}: label_vi is empty")
            current = labels.setdefault(uri, [])
            current.extend(name for name in names if name not in current)
    return labels


def parse_taxonomy(data_dir: Path, project_data_dir: Path) -> Taxonomy:
    """Parse ESCO and the Vietnamese labels from their CSV files (slow; see :func:`load_taxonomy`)."""
    esco = esco_dir_or_raise(data_dir)
    occupations = {
        row["conceptUri"]: Occupation(
            uri=row["conceptUri"],
            label=row["preferredLabel"].strip(),
            alt_labels=_lines(row["altLabels"]),
            description=row["description"].strip(),
            isco_group=row["iscoGroup"].strip(),
            code=row["code"].strip(),
        )
        for row in _rows(esco / "occupations_en.csv")
    }
    skills = {
        row["conceptUri"]: Skill(
            uri=row["conceptUri"],
            label=row["preferredLabel"].strip(),
            alt_labels=_lines(row["altLabels"]),
            description=row["description"].strip(),
            skill_type=row["skillType"].strip(),
            reuse_level=row["reuseLevel"].strip(),
        )
        for row in _rows(esco / "skills_en.csv")
    }
    essential: dict[str, list[str]] = defaultdict(list)
    optional: dict[str, list[str]] = defaultdict(list)
    for row in _rows(esco / "occupationSkillRelations.csv"):
        if row["skillUri"] not in skills or row["occupationUri"] not in occupations:
            continue
        target = essential if row["relationType"] == "essential" else optional
        target[row["occupationUri"]].append(row["skillUri"])
    isco_groups = {
        row["code"]: IscoGroup(
            row["conceptUri"], row["code"], row["preferredLabel"], row["description"]
        )
        for row in _rows(esco / "ISCOGroups_en.csv")
    }
    skill_groups = {
        row["conceptUri"]: SkillGroup(row["conceptUri"], row.get("code", ""), row["preferredLabel"])
        for row in _rows(esco / "skillGroups_en.csv")
    }
    for row in _rows(esco / "skillsHierarchy_en.csv"):
        for level in range(4):
            uri = row.get(f"Level {level} URI", "")
            if uri and uri not in skill_groups:
                skill_groups[uri] = SkillGroup(
                    uri,
                    row.get(f"Level {level} code", ""),
                    row.get(f"Level {level} preferred term", ""),
                )
    skill_group_parent: dict[str, str] = {}
    for row in _rows(esco / "broaderRelationsSkillPillar.csv"):
        child, parent = row["conceptUri"], row["broaderUri"]
        if child in skills:
            skills[child].broader.append(parent)
        elif child in skill_groups and parent in skill_groups:
            skill_group_parent.setdefault(child, parent)

    for path in vietnamese_label_files(project_data_dir):
        target_map = occupations if path.name.startswith("occupations") else skills
        for uri, names in read_vietnamese_labels(path, set(target_map)).items():
            concept = target_map[uri]
            concept.vi_labels.extend(name for name in names if name not in concept.vi_labels)
        if target_map is skills:
            suggested = read_vietnamese_labels(path, set(skills), status=MACHINE_SUGGESTED)
            for uri, names in suggested.items():
                skills[uri].vi_suggested = skills[uri].vi_suggested or names[0]
    return Taxonomy(
        occupations=occupations,
        skills=skills,
        essential=dict(essential),
        optional=dict(optional),
        isco_groups=isco_groups,
        skill_groups=skill_groups,
        skill_group_parent=skill_group_parent,
    )


def load_taxonomy(data_dir: Path, project_data_dir: Path, cache_dir: Path) -> Taxonomy:
    """Load the taxonomy, from ``cache_dir`` when the sources are unchanged."""
    esco = esco_dir_or_raise(data_dir)
    sources = [esco / name for name in ESCO_FILES] + vietnamese_label_files(project_data_dir)
    key = _source_key(sources)
    cache = Path(cache_dir) / f"taxonomy-{key}.pickle"
    if cache.exists():
        try:
            with cache.open("rb") as handle:
                taxonomy: Taxonomy = pickle.load(handle)
            return taxonomy
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, OSError, ValueError):
            # a damaged or outdated cache is rebuilt, never trusted
            logger.warning("taxonomy cache %s is unreadable; rebuilding it", cache)
    started = time.perf_counter()
    taxonomy = parse_taxonomy(data_dir, project_data_dir)
    taxonomy.source_key = key
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob("taxonomy-*.pickle"):
        old.unlink(missing_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=cache.parent, prefix=".taxonomy-")
    with os.fdopen(descriptor, "wb") as handle:
        pickle.dump(taxonomy, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, cache)
    logger.info("parsed ESCO in %.1f s; cached at %s", time.perf_counter() - started, cache)
    return taxonomy
