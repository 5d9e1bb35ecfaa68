"""Job title or short description → ESCO occupations."""

from __future__ import annotations

from collections.abc import Iterable

from matcher.nlp.encoder import Encoder
from matcher.nlp.labels import Label, LabelIndex, Vote
from matcher.reference.taxonomy import Taxonomy
from matcher.schemas import OccupationMatch
from matcher.text import normalize_text

#: Alternative labels count slightly less than preferred and Vietnamese ones (tuned on the
#: JobBERT dev titles: top-1 0.242 → 0.282; see docs/evaluation.md), and so do vacancy titles
#: (tuned inside the titles' training part: 60% as exemplars, 20% to score; 0.98 of
#: 0.95–1.0 had the best MRR@10, 0.481; the held-out 20% was not looked at to choose).
SOURCE_WEIGHTS = {"alt": 0.98, "title": 0.98}
#: The source of a label that is a real vacancy title rather than an ESCO or Vietnamese name.
EXEMPLAR = "title"
#: The 20 vacancy titles nearest a text vote for their occupations (+0.16 × the share that
#: carry one), which damps their tagging noise; only titles within 0.03 of the best label's
#: score vote. Chosen on the same tuning slice inside the training part: MRR@10 0.481 → 0.531
#: (β 0.12–0.2 and m 20–30 within 0.003 of each other; margin 0.05 / 0.03 / 0.02: 0.534 /
#: 0.531 / 0.523). Without the margin, Vietnamese posts far from every vacancy title were
#: outvoted by common ones: "công an viên bán chuyên trách xã" → *shop assistant*.
TITLE_VOTE = Vote(EXEMPLAR, neighbours=20, weight=0.16, margin=0.03)


def occupation_labels(
    taxonomy: Taxonomy, *, all_labels: bool = True, exemplars: Iterable[tuple[str, str]] = ()
) -> list[Label]:
    """Every occupation's preferred, alternative and Vietnamese labels (with
    ``all_labels=False``: the preferred label only), then the ``(title, uri)`` exemplars: real
    vacancy titles, each a label of its occupation (:func:`matcher.reference.titles.exemplar_titles`)."""
    labels: list[Label] = []
    for occupation in taxonomy.occupations.values():
        labels.append(Label(occupation.label, occupation.uri, "pref"))
        if all_labels:
            labels.extend(Label(text, occupation.uri, "alt") for text in occupation.alt_labels)
            labels.extend(Label(text, occupation.uri, "vi") for text in occupation.vi_labels)
    labels.extend(Label(title, uri, EXEMPLAR) for title, uri in exemplars)
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
                        matched_source=concept.source,
                        similar_titles=concept.votes,
                    )
                )
            results.append(matches)
        return results
