"""The job and candidate vector indexes, kept in step with the store.

A write is embedded first (:meth:`Catalog.job_vectors`), so a record the model cannot embed is
rejected before anything is stored; then it goes to the store, then to the index with those
vectors. The index files are a derived cache: they are saved after bulk changes and at shutdown,
and :meth:`Catalog.reconcile` brings them back in line with the store at start-up (embedding what
is missing or changed, dropping what was deleted), so a crash between the two writes loses
nothing and the index never returns a deleted record. A stored record that cannot be embedded
(written by an older version, or by hand) is quarantined, not fatal: it is logged by id only,
listed to admins, and start-up carries on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.errors import IndexStateError, InvalidInputError
from matcher.nlp.encoder import Encoder
from matcher.reference.languages import language_code, ordinal_level
from matcher.schemas import Candidate, JobPosting, years_abroad
from matcher.search.index import VectorIndex, write_atomically
from matcher.search.pgvector import PgVectorIndex, table_name
from matcher.settings import IndexConfig
from matcher.store import Store, content_hash
from matcher.text import without_personal_fields

logger = logging.getLogger(__name__)

#: Characters of free text that go into a record's embedding (the model reads max_seq_length
#: tokens, 256 by default: about 1,000 characters of Vietnamese or English).
EMBED_TEXT_CHARS = 1_200
EMBED_SKILLS = 12
#: what :func:`candidate_text` and :func:`candidate_metadata` are; a change re-embeds every
#: profile (a new index file). 3: overseas contracts (their tasks; languages, countries, years);
#: 4: what centres list by (consent, commune, programmes, readiness, returnee)
CANDIDATE_TEXT_VERSION = 4
#: Changes of the log read at a time by :meth:`Catalog.follow`.
FOLLOW_BATCH = 500
Progress = Callable[[str, int, int], None]


def job_text(job: JobPosting) -> str:
    skills = ", ".join(s.label_vi or s.label for s in job.skills[:EMBED_SKILLS])
    parts = [job.title, job.description[:EMBED_TEXT_CHARS], skills]
    return "\n".join(part for part in parts if part)


def candidate_text(candidate: Candidate) -> str:
    """What a profile is embedded as: position, sector, the text without the personal fields
    of a CV header (name, gender, birth, ethnicity, home town, contacts), the skills found."""
    skills = ", ".join(s.label_vi or s.label for s in candidate.skills_found[:EMBED_SKILLS])
    parts = [
        candidate.former_position or "",
        candidate.sector or "",
        without_personal_fields(candidate.text)[:EMBED_TEXT_CHARS],
        *(
            " ".join(part for part in (c.sector or "", c.tasks[:EMBED_TEXT_CHARS]) if part)
            for c in candidate.overseas_contracts[:3]
        ),
        skills,
    ]
    return "\n".join(part for part in parts if part)


def job_metadata(job: JobPosting) -> dict[str, Any]:
    return {
        "hash": content_hash(job.model_dump(mode="json", exclude={"review"})),
        "employer_id": job.employer_id,
        "province": job.province,
        "country": job.country,
        "remote": job.remote,
        "salary_max": job.salary_max,
        "salary_min": job.salary_min,
        "programme": job.programme,
        "occupation": job.occupation,
        "title": job.title,
    }


def candidate_metadata(candidate: Candidate) -> dict[str, Any]:
    """What candidate searches filter on: consent, place, and what an employer may narrow a
    list to (languages with their best level, ``level_ko``; countries worked in; years
    abroad)."""
    levels: dict[str, float] = {}
    for ability in [*candidate.languages, *candidate.languages_abroad]:
        code = language_code(ability.language)
        rank = ordinal_level(ability.level)
        levels.setdefault(code, 0.0)
        if rank is not None:
            levels[code] = max(levels[code], rank)
    contracts = candidate.overseas_contracts
    return {
        "hash": content_hash(candidate.model_dump(mode="json")),
        "consent": candidate.consent_to_be_found,
        "province": candidate.province,
        "abroad": candidate.willing_to_work_abroad,
        "languages": sorted(levels),
        **{f"level_{code}": rank for code, rank in levels.items() if rank},
        "worked_in": sorted({contract.country for contract in contracts}),
        "years_abroad": years_abroad(contracts),
        # what a centre lists by (only those who agreed that centres may list them)
        "centre_consent": candidate.consent_to_centres,
        "commune": candidate.commune,
        "programmes": candidate.interested_in,
        "readiness": candidate.readiness,
        "returnee": bool(contracts),
    }


@dataclass
class ReconcileReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    #: the index files were saved holding the store as it is now (same stamp): nothing was
    #: compared or embedded
    in_step: bool = False
    #: ids of stored records that could not be embedded, by kind ("job", "candidate")
    quarantined: dict[str, list[str]] = field(default_factory=dict)


class Catalog:
    """Vector indexes of postings and candidates, with their files on disk."""

    def __init__(
        self, store: Store, encoder: Encoder, index_dir: Path, config: IndexConfig | None = None
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.index_dir = Path(index_dir)
        self.config = config or IndexConfig()
        self.lock = threading.RLock()
        # Vectors depend on the model and on how much of each text it reads.
        key = f"{encoder.fingerprint}-{encoder.model.max_seq_length}"
        self.jobs_path = self.index_dir / f"jobs-{key}.npz"
        # v2: profiles are embedded without the personal fields of a CV header (a new file, so
        # an index of the old text is rebuilt from the store at start-up, not mixed with it)
        self.candidates_path = self.index_dir / f"candidates-v{CANDIDATE_TEXT_VERSION}-{key}.npz"
        #: the store's stamp the saved files hold (see :meth:`save`)
        self.stamp_path = self.index_dir / f"stamp-{key}.json"
        self.jobs = self._load(self.jobs_path)
        self.candidates = self._load(self.candidates_path)
        #: several workers on one store (:meth:`share`): this worker's name in the change log,
        #: whether it writes the index files, and the last change of the log it has applied
        self.writer: str | None = None
        self.saves = True
        self.followed = 0
        self._follow_lock = threading.Lock()

    def _load(self, path: Path) -> VectorIndex:
        if self.config.backend == "pgvector":  # a table in the store, shared by every replica
            return PgVectorIndex(self.store.engine, table_name(path), self.encoder.dimension,
                                 self.config)  # type: ignore[return-value]  # fmt: skip
        if path.exists():
            try:
                started = time.perf_counter()
                index = VectorIndex.load(path)
                logger.info("loaded %s: %d rows in %.1f s", path.name, len(index),
                            time.perf_counter() - started)  # fmt: skip
                return index
            except IndexStateError:  # a damaged derived file is rebuilt from the store
                logger.warning("index %s is unreadable; rebuilding it from the store", path)
        return VectorIndex(self.encoder.dimension, self.config)

    # ------------------------------------------------------------------ writes
    def job_vectors(self, jobs: list[JobPosting]) -> npt.NDArray[np.float32]:
        """``(len(jobs), dimension)`` passage vectors. Raises :class:`InvalidInputError` for a
        posting with nothing to embed: call it before storing anything."""
        return self.encoder.encode([job_text(job) for job in jobs], kind="passage")

    def candidate_vectors(self, candidates: list[Candidate]) -> npt.NDArray[np.float32]:
        return self.encoder.encode([candidate_text(c) for c in candidates], kind="passage")

    def index_jobs(
        self, jobs: list[JobPosting], vectors: npt.NDArray[np.float32] | None = None
    ) -> None:
        if not jobs:
            return
        vectors = self.job_vectors(jobs) if vectors is None else vectors
        ids, metadata = [job.id for job in jobs], [job_metadata(j) for j in jobs]
        with self.lock:
            self.jobs.upsert(ids, vectors, metadata)
        self._log(self.jobs_path, ids, vectors, metadata)

    def drop_job(self, job_id: str) -> None:
        with self.lock:
            self.jobs.remove([job_id])
        self._log(self.jobs_path, [job_id])

    def index_candidates(
        self, candidates: list[Candidate], vectors: npt.NDArray[np.float32] | None = None
    ) -> None:
        if not candidates:
            return
        vectors = self.candidate_vectors(candidates) if vectors is None else vectors
        ids, metadata = [c.id for c in candidates], [candidate_metadata(c) for c in candidates]
        with self.lock:
            self.candidates.upsert(ids, vectors, metadata)
        self._log(self.candidates_path, ids, vectors, metadata)

    def drop_candidate(self, candidate_id: str) -> None:
        with self.lock:
            self.candidates.remove([candidate_id])
        self._log(self.candidates_path, [candidate_id])

    def save(self, stamp: str | None = None) -> None:
        """Write the index files (in proportion to the changes); a worker that shares the
        store with others leaves that to the one that ``saves``.

        ``stamp``: :meth:`Store.stamp` read when every write it counts was in these indexes
        (under the write lock: :meth:`matcher.services.runtime.Runtime.save_indexes`). It is
        saved with the files' generations, and a start-up that finds the same stamp in the
        store and the same files skips comparing every record (:meth:`reconcile`)."""
        if not self.saves:
            return
        with self.lock:
            self.jobs.save(self.jobs_path)
            self.candidates.save(self.candidates_path)
            if stamp is not None:
                held = {"store": stamp, "jobs": self.jobs.saved_as,
                        "candidates": self.candidates.saved_as}  # fmt: skip
                write_atomically(self.stamp_path, json.dumps(held).encode())

    @staticmethod
    def saved_stamps(index_dir: Path) -> set[str]:
        """The store stamps the index files in ``index_dir`` were saved with (any model)."""
        stamps = set()
        for path in Path(index_dir).glob("stamp-*.json"):
            try:
                stamps.add(json.loads(path.read_bytes())["store"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return stamps

    def in_step(self) -> bool:
        """Whether the indexes hold exactly what the store holds, by the saved stamp: the
        store counted no change since, and both indexes are the files saved with it."""
        try:
            held = json.loads(self.stamp_path.read_bytes())
        except (OSError, ValueError):
            return False
        now = {"store": self.store.stamp(), "jobs": self.jobs.saved_as,
               "candidates": self.candidates.saved_as}  # fmt: skip
        return None not in now.values() and held == now

    # ------------------------------------------------------------------ several workers
    def share(self, writer: str, *, saves: bool) -> None:
        """Serve beside other worker processes on the same store (``matcher serve --workers
        N``): from now on each change to these indexes also goes into the store's change log,
        named ``writer``, for the others to :meth:`follow`; ``saves``: this worker writes
        the index files (one of them does). Call it after :meth:`reconcile`."""
        self.writer, self.saves = writer, saves

    def follow(self) -> int:
        """Apply the changes the other workers logged since the last call, in the log's
        order; returns how many were applied. Writes hold a lock across workers and call this
        first (see :class:`matcher.services.runtime.WriteLock`), so each worker's own
        changes come after every change it has applied."""
        indexes = {self.jobs_path.name: self.jobs, self.candidates_path.name: self.candidates}
        applied = 0
        with self._follow_lock:
            while True:
                changes = self.store.index_changes(self.followed, limit=FOLLOW_BATCH)
                for change in changes:
                    self.followed = change.seq
                    index = indexes.get(change.index)
                    if index is None or change.writer == self.writer:
                        continue  # another model's index, or this worker's own change
                    with self.lock:
                        if change.vectors is None:
                            index.remove(change.ids)
                        else:
                            vectors = np.frombuffer(change.vectors, dtype=np.float32)
                            _upsert_changed(index, change.ids,
                                            vectors.reshape(len(change.ids), -1),
                                            change.metadata_ or [{}] * len(change.ids))  # fmt: skip
                    applied += 1
                if len(changes) < FOLLOW_BATCH:
                    return applied

    def _log(self, path: Path, ids: list[str], vectors: npt.NDArray[np.float32] | None = None,
             metadata: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        if self.writer is None or isinstance(self.jobs, PgVectorIndex):
            return  # one worker; or every worker reads the same tables
        blob = None if vectors is None else np.ascontiguousarray(vectors, np.float32).tobytes()
        self.store.log_index_change(path.name, self.writer, ids, blob, metadata)

    # ------------------------------------------------------------------ start-up
    def reconcile(self, progress: Progress | None = None, batch: int = 256) -> ReconcileReport:
        """Make the indexes hold exactly what the store holds; returns what changed."""
        if self.in_step():
            logger.info("indexes saved at store stamp %s, unchanged since: no comparison",
                        self.store.stamp())  # fmt: skip
            return ReconcileReport(in_step=True)
        report = ReconcileReport()
        for name, index, hashes, load, add in (
            ("jobs", self.jobs, self.store.job_hashes(), self.store.iter_jobs, self.index_jobs),
            ("candidates", self.candidates, self.store.candidate_hashes(),
             self.store.iter_candidates, self.index_candidates),
        ):  # fmt: skip
            stale = [i for i in index.ids if i not in hashes]
            with self.lock:
                report.removed += index.remove(stale)
            held = index.values("hash")  # one pass over the column, not a dict per row
            todo = {record_id for record_id, digest in hashes.items()
                    if record_id not in held or held[record_id] != digest}  # fmt: skip
            report.updated += sum(record_id in index for record_id in todo)
            report.added += sum(record_id not in index for record_id in todo)
            done = 0
            kind = name.removesuffix("s")
            for chunk in _chunks(load(todo) if todo else iter(()), batch):
                try:
                    add(chunk)  # type: ignore[operator]
                except InvalidInputError:  # one bad record: index the others, set it aside
                    for record in chunk:
                        try:
                            add([record])  # type: ignore[operator]
                        except InvalidInputError as error:
                            # by id and error code only: the record may hold personal data
                            logger.warning("quarantined %s %s: %s", kind, record.id, error.code)
                            report.quarantined.setdefault(kind, []).append(record.id)
                            self.store.quarantine(kind, record.id, error.code)
                done += len(chunk)
                if progress:
                    progress(name, done, len(todo))
            bad = set(report.quarantined.get(kind, []))
            self.store.release_quarantine(kind, keep=bad)
        if report.added or report.updated or report.removed:
            self.save()
        return report


def _upsert_changed(index: VectorIndex, ids: list[str], vectors: npt.NDArray[np.float32],
                    metadata: list[dict[str, Any]]) -> None:  # fmt: skip
    """Upsert the rows whose content hash the index does not already hold (a worker that
    starts applies the log its files may already contain)."""
    keep = [i for i, (item_id, meta) in enumerate(zip(ids, metadata))
            if item_id not in index or meta.get("hash") is None
            or index.metadata(item_id).get("hash") != meta["hash"]]  # fmt: skip
    if keep:
        index.upsert([ids[i] for i in keep], vectors[keep], [metadata[i] for i in keep])


def _chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
