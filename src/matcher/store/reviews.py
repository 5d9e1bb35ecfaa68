"""The store's side of screening and review: one row per posting that screening flagged or
job seekers reported (:class:`matcher.screening.JobReview`), written in the same transaction
as the posting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from matcher.errors import NotFoundError
from matcher.screening.signals import HIDDEN, JobReview
from matcher.store.tables import JobReviewRow, JobRow

if TYPE_CHECKING:
    import datetime as dt


def write_review(session: Session, job_id: str, review: JobReview | None, at: dt.datetime) -> None:
    """Set (or with ``None`` remove) a posting's review row, inside the caller's transaction."""
    session.execute(delete(JobReviewRow).where(JobReviewRow.job_id == job_id))
    if review is not None:
        session.add(JobReviewRow(job_id=job_id, status=review.status,
                                 data=review.model_dump(mode="json"), updated_at=at))  # fmt: skip


def visible_hashes_query() -> Select[str, str]:
    """The ids and content hashes of the postings candidates may see (what the job index
    holds): answered from the ``ix_jobs_id_hash`` index, not the records."""
    hidden = select(JobReviewRow.job_id).where(JobReviewRow.status.in_(HIDDEN))
    return select(JobRow.id, JobRow.content_hash).where(JobRow.id.not_in(hidden))


def visible_hashes(session: Session) -> dict[str, str]:
    """``{id: content hash}`` of the postings candidates may see (what the job index holds)."""
    return dict(session.execute(visible_hashes_query()).all())


class Reviews:
    """Methods of :class:`matcher.store.Store` for reviews."""

    if TYPE_CHECKING:

        def session(self) -> Session: ...  # provided by Store

    def reviews(self, job_ids: list[str]) -> dict[str, JobReview]:
        with self.session() as session:
            rows = session.scalars(select(JobReviewRow).where(JobReviewRow.job_id.in_(job_ids)))
            return {row.job_id: JobReview.model_validate(row.data) for row in rows}

    def review(self, job_id: str) -> JobReview | None:
        """A posting's review; ``None`` when screening found nothing and nobody reported it."""
        return self.reviews([job_id]).get(job_id)

    def set_review(self, job_id: str, review: JobReview | None, at: dt.datetime) -> None:
        with self.session() as session, session.begin():
            if session.get(JobRow, job_id) is None:
                raise NotFoundError(f"job {job_id} does not exist")
            write_review(session, job_id, review, at)

    def review_queue(self, *, limit: int = 50, offset: int = 0
                     ) -> tuple[int, list[tuple[str, JobReview]]]:  # fmt: skip
        """``(total, page)`` of postings waiting for an admin (held or reported), oldest
        first."""
        where = JobReviewRow.status.in_(("held", "queued"))
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(JobReviewRow).where(where))
            rows = session.scalars(
                select(JobReviewRow).where(where)
                .order_by(JobReviewRow.updated_at, JobReviewRow.job_id).limit(limit).offset(offset)
            )  # fmt: skip
            return total or 0, [(r.job_id, JobReview.model_validate(r.data)) for r in rows]

    def review_counts(self) -> dict[str, Any]:
        with self.session() as session:
            rows = session.execute(
                select(JobReviewRow.status, func.count()).group_by(JobReviewRow.status)
            )
            return {status: count for status, count in rows}
