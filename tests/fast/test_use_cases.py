"""Every use case through :mod:`matcher.services`, on the ESCO slice with the fake encoder:
who may change what, who is found, who sees what, and the reload swap."""

from __future__ import annotations

import pytest

from matcher.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnauthorizedError,
)
from matcher.schemas import CandidateProfileIn, FeedbackIn, JobPostingIn, check_k
from matcher.services import MatcherService, Principal
from tests.fast.fakes import FakeEncoder

ADMIN = Principal(role="admin", key_id="test-admin")

ACCOUNTING = JobPostingIn(
    title="Kế toán tổng hợp", description="Lập báo cáo tài chính, kê khai thuế, sử dụng Excel.",
    province="Hà Nội", required_skills=["lập báo cáo tài chính"],
)  # fmt: skip
WELDING_KR = JobPostingIn(
    title="Thợ hàn — EPS Hàn Quốc", description="Hàn hồ quang, đọc bản vẽ kỹ thuật.",
    country="KR", programme="eps-korea-manufacturing",
)  # fmt: skip


def profile(**changes: object) -> CandidateProfileIn:
    base = {"text": "Kế toán xã 10 năm: lập báo cáo tài chính, sử dụng Excel.",
            "former_position": "công chức tài chính - kế toán xã", "province": "Hà Nội",
            "consent_to_be_found": True, "name": "Nguyễn Thị Lan", "contact": "lan@example.invalid"}  # fmt: skip
    return CandidateProfileIn.model_validate(base | changes)


def employer(service: MatcherService, name: str) -> Principal:
    key = service.create_key(employer=name)["key"]
    return service.authenticate(key)


def test_only_the_owner_or_the_admin_changes_a_posting(fast_service: MatcherService) -> None:
    owner, other = employer(fast_service, "Công ty A"), employer(fast_service, "Công ty B")
    [job] = fast_service.create_jobs([ACCOUNTING], owner)
    with pytest.raises(ForbiddenError):
        fast_service.replace_job(job.id, ACCOUNTING, other)
    with pytest.raises(ForbiddenError):
        fast_service.delete_job(job.id, other)
    assert [j.id for j in fast_service.list_jobs(owner)[1]] == [job.id]
    assert fast_service.list_jobs(other) == (0, [])
    changed = fast_service.replace_job(
        job.id, ACCOUNTING.model_copy(update={"title": "Kế toán trưởng"}), ADMIN
    )
    assert changed.title == "Kế toán trưởng" and changed.employer_id == owner.employer_id
    fast_service.delete_job(job.id, owner)
    with pytest.raises(NotFoundError):
        fast_service.get_job(job.id)
    assert job.id not in fast_service.catalog.jobs.ids


def test_keys_are_checked_and_revoked(fast_service: MatcherService) -> None:
    key = fast_service.create_key(employer="Công ty C")["key"]
    assert fast_service.authenticate(key).role == "employer"
    with pytest.raises(UnauthorizedError):
        fast_service.authenticate("not-a-key")
    with pytest.raises(UnauthorizedError):
        fast_service.authenticate(None)
    assert fast_service.revoke_key(key, ADMIN) == 1
    with pytest.raises(UnauthorizedError):
        fast_service.authenticate(key)
    assert fast_service.principal_of(key) is None


def test_only_registered_operators_tag_programme_postings(fast_service: MatcherService) -> None:
    broker = employer(fast_service, "Công ty môi giới")
    with pytest.raises(ForbiddenError, match="registered operator"):
        fast_service.create_jobs([WELDING_KR], broker)
    with pytest.raises(InvalidInputError, match="does not exist"):
        fast_service.create_jobs([WELDING_KR.model_copy(update={"programme": "eps-mars"})], broker)
    fast_service.add_operator(broker.employer_id, "eps-korea-manufacturing", ADMIN)  # type: ignore[arg-type]
    [job] = fast_service.create_jobs([WELDING_KR], broker)
    assert job.programme == "eps-korea-manufacturing"
    fast_service.delete_job(job.id, broker)


def test_a_profile_opens_only_with_its_token_and_is_erased_whole(
    fast_service: MatcherService,
) -> None:
    candidate, token = fast_service.create_candidate(profile())
    assert fast_service.get_candidate(candidate.id, token).name == "Nguyễn Thị Lan"
    with pytest.raises(UnauthorizedError):
        fast_service.get_candidate(candidate.id, None)
    other, other_token = fast_service.create_candidate(profile(name="Trần Văn B"))
    with pytest.raises(ForbiddenError):
        fast_service.get_candidate(candidate.id, other_token)
    fast_service.delete_candidate(candidate.id, token)
    fast_service.delete_candidate(other.id, other_token)
    assert candidate.id not in fast_service.catalog.candidates.ids
    with pytest.raises(NotFoundError):
        fast_service.store.get_candidate(candidate.id)


