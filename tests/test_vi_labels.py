"""Vietnamese skill names on the real ESCO data and data/vi: machine-suggested names are shown
(marked) but never matched against, and the skills people meet have a Vietnamese name."""

from __future__ import annotations

import csv

import pytest

from matcher.nlp.skills import build_lexicon, shown_ref, skill_labels
from matcher.reference.taxonomy import MACHINE_SUGGESTED
from matcher.schemas import SkillRef
from matcher.training.vi_coverage import coverage, demo_mentions, dev_mentions

pytestmark = pytest.mark.slow


def suggested_rows(settings) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    rows = []
    for path in sorted((settings.project_data_dir / "vi").glob("skills_vi_machine_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_machine_suggested_names_are_shown_marked_and_never_matched(service, settings) -> None:  # type: ignore[no-untyped-def]
    taxonomy = service.taxonomy
    rows = suggested_rows(settings)
    assert rows and all(row["status"] == MACHINE_SUGGESTED for row in rows)
    lexicon = build_lexicon(taxonomy)
    embedded = {(label.text, label.uri) for label in skill_labels(taxonomy)}
    for row in rows[:200]:
        skill = taxonomy.skills[row["uri"]]
        assert skill.vi_suggested == row["label_vi"] and row["label_vi"] not in skill.vi_labels
        if not skill.vi_labels:
            if row["label_vi"] != skill.label:  # "SQL" stays "SQL": English is embedded
                assert (row["label_vi"], row["uri"]) not in embedded
            assert (row["uri"], "vi") not in lexicon.get(row["label_vi"].casefold(), [])
            ref = shown_ref(SkillRef(uri=skill.uri, label=skill.label), taxonomy)
            assert (ref.label_vi, ref.label_vi_status) == (row["label_vi"], MACHINE_SUGGESTED)


def test_skill_mentions_have_a_vietnamese_name(service, settings) -> None:  # type: ignore[no-untyped-def]
    taxonomy = service.taxonomy
    demo = coverage(taxonomy, "demo", demo_mentions(taxonomy, settings.project_data_dir,
                                                    service.programmes))  # fmt: skip
    dev = coverage(taxonomy, "dev", dev_mentions(taxonomy, settings.dev_eval_dir))
    for measured in (demo, dev):
        assert measured.mentions > 0 and measured.reviewed <= measured.with_suggested
        assert measured.with_suggested >= 0.98, measured.missing
