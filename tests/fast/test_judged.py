"""The judged ranking set (data/judged): enough realistic profiles for every group, graded
blind and completely, half held out; and the scoring of rankings against the grades."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from matcher.schemas import CandidateProfileIn, JobPosting
from matcher.training.judged import (
    Grade,
    JudgedProfile,
    agreement,
    grow_pool,
    load_grades,
    load_profiles,
    pool,
    posting_key,
    score,
)

JUDGED = Path(__file__).resolve().parents[2] / "data" / "judged"
#: teachers, health workers, commune and district officials, office and finance staff,
#: factory, construction and farm workers going abroad, returnees, and other workers
GROUPS = {"teacher", "health", "commune_official", "office_finance", "going_abroad",
          "returnee", "other_worker"}  # fmt: skip
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def job(title: str, province: str = "Nghệ An") -> JobPosting:
    return JobPosting(id=title, title=title, description=f"Công việc: {title}.", province=province,
                      created_at=NOW, updated_at=NOW)  # fmt: skip


def test_the_profiles_cover_every_group_in_both_languages_and_half_are_held_out() -> None:
    people = load_profiles(JUDGED)
    assert len(people) >= 80
    groups = Counter(p.group for p in people)
    assert GROUPS <= set(groups), groups
    assert {p.lang for p in people} == {"vi", "en"}
    held = sum(p.held_out for p in people)
    assert 0.35 * len(people) <= held <= 0.65 * len(people)
    assert any(p.profile.willing_to_relocate is False for p in people if p.held_out)


def test_every_pooled_pair_is_graded_once_blind_and_a_subset_twice_by_someone_else() -> None:
    rows = [json.loads(line) for line in (JUDGED / "pool.jsonl").open(encoding="utf-8")]
    assert all(set(row) == {"pair", "profile", "posting", "job"} for row in rows)  # no variant
    assert not {"score", "rank", "variant", "id"} & set(rows[0]["job"])
    grades = load_grades(JUDGED)
    first = Counter(g.pair for g in grades if g.round == 1)
    assert set(first) == {row["pair"] for row in rows} and set(first.values()) == {1}
    assert all(g.grade in (0, 1, 2, 3) and g.reason for g in grades)
    graders = {g.pair: g.grader for g in grades if g.round == 1}
    again = [g for g in grades if g.round == 2]
    assert len(again) >= 0.05 * len(rows)
    assert all(g.pair in graders and graders[g.pair] != g.grader for g in again)
    found = agreement(grades)
    assert found["pairs"] == len(again) and 0.0 <= found["exact"] <= found["within_one"] <= 1.0


def test_the_pool_is_the_union_of_the_variants_shuffled_and_each_pair_once() -> None:
    a, b, c = job("Kế toán"), job("Văn thư"), job("Thủ quỹ")
    rows = pool({"served": {"p1": [a, b]}, "similarity": {"p1": [b, c]}})
    assert sorted(r["posting"] for r in rows) == sorted(posting_key(j) for j in (a, b, c))
    assert {r["profile"] for r in rows} == {"p1"}


def test_pooling_again_keeps_every_earlier_pair_and_hands_out_only_the_ungraded() -> None:
    a, b, c = job("Kế toán"), job("Văn thư"), job("Thủ quỹ")
    earlier = pool({"served": {"p1": [a, b]}})
    graded = [Grade(row["pair"], "p1", row["posting"], 1, "a") for row in earlier]
    now = pool({"served": {"p1": [b, c]}})  # a left the lists, c is new
    pooled, ungraded = grow_pool(earlier, now, graded)
    assert pooled[: len(earlier)] == earlier  # the record of what was graded stays
    assert sorted(r["posting"] for r in pooled) == sorted(posting_key(j) for j in (a, b, c))
    assert [r["posting"] for r in ungraded] == [posting_key(c)]
    assert grow_pool(pooled, now, graded)[0] == pooled  # pooling twice adds nothing


def test_scores_reward_the_graded_order_and_count_the_home_province_for_non_relocators() -> None:
    person = JudgedProfile("p1", "office", "vi", CandidateProfileIn(
        text="kế toán", province="Nghệ An", willing_to_relocate=False))  # fmt: skip
    good, fair, far = job("Kế toán"), job("Văn thư"), job("Kế toán HN", "Hà Nội")
    grades = [Grade("x1", "p1", posting_key(good), 3, "a"),
              Grade("x2", "p1", posting_key(fair), 1, "a"),
              Grade("x3", "p1", posting_key(far), 1, "a"),
              Grade("x1", "p1", posting_key(good), 2, "b", round=2)]  # fmt: skip
    half = "held_out" if person.held_out else "tuning"
    found = score({"best": {"p1": [good, fair, far]}, "worst": {"p1": [far, fair]}},
                  [person], grades, {"p1": "Nghệ An"})  # fmt: skip
    best, worst = found["variants"]["best"][half], found["variants"]["worst"][half]
    assert best["ndcg@10"] == 1.0 and worst["ndcg@10"] < 0.5
    assert best["in_province_top3"] == 1.0 and worst["in_province_top3"] == 1.0  # fair is in 3
    assert found["variants"]["worst"][half]["judged@10"] == 1.0
    only_far = score({"v": {"p1": [far]}}, [person], grades, {"p1": "Nghệ An"})
    assert only_far["variants"]["v"][half]["in_province_top3"] == 0.0
    assert found["agreement"] == {"pairs": 1.0, "exact": 0.0, "within_one": 1.0,
                                  "kappa_quadratic": found["agreement"]["kappa_quadratic"]}  # fmt: skip