def test_employers_find_only_consenting_candidates_and_never_their_vulnerable_status(
    fast_service: MatcherService,
) -> None:
    owner = employer(fast_service, "Công ty D")
    [job] = fast_service.create_jobs([ACCOUNTING], owner)
    found, found_token = fast_service.create_candidate(profile(priority_groups=["poor-household"]))
    hidden, hidden_token = fast_service.create_candidate(profile(consent_to_be_found=False))
    ranking = fast_service.rank_candidates(job.id, owner, k=50)
    ids = [r.candidate.id for r in ranking.results]
    assert found.id in ids and hidden.id not in ids
    shown = ranking.results[ids.index(found.id)]
    view = shown.candidate.model_dump()
    assert "name" not in view and "contact" not in view and "text" not in view
    assert "priority_groups" not in view and "priority" not in shown.features
    assert "Lan" not in str(shown.model_dump())
    # the candidate's own view keeps the feature
    [mine] = [r for r in fast_service.recommend_jobs(found, k=50).results if r.job.id == job.id]
    assert "priority" in mine.features
    with pytest.raises(ForbiddenError):
        fast_service.rank_candidates(job.id, employer(fast_service, "Công ty E"))
    for candidate, token in ((found, found_token), (hidden, hidden_token)):
        fast_service.delete_candidate(candidate.id, token)
    fast_service.delete_job(job.id, owner)


def test_programme_postings_never_reach_those_a_rule_rules_out(
    fast_service: MatcherService,
) -> None:
    [programme_job] = fast_service.create_jobs([WELDING_KR], ADMIN)
    [domestic] = fast_service.create_jobs(
        [ACCOUNTING.model_copy(update={"title": "Thợ hàn"})], ADMIN
    )
    too_old = fast_service.build_candidate(
        profile(text="Thợ hàn hồ quang 20 năm", birth_year=1960, willing_to_work_abroad=True)
    )
    found = fast_service.recommend_jobs(too_old, k=50)
    shown = {r.job.id for r in found.results}
    assert domestic.id in shown and programme_job.id not in shown
    [held] = found.held_back
    assert held.programme_id == WELDING_KR.programme and held.postings == 1
    assert "18–39" in held.reasons[0] and "66" in held.message  # the limit, the age
    [result] = fast_service.all_eligibility(too_old)[-1:]
    assert result.status == "not_eligible" and not result.eligible
    # nothing said about age or health: shown, with what to check
    unsaid = fast_service.build_candidate(
        profile(text="Thợ hàn hồ quang 20 năm", willing_to_work_abroad=True)
    )
    listed = {r.job.id: r for r in fast_service.recommend_jobs(unsaid, k=50).results}
    assert programme_job.id in listed
    checks = listed[programme_job.id].eligibility
    assert checks is not None and checks.status == "eligible_if"
    assert {"age", "health"} <= {c.kind for c in checks.to_check}
    for job in (programme_job, domestic):
        fast_service.delete_job(job.id, ADMIN)


def test_feedback_needs_the_employer_of_the_job_or_the_candidate(
    fast_service: MatcherService,
) -> None:
    owner = employer(fast_service, "Công ty F")
    [job] = fast_service.create_jobs([ACCOUNTING], owner)
    candidate, token = fast_service.create_candidate(profile())
    event = FeedbackIn(job_id=job.id, candidate_id=candidate.id, event="shortlisted")
    assert fast_service.record_feedback(event, principal=owner) > 0
    with pytest.raises(ForbiddenError):
        fast_service.record_feedback(event, principal=employer(fast_service, "Công ty G"))
    with pytest.raises(UnauthorizedError):
        fast_service.record_feedback(event)
    assert fast_service.record_feedback(event, candidate_token=token) > 0
    fast_service.delete_candidate(candidate.id, token)
    fast_service.delete_job(job.id, owner)


def test_k_is_limited_in_one_place() -> None:
    check_k(1)
    check_k(100)
    for bad in (0, 101):
        with pytest.raises(InvalidInputError, match="between 1 and 100"):
            check_k(bad)


