"""Persistence of employers, keys, postings, candidates and feedback (SQLAlchemy).

One concept, so one class (about 500 lines): every read and write of the source of truth, with
its transactions; the tables are in :mod:`matcher.store.tables`.

The store is the source of truth: the vector indexes are derived from it and reconciled with it
at start-up. SQLite (the default) runs in WAL mode with ``synchronous=FULL``, so a write that
returned has reached the disk; PostgreSQL is selected with ``MATCHER_STORE_URL``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    Text,
    cast,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateIndex

from matcher import faults
from matcher.errors import ConflictError, NotFoundError
from matcher.idempotency import Answer, Idempotency
from matcher.schemas import Candidate, JobPosting
from matcher.screening.signals import JobReview
from matcher.store.connections import forget_candidate, forget_job, quiet_application
from matcher.store.reviews import Reviews, visible_hashes, write_review
from matcher.store.tables import (
    INDEXED_TABLES,
    ApiKeyRow,
    AuditRow,
    Base,
    CandidateRow,
    CentreProvinceRow,
    EmployerRow,
    FeedbackRow,
    IdempotencyRow,
    IndexChangeRow,
    JobRow,
    ProgrammeOperatorRow,
    QuarantineRow,
    RateCounterRow,
    StoreStampRow,
    aware,
    now,
)

RecordT = TypeVar("RecordT", JobPosting, Candidate)
#: Validation context of records read back from the store: checks that only new input must
#: pass (e.g. "has something readable") are skipped, so old records still load.
STORED = {"stored": True}
logger = logging.getLogger(__name__)
#: Parsed records kept per table (a posting is a few kB).
RECORD_CACHE_SIZE = 5_000


def hash_secret(secret: str) -> str:
    """Keys and tokens are random 256-bit strings, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(secret.encode()).hexdigest()


def content_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:16]


class DuplicateRequestError(ConflictError):
    """Another request with the same idempotency key committed first: recall its answer."""

    code = "idempotency_key_in_use"


Remember = tuple[Idempotency, Answer]


@dataclass(frozen=True)
class Principal:
    """Who a key belongs to."""

    role: str
    employer_id: str | None = None
    employer_name: str | None = None
    #: the key's id (never the key): who did it, in the audit log
    key_id: str | None = None
    #: an employment service centre's provinces (its scope)
    provinces: tuple[str, ...] = ()

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.employer_id or self.key_id or ''}"


