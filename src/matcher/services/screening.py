"""Screening at ingest and the review queue (issue 16).

Every posting written through the API (one, a bulk import, an edit) is screened. A posting
that shows a strong signal, or two weak ones, is stored and *held*: it stays out of the job
index, so no candidate sees it (recommendations, skill-gap pools, transitions, the public
posting), until an admin clears it. Its employer sees that it is under review, and why. Job
seekers can report a posting: a report is a signal, and puts the posting in the admins' queue.
"""

from __future__ import annotations

from typing import Literal

from matcher.errors import ConflictError, InvalidInputError, NotFoundError
from matcher.schemas import JobPosting
from matcher.screening import JobReview, Posting, Screening, Signal
from matcher.screening.evaluation import ScamReport, evaluate_screening
from matcher.screening.signals import held
from matcher.services.runtime import Runtime
from matcher.store import Principal, now
from matcher.text import visible

#: reports that hold a posting with no other signal (one report alone only queues it: a
#: single report must not be enough to take down a competitor's posting)
REPORTS_TO_HOLD = 3


def is_operator(rt: Runtime, principal: Principal) -> bool:
    """The admin, or an employer an admin registered as a programme operator."""
    if principal.role == "admin":
        return True
    return principal.employer_id is not None and rt.store.operates_any(principal.employer_id)


def screen(rt: Runtime, job: JobPosting, *, operator: bool) -> Screening:
    posting = Posting(
        title=job.title, description=job.description, employer=job.employer,
        country=job.country, programme=job.programme, salary_min=job.salary_min,
        salary_max=job.salary_max, currency=job.currency,
    )  # fmt: skip
    return rt.reference.screener.screen(posting, operator=operator)


def review_of(screening: Screening) -> JobReview | None:
    """The review a new or edited posting starts with: held if it shows signals enough,
    none when it shows nothing (a weak signal alone is kept, for the employer to see)."""
    if not screening.signals:
        return None
    return JobReview(status="held" if screening.held else "shown", signals=screening.signals)


def screened(rt: Runtime, jobs: list[JobPosting], principal: Principal
             ) -> tuple[list[JobPosting], dict[str, JobReview]]:  # fmt: skip
    """The postings with their commercial marking and reviews, and the reviews to store."""
    operator = is_operator(rt, principal)
    out, reviews = [], {}
    for job in jobs:
        result = screen(rt, job, operator=operator)
        review = review_of(result)
        if review is not None:
            reviews[job.id] = review
        out.append(job.model_copy(update={"commercial": result.commercial, "review": review}))
    return out, reviews


def hidden_ids(reviews: dict[str, JobReview]) -> set[str]:
    return {job_id for job_id, review in reviews.items() if review.hidden}


def visible_job(rt: Runtime, job_id: str, principal: Principal | None) -> JobPosting:
    """A posting as ``principal`` may see it: with its review for its employer and admins;
    for anyone else a posting under review does not exist (404, as if it never did)."""
    job = rt.store.get_job(job_id)
    owner = principal is not None and (
        principal.role == "admin" or principal.employer_id == job.employer_id
    )
    review = rt.store.review(job_id)
    if owner:
        return job.model_copy(update={"review": review})
    if review is not None and review.hidden:
        raise NotFoundError(f"job {job_id} does not exist")
    return job


def require_visible(rt: Runtime, job: JobPosting) -> None:
    """:class:`ConflictError` for a posting held for review or rejected: its employer may
    not search candidates with it (scam postings are how CVs get harvested)."""
    review = rt.store.review(job.id)
    if review is not None and review.hidden:
        raise ConflictError(
            f"job {job.id} is {'under review' if review.status == 'held' else 'rejected'}: "
            "it is shown to no candidate, and cannot be used to search candidates until an "
            "admin clears it (see its review for why)"
        )


def report(rt: Runtime, job_id: str, reason: str) -> JobReview:
    """A job seeker's report: a signal, and the posting goes into the admins' queue. It is
    held when it also shows another weak signal, or after :data:`REPORTS_TO_HOLD` reports,
    unless an admin already cleared it."""
    reason = visible(reason)  # control and zero-width characters dropped (PostgreSQL refuses NUL)
    if not reason:
        raise InvalidInputError("the reason is empty: say briefly what looks wrong")
    kind = rt.reference.screener.book.signals["seeker_report"]
    with rt.writes:  # read, count and write as one step: concurrent reports all count
        rt.store.get_job(job_id)  # 404 for no such posting
        current = rt.store.review(job_id)
        if current is not None and current.hidden:  # nor for one candidates cannot see
            raise NotFoundError(f"job {job_id} does not exist")
        reports = (current.reports if current else 0) + 1
        signals = [s for s in (current.signals if current else []) if s.code != "seeker_report"]
        signals.append(Signal(code="seeker_report", strength=kind.strength, field="reports",
                              evidence=f"{reports} × {reason[:160]}", message_vi=kind.vi,
                              message_en=kind.en))  # fmt: skip
        cleared = current is not None and current.reviewed_by is not None
        hold = not cleared and (held(signals) or reports >= REPORTS_TO_HOLD)
        kept = current.model_dump(include={"reviewed_by", "reviewed_at", "note"}) if current else {}
        review = JobReview(status="held" if hold else "queued", signals=signals, reports=reports,
                           **kept)  # fmt: skip
        rt.store.set_review(job_id, review, now())
        if hold:
            rt.parts.catalog.drop_job(job_id)
    rt.store.audit("seeker", "report_job", job_id, reports)
    return review


def review_queue(rt: Runtime, *, limit: int = 50, offset: int = 0
                 ) -> tuple[int, list[JobPosting]]:  # fmt: skip
    """Postings held or reported, oldest first, each with its review."""
    total, page = rt.store.review_queue(limit=limit, offset=offset)
    jobs = rt.store.get_jobs([job_id for job_id, _ in page])
    return total, [jobs[job_id].model_copy(update={"review": review})
                   for job_id, review in page if job_id in jobs]  # fmt: skip


def decide(rt: Runtime, job_id: str, decision: Literal["clear", "reject"], principal: Principal,
           note: str | None = None) -> JobPosting:  # fmt: skip
    """An admin's review: ``clear`` shows the posting to candidates (its signals are kept, for
    the record), ``reject`` hides it for good. Audit-logged either way."""
    job = rt.store.get_job(job_id)
    current = rt.store.review(job_id)
    stamp = now()
    review = JobReview(
        status="cleared" if decision == "clear" else "rejected",
        signals=current.signals if current else [], reports=current.reports if current else 0,
        reviewed_by=principal.actor, reviewed_at=stamp, note=note,
    )  # fmt: skip
    if decision == "clear":
        vectors = rt.parts.catalog.job_vectors([job])  # embedded before anything changes
    with rt.writes:
        rt.store.set_review(job_id, review, stamp)
        if decision == "clear":
            rt.parts.catalog.index_jobs([job], vectors)
        else:
            rt.parts.catalog.drop_job(job_id)
    rt.store.audit(principal.actor, f"review_{decision}", job_id)
    return job.model_copy(update={"review": review})


def evaluate(rt: Runtime, split: str = "dev") -> ScamReport:
    """The rules on the labelled set ``data/scam-eval`` (its own registry and operators):
    precision and recall of holding against the label ``suspicious``."""
    if split not in ("dev", "heldout", "all"):
        raise InvalidInputError("the split is 'dev', 'heldout' or 'all'")
    screener = rt.reference.screener
    return evaluate_screening(rt.settings.project_data_dir / "scam-eval", screener.book,
                              screener.pay, split=split)  # fmt: skip
