"""Bulk import of postings from files (issue 19): millions of rows, on one process or on Ray
Data, with the same checks as ``POST /v1/jobs/bulk`` and a job directory that resumes.

    report = import_postings(settings, [Path("postings.jsonl")], Path("job"), engine="ray")

1. **Plan** (this process). Each file (``.jsonl``/``.ndjson`` JSON lines, or ``.csv`` with a
   header, as the bulk endpoint reads them) is read once: its SHA-256, its UTF-8 checked line by
   line, and its rows cut into pieces of ``shard_rows`` rows, each a byte range of the file. A
   file that is not UTF-8, or a CSV without a ``title`` column, stops the job before anything is
   stored. A piece never holds rows of two files.
2. **Build** (one process, or an actor pool on Ray: the parallel part). Each piece is read from
   its byte range, each row validated like an upload's row, its ESCO occupation found (one
   batched pass over the titles) and its skills looked up verbatim, and the posting embedded as
   the index embeds it. A bad row is a row error with its file and line; the others go on.
   Each piece becomes a shard (``shard-00000.npz``) in the job directory, recorded in the
   manifest. On a cluster, the files must be readable at the same path by every node.
3. **Store** (this process, one shard at a time). Programme tags are checked against the
   employer (only a registered operator may tag), each posting is screened like an upload's,
   and the shard's postings are stored in one transaction and indexed (those held for review
   stored, not indexed). The index is saved every ``save_every`` shards, and only then are
   those shards marked stored.

Each posting's id is derived from its file's digest and its line, so a job run again after a
crash (or the same file imported again) stores no posting twice: it builds only the shards
the manifest lacks, skips postings already in the store, and indexes those the index lacks.

With the FAISS files, run it while no server writes the same state directory, like ``matcher
batch index`` (the server then compares the store with the index at start-up, and embeds
nothing); with ``MATCHER_INDEX__BACKEND=pgvector`` the servers see each shard as it is stored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.errors import ForbiddenError, InvalidEncodingError, InvalidInputError, NotFoundError
from matcher.ingest import RowError, csv_rows, json_rows, validated
from matcher.schemas import JobPosting
from matcher.search.catalog import Catalog, job_text
from matcher.search.index import write_atomically
from matcher.services import programmes, screening
from matcher.services.batch import BatchError, Engine, Manifest, on_ray, resumed, shard_name
from matcher.services.jobs import build_job
from matcher.settings import Settings
from matcher.store import Principal

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "FileRowError", "ImportReport", "Piece", "import_postings", "plan"]

#: what each file suffix holds
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
#: the namespace of imported postings' ids: uuid5 of "<file sha256>:<line>"
IMPORTED = uuid.UUID("6f0c1c52-9a43-4d5e-8d44-3f2b1e7a9c10")
#: ``(stage, done, total)``: stage ``"built"`` or ``"stored"``, counted in shards
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Piece:
    """One shard's rows: a byte range of one file."""

    number: int
    path: str
    format: str
    #: the file's SHA-256 (the posting ids derive from it)
    digest: str
    offset: int
    length: int
    #: the line number of the range's first line in its file
    first_line: int
    rows: int
    #: a CSV's column names (the header row is never inside a range)
    header: list[str] | None = None


@dataclass(frozen=True)
class FileRowError:
    path: str
    line: int
    message: str


