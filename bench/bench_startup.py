"""Start-up costs: parsing ESCO vs loading the cached taxonomy, loading the model and indexes.

Run: .venv/bin/python bench/bench_startup.py [--repeat 5]
Prints a table of medians; the ratio column compares with the cold parse in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from matcher.nlp.encoder import Encoder
from matcher.nlp.labels import LabelIndex
from matcher.nlp.occupations import occupation_labels
from matcher.reference.taxonomy import load_taxonomy, parse_taxonomy
from matcher.settings import Settings


def median_seconds(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    settings = Settings()
    rows = []
    parse = median_seconds(
        lambda: parse_taxonomy(settings.data_dir, settings.project_data_dir), repeat
    )
    rows.append(("parse ESCO CSVs + Vietnamese labels", parse))
    with tempfile.TemporaryDirectory() as state:
        load_taxonomy(settings.data_dir, settings.project_data_dir, Path(state))
        cached = median_seconds(
            lambda: load_taxonomy(settings.data_dir, settings.project_data_dir, Path(state)), repeat
        )
    rows.append(("load cached taxonomy", cached))
    encoder_load = median_seconds(lambda: Encoder.load(settings.model, settings.models_dir), repeat)
    rows.append((f"load encoder {settings.model}", encoder_load))
    taxonomy = load_taxonomy(settings.data_dir, settings.project_data_dir, settings.caches)
    encoder = Encoder.load(settings.model, settings.models_dir)
    labels = occupation_labels(taxonomy)
    index_load = median_seconds(
        lambda: LabelIndex.build("occupations", labels, encoder, settings.caches / "labels"),
        repeat,
    )
    rows.append(("load cached occupation label index", index_load))
    print(f"median of {repeat} runs")
    print("| step | seconds | vs parse |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / parse:.2f} |")


if __name__ == "__main__":
    main()
