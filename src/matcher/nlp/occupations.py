"""Job title or short description → ESCO occupations."""

from __future__ import annotations

from matcher.nlp.encoder import Encoder
from matcher.nlp.labels import Label, LabelIndex
from matcher.reference.taxonomy import Taxonomy
from matcher.schemas import OccupationMatch
from matcher.text import normalize_text

#: Alternative labels count slightly less than preferred and Vietnamese ones (tuned on the
#: JobBERT dev titles: top-1 0.242 → 0.282; see docs/evaluation.md).
SOURCE_WEIGHTS = {"alt": 0.98}


def occupation_labels(taxonomy: Taxonomy, *, all_labels: bool = True) -> list[Label]:
    """Every occupation's preferred, alternative and Vietnamese labels (with
    ``all_labels=False``: the preferred label only)."""
    labels: list[Label] = []
    for occupation in taxonomy.occupations.values():
        labels.append(Label(occupation.label, occupation.uri, "pref"))
        if all_labels:
            labels.extend(Label(text, occupation.uri, "alt") for text in occupation.alt_labels)
            labels.extend(Label(text, occupation.uri, "vi") for text in occupation.vi_labels)
    return labels


class OccupationMatcher:
    """Ranks ESCO occupations for titles, in Vietnamese or English."""

    def __init__(self, taxonomy: Taxonomy, encoder: Encoder, labels: LabelIndex) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.labels = labels

    def match(self, text: str, k: int = 10) -> list[OccupationMatch]:
        return self.match_many([text], k)[0]

    def match_many(self, texts: list[str], k: int = 10) -> list[list[OccupationMatch]]:
        """Top-``k`` occupations for each text, best first."""
        if not texts:
            return []
        cleaned = [normalize_text(text, max_chars=self.encoder.max_chars) for text in texts]
        vectors = self.encoder.encode(cleaned, kind="query")
        results = []
        for scores in self.labels.search(vectors, k):
            matches = []
            for concept in scores:
                occupation = self.taxonomy.occupations[concept.uri]
                matches.append(
                    OccupationMatch(
                        uri=occupation.uri,
                        label=occupation.label,
                        score=round(concept.score, 4),
                        label_vi=occupation.vi_labels[0] if occupation.vi_labels else None,
                        isco_group=occupation.isco_group,
                        matched_label=concept.label,
                    )
                )
            results.append(matches)
        return results
