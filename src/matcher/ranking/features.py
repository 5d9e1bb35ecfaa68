"""Re-ranking features, the ranker seam, and explanations a person can read.

Retrieval (FAISS) proposes candidates by embedding similarity; :func:`match_features` computes
the features of one (candidate, job) pair; a :class:`Ranker` turns feature rows into scores.
The hand-set :class:`WeightedRanker` is the default; a learned model only has to implement
``score``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from matcher.careers.abroad import Stint, country_name
from matcher.reference.languages import language_code, level_rank
from matcher.schemas import Explanation, Lang, LanguageAbility, SkillRef
from matcher.text import fold

FEATURES = (
    "similarity",
    "essential_coverage",
    "optional_coverage",
    "location",
    "language",
    "experience",
    "transition",
    "priority",
    "intent",
)
#: Features that carry policy rather than fit: the programme's priority rules and what the
#: person asked for (``intent``: +1 a transition target of someone who wants to change field,
#: -1 a posting in the field they want to leave). Added with fixed weights after any ranker,
#: never learned.
POLICY_FEATURES = ("priority", "intent")
INTENT_WEIGHT = 0.3


class Ranker(Protocol):
    """Anything that scores feature rows (one dict per pair, keys = :data:`FEATURES`)."""

    def score(self, rows: Sequence[dict[str, float]]) -> list[float]: ...


@dataclass
class WeightedRanker:
    """A weighted sum of features. ``similarity`` is rescaled to [0, 1] within each result set,
    because raw cosines differ by model (e5's sit in 0.7–0.9, MiniLM's in 0.2–0.7)."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "similarity": 0.40,
            "essential_coverage": 0.25,
            "optional_coverage": 0.10,
            # 0.20 (was 0.15): chosen on the judged set's tuning half, in-province top 3 for
            # non-relocators 45% → 55% (docs/evaluation.md, issue 17, fifth slice)
            "location": 0.20,
            "language": 0.08,
            "experience": 0.05,
            "transition": 0.10,
            "intent": INTENT_WEIGHT,
        }
    )

    def score(self, rows: Sequence[dict[str, float]]) -> list[float]:
        if not rows:
            return []
        similarity = np.array([row["similarity"] for row in rows])
        low, high = float(similarity.min()), float(similarity.max())
        spread = high - low if high > low else 1.0
        scores = []
        for row, raw in zip(rows, similarity):
            values = dict(row, similarity=(raw - low) / spread if high > low else 1.0)
            scores.append(sum(self.weights.get(name, 0.0) * values[name] for name in FEATURES))
        return scores


# ---------------------------------------------------------------------- languages
def language_met(required: LanguageAbility, has: Sequence[LanguageAbility]) -> bool:
    code = language_code(required.language)
    wanted = level_rank(required.level)
    for ability in has:
        if language_code(ability.language) != code:
            continue
        if wanted is None:
            return True
        same_scale = (
            required.certificate is None
            or ability.certificate is None
            or fold(required.certificate) == fold(ability.certificate)
        )
        level = level_rank(ability.level)
        if same_scale and level is not None and level >= wanted:
            return True
    return False


def describe_language(ability: LanguageAbility) -> str:
    parts = [ability.language, ability.certificate or "", ability.level or ""]
    return " ".join(part for part in parts if part)


# ---------------------------------------------------------------------- features
@dataclass(frozen=True)
class Seeker:
    """The parts of a profile that matching reads."""

    skills: frozenset[str]
    languages: tuple[LanguageAbility, ...] = ()
    province: str | None = None
    willing_to_relocate: bool = False
    willing_to_work_abroad: bool = False
    preferred_countries: tuple[str, ...] = ()
    years_experience: float | None = None
    #: for a public-sector past: good target occupations, uri -> (score in [0, 1], name)
    transitions: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    #: the former position the transitions start from, as the person wrote it
    origin: str | None = None
    #: priority groups of the person that the posting's programme supports (the boost)
    priority: tuple[str, ...] = ()
    #: skills the person covers through a related skill they hold: wanted uri -> (held skill,
    #: what the held skill is to the wanted one: "narrower", "broader" or "synonym")
    near: Mapping[str, tuple[SkillRef, str]] = field(default_factory=dict)
    #: the person wants to leave their field (said so, or ticked it)
    change_field: bool = False
    #: ISCO-08 sub-major groups (two digits) of the field they come from
    former_fields: frozenset[str] = frozenset()
    #: past overseas contracts: where, how long, and what was brought back
    abroad: tuple[Stint, ...] = ()


