"""Screening measured on a labelled set of postings (``data/scam-eval/``: postings, labels, the
set's own registry of licensed enterprises and its list of programme operators). Precision and
recall of "held for review" against the label ``suspicious``, overall, per language, and per
signal against the labeller's signals."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.screening.pay import PayTable
from matcher.screening.registry import load_registry
from matcher.screening.rules import Posting, Screener
from matcher.screening.signals import SignalBook


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    def as_dict(self) -> dict[str, Any]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"n": self.tp + self.fp + self.fn + self.tn, "suspicious": self.tp + self.fn,
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                "precision": round(precision, 4), "recall": round(recall, 4),
                "f1": round(f1, 4)}  # fmt: skip


@dataclass
class ScamReport:
    split: str
    overall: Counts = field(default_factory=Counts)
    by_lang: dict[str, Counts] = field(default_factory=dict)
    by_signal: dict[str, Counts] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "overall": self.overall.as_dict(),
            "by_lang": {k: v.as_dict() for k, v in sorted(self.by_lang.items())},
            "by_signal": {k: v.as_dict() for k, v in sorted(self.by_signal.items())},
            "errors": self.errors,
        }


def evaluate_screening(set_dir: Path, book: SignalBook, pay: PayTable, *,
                       split: str = "dev") -> ScamReport:  # fmt: skip
    """Screen every posting of ``split`` ("dev", "heldout" or "all") with the set's registry
    and operators, and compare with its labels."""
    postings = {row["id"]: row for row in map(json.loads, _lines(set_dir / "postings.jsonl"))}
    with (set_dir / "labels.csv").open(encoding="utf-8", newline="") as handle:
        labels = [r for r in csv.DictReader(handle) if split == "all" or r["split"] == split]
    with (set_dir / "operators.csv").open(encoding="utf-8", newline="") as handle:
        operators = {row["employer"].strip() for row in csv.DictReader(handle)}
    screener = Screener(book, load_registry(set_dir / "registry.csv"), pay)
    report = ScamReport(split)
    for label in labels:
        row = postings[label["id"]]
        posting = Posting(
            title=row["title"], description=row.get("description") or "",
            employer=row.get("employer"), country=row.get("country") or "VN",
            programme=row.get("programme"), salary_min=row.get("salary_min"),
            salary_max=row.get("salary_max"), currency=row.get("currency") or "VND",
        )  # fmt: skip
        result = screener.screen(posting, operator=(row.get("employer") or "") in operators)
        actual = label["label"] == "suspicious"
        report.overall.add(result.held, actual)
        report.by_lang.setdefault(row.get("lang", "?"), Counts()).add(result.held, actual)
        found = {s.code for s in result.signals}
        labelled = {s for s in label["signals"].split(";") if s}
        for code in found | labelled:
            report.by_signal.setdefault(code, Counts()).add(code in found, code in labelled)
        if result.held != actual:
            report.errors.append({
                "id": label["id"], "label": label["label"], "labelled": sorted(labelled),
                "found": [f"{s.code}: {s.evidence}" for s in result.signals],
            })  # fmt: skip
    return report


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
