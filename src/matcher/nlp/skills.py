"""ESCO skills present in a CV or a posting, each with the span of text that supports it.

Two passes over the text, both span-based:

* **exact**: every word n-gram (up to :data:`MAX_NGRAM` words) is looked up among the folded
  English preferred/alternative labels and the Vietnamese labels;
* **semantic**: the text is cut into short phrases (at punctuation, bullets, line breaks and
  list words such as "and"/"và"), long phrases into overlapping word windows; the text is run
  through the model once, each span's vector is pooled from its tokens' output states (so it
  is read in context, :mod:`matcher.nlp.contextual`), and matched against the skill label
  index.

A skill's score is its best span's; its evidence is that span.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from matcher.errors import InvalidInputError
from matcher.nlp.encoder import Encoder
from matcher.nlp.labels import Label, LabelIndex
from matcher.reference.taxonomy import Skill, Taxonomy
from matcher.schemas import SkillMatch, SkillRef
from matcher.text import PHRASE_BREAK, WORD, fold, normalize_text, windows

MAX_NGRAM = 6
#: Phrases longer than this are also covered by windows of WINDOW words.
WINDOW = 5
WINDOW_STRIDE = 2
#: ... and embedded whole too, up to this many words.
FULL_PHRASE = 3 * WINDOW
#: Score given to a verbatim occurrence of a label. A one-word alternative label ("design",
#: "processes", "conduct") is too ambiguous to count as much as a semantic match.
EXACT_SCORE = {"pref": 1.0, "vi": 1.0, "alt": 0.97}
SINGLE_WORD_ALT_SCORE = 0.88
#: Words that carry no skill on their own: trimmed from span edges, and spans made only of
#: them are not embedded. English and Vietnamese.
FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "as",
        "and",
        "or",
        "is",
        "are",
        "be",
        "been",
        "being",
        "our",
        "your",
        "their",
        "we",
        "you",
        "they",
        "who",
        "which",
        "that",
        "this",
        "these",
        "those",
        "will",
        "would",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "etc",
        "very",
        "good",
        "great",
        "strong",
        "excellent",
        "solid",
        "ability",
        "able",
        "experience",
        "experienced",
        "knowledge",
        "skills",
        "skill",
        "years",
        "year",
        "plus",
        "required",
        "preferred",
        "understanding",
        "familiarity",
        "proficiency",
        "proficient",
        "các",
        "những",
        "của",
        "cho",
        "với",
        "tại",
        "trong",
        "là",
        "có",
        "được",
        "về",
        "để",
        "một",
        "và",
        "hoặc",
        "cũng",
        "như",
        "đã",
        "đang",
        "sẽ",
        "rất",
        "tốt",
        "khả",
        "năng",
        "kinh",
        "nghiệm",
        "kỹ",
        "năng",
        "năm",
        "biết",
        "hiểu",
    ]
)
_SHORT_OK = re.compile(r"[+#]")


def skill_labels(taxonomy: Taxonomy) -> list[Label]:
    """The labels embedded for the semantic pass: preferred English and Vietnamese."""
    labels: list[Label] = []
    for skill in taxonomy.skills.values():
        labels.append(Label(skill.label, skill.uri, "pref"))
        labels.extend(Label(text, skill.uri, "vi") for text in skill.vi_labels)
    return labels


def build_lexicon(taxonomy: Taxonomy) -> dict[str, list[tuple[str, str]]]:
    """Folded label → [(skill uri, label source)], for the exact pass."""
    lexicon: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for skill in taxonomy.skills.values():
        sources = [(skill.label, "pref")] + [(t, "vi") for t in skill.vi_labels]
        sources += [(t, "alt") for t in skill.alt_labels]
        for text, source in sources:
            key = fold(text)
            tokens = key.split()
            if len(tokens) > MAX_NGRAM:
                continue
            if len(tokens) == 1 and len(key) < 3 and not _SHORT_OK.search(key):
                continue  # "r", "c", "go": too ambiguous as bare words
            entry = (skill.uri, source)
            if entry not in lexicon[key]:
                lexicon[key].append(entry)
    return dict(lexicon)


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


def _segments(text: str, tokens: list[tuple[str, int, int]]) -> list[list[tuple[str, int, int]]]:
    """Group tokens into phrases; list words themselves ("and", "và") are dropped."""
    breaks = [(m.start(), m.end()) for m in PHRASE_BREAK.finditer(text)]
    segments: list[list[tuple[str, int, int]]] = [[]]
    position = 0
    for token in tokens:
        _, start, end = token
        inside = False
        while position < len(breaks) and breaks[position][1] <= start:
            if segments[-1]:
                segments.append([])
            position += 1
        if position < len(breaks) and breaks[position][0] <= start and end <= breaks[position][1]:
            inside = True
        if inside:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(token)
    return [segment for segment in segments if segment]


def _trim(segment: list[tuple[str, int, int]], first: int, last: int) -> tuple[int, int]:
    while first < last and segment[first][0].casefold() in FILLER:
        first += 1
    while last > first and segment[last - 1][0].casefold() in FILLER:
        last -= 1
    return first, last


def candidate_spans(text: str) -> list[Span]:
    """The phrases and windows of ``text`` that the semantic pass embeds."""
    spans: dict[tuple[int, int], Span] = {}
    for segment in _segments(text, _tokens(text)):
        bounds = list(windows([t for t, _, _ in segment], WINDOW, WINDOW_STRIDE))
        if WINDOW < len(segment) <= FULL_PHRASE:
            bounds.append((0, len(segment)))
        for first, last in bounds:
            first, last = _trim(segment, first, last)
            if first == last:
                continue
            start, end = segment[first][1], segment[last - 1][2]
            spans.setdefault((start, end), Span(text[start:end], start, end))
    return list(spans.values())


class SkillExtractor:
    """Finds ESCO skills in Vietnamese or English text."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        encoder: Encoder,
        labels: LabelIndex,
        *,
        min_score: float = 0.0,
        per_span: int = 3,
    ) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.labels = labels
        self.lexicon = build_lexicon(taxonomy)
        self.min_score = min_score
        self.per_span = per_span

    def extract(self, text: str, k: int = 20, *, fast: bool = False) -> list[SkillMatch]:
        return self.extract_many([text], k, fast=fast)[0]

    def extract_many(
        self, texts: list[str], k: int = 20, *, fast: bool = False
    ) -> list[list[SkillMatch]]:
        """Top-``k`` skills for each text, best first. ``fast``: the spans go through the
        encoder's query runtime (int8), for a request that waits; what is stored takes fp32."""
        cleaned = [
            normalize_text(text, max_chars=self.encoder.max_chars, keep_lines=True)
            for text in texts
        ]
        spans_per_text = [candidate_spans(text) for text in cleaned]
        flat = [span for spans in spans_per_text for span in spans]
        if flat:
            per_text = self.encoder.encode_spans(
                cleaned, [[(s.start, s.end) for s in spans] for spans in spans_per_text],
                precise=not fast,
            )  # fmt: skip
            scored = self.labels.search(np.concatenate(per_text), self.per_span)
        else:
            scored = []
        results = []
        position = 0
        for text, spans in zip(cleaned, spans_per_text):
            best: dict[str, SkillMatch] = {}
            for span in spans:
                for concept in scored[position]:
                    self._keep(best, concept.uri, concept.score, span, "semantic")
                position += 1
            for uri, score, span in self._exact(text):
                self._keep(best, uri, score, span, "exact")
            ranked = sorted(best.values(), key=lambda match: (-match.score, match.label))
            results.append([match for match in ranked if match.score >= self.min_score][:k])
        return results

    def extract_exact(self, text: str, k: int = 30) -> list[SkillMatch]:
        """Only the verbatim pass: no model call, for latency-bound paths."""
        text = normalize_text(text, max_chars=self.encoder.max_chars, keep_lines=True)
        best: dict[str, SkillMatch] = {}
        for uri, score, span in self._exact(text):
            self._keep(best, uri, score, span, "exact")
        return sorted(best.values(), key=lambda match: (-match.score, match.label))[:k]

    def _exact(self, text: str) -> list[tuple[str, float, Span]]:
        tokens = _tokens(text)
        folded = [fold(token) for token, _, _ in tokens]
        found = []
        for first in range(len(tokens)):
            for size in range(1, MAX_NGRAM + 1):
                if first + size > len(tokens):
                    break
                key = " ".join(folded[first : first + size])
                for uri, source in self.lexicon.get(key, ()):
                    start, end = tokens[first][1], tokens[first + size - 1][2]
                    score = (
                        SINGLE_WORD_ALT_SCORE
                        if source == "alt" and size == 1
                        else EXACT_SCORE[source]
                    )
                    found.append((uri, score, Span(text[start:end], start, end)))
        return found

    def _keep(
        self, best: dict[str, SkillMatch], uri: str, score: float, span: Span, method: str
    ) -> None:
        current = best.get(uri)
        if current is not None and current.score >= score:
            return
        skill = self.taxonomy.skills[uri]
        best[uri] = SkillMatch(
            uri=uri,
            label=skill.label,
            score=round(float(score), 4),
            evidence=span.text,
            span=(span.start, span.end),
            label_vi=skill.vi_labels[0] if skill.vi_labels else None,
            skill_type=skill.skill_type,
            method=method,
        )


