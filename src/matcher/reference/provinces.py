"""Vietnam's provinces and centrally run cities, with their region (``data/provinces.csv``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Province:
    name: str
    region: str
    weight: float


def load_provinces(project_data_dir: Path) -> list[Province]:
    with (Path(project_data_dir) / "provinces.csv").open(encoding="utf-8", newline="") as handle:
        return [
            Province(r["name"], r["region"], float(r["weight"])) for r in csv.DictReader(handle)
        ]
