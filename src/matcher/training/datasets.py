"""Training data for the encoder, built reproducibly from ESCO and the project's own data.

Every pair is (anchor, positive, group): two texts that should embed close together, and the
concept they are about (so a batch never holds two pairs of one concept, which would make one
pair's positive the other's false negative). Sources:

- ``occupation_alt``: an alternative label ↔ the occupation's preferred label (with a hard
  negative: the preferred label of an occupation in the same ISCO-08 unit group);
- ``occupation_noisy``: a label written the way job ads write titles (upper case, seniority,
  "(Part Time)", a place, "Tuyển …", "… tại Hà Nội") ↔ the preferred label;
- ``occupation_skill``: an occupation's preferred label ↔ one of its essential skills;
- ``skill_alt``: a skill's alternative label ↔ its preferred label;
- ``vi_occupation`` / ``vi_skill``: the project's Vietnamese labels ↔ the English ESCO label;
- ``vi_variant``: another Vietnamese name of a skill or occupation ↔ its first Vietnamese name
  (Vietnamese ↔ Vietnamese, so fine-tuning on English does not pull Vietnamese apart);
- ``position``: a civil-service position name or variant ↔ its ESCO occupation;
- ``feedback``: a profile ↔ a posting its owner applied to, or was shortlisted or hired for;
- ``dev_titles``: a real vacancy title of the *train* 80% of ``jobbert_titles_dev.csv`` ↔ its
  gold occupation's preferred label (with a hard negative from the same ISCO-08 unit group);
- ``viski_train``: a Vietnamese skill variant of ``viski_train_synonymSet.json`` ↔ its
  canonical term.

Texts that occur in a held-out part of the dev sets (:mod:`matcher.reference.titles`: the held-out 20% of the
titles, the house and tech sentences, ``viski_val``; compared folded: case and diacritics
aside) are removed, so the reported numbers stay honest; :func:`check_disjoint` proves it on
the built set. The dataset
hash covers every pair in order, so two runs with the same hash trained on the same data.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matcher.reference.positions import PositionMap
from matcher.reference.taxonomy import ESCO_VERSION, Taxonomy
from matcher.reference.titles import TITLES_FILE, title_rows
from matcher.text import fold

#: Feedback events that count as "this posting suits this person".
POSITIVE_EVENTS = ("applied", "shortlisted", "hired", "accepted")
SOURCES = ("occupation_alt", "occupation_noisy", "occupation_skill", "skill_alt",
           "vi_occupation", "vi_skill", "vi_variant", "position", "feedback", "dev_titles",
           "viski_train")  # fmt: skip
#: How job ads dress up a title (generic board conventions, English and Vietnamese).
TITLE_PREFIXES_EN = ("Senior ", "Junior ", "Lead ", "Trainee ", "Experienced ", "Vacancy for ",
                     "Hiring ", "Urgent: ", "Internship - ", "Head ")  # fmt: skip
TITLE_SUFFIXES_EN = (" (Part Time)", " - Full Time", " (m/f/d)", " (Contract)", " (Fresh Graduate)",
                     " (Immediate Hiring)", " 1", " II", " (Kuala Lumpur)", " in Penang",
                     " - Ho Chi Minh City", " (Hanoi)", " / Assistant", " cum Admin",
                     " (Shift Work)", " (Male Only)", " - Night Shift")  # fmt: skip
TITLE_PREFIXES_VI = ("Tuyển ", "Cần tuyển ", "Tuyển gấp ", "Tuyển dụng ")
TITLE_SUFFIXES_VI = (" tại Hà Nội", " (lương cao)", " làm việc tại TP.HCM", " - Đà Nẵng",
                     " (không yêu cầu kinh nghiệm)", " ca đêm", " bán thời gian")  # fmt: skip


@dataclass(frozen=True)
class Pair:
    anchor: str
    positive: str
    group: str
    source: str
    negative: str | None = None


@dataclass
class TrainingSet:
    pairs: list[Pair]
    #: pairs dropped because a text occurs in a dev-eval set, by source
    dropped_dev: dict[str, int] = field(default_factory=dict)
    dev_texts: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(pair.source for pair in self.pairs))

    @property
    def digest(self) -> str:
        """sha256 over every pair, in order (the dataset hash logged with each run)."""
        digest = hashlib.sha256()
        for pair in self.pairs:
            digest.update(
                f"{pair.source}\t{pair.group}\t{pair.anchor}\t{pair.positive}\t"
                f"{pair.negative or ''}\n".encode()
            )
        return digest.hexdigest()

    def by_source(self) -> dict[str, list[Pair]]:
        grouped: dict[str, list[Pair]] = defaultdict(list)
        for pair in self.pairs:
            grouped[pair.source].append(pair)
        return dict(grouped)

    def card(self, *, extra: Mapping[str, object] | None = None) -> str:
        """The training-data card (markdown): what is in the set, where it comes from, what
        was kept out."""
        lines = [
            "# Training data card: matcher encoder",
            "",
            f"- dataset hash (sha256): `{self.digest}`",
            f"- pairs: {len(self.pairs)}",
            (
                f"- ESCO version: {ESCO_VERSION} (European Commission, reused under Decision "
                "2011/833/EU)"
            ),
            (
                "- Vietnamese labels and the civil-service position map: the matcher project's own "
                "work (`data/`)"
            ),
            "",
            "| source | pairs | dropped (text in a held-out dev part) |",
            "|---|---|---|",
        ]
        counts = self.counts
        for source in SOURCES:
            lines.append(
                f"| {source} | {counts.get(source, 0)} | {self.dropped_dev.get(source, 0)} |"
            )
        lines += [
            "",
            f"Held-out dev texts kept out: {self.dev_texts} distinct folded texts (the held-out",
            "20% of the titles, the house and tech sentences and spans, viski_val terms; the",
            "split is `src/matcher/reference/titles.py`). Checked after building: no anchor, positive or",
            "negative of the set folds to any of them. The train 80% of the titles and",
            "viski_train are trained on (`dev_titles`, `viski_train`).",
        ]
        for key, value in (extra or {}).items():
            lines.append(f"- {key}: {value}")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- dev sets
def dev_texts(dev_dir: Path) -> set[str]:
    """Every text of the held-out parts of the dev sets, folded: held-out titles, skill
    sentences and spans (their gold labels are ESCO's own and stay: they *are* the taxonomy),
    ``viski_val`` canonical terms and variants. The train parts (:mod:`matcher.reference.titles`) are not
    guarded: they are trained on."""
    texts: set[str] = set()
    titles = dev_dir / TITLES_FILE
    if titles.exists():
        texts.update(fold(row["vacancyTitle"]) for row in title_rows(titles, "heldout"))
    for name in ("house_validation_annotations.csv", "tech_validation_annotations.csv"):
        path = dev_dir / name
        if path.exists():
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    texts.update(fold(row[key]) for key in ("sentence", "span", "sub_span")
                                 if row.get(key))  # fmt: skip
    for canonical, variants in _synonym_sets(dev_dir / "viski_val_synonymSet.json").items():
        texts.add(fold(canonical))
        texts.update(fold(v) for v in variants)
    texts.discard("")
    return texts


def _synonym_sets(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def dev_train_pairs(taxonomy: Taxonomy, dev_dir: Path, rnd: random.Random,
                    siblings: Mapping[str, list[str]]) -> list[Pair]:  # fmt: skip
    """``dev_titles`` and ``viski_train`` pairs from the train parts of the dev sets."""
    pairs = []
    titles = dev_dir / TITLES_FILE
    for row in title_rows(titles, "train") if titles.exists() else []:
        occupation = taxonomy.occupations.get(row["conceptUri"])
        if occupation is None:
            continue
        others = [u for u in siblings.get(occupation.isco_group, []) if u != occupation.uri]
        negative = taxonomy.occupations[rnd.choice(others)].label if others else None
        pairs.append(Pair(row["vacancyTitle"].strip(), occupation.label, occupation.uri,
                          "dev_titles", negative))  # fmt: skip
    for canonical, variants in _synonym_sets(dev_dir / "viski_train_synonymSet.json").items():
        for variant in variants:
            pairs.append(Pair(variant, canonical, f"viski:{fold(canonical)}", "viski_train"))
    return pairs


def check_disjoint(pairs: Iterable[Pair], dev: set[str]) -> list[Pair]:
    """The pairs that share a text with the dev sets (empty when the set is clean)."""
    return [
        p for p in pairs
        if fold(p.anchor) in dev or fold(p.positive) in dev or (p.negative and fold(p.negative) in dev)
    ]  # fmt: skip


# ---------------------------------------------------------------------- building
def build_training_set(
    taxonomy: Taxonomy,
    positions: PositionMap,
    dev_dir: Path,
    *,
    feedback: Sequence[tuple[str, str]] = (),
    seed: int = 13,
    max_occupation_skills: int = 4,
) -> TrainingSet:
    """All training pairs, deterministic for a given taxonomy, data and seed.

    Args:
        feedback: (profile text, posting text) of positive feedback events, in event order.
        max_occupation_skills: essential skills paired with each occupation (a sample).
    """
    rnd = random.Random(seed)
    occupations = [taxonomy.occupations[uri] for uri in sorted(taxonomy.occupations)]
    by_group: dict[str, list[str]] = defaultdict(list)
    for occupation in occupations:
        by_group[occupation.isco_group].append(occupation.uri)

    pairs: list[Pair] = []
    for occupation in occupations:
        siblings = [u for u in by_group[occupation.isco_group] if u != occupation.uri]
        for alt in occupation.alt_labels:
            negative = taxonomy.occupations[rnd.choice(siblings)].label if siblings else None
            pairs.append(Pair(alt, occupation.label, occupation.uri, "occupation_alt", negative))
        essential = sorted(taxonomy.essential.get(occupation.uri, []))
        for skill_uri in rnd.sample(essential, min(max_occupation_skills, len(essential))):
            pairs.append(Pair(occupation.label, taxonomy.skills[skill_uri].label, occupation.uri,
                              "occupation_skill"))  # fmt: skip
        for vi in occupation.vi_labels:
            pairs.append(Pair(vi, occupation.label, occupation.uri, "vi_occupation"))
        for vi in occupation.vi_labels[1:]:
            pairs.append(Pair(vi, occupation.vi_labels[0], occupation.uri, "vi_variant"))
        for text, vietnamese in [(occupation.label, False), *((a, False) for a in occupation.alt_labels),
                                 *((v, True) for v in occupation.vi_labels)]:  # fmt: skip
            negative = taxonomy.occupations[rnd.choice(siblings)].label if siblings else None
            pairs.append(Pair(as_job_ad(text, vietnamese, rnd), occupation.label, occupation.uri,
                              "occupation_noisy", negative))  # fmt: skip
    for uri in sorted(taxonomy.skills):
        skill = taxonomy.skills[uri]
        for alt in skill.alt_labels:
            pairs.append(Pair(alt, skill.label, uri, "skill_alt"))
        for vi in skill.vi_labels:
            pairs.append(Pair(vi, skill.label, uri, "vi_skill"))
        for vi in skill.vi_labels[1:]:
            pairs.append(Pair(vi, skill.vi_labels[0], uri, "vi_variant"))
    for position in sorted(positions.positions.values(), key=lambda p: p.id):
        target = taxonomy.occupations[position.occupation_uris[0]]
        for name in dict.fromkeys((position.name_vi, *position.variants)):
            pairs.append(Pair(name, target.label, target.uri, "position"))
    for profile, posting in feedback:
        pairs.append(Pair(profile, posting, f"feedback:{fold(posting)[:80]}", "feedback"))
    pairs += dev_train_pairs(taxonomy, dev_dir, rnd, by_group)

    dev = dev_texts(dev_dir)
    leaking = set(map(id, check_disjoint(pairs, dev)))
    dropped = Counter(p.source for p in pairs if id(p) in leaking)
    clean = [p for p in pairs if id(p) not in leaking and fold(p.anchor) != fold(p.positive)]
    return TrainingSet(clean, dict(dropped), len(dev))


def as_job_ad(title: str, vietnamese: bool, rnd: random.Random) -> str:
    """``title`` as a job board might print it: a prefix, a suffix and/or upper case."""
    prefixes = TITLE_PREFIXES_VI if vietnamese else TITLE_PREFIXES_EN
    suffixes = TITLE_SUFFIXES_VI if vietnamese else TITLE_SUFFIXES_EN
    text = title
    draw = rnd.random()
    if draw < 0.35:
        text = rnd.choice(prefixes) + text
    elif draw < 0.75:
        text = text + rnd.choice(suffixes)
    else:
        text = rnd.choice(prefixes) + text + rnd.choice(suffixes)
    case = rnd.random()
    if case < 0.3:
        text = text.upper()
    elif case < 0.5 and not vietnamese:
        text = text.title()
    return text


def feedback_pairs(events: Sequence[Mapping[str, object]], profile_text: Mapping[str, str],
                   posting_text: Mapping[str, str]) -> list[tuple[str, str]]:  # fmt: skip
    """(profile text, posting text) for each positive feedback event whose records still
    exist (a deleted profile's feedback is gone with it)."""
    found = []
    for event in events:
        if event["event"] not in POSITIVE_EVENTS:
            continue
        profile = profile_text.get(str(event["candidate_id"]))
        posting = posting_text.get(str(event["job_id"]))
        if profile and posting:
            found.append((profile, posting))
    return found


def mixture(training: TrainingSet, weights: Mapping[str, float], total: int,
            seed: int = 13) -> list[Pair]:  # fmt: skip
    """``total`` pairs drawn from the sources in proportion to ``weights`` (without
    replacement within a source until it is used up), shuffled."""
    rnd = random.Random(seed)
    grouped = training.by_source()
    present = {s: w for s, w in weights.items() if grouped.get(s) and w > 0}
    norm = sum(present.values()) or 1.0
    drawn: list[Pair] = []
    for source, weight in present.items():
        pool = list(grouped[source])
        rnd.shuffle(pool)
        want = round(total * weight / norm)
        drawn.extend(pool[i % len(pool)] for i in range(want))
    rnd.shuffle(drawn)
    return drawn


def batches(pairs: Sequence[Pair], size: int) -> Iterable[list[Pair]]:
    """Batches in which no two pairs share a concept (``group``) or an anchor text: in-batch
    negatives must be real negatives. A pair that clashes waits for the next batch."""
    waiting: list[Pair] = []
    queue = list(pairs)
    while queue or waiting:
        batch: list[Pair] = []
        groups: set[str] = set()
        texts: set[str] = set()
        rest: list[Pair] = []
        for pair in waiting + queue:
            key = fold(pair.positive)
            if len(batch) < size and pair.group not in groups and key not in texts:
                batch.append(pair)
                groups.add(pair.group)
                texts.add(key)
            else:
                rest.append(pair)
            if len(batch) == size:
                break
        consumed = len(batch) + len(rest)
        remaining = (waiting + queue)[consumed:]
        waiting, queue = rest, remaining
        if not batch:
            break
        yield batch
