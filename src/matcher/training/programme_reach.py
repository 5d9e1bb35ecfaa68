"""How far the overseas programmes reach the demo seekers (``training/programme_reach.py``).

A programme is open to a person when no fact they declared rules it out (``eligible`` or
``eligible_if``): its postings are then shown to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from matcher.demo import DemoGenerator
from matcher.programmes.eligibility import check_eligibility
from matcher.programmes.rules import ProgrammeCatalog
from matcher.reference.taxonomy import Taxonomy


@dataclass(frozen=True)
class Reach:
    profiles: int
    abroad: int
    reached: int
    verdicts: dict[str, int]

    def table(self) -> str:
        rows = [
            "| demo profiles | want to work abroad | with a programme open to them |",
            "|---|---|---|",
            f"| {self.profiles} | {self.abroad} | {self.reached} |",
            "",
            "| verdict | count |",
            "|---|---|",
        ]
        rows += [f"| {s} | {self.verdicts.get(s, 0)} |"
                 for s in ("eligible", "eligible_if", "not_eligible")]  # fmt: skip
        return "\n".join(rows)


def programme_reach(taxonomy: Taxonomy, catalog: ProgrammeCatalog, data_dir: Path, *,
                    profiles: int = 500, seed: int = 7) -> Reach:  # fmt: skip
    """The demo profiles ``make run`` loads (``DemoGenerator``, seed 7) against every programme."""
    generator = DemoGenerator(taxonomy, data_dir, seed, catalog)
    abroad = [p for n in range(profiles) if (p := generator.profile(n)).willing_to_work_abroad]
    verdicts: Counter[str] = Counter()
    reached = 0
    for profile in abroad:
        results = [check_eligibility(programme, profile) for programme in catalog.programmes]
        verdicts.update(r.status for r in results)
        reached += any(r.status != "not_eligible" for r in results)
    return Reach(profiles, len(abroad), reached, dict(verdicts))