def resolve_skill_names(
    extractor: SkillExtractor, names: list[str], *, essential: bool
) -> list[SkillRef]:
    """Turn declared skills (ESCO URIs, or labels in English or Vietnamese) into ESCO skills.

    A URI must be an ESCO skill; a label is looked up verbatim first, then by embedding.

    Raises:
        InvalidInputError: a URI that is not an ESCO skill.
    """
    taxonomy = extractor.taxonomy
    resolved: dict[str, SkillRef] = {}
    semantic: list[str] = []
    for name in names:
        name = " ".join(name.split())
        if not name:
            continue
        if name.startswith("http"):
            if name not in taxonomy.skills:
                raise InvalidInputError(f"{name!r} is not an ESCO skill URI; give a URI or a label")
            resolved.setdefault(name, _ref(taxonomy.skills[name], essential, "given"))
            continue
        entries = extractor.lexicon.get(fold(name))
        if entries:
            best = min(entries, key=lambda entry: entry[1] == "alt")
            resolved.setdefault(best[0], _ref(taxonomy.skills[best[0]], essential, "given"))
        else:
            semantic.append(name)
    if semantic:
        vectors = extractor.encoder.encode(semantic, kind="query")
        for matches in extractor.labels.search(vectors, 1):
            if matches:
                uri = matches[0].uri
                resolved.setdefault(uri, _ref(taxonomy.skills[uri], essential, "given"))
    return list(resolved.values())


