"""Screening at ingest and the review flow, through :mod:`matcher.services` on the ESCO slice
with the fake encoder and a real store and index: held postings reach no candidate on any
route, their employer sees why, admins clear or reject them (audited), seekers report them,
and a restart keeps them out of the index."""

from __future__ import annotations

import pytest

from matcher.errors import ConflictError, InvalidInputError, NotFoundError
from matcher.schemas import CandidateProfileIn, JobPostingIn
from matcher.services import MatcherService, Principal
from tests.fast.fakes import FakeEncoder

ADMIN = Principal(role="admin", key_id="test-admin")

#: the three postings of the issue, as a new user sent them
KOREA_SCAM = JobPostingIn(
    title="Tuyển 20 lao động đi Hàn Quốc làm nhà máy",
    description="Bao đậu visa 100%, bay sau 2 tháng. Chi phí trọn gói 180 triệu, đặt cọc "
    "30 triệu để giữ suất. Liên hệ Zalo 0912 345 678.",
    country="KR", salary_min=35_000_000, salary_max=45_000_000,
)  # fmt: skip
LIGHT_WORK = JobPostingIn(
    title="Việc nhẹ lương cao ở nước ngoài",
    description="Việc nhẹ lương cao, không cần kinh nghiệm, lo vé máy bay. Nhắn Telegram @vieclamnhanh.",
    country="KH",
)  # fmt: skip
JAPAN_DEPOSIT = JobPostingIn(
    title="Factory work in Japan, 30 million VND a month",
    description="Packing work in Osaka. A deposit of 5,000 USD is needed before your interview. "
    "Contact us only on Messenger.",
    country="JP", currency="USD", salary_min=1100, salary_max=1200,
)  # fmt: skip
CLEAN = JobPostingIn(
    title="Kế toán tổng hợp", description="Lập báo cáo tài chính, kê khai thuế. VP: 12 Lê Lợi, "
    "Quận 1, TP.HCM. Gửi CV: tuyendung@anphat.vn.", province="Hà Nội",
)  # fmt: skip
SEEKER = CandidateProfileIn(
    text="Công nhân nhà máy 5 năm, đóng gói, vận hành máy. Muốn đi làm việc ở Hàn Quốc, Nhật "
    "Bản.", willing_to_work_abroad=True, preferred_countries=["KR", "JP", "KH"],
    consent_to_be_found=True,
)  # fmt: skip


def employer(service: MatcherService, name: str) -> Principal:
    return service.authenticate(service.create_key(employer=name)["key"])


def seen_by_seekers(service: MatcherService, job_id: str) -> dict[str, bool]:
    """Whether a posting reaches a job seeker on each route that shows postings."""
    candidate = service.build_candidate(SEEKER)
    recommended = {r.job.id for r in service.recommend_jobs(candidate, k=100).results}
    gaps = service.skill_gaps(candidate, k=20)
    try:
        service.get_job(job_id)
        public = True
    except NotFoundError:
        public = False
    return {"recommendations": job_id in recommended, "public": public,
            "index": job_id in service.catalog.jobs.ids,
            "skill_gaps": gaps.postings_considered > 0 and job_id in service.catalog.jobs.ids}  # fmt: skip


def test_the_issue_scams_are_held_with_their_evidence(fast_service: MatcherService) -> None:
    owner = employer(fast_service, "Công ty Ánh Dương")
    jobs = fast_service.create_jobs([KOREA_SCAM, LIGHT_WORK, JAPAN_DEPOSIT], owner)
    codes = [{s.code for s in job.review.signals} for job in jobs if job.review]
    assert len(codes) == 3 and all(job.review and job.review.status == "held" for job in jobs)
    assert {"guaranteed_outcome", "upfront_deposit", "private_contact_only"} <= codes[0]
    assert {"unrealistic_pay", "private_contact_only"} <= codes[1]
    assert {"upfront_deposit", "private_contact_only"} <= codes[2]
    korea = jobs[0].review
    assert korea is not None
    guarantee = next(s for s in korea.signals if s.code == "guaranteed_outcome")
    # the evidence is the posting's own words, at their place in the text
    assert guarantee.evidence == KOREA_SCAM.description[guarantee.start : guarantee.end]
    assert "visa" in guarantee.evidence.lower() and guarantee.message_vi and guarantee.message_en
    for job in jobs:
        assert not any(seen_by_seekers(fast_service, job.id).values())
        # the employer sees it, with why
        mine = fast_service.get_job(job.id, owner)
        assert mine.review is not None and mine.review.status == "held"
        with pytest.raises(ConflictError, match="under review"):
            fast_service.rank_candidates(job.id, owner)
    listed = {j.id: j.review for j in fast_service.list_jobs(owner)[1]}
    assert all(listed[job.id] is not None for job in jobs)
    for job in jobs:
        fast_service.delete_job(job.id, owner)


def test_a_clean_posting_is_shown_at_once_and_has_no_review(fast_service: MatcherService) -> None:
    owner = employer(fast_service, "Công ty An Phát")
    [job] = fast_service.create_jobs([CLEAN], owner)
    assert job.review is None and fast_service.get_job(job.id).id == job.id
    assert job.id in fast_service.catalog.jobs.ids
    fast_service.delete_job(job.id, owner)