@dataclass(frozen=True)
class Opening:
    """The parts of a posting that matching reads."""

    skills: tuple[SkillRef, ...]
    languages: tuple[LanguageAbility, ...] = ()
    province: str | None = None
    country: str = "VN"
    remote: bool = False
    min_experience_years: float | None = None
    occupation: str | None = None
    #: ISCO-08 sub-major group (two digits) of the posting's occupation
    field: str | None = None
    #: pairs of the posting's skills one step apart in ESCO's hierarchy (for explanations)
    related: frozenset[tuple[str, str]] = frozenset()


def _same_place(a: str | None, b: str | None) -> bool:
    return bool(a and b) and fold(a or "") == fold(b or "")


def location_fit(seeker: Seeker, opening: Opening) -> float:
    if opening.country != "VN":
        if not seeker.willing_to_work_abroad:
            return 0.0
        preferred = {c.upper() for c in seeker.preferred_countries}
        return 1.0 if not preferred or opening.country in preferred else 0.7
    if opening.remote or _same_place(seeker.province, opening.province):
        return 1.0
    if seeker.province is None or opening.province is None:
        return 0.5
    return 0.6 if seeker.willing_to_relocate else 0.0


def stays_away(seeker: Seeker, opening: Opening) -> bool:
    """A domestic, on-site posting in another province, for someone who won't relocate."""
    return (
        opening.country == "VN" and not opening.remote and not seeker.willing_to_relocate
        and bool(seeker.province and opening.province)
        and not _same_place(seeker.province, opening.province)
    )  # fmt: skip


def intent_fit(seeker: Seeker, opening: Opening) -> float:
    if not seeker.change_field:
        return 0.0
    if opening.occupation and opening.occupation in seeker.transitions:
        return 1.0
    return -1.0 if opening.field and opening.field in seeker.former_fields else 0.0


def covers(seeker: Seeker, uri: str) -> bool:
    return uri in seeker.skills or uri in seeker.near


def match_features(seeker: Seeker, opening: Opening, similarity: float) -> dict[str, float]:
    essential = [s.uri for s in opening.skills if s.essential]
    optional = [s.uri for s in opening.skills if not s.essential]
    vague = not essential and not optional
    if not essential:
        # A posting that names no required skills is judged on the skills found in its text,
        # rather than counted as fully covered; one with no skills at all gets no coverage.
        essential = optional
    languages = [language_met(required, seeker.languages) for required in opening.languages]
    if opening.min_experience_years:
        years = seeker.years_experience
        experience = 0.5 if years is None else min(1.0, years / opening.min_experience_years)
    else:
        experience = 1.0
    return {
        "similarity": float(similarity),
        "essential_coverage": 0.0 if vague else _coverage(essential, seeker),
        "optional_coverage": 0.0 if vague else _coverage(optional, seeker),
        "location": location_fit(seeker, opening),
        "language": sum(languages) / len(languages) if languages else 1.0,
        "experience": experience,
        "transition": seeker.transitions.get(opening.occupation or "", (0.0, ""))[0],
        "priority": 1.0 if seeker.priority else 0.0,
        "intent": intent_fit(seeker, opening),
    }


def _coverage(wanted: list[str], seeker: Seeker) -> float:
    return sum(covers(seeker, uri) for uri in wanted) / len(wanted) if wanted else 1.0


