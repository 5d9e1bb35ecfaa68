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


def _unit(*values: float) -> list[float]:
    vector = np.array(values, dtype=np.float32)
    return list(vector / np.linalg.norm(vector))


def test_many_near_titles_outvote_one_mis_tagged_title_that_is_nearest() -> None:
    from matcher.nlp.labels import Label, Vote
    from matcher.search.index import VectorIndex
    from matcher.settings import IndexConfig

    # one title tagged "ceramicist" sits nearest the query; five slightly farther titles are
    # tagged "factory hand"
    labels = [Label("ceramicist", "ceramicist", "pref"), Label("factory hand", "hand", "pref")]
    labels += [Label("PRODUCTION OPERATER", "ceramicist", EXEMPLAR)]
    labels += [Label(f"production operator {i}", "hand", EXEMPLAR) for i in range(5)]
    vectors = [_unit(0, 0, 1), _unit(0.2, 1, 0), _unit(1, 0.05, 0)]
    vectors += [_unit(1, 0.2 + 0.01 * i, 0) for i in range(5)]
    index = VectorIndex(3, IndexConfig(exact_threshold=10**9))
    index.add([str(i) for i in range(len(labels))], vectors, [{} for _ in labels])
    query = np.array([_unit(1, 0, 0)], dtype=np.float32)

    [plain] = LabelIndex("o", labels, index, "query").search(query, k=2)
    assert plain[0].uri == "ceramicist"  # the nearest title's tag wins on its own

    voting = LabelIndex("o", labels, index, "query", vote=Vote(EXEMPLAR, neighbours=6, weight=0.16, margin=0.1))
    [voted] = voting.search(query, k=2)
    assert [c.uri for c in voted] == ["hand", "ceramicist"]
    assert [c.votes for c in voted] == [5, 1]
    # the score is the best label's plus weight × share, and the matched label is still shown
    assert voted[0].score == pytest.approx(float(query[0] @ vectors[3]) + 0.16 * 5 / 6, abs=1e-5)
    assert voted[0].label == "production operator 0"


def test_without_voting_labels_the_vote_changes_nothing() -> None:
    from matcher.nlp.labels import Label, Vote
    from matcher.search.index import VectorIndex
    from matcher.settings import IndexConfig

    labels = [Label("a", "a", "pref"), Label("b", "b", "alt")]
    index = VectorIndex(2, IndexConfig(exact_threshold=10**9))
    index.add(["0", "1"], [_unit(1, 0), _unit(0, 1)], [{}, {}])
    query = np.array([_unit(1, 0.5)], dtype=np.float32)
    voting = LabelIndex("o", labels, index, "query", vote=Vote(EXEMPLAR))
    assert voting.vote is None
    assert voting.search(query, 2) == LabelIndex("o", labels, index, "query").search(query, 2)
