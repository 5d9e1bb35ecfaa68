"""Career transitions: from one occupation, which others could a person realistically move into?

For an origin (an ESCO occupation, or a Vietnamese public-sector position from
:mod:`matcher.reference.positions` that maps to 1–3 of them) every other occupation is scored on:

- ``essential_coverage``: the share of the target's essential skills the origin already has
  (an origin's essential skill counts 1, an optional one :data:`OPTIONAL_CREDIT`);
- ``optional_coverage``: the same for the target's optional skills;
- ``similarity``: cosine of the two occupations' label centroids (the mean of each one's
  English, alternative and Vietnamese label vectors), rescaled over all targets;
- ``level``: compatibility of ISCO-08 skill levels (education): a step down is easy, a step up
  needs more qualification (:func:`level_fit`);
- ``demand``: open postings for the target, log-scaled (only when postings are given).

The origin itself (all of its occupations) is never a target, nor are elected posts and the
armed forces (:data:`EXCLUDED_TARGET_GROUPS`). Skill overlap is computed for all
3,007 occupations at once with sparse occupation × skill matrices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse

from matcher.reference.taxonomy import Taxonomy
from matcher.schemas import Lang, OriginInfo, SkillRef, Transition

#: How much an origin's optional skill counts towards a target's skill (essential counts 1).
OPTIONAL_CREDIT = 0.6
#: Skills listed per target, each of shared and missing.
MAX_LISTED = 20
#: Targets shown from one ISCO-08 unit group (see :meth:`TransitionRanker.rank`).
MAX_PER_GROUP = 2
#: ISCO-08 groups never proposed as targets: elected and senior government posts (111x) and
#: the armed forces (0xxx) are not jobs one applies to after leaving the public sector.
EXCLUDED_TARGET_GROUPS = ("111", "0")
#: Licensed professions (medical doctors, nursing and midwifery, dentists, pharmacists,
#: lawyers, judges): a target only for origins already in the same ISCO group, because the
#: move needs that profession's degree and licence, whatever the skills overlap says.
LICENSED_GROUPS = ("221", "222", "2261", "2262", "2611", "2612")
FEATURES = ("essential_coverage", "optional_coverage", "similarity", "level", "demand")


def level_fit(origin: int, target: int) -> float:
    """ISCO skill levels 1–4: same level 1.0; one down 0.85, two or more down 0.6; one up 0.4
    (a further qualification), two or more up 0.1."""
    step = target - origin
    if step == 0:
        return 1.0
    if step < 0:
        return 0.85 if step == -1 else 0.6
    return 0.4 if step == 1 else 0.1


@dataclass
class TransitionRanker:
    """Ranks target occupations for an origin. ``centroids`` is ``(uris, unit vectors)``."""

    taxonomy: Taxonomy
    centroids: tuple[list[str], npt.NDArray[np.float32]]
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "essential_coverage": 0.35,
            "optional_coverage": 0.10,
            "similarity": 0.35,
            "level": 0.15,
            "demand": 0.05,
        }
    )

    def __post_init__(self) -> None:
        uris, vectors = self.centroids
        self.uris = uris
        self.vectors = vectors
        self.row = {uri: i for i, uri in enumerate(uris)}
        skills = sorted(self.taxonomy.skills)
        self.skill_column = {uri: j for j, uri in enumerate(skills)}
        self.essential = self._incidence(self.taxonomy.essential)
        self.optional = self._incidence(self.taxonomy.optional)
        self.essential_counts = np.asarray(self.essential.sum(axis=1)).ravel()
        self.optional_counts = np.asarray(self.optional.sum(axis=1)).ravel()
        self.levels = np.array([self.taxonomy.occupations[u].skill_level for u in uris])
        self.excluded = np.array(
            [self.taxonomy.occupations[u].isco_group.startswith(EXCLUDED_TARGET_GROUPS)
             for u in uris]
        )  # fmt: skip

    def _incidence(self, relations: Mapping[str, list[str]]) -> sparse.csr_matrix:
        rows, cols = [], []
        for uri, skill_uris in relations.items():
            if uri not in self.row:
                continue
            for skill in set(skill_uris):
                if skill in self.skill_column:
                    rows.append(self.row[uri])
                    cols.append(self.skill_column[skill])
        shape = (len(self.uris), len(self.skill_column))
        return sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)

    def origin_skills(self, origin: OriginInfo) -> dict[str, float]:
        """Skill uri → credit (1 essential, :data:`OPTIONAL_CREDIT` optional) of the origin."""
        credit: dict[str, float] = {}
        for uri in origin.uris:
            for skill in self.taxonomy.optional.get(uri, []):
                credit[skill] = max(credit.get(skill, 0.0), OPTIONAL_CREDIT)
        for uri in origin.uris:
            for skill in self.taxonomy.essential.get(uri, []):
                credit[skill] = 1.0
        return credit

    def features(
        self, origin: OriginInfo, demand: Mapping[str, int] | None = None
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Each feature for every occupation (rows in ``self.uris`` order), in [0, 1]."""
        credit = self.origin_skills(origin)
        vector = np.zeros(len(self.skill_column), np.float32)
        for skill, value in credit.items():
            if skill in self.skill_column:
                vector[self.skill_column[skill]] = value
        essential = self.essential @ vector
        optional = self.optional @ vector
        rows = [self.row[u] for u in origin.uris if u in self.row]
        centre = self.vectors[rows].mean(axis=0) if rows else np.zeros(self.vectors.shape[1])
        cosine = self.vectors @ (centre / max(float(np.linalg.norm(centre)), 1e-9))
        low, high = float(np.percentile(cosine, 1)), float(cosine.max())
        similarity = np.clip((cosine - low) / max(high - low, 1e-9), 0.0, 1.0)
        counts = np.array([(demand or {}).get(u, 0) for u in self.uris], dtype=np.float64)
        most = counts.max() if len(counts) else 0.0
        return {
            "essential_coverage": essential / np.maximum(self.essential_counts, 1),
            "optional_coverage": optional / np.maximum(self.optional_counts, 1),
            "similarity": similarity,
            "level": np.array([level_fit(origin.skill_level, int(t)) for t in self.levels]),
            "demand": np.log1p(counts) / np.log1p(most) if most else np.zeros(len(self.uris)),
        }

    def rank(
        self,
        origin: OriginInfo,
        k: int = 10,
        *,
        lang: Lang = "vi",
        demand: Mapping[str, int] | None = None,
        per_group: int | None = MAX_PER_GROUP,
    ) -> list[Transition]:
        """The best ``k`` targets, best first, each with shared and missing skills. At most
        ``per_group`` targets come from one ISCO unit group, so a secondary-school teacher sees
        other kinds of work, not ten subject-teacher variants of the same job."""
        features = self.features(origin, demand)
        weights = dict(self.weights)
        if demand is None:
            weights["demand"] = 0.0
        score = sum(weights[name] * features[name] for name in FEATURES)
        blocked = self.excluded | self._licensed_elsewhere(origin)
        score = np.where(blocked, -np.inf, np.asarray(score, dtype=np.float64))
        for uri in origin.uris:  # never the origin itself
            if uri in self.row:
                score[self.row[uri]] = -np.inf
        best = self._diverse(score, k, per_group)
        credit = self.origin_skills(origin)
        return [
            self._transition(
                int(i), float(score[i]), {n: float(features[n][i]) for n in FEATURES},
                credit, origin, lang, (demand or {}).get(self.uris[int(i)], 0),
            )
            for i in best
        ]  # fmt: skip

    def _licensed_elsewhere(self, origin: OriginInfo) -> npt.NDArray[np.bool_]:
        """Targets in a licensed profession the origin does not already belong to."""
        own = {self.taxonomy.occupations[u].isco_group for u in origin.uris
               if u in self.taxonomy.occupations}  # fmt: skip
        allowed = {g for g in LICENSED_GROUPS if any(code.startswith(g) for code in own)}
        return np.array([
            group.startswith(LICENSED_GROUPS) and not group.startswith(tuple(allowed))
            for group in (self.taxonomy.occupations[u].isco_group for u in self.uris)
        ])  # fmt: skip

    def _diverse(self, score: npt.NDArray[np.float64], k: int, per_group: int | None) -> list[int]:
        chosen: list[int] = []
        taken: dict[str, int] = {}
        for i in np.argsort(-score, kind="stable"):
            if not np.isfinite(score[i]) or len(chosen) == k:
                break
            group = self.taxonomy.occupations[self.uris[i]].isco_group
            if per_group is not None and taken.get(group, 0) >= per_group:
                continue
            taken[group] = taken.get(group, 0) + 1
            chosen.append(int(i))
        return chosen

    def _transition(
        self,
        row: int,
        score: float,
        features: dict[str, float],
        credit: Mapping[str, float],
        origin: OriginInfo,
        lang: Lang,
        postings: int,
    ) -> Transition:
        uri = self.uris[row]
        occupation = self.taxonomy.occupations[uri]
        essential = list(dict.fromkeys(self.taxonomy.essential.get(uri, [])))
        optional = [s for s in dict.fromkeys(self.taxonomy.optional.get(uri, []))
                    if s not in essential]  # fmt: skip
        shared = [self._ref(s, True) for s in essential if s in credit]
        shared += [self._ref(s, False) for s in optional if s in credit]
        missing = [self._ref(s, True) for s in essential if s not in credit]
        missing += [self._ref(s, False) for s in optional if s not in credit]
        have = sum(s in credit for s in essential)
        reason = _reason(lang, origin, occupation.skill_level, have, len(essential), missing,
                         postings)  # fmt: skip
        return Transition(
            uri=uri,
            label=occupation.label,
            label_vi=occupation.vi_labels[0] if occupation.vi_labels else None,
            isco_group=occupation.isco_group,
            score=round(score, 4),
            features={name: round(value, 4) for name, value in features.items()},
            shared_skills=shared[:MAX_LISTED],
            missing_skills=missing[:MAX_LISTED],
            shared_count=len(shared),
            missing_essential_count=len(essential) - have,
            open_postings=postings,
            reason=reason,
        )

    def _ref(self, uri: str, essential: bool) -> SkillRef:
        skill = self.taxonomy.skills.get(uri)
        label = skill.label if skill else uri
        label_vi = skill.vi_labels[0] if skill and skill.vi_labels else None
        return SkillRef(uri=uri, label=label, label_vi=label_vi, essential=essential)