def _ref(skill: Skill, essential: bool, source: str) -> SkillRef:
    return SkillRef(
        uri=skill.uri,
        label=skill.label,
        label_vi=skill.vi_labels[0] if skill.vi_labels else None,
        label_vi_status="reviewed" if skill.vi_labels else None,
        essential=essential,
        source=source,  # type: ignore[arg-type]
    )


def shown_ref(ref: SkillRef, taxonomy: Taxonomy) -> SkillRef:
    """``ref`` with the Vietnamese name a reader should see now: the reviewed one, else a
    machine-suggested one (marked), else none (the English name is shown, marked)."""
    skill = taxonomy.skills.get(ref.uri)
    if skill is None:
        return ref
    if skill.vi_labels:
        name, status = skill.vi_labels[0], "reviewed"
    elif skill.vi_suggested:
        name, status = skill.vi_suggested, "machine-suggested"
    else:
        name, status = None, None
    if ref.label_vi == name and ref.label_vi_status == status:
        return ref
    return ref.model_copy(update={"label_vi": name, "label_vi_status": status})


def skill_refs(matches: list[SkillMatch], taxonomy: Taxonomy, *, essential: bool) -> list[SkillRef]:
    return [_ref(taxonomy.skills[m.uri], essential, "extracted") for m in matches]