class Store(Reviews):
    """All reads and writes of the service's records.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        with self.engine.begin() as connection:  # indexes added since a store was made
            for table in Base.metadata.sorted_tables:
                for index in table.indexes:
                    connection.execute(CreateIndex(index, if_not_exists=True))
            _count_changes(connection)
        #: rate counters need no fsync per request: a separate pool without synchronous=FULL
        self._counter_engine: Engine = self.engine
        if self.engine.dialect.name == "sqlite":
            self._counter_engine = create_engine(url, pool_pre_ping=True)
            event.listen(self._counter_engine, "connect", _sqlite_counter_pragmas)
        self._last_sweep = 0
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        self._upsert = upsert
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: table name -> id -> (content hash, parsed record); see :meth:`_records`
        self._parsed: dict[str, OrderedDict[str, tuple[str, Any]]] = {
            JobRow.__tablename__: OrderedDict(), CandidateRow.__tablename__: OrderedDict()
        }  # fmt: skip
        self._parsed_lock = threading.Lock()

    def session(self) -> Session:
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()
        self._counter_engine.dispose()

    # ------------------------------------------------------------------ rate limits
    def count_request(self, bucket: str, *, limit: int, seconds: int = 60) -> int | None:
        """Count one request for ``bucket`` in the current ``seconds``-long window. Returns
        None while within ``limit``, else the seconds until the window ends (Retry-After)."""
        stamp = int(now().timestamp())
        window = stamp // seconds
        insert = self._upsert(RateCounterRow).values(bucket=bucket, window=window, count=1)
        statement = insert.on_conflict_do_update(
            index_elements=["bucket", "window"], set_={"count": RateCounterRow.count + 1}
        ).returning(RateCounterRow.count)
        with self._counter_engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
            if window != self._last_sweep:  # drop finished windows once per window
                self._last_sweep = window
                connection.execute(delete(RateCounterRow).where(RateCounterRow.window < window))
        return None if count <= limit else (window + 1) * seconds - stamp

    # ------------------------------------------------------------------ keys
    def create_employer_key(self, name: str) -> tuple[str, str]:
        """Create an employer and its API key. Returns ``(employer_id, key)``; only the hash
        of the key is stored, so it cannot be shown again."""
        employer_id = str(uuid.uuid4())
        key = "mk_" + secrets.token_urlsafe(32)
        with self.session() as session, session.begin():
            session.add(EmployerRow(id=employer_id, name=name, created_at=now()))
            session.flush()  # the key row refers to the employer row
            session.add(_key_row("employer", employer_id, key))
        return employer_id, key

    def create_centre_key(self, name: str, provinces: list[str]) -> tuple[str, str]:
        """Create an employment service centre serving ``provinces`` and its API key.
        Returns ``(centre_id, key)``."""
        centre_id = str(uuid.uuid4())
        key = "mc_" + secrets.token_urlsafe(32)
        with self.session() as session, session.begin():
            session.add(EmployerRow(id=centre_id, name=name, created_at=now()))
            session.flush()
            session.add_all(CentreProvinceRow(centre_id=centre_id, province=p)
                            for p in dict.fromkeys(provinces))  # fmt: skip
            session.add(_key_row("centre", centre_id, key))
        return centre_id, key

    def create_admin_key(self) -> str:
        key = "ma_" + secrets.token_urlsafe(32)
        with self.session() as session, session.begin():
            session.add(_key_row("admin", None, key))
        return key

    def principal(self, key: str) -> Principal | None:
        with self.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_secret(key)))
            if row is None or row.revoked:
                return None
            name = None
            if row.employer_id:
                employer = session.get(EmployerRow, row.employer_id)
                name = employer.name if employer else None
            provinces: tuple[str, ...] = ()
            if row.role == "centre":
                provinces = tuple(session.scalars(
                    select(CentreProvinceRow.province)
                    .where(CentreProvinceRow.centre_id == row.employer_id)
                    .order_by(CentreProvinceRow.province)))  # fmt: skip
            return Principal(row.role, row.employer_id, name, key_id=row.id, provinces=provinces)

    def revoke_keys(self, *, key: str | None = None, employer_id: str | None = None) -> int:
        """Revoke one key (given as the key itself) or every key of an employer; returns how
        many were revoked. It takes effect on the next request in every worker (each request
        reads the key's row)."""
        with self.session() as session, session.begin():
            query = select(ApiKeyRow).where(ApiKeyRow.revoked.is_(False))
            if key is not None:
                query = query.where(ApiKeyRow.key_hash == hash_secret(key))
            elif employer_id is not None:
                query = query.where(ApiKeyRow.employer_id == employer_id)
            else:
                raise ValueError("give a key or an employer id")
            rows = session.scalars(query).all()
            for row in rows:
                row.revoked = True
            return len(rows)

    def employer_exists(self, employer_id: str) -> bool:
        with self.session() as session:
            return session.get(EmployerRow, employer_id) is not None

    # ------------------------------------------------------------------ programme operators
    def add_operator(self, employer_id: str, programme_id: str) -> None:
        with self.session() as session, session.begin():
            if session.get(EmployerRow, employer_id) is None:
                raise NotFoundError(f"employer {employer_id} does not exist")
            if session.get(ProgrammeOperatorRow, (employer_id, programme_id)) is None:
                session.add(ProgrammeOperatorRow(employer_id=employer_id,
                                                 programme_id=programme_id, created_at=now()))  # fmt: skip

    def operates(self, employer_id: str | None, programme_id: str) -> bool:
        if employer_id is None:
            return False
        with self.session() as session:
            return session.get(ProgrammeOperatorRow, (employer_id, programme_id)) is not None

    def operates_any(self, employer_id: str) -> bool:
        """Whether the employer is registered as the operator of any programme."""
        with self.session() as session:
            found = select(ProgrammeOperatorRow).where(
                ProgrammeOperatorRow.employer_id == employer_id
            )
            return session.scalars(found.limit(1)).first() is not None

    # ------------------------------------------------------------------ audit
    def audit(self, actor: str, action: str, target: str | None = None,
              results: int | None = None) -> None:  # fmt: skip
        with self.session() as session, session.begin():
            session.add(AuditRow(at=now(), actor=actor, action=action, target=target,
                                 results=results))  # fmt: skip

    def audit_log(self, *, limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """``(total, page)`` of audit entries, newest first."""
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(AuditRow)) or 0
            rows = session.scalars(
                select(AuditRow).order_by(AuditRow.id.desc()).limit(limit).offset(offset)
            )
            return total, [{"id": r.id, "at": aware(r.at), "actor": r.actor, "action": r.action,
                            "target": r.target, "results": r.results} for r in rows]  # fmt: skip

    # ------------------------------------------------------------------ jobs
    def add_jobs(self, jobs: list[JobPosting], *, remember: Remember | None = None,
                 reviews: dict[str, JobReview] | None = None) -> None:  # fmt: skip
        """Insert postings in one transaction: all are stored or none is (with their reviews,
        and the answer to remember for an idempotency key, if any)."""
        with self._remembering(remember) as session:
            for job in jobs:
                data = job.model_dump(mode="json", exclude={"review"})
                session.add(
                    JobRow(
                        id=job.id, employer_id=job.employer_id, data=data,
                        content_hash=content_hash(data), created_at=job.created_at,
                        updated_at=job.updated_at,
                    )
                )  # fmt: skip
            session.flush()
            for job_id, review in (reviews or {}).items():
                write_review(session, job_id, review, now())
            self._remember(session, remember, None)
            faults.point("store-commit")

    def replace_job(self, job: JobPosting, review: JobReview | None = None) -> None:
        """Replace a posting and its review (``None``: screening found nothing)."""
        with self.session() as session, session.begin():
            row = _row(session, JobRow, job.id)
            row.data = job.model_dump(mode="json", exclude={"review"})
            row.content_hash = content_hash(row.data)
            row.updated_at = job.updated_at
            write_review(session, job.id, review, job.updated_at)

    def get_job(self, job_id: str) -> JobPosting:
        with self.session() as session:
            return JobPosting.model_validate(_row(session, JobRow, job_id).data, context=STORED)

    def get_jobs(self, job_ids: list[str]) -> dict[str, JobPosting]:
        return self._records(JobRow, JobPosting, job_ids)

    def delete_job(self, job_id: str) -> None:
        with self.session() as session, session.begin():
            _row(session, JobRow, job_id)
            write_review(session, job_id, None, now())
            forget_job(session, job_id)
            session.execute(delete(JobRow).where(JobRow.id == job_id))
        with self._parsed_lock:
            self._parsed[JobRow.__tablename__].pop(job_id, None)

    def list_jobs(self, employer_id: str | None, *, limit: int = 50, offset: int = 0
                  ) -> tuple[int, list[JobPosting]]:  # fmt: skip
        """``(total, page)`` of postings, newest first: one employer's, or all of them when
        ``employer_id`` is None."""
        where = [] if employer_id is None else [JobRow.employer_id == employer_id]
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(JobRow).where(*where)) or 0
            rows = session.scalars(
                select(JobRow).where(*where).order_by(JobRow.created_at.desc(), JobRow.id)
                .limit(limit).offset(offset)
            )  # fmt: skip
            return total, [JobPosting.model_validate(row.data, context=STORED) for row in rows]

    def job_hashes(self) -> dict[str, str]:
        """``{id: content hash}`` of the postings candidates may see: the job index holds
        these, and no posting held for review."""
        with self.session() as session:
            return visible_hashes(session)

    def iter_jobs(self, ids: set[str] | None = None, batch: int = 500) -> Iterator[JobPosting]:
        """Every posting, or those in ``ids``, read ``batch`` rows at a time."""
        yield from self._parsed_rows(JobRow, JobPosting, ids, batch)

    # ------------------------------------------------------------------ candidates
    def add_candidate(self, candidate: Candidate, *, remember: Remember | None = None) -> str:
        """Store a candidate; returns the token that lets them read, change or delete it."""
        token = "ct_" + secrets.token_urlsafe(32)
        data = candidate.model_dump(mode="json")
        with self._remembering(remember) as session:
            session.add(
                CandidateRow(
                    id=candidate.id, token_hash=hash_secret(token),
                    consent=candidate.consent_to_be_found, data=data,
                    content_hash=content_hash(data), created_at=candidate.created_at,
                    updated_at=candidate.updated_at,
                )
            )  # fmt: skip
            session.flush()
            self._remember(session, remember, token)
        return token

    def candidate_token_matches(self, candidate_id: str, token: str) -> bool:
        with self.session() as session:
            row = _row(session, CandidateRow, candidate_id)
            return secrets.compare_digest(row.token_hash, hash_secret(token))

    def replace_candidate(self, candidate: Candidate) -> None:
        with self.session() as session, session.begin():
            row = _row(session, CandidateRow, candidate.id)
            row.data = candidate.model_dump(mode="json")
            row.consent = candidate.consent_to_be_found
            row.content_hash = content_hash(row.data)
            row.updated_at = candidate.updated_at

    def get_candidate(self, candidate_id: str) -> Candidate:
        with self.session() as session:
            return Candidate.model_validate(
                _row(session, CandidateRow, candidate_id).data, context=STORED
            )

    def get_candidates(self, ids: list[str]) -> dict[str, Candidate]:
        return self._records(CandidateRow, Candidate, ids)

    def _records(self, table: Any, model: type[RecordT], ids: list[str]) -> dict[str, RecordT]:
        """The records with these ids that exist. The request path reads ~100 at a time, so
        parsed records are kept in a bounded cache keyed by their content hash: a read costs
        one query for ids and hashes, and only changed or unseen records are fetched and parsed.
        The hash check makes the cache safe with several processes on one database. Callers
        must treat the returned records as read-only."""
        cache = self._parsed[table.__tablename__]
        with self.session() as session:
            current: dict[str, str] = {
                record_id: digest
                for record_id, digest in session.execute(
                    select(table.id, table.content_hash).where(table.id.in_(ids))
                )
            }
            with self._parsed_lock:
                missing = [i for i in current if cache.get(i, ("",))[0] != current[i]]
            fresh = {
                record_id: (digest, model.model_validate_json(text, context=STORED))
                for record_id, digest, text in session.execute(
                    select(table.id, table.content_hash, cast(table.data, Text)).where(
                        table.id.in_(missing)
                    )
                )
            } if missing else {}  # fmt: skip
        found: dict[str, RecordT] = {}
        with self._parsed_lock:
            cache.update(fresh)
            for record_id, digest in current.items():
                if record_id in cache and cache[record_id][0] == digest:
                    cache.move_to_end(record_id)
                    found[record_id] = cache[record_id][1]
            while len(cache) > RECORD_CACHE_SIZE:
                cache.popitem(last=False)
        return found

    def delete_candidate(self, candidate_id: str) -> None:
        """Erase the profile and its links (feedback, invitations, applications); the caller
        drops its vectors."""
        with self.session() as session, session.begin():
            _row(session, CandidateRow, candidate_id)
            session.execute(delete(FeedbackRow).where(FeedbackRow.candidate_id == candidate_id))
            forget_candidate(session, candidate_id)
            session.execute(delete(CandidateRow).where(CandidateRow.id == candidate_id))
        with self._parsed_lock:  # nor does the parsed-record cache keep it
            self._parsed[CandidateRow.__tablename__].pop(candidate_id, None)

    def candidate_hashes(self) -> dict[str, str]:
        return self._hashes(CandidateRow)

    def stamp(self) -> str:
        """This store's id and its count of changes to postings, reviews and profiles: equal
        stamps mean that nothing the vector indexes hold changed in between (counted by
        triggers in the writing transaction, whoever writes: a worker, a script, SQL)."""
        with self.session() as session:
            row = session.get(StoreStampRow, 1)
            assert row is not None, "Store() creates the stamp row"
            return f"{row.store_id}-{row.changes}"

    def _hashes(self, table: type[Any]) -> dict[str, str]:
        with self.session() as session:
            return dict(session.execute(select(table.id, table.content_hash)).all())

    def iter_candidates(self, ids: set[str] | None = None, batch: int = 500) -> Iterator[Candidate]:
        """Every profile, or those in ``ids``, read ``batch`` rows at a time."""
        yield from self._parsed_rows(CandidateRow, Candidate, ids, batch)

    def _parsed_rows(self, table: type[Any], model: type[RecordT], ids: set[str] | None,
                     batch: int) -> Iterator[RecordT]:  # fmt: skip
        """Rows as records; a row that no longer parses is quarantined (by id) and skipped, so
        one bad record never stops a start-up."""
        kind = _KIND[table.__tablename__]
        for row in self._iter_rows(table, ids, batch):
            try:
                yield model.model_validate(row.data, context=STORED)
            except ValidationError:
                logger.warning("quarantined %s %s: unreadable", kind, row.id)
                self.quarantine(kind, row.id, "unreadable")

    def _iter_rows(self, table: type[Any], ids: set[str] | None, batch: int) -> Iterator[Any]:
        with self.session() as session:
            if ids is None:
                query = select(table).order_by(table.id).execution_options(yield_per=batch)
                yield from session.scalars(query)
                return
            wanted = sorted(ids)
            for start in range(0, len(wanted), batch):
                chunk = wanted[start : start + batch]
                yield from session.scalars(
                    select(table).where(table.id.in_(chunk)).order_by(table.id)
                )

    # ------------------------------------------------------------------ feedback
    def add_feedback(self, job_id: str, candidate_id: str, event_name: str, actor: str,
                     *, remember: Remember | None = None) -> int:  # fmt: skip
        """Record a feedback event. A candidate's own ``applied`` is an application too (one
        that shares nothing, unless one exists), in the same transaction."""
        with self._remembering(remember) as session:
            job = _row(session, JobRow, job_id)
            _row(session, CandidateRow, candidate_id)
            row = FeedbackRow(
                job_id=job_id, candidate_id=candidate_id, event=event_name, actor=actor,
                created_at=now(),
            )  # fmt: skip
            session.add(row)
            if event_name == "applied" and actor == "candidate":
                quiet_application(session, job_id, candidate_id, job.employer_id)
            session.flush()
            self._remember(session, remember, row.id)
            return row.id

    # ------------------------------------------------------------------ idempotency
    def recall(self, idempotency: Idempotency) -> tuple[int, Any] | None:
        """The first answer to a request with this key, or None if there was none (or it was
        never committed). :class:`ConflictError` if the key was used for another request."""
        with self.session() as session:
            row = session.get(IdempotencyRow, idempotency.row_id)
            if row is None:
                return None
            return idempotency.open(row.sealed, row.request_hash)

    @contextlib.contextmanager
    def _remembering(self, remember: Remember | None) -> Iterator[Session]:
        """A write transaction; a clash on the idempotency key (a concurrent retry committed
        first) rolls it back whole and raises :class:`DuplicateRequestError`."""
        try:
            with self.session() as session, session.begin():
                yield session
        except IntegrityError as error:
            if remember is not None and "idempotency_keys" in str(error.orig).lower() + str(error):
                raise DuplicateRequestError(
                    "a request with this Idempotency-Key was just completed; retry to get its answer"
                ) from None
            raise

    @staticmethod
    def _remember(session: Session, remember: Remember | None, result: Any) -> None:
        if remember is None:
            return
        idempotency, answer = remember
        status, body = answer(result)
        session.add(IdempotencyRow(id=idempotency.row_id, request_hash=idempotency.request_hash,
                                   sealed=idempotency.seal(status, body), created_at=now()))  # fmt: skip
        session.flush()

    def feedback(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(select(FeedbackRow).order_by(FeedbackRow.id)).all()
            return [
                {"id": r.id, "job_id": r.job_id, "candidate_id": r.candidate_id, "event": r.event,
                 "actor": r.actor, "created_at": r.created_at}
                for r in rows
            ]  # fmt: skip

    # ------------------------------------------------------------------ quarantine
    def quarantine(self, kind: str, record_id: str, reason: str) -> None:
        with self.session() as session, session.begin():
            row = session.get(QuarantineRow, (kind, record_id))
            if row is None:
                session.add(QuarantineRow(kind=kind, record_id=record_id, reason=reason,
                                          created_at=now()))  # fmt: skip
            else:
                row.reason = reason

    def release_quarantine(self, kind: str, *, keep: set[str]) -> None:
        """Forget the quarantined records of ``kind`` except ``keep`` (now indexed or gone)."""
        with self.session() as session, session.begin():
            session.execute(
                delete(QuarantineRow).where(
                    QuarantineRow.kind == kind, QuarantineRow.record_id.not_in(keep)
                )
            )

    # ------------------------------------------------------------------ index change log
    def log_index_change(self, index: str, writer: str, ids: list[str],
                         vectors: bytes | None = None,
                         metadata: list[dict[str, Any]] | None = None) -> int:  # fmt: skip
        """Record a change to ``index`` made by ``writer`` (see :class:`IndexChangeRow`);
        returns its number. Changes older than an hour are pruned now and then."""
        with self.session() as session, session.begin():
            row = IndexChangeRow(index=index, writer=writer, ids=ids, vectors=vectors,
                                 metadata_=metadata, created_at=now())  # fmt: skip
            session.add(row)
            session.flush()
            if row.seq % 1000 == 0:
                old = now() - dt.timedelta(hours=1)
                session.execute(delete(IndexChangeRow).where(IndexChangeRow.created_at < old))
            return row.seq

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` across every process on this PostgreSQL store (a session
        advisory lock, released if the process dies): the replicas' index writes take it."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})

    def index_changes(self, after: int, limit: int = 500) -> list[IndexChangeRow]:
        """The changes numbered above ``after``, oldest first."""
        with self.session() as session:
            return list(session.scalars(
                select(IndexChangeRow).where(IndexChangeRow.seq > after)
                .order_by(IndexChangeRow.seq).limit(limit)
            ))  # fmt: skip

    def last_index_change(self) -> int:
        """The number of the latest change (0: none yet)."""
        with self.session() as session:
            return int(session.scalar(select(func.max(IndexChangeRow.seq))) or 0)

    def quarantined(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(
                select(QuarantineRow).order_by(QuarantineRow.created_at, QuarantineRow.record_id)
            )
            return [{"kind": r.kind, "id": r.record_id, "reason": r.reason,
                     "quarantined_at": aware(r.created_at)} for r in rows]  # fmt: skip


_KIND = {"jobs": "job", "candidates": "candidate"}


def _row(session: Session, table: type[Any], record_id: str) -> Any:
    """The row with this id, or :class:`NotFoundError` naming the kind of record."""
    row = session.get(table, record_id)
    if row is None:
        raise NotFoundError(f"{_KIND[table.__tablename__]} {record_id} does not exist")
    return row


def _key_row(role: str, employer_id: str | None, key: str) -> ApiKeyRow:
    return ApiKeyRow(
        id=str(uuid.uuid4()), role=role, employer_id=employer_id, key_hash=hash_secret(key),
        created_at=now(),
    )  # fmt: skip


def _count_changes(connection: Connection) -> None:
    """Create the stamp row and the triggers that count each write to the indexed tables (a
    store made before them gets them now)."""
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:  # several workers may open a new store at once
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7162534)")
    if connection.execute(select(StoreStampRow.id)).first() is None:
        connection.execute(StoreStampRow.__table__.insert().values(  # type: ignore[attr-defined]
            id=1, store_id=uuid.uuid4().hex, changes=0))  # fmt: skip
    count = f"UPDATE {StoreStampRow.__tablename__} SET changes = changes + 1"
    if not postgresql:
        for table in INDEXED_TABLES:
            for event_name in ("INSERT", "UPDATE", "DELETE"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS count_{table}_{event_name.lower()} "
                    f"AFTER {event_name} ON {table} BEGIN {count}; END"
                )
        return
    connection.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION matcher_count_change() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN {count}; RETURN NULL; END $$"
    )
    for table in INDEXED_TABLES:
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM pg_trigger WHERE tgname = %(name)s", {"name": f"count_{table}"}
        ).first()
        if exists is None:  # one per statement: a bulk insert counts once
            connection.exec_driver_sql(
                f"CREATE TRIGGER count_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE PROCEDURE matcher_count_change()"
            )


def _sqlite_counter_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # An erased profile leaves nothing readable in the file: deleted content is zeroed.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