_TEXT = {
    "vi": {
        "share": "Dùng lại được {m}/{n} kỹ năng bắt buộc của nghề này",
        "learn": "cần học thêm: {labels}",
        "nothing": "không thiếu kỹ năng bắt buộc nào",
        "same": "cùng trình độ",
        "down": "yêu cầu trình độ thấp hơn",
        "up": "cần thêm bằng cấp/trình độ cao hơn",
        "postings": "{n} tin tuyển dụng đang mở",
    },
    "en": {
        "share": "Reuses {m} of {n} essential skills of this occupation",
        "learn": "to learn: {labels}",
        "nothing": "no essential skill missing",
        "same": "same skill level",
        "down": "a lower skill level",
        "up": "needs a higher qualification",
        "postings": "{n} open postings",
    },
}


def _reason(
    lang: Lang,
    origin: OriginInfo,
    target_level: int,
    have: int,
    total: int,
    missing: list[SkillRef],
    postings: int,
) -> str:
    text = _TEXT[lang]
    learn = [(s.label_vi or s.label) if lang == "vi" else s.label for s in missing if s.essential][
        :3
    ]
    parts = [
        text["share"].format(m=have, n=total),
        text["learn"].format(labels=", ".join(learn)) if learn else text["nothing"],
    ]
    step = target_level - origin.skill_level
    parts.append(text["same"] if step == 0 else text["down"] if step < 0 else text["up"])
    if postings:
        parts.append(text["postings"].format(n=postings))
    return "; ".join(parts) + "."
