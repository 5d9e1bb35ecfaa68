"""Real vacancy titles tagged with ESCO occupations, and the fixed split of the dev sets that
training may use (issue 17, part 3).

- ``jobbert_titles_dev.csv``: split once by a hash of the folded title (SHA-256, first 8 hex
  digits mod 100): 80 → ``train``, 20 → ``heldout``. The same title, whatever its case or
  diacritics, is always on the same side. Only the held-out 20% is reported.
- ``viski_train_synonymSet.json`` is training data, as its name says; ``viski_val`` is held
  out and reported.
- The house and tech skill sets are held out whole.

The sealed holdout is not here and is never read: it judges the result.

The ``train`` part of the titles is also served: each of its vacancy titles is an example
label of its occupation in the title matcher (:func:`exemplar_titles`), as a job board writes
it ("Sales Assistant - Part Time", "HGV Class 1 Driver"). Only that part: the held-out 20% is
what ``matcher evaluate`` reports.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Container
from pathlib import Path
from typing import Literal

from matcher.text import fold

TITLES_FILE = "jobbert_titles_dev.csv"
TITLE_TRAIN_PERCENT = 80
Part = Literal["train", "heldout", "all"]


def title_part(title: str) -> Literal["train", "heldout"]:
    bucket = int(hashlib.sha256(fold(title).encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < TITLE_TRAIN_PERCENT else "heldout"


def title_rows(path: Path, part: Part = "heldout") -> list[dict[str, str]]:
    """The rows of the titles file with a title, in file order, of ``part``."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["vacancyTitle"].strip()]
    return [r for r in rows if part == "all" or title_part(r["vacancyTitle"]) == part]


def exemplar_titles(path: Path, known: Container[str]) -> list[tuple[str, str]]:
    """``(title, occupation uri)`` of the ``train`` part of the titles file at ``path``, for
    occupations in ``known``; none when the file is not there (the dev sets are optional)."""
    if not path.exists():
        return []
    rows = title_rows(path, "train")
    return [(r["vacancyTitle"].strip(), r["conceptUri"]) for r in rows if r["conceptUri"] in known]