# ---------------------------------------------------------------------- explanations
_TEXT = {
    "vi": {
        "essential": "Có {m}/{n} kỹ năng bắt buộc",
        "no_essential": "Tin tuyển dụng không nêu kỹ năng bắt buộc: hãy hỏi rõ công việc cụ thể "
        "trước khi nộp hồ sơ",
        "missing": "Còn thiếu: {labels}",
        "narrower": "«{held}» là một dạng của «{wanted}» (ESCO)",
        "broader": "«{wanted}» là một dạng của «{held}» (ESCO)",
        "synonym": "«{held}» cùng nghĩa với «{wanted}»",
        "same_place": "Cùng tỉnh/thành: {place}",
        "remote": "Làm việc từ xa",
        "relocate": "Ở {place}; sẵn sàng chuyển nơi làm việc",
        "far": "Ở tỉnh/thành khác ({place})",
        "far_stay": "Ở tỉnh/thành khác ({place}); bạn chưa muốn chuyển nơi làm việc nên việc này "
        "được xếp sau việc ở {home}",
        "abroad": "Việc làm ở nước ngoài ({country}); sẵn sàng đi làm việc ở nước ngoài",
        "not_abroad": "Việc làm ở nước ngoài ({country}); chưa chọn làm việc ở nước ngoài",
        "languages_met": "Đáp ứng yêu cầu ngoại ngữ",
        "languages_missing": "Chưa đáp ứng ngoại ngữ: {labels}",
        "experience": "{years:g} năm kinh nghiệm (yêu cầu {wanted:g})",
        "similar": "Hồ sơ gần với mô tả công việc (độ tương đồng {value:.2f})",
        "transition": "Hướng chuyển nghề phù hợp từ «{origin}»: {target}",
        "change": "Bạn muốn chuyển nghề: {target} là một hướng chuyển phù hợp",
        "former_field": "Thuộc lĩnh vực cũ của bạn; bạn muốn chuyển nghề nên việc này được xếp sau",
        "priority": "Được ưu tiên (thuộc nhóm: {groups}): điểm xếp hạng được cộng thêm",
        "machine_names": "(*) tên tiếng Việt do máy gợi ý, chưa được duyệt",
        "abroad_work": "Kinh nghiệm ở nước ngoài: {years} năm {what} tại {where}",
        "worked": "làm việc",
    },
    "en": {
        "essential": "Has {m} of {n} essential skills",
        "no_essential": "The posting lists no required skills: ask what the work involves "
        "before you apply",
        "missing": "Missing: {labels}",
        "narrower": "“{held}” is a kind of “{wanted}” (ESCO)",
        "broader": "“{wanted}” is a kind of “{held}” (ESCO)",
        "synonym": "“{held}” means the same as “{wanted}”",
        "same_place": "Same province: {place}",
        "remote": "Remote work",
        "relocate": "In {place}; willing to relocate",
        "far": "In another province ({place})",
        "far_stay": "In another province ({place}); you won't relocate, so it ranks below "
        "jobs in {home}",
        "abroad": "Overseas job ({country}); willing to work abroad",
        "not_abroad": "Overseas job ({country}); not marked as willing to work abroad",
        "languages_met": "Meets the language requirements",
        "languages_missing": "Language requirements not met: {labels}",
        "experience": "{years:g} years of experience ({wanted:g} required)",
        "similar": "The profile reads close to the job description (similarity {value:.2f})",
        "transition": "A good career move from “{origin}”: {target}",
        "change": "You want to change field: {target} is a good move",
        "former_field": "In the field you want to leave, so it ranks lower",
        "priority": "Priority group ({groups}): a ranking boost was added",
        "machine_names": "",
        "abroad_work": "Experience abroad: {years} years in {where}: {what}",
        "worked": "work",
    },
}
#: Shown in Vietnamese after an English skill name that has no Vietnamese one yet.
ENGLISH_MARK = " (tiếng Anh)"
MACHINE_MARK = "*"
#: Two skill names of one family: this share of the shorter name's words in the longer one.
FAMILY_OVERLAP = 0.8


def skill_label(skill: SkillRef, lang: Lang) -> str:
    """The name a reader sees: in Vietnamese, the reviewed name; a machine-suggested one
    marked with ``*``; the English one marked as such; never nothing."""
    if lang != "vi":
        return skill.label
    if not skill.label_vi:
        return skill.label + ENGLISH_MARK
    if skill.label_vi_status == "machine-suggested":
        return skill.label_vi + MACHINE_MARK
    return skill.label_vi


def _words(label: str) -> frozenset[str]:
    return frozenset(word for word in fold(label).split() if word not in _FILLER)


_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "and",
        "or",
        "in",
        "on",
        "for",
        "with",
        "các",
        "những",
        "của",
        "và",
        "cho",
        "với",
        "về",
        "trong",
        "một",
    ]
)


def same_family(a: SkillRef, b: SkillRef, lang: Lang, related: frozenset[tuple[str, str]]) -> bool:
    """One step apart in ESCO's hierarchy, or one name (in ``lang``) nearly inside the other
    ("tuân thủ quy định" / "đảm bảo tuân thủ quy định pháp luật")."""
    if (a.uri, b.uri) in related or (b.uri, a.uri) in related:
        return True
    wa, wb = _words(skill_label(a, lang)), _words(skill_label(b, lang))
    shorter = min(len(wa), len(wb))
    return shorter >= 2 and len(wa & wb) / shorter >= FAMILY_OVERLAP


def distinct(
    skills: Sequence[SkillRef],
    lang: Lang,
    related: frozenset[tuple[str, str]],
    shown: Sequence[SkillRef] = (),
) -> list[SkillRef]:
    """``skills`` with at most one of each family (the first), leaving out families already
    ``shown``."""  # fmt: skip
    kept: list[SkillRef] = []
    for skill in skills:
        if not any(same_family(skill, other, lang, related) for other in [*shown, *kept]):
            kept.append(skill)
    return kept


