"""Real vacancy titles as example labels of their occupations: only the training part is read,
and only for occupations the taxonomy has; transitions never see them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from matcher.nlp.encoder import Encoder
from matcher.nlp.labels import LabelIndex
from matcher.nlp.occupations import EXEMPLAR, occupation_labels
from matcher.reference.taxonomy import Taxonomy
from matcher.reference.titles import exemplar_titles, title_part
from matcher.services import MatcherService
from tests.fast.fakes import FakeEncoder

TITLES = ["Sales Assistant (Putrajaya)", "Operator Kilang", "Retail Team", "General  Worker ",
          "Marketing  Intern ", "Production Planner ", "SALES COORDINATOR", "Engineering Clerk",
          "Retail Team Member", "Male Production Operator"]  # fmt: skip


def _titles_file(tmp_path: Path, uri: str) -> Path:
    path = tmp_path / "titles.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["vacancyTitle", "conceptUri"])
        for title in TITLES:
            writer.writerow([title, uri])
        writer.writerow(["Unknown Occupation Title", "http://example.org/not-in-esco"])
        writer.writerow(["   ", uri])
    return path


@pytest.fixture
def taxonomy(fast_service: MatcherService) -> Taxonomy:
    return fast_service.taxonomy


def test_only_training_titles_of_known_occupations_become_labels(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    uri = next(iter(taxonomy.occupations))
    found = exemplar_titles(_titles_file(tmp_path, uri), taxonomy.occupations)
    expected = [t.strip() for t in TITLES if title_part(t) == "train"]
    assert [title for title, _ in found] == expected
    assert 0 < len(expected) < len(TITLES)  # both sides of the split are in the file
    assert {u for _, u in found} == {uri}
    assert exemplar_titles(tmp_path / "missing.csv", taxonomy.occupations) == []
    labels = occupation_labels(taxonomy, exemplars=found)
    assert [label.text for label in labels if label.source == EXEMPLAR] == expected


def test_transition_centroids_leave_the_vacancy_titles_out(
    tmp_path: Path, taxonomy: Taxonomy
) -> None:
    uri = next(iter(taxonomy.occupations))
    found = exemplar_titles(_titles_file(tmp_path, uri), taxonomy.occupations)
    encoder: Encoder = FakeEncoder()  # type: ignore[assignment]
    plain = LabelIndex.build("o", occupation_labels(taxonomy), encoder, tmp_path)
    with_titles = LabelIndex.build(
        "o", occupation_labels(taxonomy, exemplars=found), encoder, tmp_path
    )
    uris, centres = plain.centroids()
    uris_t, centres_t = with_titles.centroids(skip={EXEMPLAR})
    assert uris == uris_t
    np.testing.assert_allclose(centres, centres_t, atol=1e-6)
    _, pulled = with_titles.centroids()
    assert not np.allclose(centres[uris.index(uri)], pulled[uris.index(uri)], atol=1e-3)
