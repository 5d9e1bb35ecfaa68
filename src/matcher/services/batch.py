"""Batch work over the whole store (issue 19): every posting or profile embedded into shards
with a manifest, on one process or on Ray Data with an actor pool of encoder replicas, and an
index built from those shards.

    manifest = embed_store(settings, "jobs", out_dir, engine="ray")
    build_index(settings, "jobs", out_dir)

Used after a model promotion (re-embedding everything with the new champion, while the
server keeps serving the old one), for an index built away from the servers, and for bulk
loads. The records are read from the store in id order and cut into shards of
``shard_rows``; each shard (``shard-00000.npz``: ids and float32 vectors) is written to a
temporary file and renamed, then recorded in ``manifest.json`` (also renamed into place). A
job that stops (killed, a machine lost) is run again with the same arguments and embeds only
the shards the manifest lacks; a manifest of another model, kind, shard size or set of
records is refused rather than mixed.

Ray: ``ray.init()`` sized to this machine with no dashboard, or the cluster that
``RAY_ADDRESS`` names. The encoder replicas are an actor pool (``map_batches`` with a callable
class, one CPU each) of at most the CPUs Ray sees less one: an actor pool that takes every CPU
starved the tasks that feed it, and the job waited forever (ray-project/ray#44687). A pool
that cannot be placed within ``wait_seconds`` fails with :class:`BatchError`. The vectors are
those of the single-process path to float tolerance (``tests/test_batch.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from matcher.errors import MatcherError
from matcher.search.catalog import candidate_text, job_text
from matcher.search.index import write_atomically
from matcher.settings import Settings

logger = logging.getLogger(__name__)

Kind = Literal["jobs", "candidates"]
Engine = Literal["local", "ray"]
#: ``(shards done, shards in all)`` after each shard
Progress = Callable[[int, int], None]
MANIFEST = "manifest.json"
#: Ray's object store on this machine (its default takes 30% of the memory)
OBJECT_STORE_BYTES = 512 * 2**20


class BatchError(MatcherError, RuntimeError):
    """A batch job that cannot run (its manifest is another job's, Ray cannot place it)."""


@dataclass
class Manifest:
    """What a job's directory holds: its inputs, and the shards done so far."""

    kind: str
    model: str
    shard_rows: int
    #: a digest of the ids embedded, in order (another set of records: another job)
    ids_digest: str
    rows: int
    shards: dict[str, int] = field(default_factory=dict)  # file name -> rows
    #: shards planned, where they are not ``rows`` cut every ``shard_rows`` (one file's rows
    #: never share a shard with another's)
    planned: int | None = None
    #: an import's shards stored and indexed: file name -> what became of their rows
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def shard_count(self) -> int:
        return self.planned if self.planned is not None else -(-self.rows // self.shard_rows)

    @property
    def complete(self) -> bool:
        return len(self.shards) == self.shard_count

    def save(self, directory: Path) -> None:
        write_atomically(directory / MANIFEST, json.dumps(asdict(self), indent=1).encode())

    @classmethod
    def read(cls, directory: Path) -> Manifest | None:
        try:
            return cls(**json.loads((directory / MANIFEST).read_bytes()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as error:
            raise BatchError(f"{directory / MANIFEST} is unreadable ({error}): remove the "
                             "directory, or choose another") from error  # fmt: skip


def shard_name(number: int) -> str:
    return f"shard-{number:05d}.npz"


def embed_store(
    settings: Settings,
    kind: Kind,
    out_dir: Path,
    *,
    engine: Engine = "local",
    model: str | None = None,
    shard_rows: int = 1024,
    wait_seconds: float = 120.0,
    replica_cpus: float = 1.0,
    progress: Progress | None = None,
) -> Manifest:
    """Embed every posting (those candidates may see, as the job index holds them) or every
    profile of the store into shards under ``out_dir``; returns the manifest, complete.

    Args:
        model: the encoder to use (default: the one the server would serve now, the champion
            when ``serve_champions`` is on).
        shard_rows: records per shard (and per Ray task).
        wait_seconds: how long Ray may take to place the encoder replicas.
        replica_cpus: CPUs each replica asks Ray for (its torch threads use them).
    """
    from matcher.services.runtime import Runtime  # the runtime decides what is served
    from matcher.store import Store

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runtime = Runtime(settings)
    spec = model or runtime.served_models()["encoder"]
    store = Store(settings.database_url)
    try:
        ids = sorted(store.job_hashes() if kind == "jobs" else store.candidate_hashes())
        manifest = _manifest(out_dir, kind, spec, shard_rows, ids)
        todo = [n for n in range(manifest.shard_count) if shard_name(n) not in manifest.shards]
        logger.info("%s: %d records, %d shards, %d to embed (%s)", kind, len(ids),
                    manifest.shard_count, len(todo), engine)  # fmt: skip
        shards = ((number, ids[number * shard_rows : (number + 1) * shard_rows])
                  for number in todo)  # fmt: skip
        texts = ((number, chunk, _texts(store, kind, chunk)) for number, chunk in shards)
        if engine == "ray":
            done = _embedded_on_ray(settings, spec, texts, len(todo), wait_seconds, replica_cpus)
        else:
            encoder = runtime.load_encoder(spec)
            done = ((number, chunk, encoder.encode(batch, kind="passage"))
                    for number, chunk, batch in texts)  # fmt: skip
        for number, chunk, vectors in done:
            write_atomically(out_dir / shard_name(number),
                             {"ids": np.array(chunk), "vectors": vectors})  # fmt: skip
            manifest.shards[shard_name(number)] = len(chunk)
            manifest.save(out_dir)
            if progress:
                progress(len(manifest.shards), manifest.shard_count)
    finally:
        store.close()
    return manifest


def build_index(settings: Settings, kind: Kind, out_dir: Path) -> int:
    """Put a complete job's vectors into the index the server reads (the files under the state
    directory, or the PostgreSQL tables with ``MATCHER_INDEX__BACKEND=pgvector``), with the
    store's metadata, and save it; returns the rows indexed. Records removed from the store
    since the job ran are left out; run it while no server writes the same files."""
    from matcher.search.catalog import Catalog
    from matcher.services.runtime import Runtime, index_dir
    from matcher.store import Store

    manifest = Manifest.read(Path(out_dir))
    if manifest is None or manifest.kind != kind:
        raise BatchError(f"{out_dir} holds no embedding job of {kind}: run `matcher batch "
                         f"embed --kind {kind}` first")  # fmt: skip
    encoder = Runtime(settings).load_encoder(manifest.model)
    store = Store(settings.database_url)
    try:
        catalog = Catalog(store, encoder, index_dir(settings), settings.index)
        done = 0
        for ids, vectors in read_shards(out_dir):
            wanted = set(ids)
            records = {r.id: r for r in (store.iter_jobs(wanted) if kind == "jobs"
                                         else store.iter_candidates(wanted))}  # fmt: skip
            keep = [i for i, record_id in enumerate(ids) if record_id in records]
            chosen = [records[ids[i]] for i in keep]
            if kind == "jobs":
                catalog.index_jobs(chosen, vectors[keep])  # type: ignore[arg-type]
            else:
                catalog.index_candidates(chosen, vectors[keep])  # type: ignore[arg-type]
            done += len(keep)
        catalog.save()
        return done
    finally:
        store.close()


def read_shards(out_dir: Path) -> Iterator[tuple[list[str], npt.NDArray[np.float32]]]:
    """The ids and vectors of a complete job's shards, in order."""
    manifest = Manifest.read(Path(out_dir))
    if manifest is None or not manifest.complete:
        raise BatchError(f"{out_dir} holds no complete embedding job: run it (again) first")
    for number in range(manifest.shard_count):
        with np.load(Path(out_dir) / shard_name(number), allow_pickle=False) as data:
            yield [str(i) for i in data["ids"]], data["vectors"].astype(np.float32)


def _manifest(out_dir: Path, kind: str, spec: str, shard_rows: int, ids: list[str]) -> Manifest:
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    return resumed(out_dir, Manifest(kind=kind, model=spec, shard_rows=shard_rows,
                                     ids_digest=digest, rows=len(ids)))  # fmt: skip


def resumed(out_dir: Path, wanted: Manifest) -> Manifest:
    """The manifest of ``out_dir``'s job when it is ``wanted``'s (with the shards whose files
    are there), or ``wanted``, saved, in an empty directory.

    Raises:
        BatchError: the directory holds another job.
    """
    found = Manifest.read(out_dir)
    if found is None:
        wanted.save(out_dir)
        return wanted
    same = (found.kind, found.model, found.shard_rows, found.ids_digest) == (
        wanted.kind, wanted.model, wanted.shard_rows, wanted.ids_digest)  # fmt: skip
    if not same:
        raise BatchError(
            f"{out_dir} holds another job ({found.kind}, model {found.model}, "
            f"{found.rows} records, {found.shard_rows} a shard): use an empty directory"
        )
    found.shards = {name: rows for name, rows in found.shards.items()
                    if (out_dir / name).exists()}  # fmt: skip
    found.stored = {name: done for name, done in found.stored.items() if name in found.shards}
    return found


def _texts(store: Any, kind: str, chunk: list[str]) -> list[str]:
    """What the index embeds for each record of ``chunk``, in its order."""
    if kind == "jobs":
        records = {job.id: job_text(job) for job in store.iter_jobs(set(chunk))}
    else:
        records = {c.id: candidate_text(c) for c in store.iter_candidates(set(chunk))}
    return [records[record_id] for record_id in chunk]


class _EncoderReplica:
    """One encoder in a Ray actor: loaded once, then a shard per call."""

    def __init__(self, settings: dict[str, Any], spec: str) -> None:
        from matcher.services.runtime import Runtime

        self.encoder = Runtime(Settings(**settings)).load_encoder(spec)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch["texts"][0]]
        vectors = self.encoder.encode(texts, kind="passage")
        return {"number": batch["number"], "vectors": [vectors.tobytes()]}


def _embedded_on_ray(settings: Settings, spec: str,
                     texts: Iterator[tuple[int, list[str], list[str]]], count: int,
                     wait_seconds: float, replica_cpus: float = 1.0,
                     ) -> Iterator[tuple[int, list[str], npt.NDArray[np.float32]]]:  # fmt: skip
    """The shards embedded by a pool of encoder replicas on Ray, as they finish."""
    if count == 0:
        return
    shards = list(texts)
    chunks = {number: chunk for number, chunk, _ in shards}
    items = [{"number": number, "texts": batch} for number, _, batch in shards]
    rows = on_ray(items, _EncoderReplica, (settings.model_dump(mode="json"), spec),
                  wait_seconds=wait_seconds, replica_cpus=replica_cpus)  # fmt: skip
    for row in rows:
        vectors = np.frombuffer(row["vectors"], dtype=np.float32)
        number = int(row["number"])
        yield number, chunks[number], vectors.reshape(len(chunks[number]), -1).copy()


def on_ray(items: list[dict[str, Any]], replica: type, replica_args: tuple[Any, ...], *,
           wait_seconds: float, replica_cpus: float = 1.0) -> Iterator[dict[str, Any]]:  # fmt: skip
    """What a pool of ``replica`` actors (``replica(*replica_args)``, then called on a batch of
    one item) answers for each of ``items``, as they finish, on this machine's Ray (no
    dashboard, a modest object store) or the cluster ``RAY_ADDRESS`` names.

    Raises:
        BatchError: Ray could not place the pool within ``wait_seconds``.
    """
    import ray
    import ray.data

    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        if address:  # a cluster: its own resources
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        else:  # this machine, no dashboard, a modest object store
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False,
                     log_to_driver=False, configure_logging=False,
                     object_store_memory=OBJECT_STORE_BYTES)  # fmt: skip
    cpus = int(ray.cluster_resources().get("CPU", 0))
    pool = pool_size(cpus, replica_cpus)
    context = ray.data.DataContext.get_current()
    context.wait_for_min_actors_s = int(wait_seconds)
    context.enable_progress_bars = False
    dataset = ray.data.from_items(items, override_num_blocks=len(items))
    answered = dataset.map_batches(replica, batch_size=1, num_cpus=replica_cpus,
                                   compute=ray.data.ActorPoolStrategy(size=pool),
                                   fn_constructor_args=replica_args)  # fmt: skip
    logger.info("Ray: %d CPUs seen, %d %s replicas", cpus, pool, replica.__name__)
    try:
        yield from answered.iter_rows()
    except ray.exceptions.GetTimeoutError as error:  # the pool could not be placed in time
        raise BatchError(
            f"Ray could not start {pool} encoder replica(s) of {replica_cpus:g} CPU each within "
            f"{wait_seconds:.0f} s ({cpus} CPUs seen): add CPUs to the cluster, or run "
            "with engine=local"
        ) from error


def pool_size(cpus: int, replica_cpus: float = 1.0) -> int:
    """Encoder replicas for ``cpus`` CPUs: as many as fit in one CPU less than there are (an
    actor pool that takes every CPU starves the tasks that feed it), at least one."""
    return max(1, int((cpus - 1) // max(replica_cpus, 1e-9)))