def abroad_reason(
    seeker: Seeker, opening: Opening, matched: Sequence[SkillRef], lang: Lang
) -> str | None:
    """What counted from an overseas contract, for the contract that gave this posting the
    most (its skills matched, its language levels met): "Kinh nghiệm ở nước ngoài: 3 năm hàn
    tại Hàn Quốc (EPS) + TOPIK 3"; ``None`` when nothing brought back counts here."""
    best: tuple[int, Stint, list[SkillRef]] | None = None
    for stint in seeker.abroad:
        skills = [s for s in matched if s.uri in stint.skills]
        languages = sum(language_met(r, stint.languages) for r in opening.languages)
        weight = len(skills) + 2 * languages
        if weight and (best is None or weight > best[0]):
            best = (weight, stint, skills)
    if best is None:
        return None
    _, stint, skills = best
    text = _TEXT[lang]
    what = ", ".join(skill_label(s, lang) for s in skills[:2]) or stint.sector or text["worked"]
    years = f"{stint.years:g}"
    where = country_name(stint.country, lang)
    if stint.programme:
        where += f" ({stint.programme})"
    reason = text["abroad_work"].format(
        years=years.replace(".", ",") if lang == "vi" else years, what=what, where=where)  # fmt: skip
    return reason + "".join(f" + {credential}" for credential in stint.credentials[:2])


def explain(
    seeker: Seeker, opening: Opening, features: dict[str, float], lang: Lang
) -> Explanation:
    """Matched and missing skills (essential first, one of each family), short reasons and
    cautions, all in ``lang``."""
    text = _TEXT[lang]
    ordered = sorted(opening.skills, key=lambda s: not s.essential)
    matched = distinct([s for s in ordered if covers(seeker, s.uri)], lang, opening.related)
    missing = distinct([s for s in ordered if not covers(seeker, s.uri)], lang, opening.related,
                       shown=matched)  # fmt: skip
    reasons: list[str] = []
    cautions: list[str] = []
    essential = [s for s in opening.skills if s.essential]
    if essential:
        have = sum(covers(seeker, s.uri) for s in essential)
        reasons.append(text["essential"].format(m=have, n=len(essential)))
    else:
        cautions.append(text["no_essential"])
    near = [(s, seeker.near[s.uri]) for s in matched if s.uri not in seeker.skills]
    for wanted, (held, relation) in near[:2]:
        reasons.append(text[relation].format(held=skill_label(held, lang),
                                             wanted=skill_label(wanted, lang)))  # fmt: skip
    missing_essential = [skill_label(s, lang) for s in missing if s.essential][:3]
    if missing_essential:
        reasons.append(text["missing"].format(labels=", ".join(missing_essential)))
    if opening.country != "VN":
        key = "abroad" if seeker.willing_to_work_abroad else "not_abroad"
        reasons.append(text[key].format(country=opening.country))
    elif opening.remote:
        reasons.append(text["remote"])
    elif _same_place(seeker.province, opening.province):
        reasons.append(text["same_place"].format(place=opening.province))
    elif stays_away(seeker, opening):
        cautions.append(text["far_stay"].format(place=opening.province, home=seeker.province))
    elif opening.province and seeker.province:
        key = "relocate" if seeker.willing_to_relocate else "far"
        reasons.append(text[key].format(place=opening.province))
    if opening.languages:
        unmet = [r for r in opening.languages if not language_met(r, seeker.languages)]
        if unmet:
            labels = ", ".join(describe_language(r) for r in unmet)
            reasons.append(text["languages_missing"].format(labels=labels))
        else:
            reasons.append(text["languages_met"])
    if opening.min_experience_years and seeker.years_experience is not None:
        reasons.append(
            text["experience"].format(
                years=seeker.years_experience, wanted=opening.min_experience_years
            )
        )
    if seeker.priority:
        reasons.append(text["priority"].format(groups=", ".join(seeker.priority)))
    brought = abroad_reason(seeker, opening, matched, lang)
    if brought:
        reasons.insert(0, brought)
    target = seeker.transitions.get(opening.occupation or "")
    if target and seeker.origin:
        reasons.insert(0, text["transition"].format(origin=seeker.origin, target=target[1]))
    elif target and seeker.change_field:
        reasons.insert(0, text["change"].format(target=target[1]))
    if features.get("intent", 0.0) < 0:
        cautions.append(text["former_field"])
    reasons.append(text["similar"].format(value=features["similarity"]))
    shown = [*matched, *missing]
    if lang == "vi" and any(s.label_vi_status == "machine-suggested" for s in shown):
        reasons.append(text["machine_names"])
    return Explanation(matched_skills=matched, missing_skills=missing, reasons=reasons,
                       cautions=cautions)  # fmt: skip