@dataclass
class ImportReport:
    """What became of every row."""

    files: int
    rows: int
    shards: int
    imported: int = 0
    #: postings in the store before this run stored them (an earlier run of the job, or the
    #: same file imported before)
    already: int = 0
    #: stored and held for review (shown to no candidate until an admin clears them)
    held: int = 0
    errors: list[FileRowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_postings(
    settings: Settings,
    files: list[Path],
    out_dir: Path,
    *,
    employer_id: str | None = None,
    engine: Engine = "local",
    shard_rows: int = 1024,
    save_every: int = 16,
    wait_seconds: float = 120.0,
    replica_cpus: float = 1.0,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every row of ``files`` as postings of ``employer_id`` (default: the admin's, like
    the demo data); returns the report, once every shard is stored and indexed.

    Raises:
        InvalidInputError: a file that is missing, of another format, not UTF-8, or a CSV
            without a ``title`` column (nothing is stored).
        NotFoundError: no such employer.
        BatchError: ``out_dir`` holds another job, or Ray cannot place the builders.
    """
    from matcher.services.runtime import Runtime

    out_dir = Path(out_dir)
    runtime = Runtime(settings)
    spec = runtime.served_models()["encoder"]
    settings = served_as(settings, spec)
    rt = Runtime(settings)
    if employer_id is not None and not rt.store.employer_exists(employer_id):
        raise NotFoundError(f"employer {employer_id} does not exist: create it first "
                            "(matcher keys create --employer NAME --json gives its id), or "
                            "leave --employer out")  # fmt: skip
    principal = (Principal(role="employer", employer_id=employer_id) if employer_id
                 else Principal(role="admin"))  # fmt: skip
    pieces, digest, rows = plan(files, shard_rows)
    identity = hashlib.sha256(f"{digest}:{employer_id or ''}".encode()).hexdigest()
    manifest = resumed(out_dir, Manifest(kind="import", model=spec, shard_rows=shard_rows,
                                         ids_digest=identity, rows=rows,
                                         planned=len(pieces)))  # fmt: skip
    total = manifest.shard_count
    catalog = rt.parts.catalog
    pending: dict[str, dict[str, Any]] = {}

    def flush() -> None:
        if pending:
            catalog.save()
            manifest.stored.update(pending)
            manifest.save(out_dir)
            pending.clear()
            if progress:
                progress("stored", len(manifest.stored), total)

    def store(name: str) -> None:
        pending[name] = _store_shard(rt, catalog, principal, out_dir / name)
        if len(pending) >= save_every:
            flush()

    for name in sorted(set(manifest.shards) - set(manifest.stored)):  # built by a stopped run
        store(name)
    todo = [p for p in pieces if shard_name(p.number) not in manifest.shards]
    logger.info("import: %d rows in %d shards, %d to build (%s)", rows, total, len(todo), engine)
    if engine == "ray" and todo:
        items = [{"piece": json.dumps(asdict(p))} for p in todo]
        args = (settings.model_dump(mode="json"), spec, employer_id)
        built: Iterator[dict[str, Any]] = on_ray(items, _PostingBuilder, args,
                                                 wait_seconds=wait_seconds,
                                                 replica_cpus=replica_cpus)  # fmt: skip
    else:
        built = (build_piece(rt, piece, employer_id) for piece in todo)
    for shard in built:
        name = shard_name(int(shard["number"]))
        write_atomically(out_dir / name, _arrays(shard))
        manifest.shards[name] = int(shard["rows"])
        manifest.save(out_dir)
        if progress:
            progress("built", len(manifest.shards), total)
        store(name)
    flush()
    return _report(out_dir, manifest, pieces, files)


def served_as(settings: Settings, spec: str) -> Settings:
    """``settings`` serving encoder ``spec`` and nothing from the registry (a job's replicas
    use the model the job started with, even if a promotion happens meanwhile)."""
    return settings.model_copy(update={"model": spec, "serve_champions": False})


# ---------------------------------------------------------------------------- plan
def plan(files: list[Path], shard_rows: int) -> tuple[list[Piece], str, int]:
    """The pieces of ``files`` (``shard_rows`` rows each, never across files), the digest of
    the files' contents in order, and their rows in all.

    Raises:
        InvalidInputError: a file that is missing, of another format, not UTF-8, or a CSV
            without a ``title`` column; files with no rows at all.
    """
    if not files:
        raise InvalidInputError("give at least one file of postings (.jsonl, .ndjson or .csv)")
    pieces: list[Piece] = []
    digests = []
    for file in files:
        path = Path(file)
        kind = FORMATS.get(path.suffix.casefold())
        if kind is None:
            raise InvalidInputError(f"{path}: name files .jsonl or .ndjson (JSON lines) or "
                                    ".csv (with a header row)")  # fmt: skip
        if not path.is_file():
            raise InvalidInputError(f"{path} is not a file")
        sha = hashlib.sha256()
        ranges = _csv_ranges if kind == "csv" else _jsonl_ranges
        found = list(ranges(path, shard_rows, sha))
        digest = sha.hexdigest()
        for offset, length, first_line, rows, header in found:
            pieces.append(Piece(len(pieces), str(path.resolve()), kind, digest, offset, length,
                                first_line, rows, header))  # fmt: skip
        digests.append(digest)
    if not pieces:
        raise InvalidInputError("the files hold no rows of postings (nothing was imported)")
    digest = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    return pieces, digest, sum(p.rows for p in pieces)


Range = tuple[int, int, int, int, list[str] | None]  # offset, length, first line, rows, header


def _lines(path: Path, sha: Any) -> Iterator[tuple[int, int, str]]:
    """``(line number, byte offset after it, text)`` of each line, each checked as UTF-8."""
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            sha.update(raw)
            offset += len(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidEncodingError(
                    f"{path} is not valid UTF-8 at line {number}; save it as UTF-8 and try "
                    "again (nothing was imported)"
                ) from None
            yield number, offset, text.lstrip("\ufeff") if number == 1 else text


def _jsonl_ranges(path: Path, shard_rows: int, sha: Any) -> Iterator[Range]:
    start = first = rows = 0
    before = 0
    for number, after, text in _lines(path, sha):
        if text.strip():
            if rows == 0:
                start, first = before, number
            rows += 1
            if rows == shard_rows:
                yield start, after - start, first, rows, None
                rows = 0
        before = after
    if rows:
        yield start, before - start, first, rows, None


def _csv_ranges(path: Path, shard_rows: int, sha: Any) -> Iterator[Range]:
    where = [0, 0]  # the last line read and the byte offset after it

    def texts() -> Iterator[str]:
        for number, after, text in _lines(path, sha):
            where[:] = [number, after]
            yield text

    reader = csv.reader(texts())
    try:
        header = next(reader, None)
        if not header or "title" not in header:
            raise InvalidInputError(f"{path}: the CSV needs a header row with at least a "
                                    "'title' column (nothing was imported)")  # fmt: skip
        start, first, rows = where[1], where[0] + 1, 0
        for record in reader:
            if not record and rows == 0:  # a blank line between pieces
                start, first = where[1], where[0] + 1
                continue
            rows += record != []
            if rows == shard_rows:
                yield start, where[1] - start, first, rows, header
                start, first, rows = where[1], where[0] + 1, 0
    except csv.Error as error:
        raise InvalidInputError(f"{path} cannot be read as CSV at line {where[0]}: {error}; put "
                                "fields that hold line breaks in double quotes (nothing was "
                                "imported)") from None  # fmt: skip
    if rows:
        yield start, where[1] - start, first, rows, header


# ---------------------------------------------------------------------------- build
class _PostingBuilder:
    """A runtime in a Ray actor (or this process): a piece per call, built into a shard."""

    def __init__(self, settings: dict[str, Any], spec: str, employer_id: str | None) -> None:
        from matcher.services.runtime import Runtime

        self.rt = Runtime(served_as(Settings(**settings), spec))
        self.employer_id = employer_id

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        piece = Piece(**json.loads(str(batch["piece"][0])))
        return {
            key: [value] for key, value in build_piece(self.rt, piece, self.employer_id).items()
        }


def build_piece(rt: Any, piece: Piece, employer_id: str | None) -> dict[str, Any]:
    """One piece's rows validated, built into postings and embedded: ``number``, ``rows``,
    ``ids``, ``lines``, ``vectors`` (float32 bytes), ``postings`` and ``errors`` (JSON)."""
    with open(piece.path, "rb") as handle:
        handle.seek(piece.offset)
        text = handle.read(piece.length).decode("utf-8").lstrip("\ufeff")
    if piece.format == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""), fieldnames=piece.header)
        rows, errors = csv_rows(reader, piece.first_line)
    else:
        lines = text.split("\n")
        rows, errors = json_rows(enumerate((line.rstrip("\r") for line in lines),
                                           start=piece.first_line))  # fmt: skip
    good, errors = validated(rows, errors)
    titles = rt.parts.models.occupations.match_many(
        [item.title for _, item in good if not item.occupation], k=1)  # fmt: skip
    found = iter(titles)
    jobs, lines_of = [], []
    for line, item in good:
        occupation = None if item.occupation else next(found)[0].uri
        try:
            jobs.append(build_job(rt, item, job_id=posting_id(piece.digest, line),
                                  employer_id=employer_id, thorough=False,
                                  occupation=occupation))  # fmt: skip
            lines_of.append(line)
        except InvalidInputError as error:  # e.g. an occupation that is not ESCO's
            errors.append(RowError(line, str(error)))
    vectors = (rt.parts.encoder.encode([job_text(job) for job in jobs], kind="passage")
               if jobs else np.zeros((0, 0), dtype=np.float32))  # fmt: skip
    return {
        "number": piece.number,
        "rows": piece.rows,
        "ids": json.dumps([job.id for job in jobs]),
        "lines": json.dumps(lines_of),
        "vectors": np.ascontiguousarray(vectors, dtype=np.float32).tobytes(),
        "postings": json.dumps(
            [job.model_dump(mode="json", exclude={"review"}) for job in jobs], ensure_ascii=False
        ),
        "errors": json.dumps(sorted([e.line, e.message] for e in errors), ensure_ascii=False),
    }


def posting_id(digest: str, line: int) -> str:
    """An imported posting's id: the same for the same row of the same file."""
    return str(uuid.uuid5(IMPORTED, f"{digest}:{line}"))


def _arrays(shard: dict[str, Any]) -> dict[str, npt.NDArray[Any]]:
    """A built piece as a shard file: ``ids`` and ``vectors`` (what :func:`read_shards`
    reads), the rows' ``lines``, and the postings and errors as UTF-8 JSON."""
    ids = json.loads(shard["ids"])
    vectors = np.frombuffer(shard["vectors"], dtype=np.float32)
    return {
        "ids": np.array(ids, dtype=str),
        "vectors": vectors.reshape(len(ids), -1) if ids else np.zeros((0, 0), np.float32),
        "lines": np.array(json.loads(shard["lines"]), dtype=np.int64),
        "postings": np.frombuffer(shard["postings"].encode(), dtype=np.uint8),
        "errors": np.frombuffer(shard["errors"].encode(), dtype=np.uint8),
    }


# ---------------------------------------------------------------------------- store
def _store_shard(rt: Any, catalog: Catalog, principal: Principal, path: Path) -> dict[str, Any]:
    """Store and index one built shard; what became of its postings (programme tags refused
    become row errors)."""
    with np.load(path, allow_pickle=False) as data:
        ids = [str(i) for i in data["ids"]]
        vectors, lines = data["vectors"], [int(n) for n in data["lines"]]
        postings = json.loads(data["postings"].tobytes())
    line_of = dict(zip(ids, lines, strict=True))
    row_of = {record_id: i for i, record_id in enumerate(ids)}
    allowed, errors = [], []
    for record in postings:
        job = JobPosting.model_validate(record)
        try:
            programmes.check_programme_tag(rt, job.programme, principal)
            allowed.append(job)
        except (ForbiddenError, InvalidInputError) as error:
            errors.append([line_of[job.id], str(error)])
    jobs, reviews = screening.screened(rt, allowed, principal)
    hidden = screening.hidden_ids(reviews)
    with rt.writes:
        have = set(rt.store.get_jobs([job.id for job in jobs]))
        new = [job for job in jobs if job.id not in have]
        if new:
            rt.store.add_jobs(new, reviews={job.id: reviews[job.id] for job in new
                                            if job.id in reviews})  # fmt: skip
        shown = [job for job in jobs if job.id not in hidden and job.id not in catalog.jobs]
        if shown:
            catalog.index_jobs(shown, vectors[[row_of[job.id] for job in shown]])
    return {"imported": len(new), "already": len(jobs) - len(new),
            "held": len(hidden), "errors": errors}  # fmt: skip


def _report(out_dir: Path, manifest: Manifest, pieces: list[Piece],
            files: list[Path]) -> ImportReport:  # fmt: skip
    report = ImportReport(files=len(files), rows=manifest.rows, shards=manifest.shard_count)
    for piece in pieces:
        name = shard_name(piece.number)
        done = manifest.stored.get(name)
        if done is None:
            raise BatchError(f"shard {name} of {out_dir} was not stored: run the job again")
        report.imported += done["imported"]
        report.already += done["already"]
        report.held += done["held"]
        with np.load(out_dir / name, allow_pickle=False) as data:
            built = json.loads(data["errors"].tobytes())
        report.errors += [FileRowError(piece.path, line, message)
                          for line, message in [*built, *done["errors"]]]  # fmt: skip
    report.errors.sort(key=lambda e: (e.path, e.line))
    return report
