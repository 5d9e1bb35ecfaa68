"""The store against both backends: SQLite (default) and a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid

import pytest

from matcher.errors import NotFoundError
from matcher.schemas import Candidate, JobPosting, SkillRef
from matcher.screening.signals import JobReview
from matcher.store import Store, now
from matcher.store.reviews import visible_hashes_query
from tests import postgres


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path_factory.mktemp('db') / 'matcher.db'}")
        return
    if not postgres.available():
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: .ci/run installs the postgresql package")
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    with postgres.postgres_server() as url:
        instance = Store(url)
        yield instance
        instance.close()


def a_job(employer_id: str | None, title: str = "Kế toán") -> JobPosting:
    stamp = now()
    skill = SkillRef(
        uri="http://data.europa.eu/esco/skill/x", label="accounting", label_vi="kế toán"
    )
    return JobPosting(
        id=str(uuid.uuid4()), title=title, employer_id=employer_id, province="Hà Nội",
        skills=[skill], created_at=stamp, updated_at=stamp,
    )  # fmt: skip


def a_candidate(consent: bool = True) -> Candidate:
    stamp = now()
    return Candidate(
        id=str(uuid.uuid4()), text="điều dưỡng 5 năm", consent_to_be_found=consent,
        contact="x@example.invalid", created_at=stamp, updated_at=stamp,
    )  # fmt: skip


def test_keys_are_stored_hashed_and_resolve_to_their_owner(store):
    employer_id, key = store.create_employer_key("Công ty Ánh Dương")
    principal = store.principal(key)
    assert principal.role == "employer" and principal.employer_id == employer_id
    assert principal.employer_name == "Công ty Ánh Dương"
    assert store.principal("mk_not-a-key") is None
    assert store.principal(store.create_admin_key()).role == "admin"
    with store.session() as session:
        from sqlalchemy import text

        stored = [row[0] for row in session.execute(text("select key_hash from api_keys"))]
    assert key not in stored


def test_jobs_round_trip_with_unicode_and_hashes_change_on_update(store):
    employer_id, _ = store.create_employer_key("Jobs Co")
    job = a_job(employer_id, "Giáo viên tiếng Hàn")
    store.add_jobs([job])
    assert store.get_job(job.id) == job
    before = store.job_hashes()[job.id]
    store.replace_job(job.model_copy(update={"title": "Giáo viên tiếng Nhật"}))
    assert store.get_job(job.id).title == "Giáo viên tiếng Nhật"
    assert store.job_hashes()[job.id] != before
    assert set(store.get_jobs([job.id, "missing"])) == {job.id}
    store.delete_job(job.id)
    with pytest.raises(NotFoundError):
        store.get_job(job.id)


def test_batch_reads_see_changes_made_through_another_store(store):
    """Batch reads keep parsed records; a change by another process must still show."""
    other = Store(store.url)
    job = a_job(None, "Thợ hàn")
    store.add_jobs([job])
    assert store.get_jobs([job.id])[job.id].title == "Thợ hàn"
    other.replace_job(job.model_copy(update={"title": "Thợ hàn TIG"}))
    assert store.get_jobs([job.id])[job.id].title == "Thợ hàn TIG"
    other.delete_job(job.id)
    assert store.get_jobs([job.id]) == {}
    candidate = a_candidate()
    store.add_candidate(candidate)
    other.replace_candidate(candidate.model_copy(update={"text": "hộ sinh 3 năm"}))
    assert store.get_candidates([candidate.id])[candidate.id].text == "hộ sinh 3 năm"
    other.close()


def test_bulk_insert_is_all_or_nothing(store):
    job = a_job(None)
    with pytest.raises(Exception):  # noqa: B017 - the duplicate key error differs by backend
        store.add_jobs([job, job])
    with pytest.raises(NotFoundError):
        store.get_job(job.id)


def test_candidate_token_and_deletion_erase_feedback(store):
    candidate = a_candidate()
    token = store.add_candidate(candidate)
    assert store.candidate_token_matches(candidate.id, token)
    assert not store.candidate_token_matches(candidate.id, "ct_wrong")
    job = a_job(None)
    store.add_jobs([job])
    store.add_feedback(job.id, candidate.id, "applied", "candidate")
    store.delete_candidate(candidate.id)
    assert all(row["candidate_id"] != candidate.id for row in store.feedback())
    with pytest.raises(NotFoundError):
        store.get_candidate(candidate.id)


def test_the_stamp_changes_with_every_write_to_what_the_indexes_hold(store):
    """Start-up skips comparing a million records when the store's stamp is the one the
    index files were saved with: every write that changes what they hold must change it,
    committed by anyone (here a second store, as another process would), and a write
    rolled back must not."""
    other = Store(store.url)
    stamps = [store.stamp()]

    def changed() -> bool:
        stamps.append(store.stamp())
        return stamps[-1] != stamps[-2]

    job, candidate = a_job(None, "Thợ điện"), a_candidate()
    other.add_jobs([job])
    assert changed()
    other.replace_job(job.model_copy(update={"title": "Thợ điện công nghiệp"}))
    assert changed()
    other.set_review(job.id, JobReview(status="held"), now())  # hidden from candidates
    assert changed()
    other.add_candidate(candidate)
    assert changed()
    other.add_feedback(job.id, candidate.id, "viewed", "candidate")
    other.audit("admin:x", "test")
    assert not changed()  # neither is in an index
    with pytest.raises(Exception):  # noqa: B017 - the duplicate key error differs by backend
        other.add_jobs([a_job(None), job])
    assert not changed()
    other.delete_candidate(candidate.id)
    assert changed()
    other.delete_job(job.id)
    assert changed()
    assert len({stamp.split("-")[0] for stamp in stamps}) == 1  # one store, one id
    reopened = Store(store.url)
    assert reopened.stamp() == stamps[-1]  # reopening adds no second row or trigger
    reopened.close()
    other.close()


def test_feedback_needs_existing_records(store):
    with pytest.raises(NotFoundError, match="job"):
        store.add_feedback("nope", "nope", "viewed", "x")


def test_start_up_reads_the_content_hashes_from_an_index_not_the_records(tmp_path):
    """Start-up compares every posting's content hash with the index file's: at a million
    postings a table scan read ~4 GB of records. A store made before the covering index gets
    it when opened, and SQLite answers the query from it alone."""
    from sqlalchemy import text

    path = tmp_path / "matcher.db"
    older = Store(f"sqlite:///{path}")
    older.add_jobs([a_job(None, f"Kế toán {i}") for i in range(3)])
    with older.engine.begin() as connection:
        connection.execute(text("drop index ix_jobs_id_hash"))
        connection.execute(text("drop index ix_candidates_id_hash"))
    older.close()
    store = Store(f"sqlite:///{path}")
    assert len(store.job_hashes()) == 3
    query = visible_hashes_query().compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.execute(text(f"explain query plan {query}")))
    assert "COVERING INDEX ix_jobs_id_hash" in plan, plan
    store.close()