def test_admins_clear_or_reject_and_every_review_is_audited(fast_service: MatcherService) -> None:
    owner = employer(fast_service, "Công ty Bình An")
    held, rejected = fast_service.create_jobs([KOREA_SCAM, JAPAN_DEPOSIT], owner)
    total, queue = fast_service.review_queue(limit=200)
    assert total >= 2
    assert {held.id, rejected.id} <= {j.id for j in queue}
    assert all(j.review and j.review.signals for j in queue)
    cleared = fast_service.review_job(held.id, "clear", ADMIN, "checked by phone")
    assert cleared.review and cleared.review.status == "cleared" and cleared.review.signals
    assert seen_by_seekers(fast_service, held.id)["public"]
    assert held.id in fast_service.catalog.jobs.ids
    fast_service.review_job(rejected.id, "reject", ADMIN, "deposit before interview")
    assert not any(seen_by_seekers(fast_service, rejected.id).values())
    with pytest.raises(ConflictError, match="rejected"):
        fast_service.replace_job(rejected.id, CLEAN, owner)
    assert {held.id, rejected.id}.isdisjoint(j.id for j in fast_service.review_queue(limit=200)[1])
    actions = [(e["action"], e["target"], e["actor"]) for e in fast_service.audit_log(limit=20)[1]]
    assert ("review_clear", held.id, ADMIN.actor) in actions
    assert ("review_reject", rejected.id, ADMIN.actor) in actions
    # reports on a posting an admin cleared queue it for another look; they do not hide it
    for _ in range(3):
        queued = fast_service.report_job(held.id, "scam?")
    assert queued.status == "queued" and queued.reviewed_by == ADMIN.actor
    assert seen_by_seekers(fast_service, held.id)["public"]
    # an edit is screened again: a cleared posting that adds a scam line is held once more
    again = fast_service.replace_job(held.id, KOREA_SCAM, owner)
    assert again.review and again.review.status == "held"
    assert held.id not in fast_service.catalog.jobs.ids
    for job in (held, rejected):
        fast_service.delete_job(job.id, owner)


def test_a_seeker_report_queues_a_posting_and_enough_of_them_hold_it(
    fast_service: MatcherService,
) -> None:
    owner = employer(fast_service, "Công ty Hoà Bình")
    [job] = fast_service.create_jobs([CLEAN], owner)
    with pytest.raises(InvalidInputError):  # nothing readable: refused, nothing counted
        fast_service.report_job(job.id, "\u0000\u200b ")
    first = fast_service.report_job(job.id, "họ đòi đặt cọc qua Zalo\u0000")
    assert first.status == "queued" and first.reports == 1
    assert "\x00" not in first.signals[-1].evidence
    assert job.id in {j.id for j in fast_service.review_queue(limit=200)[1]}
    assert seen_by_seekers(fast_service, job.id)["public"]  # one report alone hides nothing
    fast_service.report_job(job.id, "lừa đảo")
    third = fast_service.report_job(job.id, "scam")
    assert third.status == "held" and third.reports == 3
    assert not any(seen_by_seekers(fast_service, job.id).values())
    with pytest.raises(NotFoundError):  # a hidden posting cannot be reported
        fast_service.report_job(job.id, "again")
    reports = [e for e in fast_service.audit_log(limit=20)[1] if e["action"] == "report_job"]
    assert reports and reports[0]["target"] == job.id
    fast_service.delete_job(job.id, owner)


def test_a_bulk_import_holds_only_its_flagged_rows(fast_service: MatcherService) -> None:
    owner = employer(fast_service, "Công ty Đại Dương")
    jobs = fast_service.create_jobs([CLEAN, KOREA_SCAM, CLEAN, LIGHT_WORK], owner)
    held = [job.id for job in jobs if job.review and job.review.hidden]
    assert held == [jobs[1].id, jobs[3].id]
    assert {jobs[0].id, jobs[2].id} <= set(fast_service.catalog.jobs.ids)
    assert set(held).isdisjoint(fast_service.catalog.jobs.ids)
    for job in jobs:
        fast_service.delete_job(job.id, owner)


def test_a_programme_operator_names_its_programme_and_its_costs(
    fast_service: MatcherService,
) -> None:
    """The same words are impersonation from a stranger and a notice from the operator."""
    notice = JobPostingIn(
        title="Tuyển lao động đi Hàn Quốc theo Chương trình EPS năm 2026",
        description="Trung tâm Lao động ngoài nước thông báo: người lao động nộp lệ phí thi "
        "tương đương 28 USD; ký quỹ 100 triệu đồng tại Ngân hàng Chính sách xã hội.",
        country="KR",
    )  # fmt: skip
    stranger = employer(fast_service, "Văn phòng tư vấn Hải Nam")
    [copied] = fast_service.create_jobs([notice], stranger)
    assert copied.review and "programme_impersonation" in {s.code for s in copied.review.signals}
    operator = employer(fast_service, "Trung tâm Lao động ngoài nước")
    fast_service.add_operator(operator.employer_id, "eps-korea-manufacturing", ADMIN)
    [own] = fast_service.create_jobs([notice], operator)
    assert own.review is None or not own.review.hidden
    for job, who in ((copied, stranger), (own, operator)):
        fast_service.delete_job(job.id, who)


def test_a_restart_keeps_held_postings_out_of_the_index(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    def start() -> MatcherService:
        service = MatcherService(fresh_settings, encoder=FakeEncoder(),  # type: ignore[arg-type]
                                 load_encoder=lambda spec: FakeEncoder())  # type: ignore[arg-type,return-value]  # fmt: skip
        service.start()
        return service

    service = start()
    owner = employer(service, "Công ty Sao Mai")
    clean, held = service.create_jobs([CLEAN, KOREA_SCAM], owner)
    service.stop()
    service.store.close()
    service = start()
    assert clean.id in service.catalog.jobs.ids and held.id not in service.catalog.jobs.ids
    assert service.get_job(held.id, owner).review is not None
    service.review_job(held.id, "clear", ADMIN)
    service.stop()
    service.store.close()
    service = start()
    assert held.id in service.catalog.jobs.ids  # cleared: indexed, and still after a restart
    service.stop()
    service.store.close()
