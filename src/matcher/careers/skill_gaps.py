"""Skill gaps worth closing: which missing skills would open or improve the most postings.

For a person and a pool of open postings (those matching their filters and closest to their
profile), every skill a posting asks for and the person lacks is counted:

- it **unlocks** a posting when it is the only essential skill of that posting the person lacks;
- it **improves** a posting whenever it is missing there (essential or optional).

Skills are ranked by ``2 × unlocks + essential_in + 0.25 × (improves − essential_in)``:
essential requirements count fully, optional ones (often found in the posting's free text)
a quarter. Each comes
with its group in the ESCO skill hierarchy and a suggested kind of training, read from
``data/training_routes.csv`` (first matching rule by skill-hierarchy code, then skill type).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import DataFormatError
from matcher.reference.taxonomy import Taxonomy
from matcher.schemas import JobPosting, Lang, SkillGap, TrainingSuggestion

ROUTES_FILE = "training_routes.csv"
#: How much a posting where the skill is optional counts, against 1 where it is essential.
OPTIONAL_WEIGHT = 0.25
KINDS = ("language_centre", "vocational_module", "short_course", "on_the_job")


@dataclass(frozen=True)
class TrainingRule:
    match: str
    suggestion: TrainingSuggestion


class TrainingRoutes:
    """Suggests a kind of training for an ESCO skill."""

    def __init__(self, rules: list[TrainingRule], taxonomy: Taxonomy) -> None:
        self.rules = rules
        self.taxonomy = taxonomy

    def for_skill(self, uri: str) -> TrainingSuggestion:
        skill = self.taxonomy.skills.get(uri)
        codes = [group.code for group in self.taxonomy.skill_group_path(uri)]
        skill_type = f"type:{skill.skill_type}" if skill else ""
        for rule in self.rules:
            if rule.match == "*" or rule.match == skill_type:
                return rule.suggestion
            if any(code.startswith(rule.match) for code in codes if code):
                return rule.suggestion
        return self.rules[-1].suggestion


def load_training_routes(project_data_dir: Path, taxonomy: Taxonomy) -> TrainingRoutes:
    """Read the rules; a bad row raises :class:`DataFormatError` naming ``file:line``."""
    path = Path(project_data_dir) / ROUTES_FILE
    if not path.exists():
        raise DataFormatError(f"{path} is missing: it ships with the repository (data/)")
    rules = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            where = f"{path}:{reader.line_num}"
            match = (row.get("match") or "").strip()
            if match.startswith("#"):
                continue
            kind = (row.get("kind") or "").strip()
            if not match or kind not in KINDS:
                raise DataFormatError(
                    f"{where}: needs a match and a kind (one of {', '.join(KINDS)}), got "
                    f"{match!r} / {kind!r}"
                )
            fields = {name: (row.get(name) or "").strip() for name in
                      ("label_vi", "label_en", "typical_vi", "typical_en")}  # fmt: skip
            if not all(fields.values()):
                raise DataFormatError(f"{where}: every label and typical column is required")
            rules.append(TrainingRule(match, TrainingSuggestion(kind=kind, **fields)))
    if not rules or rules[-1].match != "*":
        raise DataFormatError(f"{path}: the last rule must be '*' (the fallback)")
    return TrainingRoutes(rules, taxonomy)


def rank_gaps(
    has: frozenset[str],
    postings: Sequence[JobPosting],
    taxonomy: Taxonomy,
    routes: TrainingRoutes,
    *,
    k: int = 10,
    lang: Lang = "vi",
    place: str | None = None,
) -> list[SkillGap]:
    """The ``k`` missing skills that would unlock or improve the most of ``postings``."""
    unlocks: dict[str, int] = {}
    improves: dict[str, int] = {}
    essential: dict[str, int] = {}
    labels: dict[str, tuple[str, str | None]] = {}
    for job in postings:
        missing = [s for s in job.skills if s.uri not in has]
        missing_essential = [s for s in missing if s.essential]
        for skill in missing:
            labels.setdefault(skill.uri, (skill.label, skill.label_vi))
            improves[skill.uri] = improves.get(skill.uri, 0) + 1
            if skill.essential:
                essential[skill.uri] = essential.get(skill.uri, 0) + 1
        if len(missing_essential) == 1:
            only = missing_essential[0].uri
            unlocks[only] = unlocks.get(only, 0) + 1

    def weight(uri: str) -> float:
        needed = essential.get(uri, 0)
        return 2 * unlocks.get(uri, 0) + needed + OPTIONAL_WEIGHT * (improves[uri] - needed)

    order = sorted(improves, key=lambda uri: (-weight(uri), -essential.get(uri, 0), uri))
    gaps = []
    for uri in order[:k]:
        label, label_vi = labels[uri]
        path = taxonomy.skill_group_path(uri)
        gaps.append(
            SkillGap(
                uri=uri,
                label=label,
                label_vi=label_vi,
                unlocks=unlocks.get(uri, 0),
                improves=improves[uri],
                essential_in=essential.get(uri, 0),
                group=path[-1].label if path else None,
                group_path=[group.label for group in path],
                training=routes.for_skill(uri),
                reason=_reason(
                    lang,
                    label_vi or label if lang == "vi" else label,
                    unlocks.get(uri, 0),
                    improves[uri],
                    place,
                ),
            )
        )
    return gaps


def _reason(lang: Lang, label: str, unlocks: int, improves: int, place: str | None) -> str:
    if lang == "vi":
        where = f" ở {place}" if place else ""
        if unlocks:
            return (f"Học «{label}» sẽ mở thêm {unlocks} tin tuyển dụng{where} (chỉ còn thiếu "
                    f"kỹ năng này) và tăng mức phù hợp với {improves} tin.")  # fmt: skip
        return f"Học «{label}» sẽ tăng mức phù hợp với {improves} tin tuyển dụng{where}."
    where = f" in {place}" if place else ""
    if unlocks:
        return (f"Learning “{label}” would add {unlocks} postings{where} (the only essential "
                f"skill you lack there) and improve your fit for {improves}.")  # fmt: skip
    return f"Learning “{label}” would improve your fit for {improves} postings{where}."
