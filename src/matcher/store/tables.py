"""The store's tables (SQLAlchemy declarative rows); :class:`matcher.store.Store` reads and
writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(stamp: dt.datetime) -> dt.datetime:
    """SQLite keeps no time zone: the store writes UTC, so a naive stamp read back is UTC."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


class EmployerRow(Base):
    __tablename__ = "employers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # "employer", "centre" or "admin"
    employer_id: Mapped[str | None] = mapped_column(ForeignKey("employers.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class CentreProvinceRow(Base):
    """A province an employment service centre serves (its key's scope)."""

    __tablename__ = "centre_provinces"
    centre_id: Mapped[str] = mapped_column(ForeignKey("employers.id"), primary_key=True)
    province: Mapped[str] = mapped_column(String(80), primary_key=True)


class _Record:
    """The columns of a stored posting or profile: the record as JSON, its hash, its times."""

    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class JobRow(_Record, Base):
    __tablename__ = "jobs"
    #: start-up compares every record's content hash with the index's (``Catalog.reconcile``):
    #: this index holds both, so that query reads it alone, not a million records of ~4 KB
    __table_args__ = (Index("ix_jobs_id_hash", "id", "content_hash"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employer_id: Mapped[str | None] = mapped_column(ForeignKey("employers.id"), index=True)


class CandidateRow(_Record, Base):
    __tablename__ = "candidates"
    __table_args__ = (Index("ix_candidates_id_hash", "id", "content_hash"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    consent: Mapped[bool] = mapped_column(Boolean, index=True)


class StoreStampRow(Base):
    """One row: this store's id, and how many changes were made to what the vector indexes
    hold (postings, their reviews, profiles). Triggers count them in the writing
    transaction (:meth:`matcher.store.Store.stamp`), so an index saved with the stamp it
    holds need not be compared record by record at the next start-up."""

    __tablename__ = "store_stamp"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(String(32))
    changes: Mapped[int] = mapped_column(BigInteger)


#: The tables whose writes change what the vector indexes hold (counted in ``store_stamp``).
INDEXED_TABLES = ("jobs", "job_reviews", "candidates")


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    candidate_id: Mapped[str] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InvitationRow(Base):
    """An employer's invitation of a candidate to one posting; the candidate's answer."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_pair", "job_id", "candidate_id", unique=True),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    candidate_id: Mapped[str] = mapped_column(String(36), index=True)
    employer_id: Mapped[str] = mapped_column(String(36), index=True)
    message: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApplicationRow(Base):
    """A candidate's application to a posting, with what they chose to share."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_pair", "job_id", "candidate_id", unique=True),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    candidate_id: Mapped[str] = mapped_column(String(36), index=True)
    employer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    message: Mapped[str] = mapped_column(String(1000))
    share_name: Mapped[bool] = mapped_column(Boolean)
    share_contact: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ProgrammeOperatorRow(Base):
    """An employer an admin registered as an operator of a state programme: only operators
    may tag postings with that programme's id."""

    __tablename__ = "programme_operators"
    employer_id: Mapped[str] = mapped_column(ForeignKey("employers.id"), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Who did what, when: employers' candidate searches and admins' actions."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(80))  # "employer:<id>" or "admin:<key id>"
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(80))
    results: Mapped[int | None] = mapped_column(Integer)


class IdempotencyRow(Base):
    """The sealed first answer to a create sent with an ``Idempotency-Key`` (see
    :mod:`matcher.idempotency`), written in the same transaction as the records."""

    __tablename__ = "idempotency_keys"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(scope, key)
    request_hash: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RateCounterRow(Base):
    """Requests per credential (or client address) per fixed window, shared by every worker
    and replica on this store. Lost on a crash without harm: it is not record data."""

    __tablename__ = "rate_counters"
    bucket: Mapped[str] = mapped_column(String(80), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # unix time // seconds
    count: Mapped[int] = mapped_column(Integer)


class QuarantineRow(Base):
    """A stored record the model could not embed: kept, not indexed, listed to admins."""

    __tablename__ = "quarantine"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "job" or "candidate"
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64))  # an error code, never record content
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class JobReviewRow(Base):
    """Screening's signals on a posting and its review (:class:`matcher.screening.JobReview`);
    a posting with no signal and no report has no row."""

    __tablename__ = "job_reviews"
    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class IndexChangeRow(Base):
    """A change one server worker made to a job or candidate index, for the other workers
    to apply (``matcher serve --workers N``; :meth:`matcher.search.catalog.Catalog.follow`):
    ids with their vectors and metadata (added or replaced), or ids alone (removed). Written
    after the records themselves; pruned after an hour."""

    __tablename__ = "index_changes"
    # numbers never reused: followers go by them
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy's
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    index: Mapped[str] = mapped_column(String(200))  # the index file's name (model and kind)
    writer: Mapped[str] = mapped_column(String(64))  # the worker that made the change
    ids: Mapped[list[str]] = mapped_column(JSON)
    metadata_: Mapped[list[dict[str, Any]] | None] = mapped_column("metadata", JSON, nullable=True)
    vectors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # float32 rows
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