def test_reload_swaps_every_part_at_once_and_loses_no_write(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    encoders = iter([FakeEncoder(seed=1), FakeEncoder(seed=2)])
    service = MatcherService(fresh_settings, load_encoder=lambda spec: next(encoders))  # type: ignore[arg-type,return-value]
    service.start()
    [job] = service.create_jobs([ACCOUNTING], ADMIN)
    before = service.parts
    result = service.reload()
    after = service.parts
    assert result["state"] == "done" and result["changed_encoder"] is True
    assert after is not before and after.encoder.fingerprint == "fake2"
    assert before.encoder.fingerprint == "fake1"  # a request holding the old parts keeps them
    assert before.catalog is not after.catalog and after.catalog.encoder is after.encoder
    assert after.models.occupations.encoder is after.encoder
    assert job.id in after.catalog.jobs.ids  # re-embedded with the new encoder
    assert before.encoder.workers_running is False  # the old one's workers were stopped
    service.stop()
    service.store.close()


def test_a_former_position_leads_to_transitions_and_skill_gaps(fast_service: MatcherService) -> None:
    moves = fast_service.transitions("giáo viên tiểu học", k=5)
    assert moves.origin.via == "position" and 1 <= len(moves.transitions) <= 5
    assert all(t.uri not in moves.origin.uris for t in moves.transitions)
    with pytest.raises(NotFoundError, match="not in ESCO"):
        fast_service.transitions("http://data.europa.eu/esco/occupation/nope", ids_only=True)
    [job] = fast_service.create_jobs([ACCOUNTING], ADMIN)
    gaps = fast_service.skill_gaps(fast_service.build_candidate(profile(text="Kế toán")), k=5)
    assert gaps.postings_considered >= 1
    fast_service.delete_job(job.id, ADMIN)


def test_skills_written_verbatim_are_found_with_their_evidence(fast_service: MatcherService) -> None:
    [found] = fast_service.extract_skills(["Tôi lập báo cáo tài chính hằng quý."], k=10)
    assert any("báo cáo tài chính" in (m.evidence or "") for m in found)
    with pytest.raises(InvalidInputError):
        fast_service.extract_skills(["\u200b  "])


def test_candidate_searches_are_audited_and_sizes_reported(fast_service: MatcherService) -> None:
    owner = employer(fast_service, "Công ty H")
    [job] = fast_service.create_jobs([ACCOUNTING], owner)
    before = fast_service.gauges()["index_jobs"]
    fast_service.rank_candidates(job.id, owner, k=3)
    total, entries = fast_service.audit_log(limit=5)
    assert total >= 1
    assert entries[0]["action"] == "candidate_search" and entries[0]["target"] == job.id
    assert entries[0]["actor"] == owner.actor
    fast_service.delete_job(job.id, owner)
    assert fast_service.gauges()["index_jobs"] == before - 1


def test_the_demo_set_loads_once_with_working_keys(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    service = MatcherService(fresh_settings, encoder=FakeEncoder())  # type: ignore[arg-type]
    service.start()
    summary = service.load_demo(jobs=12, candidates=6, returnees=1)
    assert service.load_demo(jobs=12, candidates=6, returnees=1) == summary  # once
    principal = service.authenticate(summary["employer_key"])
    total, jobs = service.list_jobs(principal)
    assert total == 13 and all(j.title.startswith("[DEMO]") or "[DEMO]" in j.employer for j in jobs)
    candidate = service.get_candidate(summary["example_candidate_id"], summary["example_candidate_token"])
    assert candidate.id in service.catalog.candidates.ids
    assert service.revoke_demo_keys() == 2
    with pytest.raises(UnauthorizedError):
        service.authenticate(summary["employer_key"])
    service.stop()
    service.store.close()


def test_workers_on_one_store_apply_each_others_changes_in_the_stores_order(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    """Two workers (``matcher serve --workers 2``) as two services on one store. A posting
    made on one is found on the other once it follows the log; deleted on the second before
    it followed, it stays deleted on both: taking the write lock applies the first's change
    first, so the removal enters the log after it (else the second would bring it back)."""
    from matcher.services import Worker

    settings = fresh_settings.model_copy(update={"follow_interval_ms": 1000})
    first, second = (MatcherService(settings, encoder=FakeEncoder())  # type: ignore[arg-type]
                     for _ in range(2))  # fmt: skip
    first.start(worker=Worker(0, primary=True))
    second.start(worker=Worker(1, primary=False))
    try:
        [job] = first.create_jobs([ACCOUNTING], ADMIN)
        assert job.id in first.catalog.jobs and job.id not in second.catalog.jobs
        second.delete_job(job.id, ADMIN)  # before its follower ran: the lock catches up first
        first.catalog.follow()
        second.catalog.follow()
        assert job.id not in first.catalog.jobs and job.id not in second.catalog.jobs
        [kept] = second.create_jobs([ACCOUNTING], ADMIN)
        assert first.catalog.follow() == 1 and kept.id in first.catalog.jobs
        assert second.catalog.follow() == 0  # its own change is not applied twice
        with pytest.raises(ConflictError, match="restart"):
            second.begin_reload(ADMIN)
    finally:
        for service in (first, second):
            service.close()
