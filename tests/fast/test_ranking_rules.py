"""What the ranker does with what a person asked for, and how explanations read: the pure
ranking functions on hand-built seekers and postings (no model)."""

from __future__ import annotations

from matcher.ranking.features import (
    Opening,
    Seeker,
    WeightedRanker,
    distinct,
    explain,
    match_features,
    skill_label,
)
from matcher.ranking.learned import LEARNED_FEATURES
from matcher.schemas import SkillRef

WELD = SkillRef(uri="u:weld", label="weld", label_vi="hàn", label_vi_status="reviewed")
DRAW = SkillRef(uri="u:draw", label="read blueprints", label_vi="đọc bản vẽ")
CNC = SkillRef(uri="u:cnc", label="tend CNC lathe", label_vi="vận hành máy tiện CNC")
WELDER = Seeker(skills=frozenset({"u:weld", "u:draw"}), province="Bắc Ninh")


#: The rest of a result set: similarity is rescaled within the set, so a set of two would
#: turn any difference into the whole range.
OTHERS = [(Opening(skills=(CNC,), province="Huế"), s) for s in (0.70, 0.75, 0.80, 0.92)]


def ranked(seeker: Seeker, openings: list[Opening], similarity: list[float]) -> list[int]:
    """The order of ``openings`` among a realistic result set."""
    pairs = list(zip(openings, similarity)) + OTHERS
    rows = [match_features(seeker, o, s) for o, s in pairs]
    scores = WeightedRanker().score(rows)[: len(openings)]
    return sorted(range(len(openings)), key=lambda i: -scores[i])


def test_a_non_relocator_gets_the_home_province_first_and_is_told_why() -> None:
    home = Opening(skills=(WELD, DRAW, CNC), province="Bắc Ninh")
    away = Opening(skills=(WELD, DRAW, CNC), province="Hà Nội")
    remote = Opening(skills=(WELD, DRAW, CNC), province="Hà Nội", remote=True)
    # the posting elsewhere reads a little closer to the profile: still below
    assert ranked(WELDER, [away, home, remote], [0.86, 0.84, 0.80])[-1] == 0
    why = explain(WELDER, away, match_features(WELDER, away, 0.86), "vi")
    assert any("chưa muốn chuyển nơi làm việc" in c and "Bắc Ninh" in c for c in why.cautions)
    mover = Seeker(skills=WELDER.skills, province="Bắc Ninh", willing_to_relocate=True)
    assert not explain(mover, away, match_features(mover, away, 0.86), "vi").cautions


def test_a_posting_with_no_skills_gets_no_free_coverage_and_a_caution() -> None:
    vague = Opening(skills=(), province="Bắc Ninh")
    real = Opening(skills=(WELD, DRAW, CNC), province="Bắc Ninh")
    features = match_features(WELDER, vague, 0.9)
    assert features["essential_coverage"] == 0.0 and features["optional_coverage"] == 0.0
    assert ranked(WELDER, [vague, real], [0.9, 0.85]) == [1, 0]
    why = explain(WELDER, vague, features, "en")
    assert any("lists no required skills" in c for c in why.cautions)
    assert not any("no required skills" in r for r in why.reasons)


def test_wanting_to_change_field_puts_transition_targets_first() -> None:
    teacher = Seeker(skills=frozenset({"u:weld"}), province="Nghệ An", change_field=True,
                     former_fields=frozenset({"23"}),
                     transitions={"occ:trainer": (1.0, "chuyên viên đào tạo")})  # fmt: skip
    teaching = Opening(skills=(WELD,), province="Nghệ An", occupation="occ:teacher", field="23")
    training = Opening(skills=(WELD,), province="Nghệ An", occupation="occ:trainer", field="24")
    assert ranked(teacher, [teaching, training], [0.9, 0.8]) == [1, 0]
    stays = Seeker(skills=teacher.skills, province="Nghệ An", former_fields=frozenset({"23"}))
    assert ranked(stays, [teaching, training], [0.9, 0.8]) == [0, 1]
    why = explain(teacher, teaching, match_features(teacher, teaching, 0.9), "vi")
    assert any("lĩnh vực cũ" in c for c in why.cautions)
    why = explain(teacher, training, match_features(teacher, training, 0.8), "vi")
    assert "chuyên viên đào tạo" in why.reasons[0]


def test_a_related_skill_in_the_hierarchy_covers_and_is_named() -> None:
    tig = SkillRef(uri="u:tig", label="TIG welding", label_vi="hàn TIG")
    seeker = Seeker(skills=frozenset({"u:weld"}), near={"u:tig": (WELD, "broader")})
    opening = Opening(skills=(tig,))
    features = match_features(seeker, opening, 0.8)
    assert features["essential_coverage"] == 1.0
    why = explain(seeker, opening, features, "vi")
    assert [s.uri for s in why.matched_skills] == ["u:tig"]
    assert "«hàn TIG» là một dạng của «hàn» (ESCO)" in why.reasons


def test_near_duplicates_show_once() -> None:
    names = ["tuân thủ các quy định", "tuân thủ quy định pháp luật",
             "đảm bảo tuân thủ quy định pháp luật", "hàn"]  # fmt: skip
    skills = [SkillRef(uri=f"u:{i}", label=f"s{i}", label_vi=n) for i, n in enumerate(names)]
    assert [s.label_vi for s in distinct(skills, "vi", frozenset())] == [names[0], "hàn"]
    parent, child = SkillRef(uri="p", label="lead others"), SkillRef(uri="c", label="supervise")
    assert distinct([parent, child], "en", frozenset({("c", "p")})) == [parent]


def test_every_vietnamese_skill_name_is_something_and_says_what_it_is() -> None:
    assert skill_label(WELD, "vi") == "hàn"
    guess = SkillRef(uri="g", label="laser types", label_vi="các loại laser",
                     label_vi_status="machine-suggested")  # fmt: skip
    assert skill_label(guess, "vi") == "các loại laser*"
    assert skill_label(SkillRef(uri="e", label="laser types"), "vi") == "laser types (tiếng Anh)"
    assert skill_label(guess, "en") == "laser types"


def test_stated_wishes_are_policy_never_learned() -> None:
    assert "intent" not in LEARNED_FEATURES and "priority" not in LEARNED_FEATURES
