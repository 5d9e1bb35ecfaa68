"""How many skill mentions have a Vietnamese name: in the demo data (what the demo postings and
profiles carry) and in the dev-set postings (the gold ESCO skills of the house and tech
validation sentences). A name is reviewed (``data/vi/skills_vi_*.csv`` without a status, or
``reviewed``) or machine-suggested (``status=machine-suggested``, shown marked with ``*``);
what has neither is shown in English, marked ``(tiếng Anh)``."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from matcher.demo import DemoGenerator
from matcher.programmes.rules import ProgrammeCatalog
from matcher.reference.taxonomy import Taxonomy

DEV_POSTINGS = ("house_validation_annotations.csv", "tech_validation_annotations.csv")


@dataclass(frozen=True)
class Coverage:
    source: str
    mentions: int
    distinct: int
    reviewed: float
    with_suggested: float
    #: the most mentioned skills with no Vietnamese name at all: (uri, English label, count)
    missing: list[tuple[str, str, int]] = field(default_factory=list)


def demo_mentions(
    taxonomy: Taxonomy, project_data_dir: Path, programmes: ProgrammeCatalog,
    *, jobs: int = 2000, candidates: int = 500, seed: int = 7,
) -> Counter[str]:  # fmt: skip
    """Skills in the demo set, generated as ``matcher demo load`` does (same sizes, seed)."""
    generator = DemoGenerator(taxonomy, project_data_dir, seed, programmes)
    for _ in range(jobs):
        generator.posting()
    for number in range(candidates):
        generator.profile(number)
    return generator.skills_used


def dev_mentions(taxonomy: Taxonomy, dev_eval_dir: Path) -> Counter[str]:
    """Gold skills of the dev-set posting sentences (ESCO preferred labels)."""
    by_label = {skill.label.casefold(): skill.uri for skill in taxonomy.skills.values()}
    found: Counter[str] = Counter()
    for name in DEV_POSTINGS:
        with (dev_eval_dir / name).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                uri = by_label.get((row.get("label") or "").strip().casefold())
                if uri:
                    found[uri] += 1
    return found


def coverage(taxonomy: Taxonomy, source: str, mentions: Counter[str], top: int = 10) -> Coverage:
    total = sum(mentions.values()) or 1
    skills = taxonomy.skills
    reviewed = sum(n for uri, n in mentions.items() if skills[uri].vi_labels)
    named = sum(n for uri, n in mentions.items()
                if skills[uri].vi_labels or skills[uri].vi_suggested)  # fmt: skip
    missing = [(uri, skills[uri].label, n) for uri, n in mentions.most_common()
               if not skills[uri].vi_labels and not skills[uri].vi_suggested][:top]  # fmt: skip
    return Coverage(source, sum(mentions.values()), len(mentions), round(reviewed / total, 4),
                    round(named / total, 4), missing)  # fmt: skip
