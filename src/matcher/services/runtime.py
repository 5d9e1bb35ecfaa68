"""The runtime: what the use cases read, loaded once, and swapped whole by a reload.

Three layers, from slowest-changing to fastest:

- :class:`Reference`: read-only data (ESCO, public-sector positions, training routes,
  programmes, provinces), loaded on first use and never replaced while the process runs;
- :class:`Models`: an encoder and everything derived from it (label indexes, occupation matcher,
  skill extractor, transition ranker, the job and candidate indexes), built on first use;
- :class:`Parts`: the models and the ranker being served, with the specs they came from. It is
  immutable: a reload builds new ``Parts`` beside the served ones and swaps them in one
  assignment under the write lock, so a request that took ``runtime.parts`` once sees one model
  from start to end.

Nothing heavy is loaded at construction, so commands that need only part of it start fast.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from itertools import pairwise
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from matcher import faults
from matcher.careers.skill_gaps import TrainingRoutes, load_training_routes
from matcher.careers.transitions import TransitionRanker
from matcher.errors import ConflictError, InvalidInputError
from matcher.nlp.encoder import Encoder
from matcher.nlp.labels import LabelIndex
from matcher.nlp.occupations import EXEMPLAR, TITLE_VOTE, OccupationMatcher, occupation_labels
from matcher.nlp.occupations import SOURCE_WEIGHTS as OCCUPATION_SOURCE_WEIGHTS
from matcher.nlp.skills import SkillExtractor, skill_labels
from matcher.programmes.rules import ProgrammeCatalog, load_programmes
from matcher.ranking.features import Ranker, WeightedRanker
from matcher.ranking.learned import LearnedRanker
from matcher.reference.certificates import CertificateBook, load_certificates
from matcher.reference.positions import PositionMap, load_positions
from matcher.reference.provinces import Places, Province, load_places, load_provinces
from matcher.reference.taxonomy import Taxonomy, load_taxonomy
from matcher.reference.titles import TITLES_FILE, exemplar_titles
from matcher.registry import ENCODER_MODEL, RANKER_MODEL, champion, configure, has_local_store
from matcher.schemas import JobPosting
from matcher.screening import REGISTRY_FILE, Screener, load_registry, load_signal_book
from matcher.screening.pay import load_pay
from matcher.search.catalog import Catalog, Progress, ReconcileReport
from matcher.services.reload_status import ReloadStatus
from matcher.settings import Settings
from matcher.store import Store

logger = logging.getLogger(__name__)


class Reference:
    """Read-only reference data, each part loaded on first use (all of them by ``prepare``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def taxonomy(self) -> Taxonomy:
        s = self.settings
        return load_taxonomy(s.data_dir, s.project_data_dir, s.caches)

    @cached_property
    def positions(self) -> PositionMap:
        return load_positions(self.settings.project_data_dir, self.taxonomy)

    @cached_property
    def training_routes(self) -> TrainingRoutes:
        return load_training_routes(self.settings.project_data_dir, self.taxonomy)

    @cached_property
    def certificates(self) -> CertificateBook:
        """Tests and certificates earned abroad, mapped to languages and ESCO skills."""
        return load_certificates(self.settings.project_data_dir)

    @cached_property
    def programmes(self) -> ProgrammeCatalog:
        return load_programmes(self.settings.project_data_dir)

    @cached_property
    def programme_skills(self) -> dict[str, set[str]]:
        """Each programme's essential skills: those of the ESCO occupations it recruits for."""
        taxonomy = self.taxonomy
        found: dict[str, set[str]] = {}
        for programme in self.programmes.programmes:
            uris: set[str] = set()
            for label in programme.occupations_en:
                occupation = taxonomy.find_occupation(label)
                if occupation is not None:
                    uris |= set(taxonomy.essential.get(occupation.uri, []))
            found[programme.id] = uris
        return found

    @cached_property
    def provinces(self) -> list[Province]:
        """Vietnam's provinces and centrally run cities (data/provinces.csv), with region."""
        return load_provinces(self.settings.project_data_dir)

    @cached_property
    def screener(self) -> Screener:
        """The screening rules with the registry of licensed enterprises and the pay table."""
        d = self.settings.project_data_dir
        return Screener(load_signal_book(d), load_registry(d / REGISTRY_FILE), load_pay(d))

    @cached_property
    def places(self) -> Places:
        """The 34 provinces, their communes, and the 63 former provinces mapped to them."""
        return load_places(self.settings.project_data_dir)


class ModelCache:
    """Results that are a pure function of their key and the model (transition targets per
    (position, lang); skills found per text hash), so it lives and dies with the
    :class:`Models` that computed them: a reload starts empty. Thread-safe, bounded, least
    recently used first out."""

    def __init__(self, size: int = 4096) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[Any, ...], list[Any]] = {}
        self._size = size

    def get(self, key: tuple[Any, ...]) -> list[Any] | None:
        with self._lock:
            value = self._items.pop(key, None)
            if value is not None:
                self._items[key] = value
            return value

    def put(self, key: tuple[Any, ...], value: list[Any]) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))


class Models:
    """An encoder and what is derived from it, each built on first use. Everything here is a
    function of the encoder, so a reload to a new encoder builds a new ``Models``."""

    def __init__(self, encoder: Encoder, reference: Reference, store: Store) -> None:
        self.encoder = encoder
        self.reference = reference
        self.store = store
        self.targets = ModelCache()
        #: skills found in a text, per (sha256 of the text, k): inline profiles sent again
        self.extractions = ModelCache()

    @property
    def _settings(self) -> Settings:
        return self.reference.settings

    @cached_property
    def occupations(self) -> OccupationMatcher:
        s, taxonomy = self._settings, self.reference.taxonomy
        every = s.occupation_labels == "all"
        exemplars = (
            exemplar_titles(s.dev_eval_dir / TITLES_FILE, taxonomy.occupations)
            if every and s.title_exemplars
            else []
        )
        labels = LabelIndex.build(
            "occupations" if every else "preferred-occupations",
            occupation_labels(taxonomy, all_labels=every, exemplars=exemplars), self.encoder,
            s.caches / "labels", config=s.index, source_weights=OCCUPATION_SOURCE_WEIGHTS,
            vote=TITLE_VOTE,
        )  # fmt: skip
        return OccupationMatcher(taxonomy, self.encoder, labels)

    @cached_property
    def skills(self) -> SkillExtractor:
        s, taxonomy = self._settings, self.reference.taxonomy
        labels = LabelIndex.build(
            "skills",
            skill_labels(taxonomy),
            self.encoder,
            s.caches / "labels",
            config=s.index,
            dense=True,
        )
        return SkillExtractor(taxonomy, self.encoder, labels)

    @cached_property
    def transitions(self) -> TransitionRanker:
        # ESCO's and the Vietnamese names only: the vacancy titles would pull the centroids
        # towards whichever occupations job boards post most
        centroids = self.occupations.labels.centroids(skip={EXEMPLAR})
        return TransitionRanker(self.reference.taxonomy, centroids)

    @cached_property
    def catalog(self) -> Catalog:
        s = self._settings
        return Catalog(self.store, self.encoder, index_dir(s), s.index)

    def build(self) -> None:
        """Build every part now (so no request thread builds one lazily)."""
        _ = self.occupations, self.skills, self.transitions, self.catalog


@dataclass(frozen=True)
class Worker:
    """This process is worker ``number`` of several on one store (``matcher serve --workers
    N``); the ``primary`` one writes the index files."""

    number: int
    primary: bool


def index_dir(settings: Settings) -> Path:
    return settings.state_dir / "indexes"


def store_as_saved(settings: Settings) -> bool:
    """Whether the store holds a stamp the index files were saved with: nothing changed since
    (:meth:`Catalog.in_step`), so no worker of ``matcher serve --workers N`` will compare,
    embed or write at start-up, and they may all start at once."""
    saved = Catalog.saved_stamps(index_dir(settings))
    if not saved:
        return False
    store = Store(settings.database_url)
    try:
        return store.stamp() in saved
    finally:
        store.close()


def file_lock(path: Path) -> Callable[[], AbstractContextManager[None]]:
    """An exclusive lock on the file ``path`` for the processes of this machine: each call
    gives a context that holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a")

    @contextmanager
    def held() -> Iterator[None]:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

    return held


class WriteLock:
    """What every store-and-index write holds (``with runtime.writes:``).

    In one process it is a re-entrant thread lock. With several workers on one store
    (:meth:`share`) it is also an exclusive lock across processes (a file in the state
    directory; on a PostgreSQL store an advisory lock, for replicas elsewhere), so one
    worker writes at a time, and taking it first applies what the other workers logged
    (``catch_up``): this worker's change then lands in the change log after theirs, and every
    worker applies the changes in the order the store took them."""

    def __init__(self, stamp: Callable[[], str] | None = None) -> None:
        self._thread = threading.RLock()
        self._depth = 0  # changed only by the thread holding _thread
        self._exclusive: Callable[[], AbstractContextManager[object]] | None = None
        self._held: AbstractContextManager[object] | None = None  # the exclusive lock held
        self._catch_up: Callable[[], object] | None = None
        #: the store's stamp (:meth:`Store.stamp`), read as a write begins
        self._stamp, self._entered = stamp, ""
        #: a write failed after the store took it (the stamp moved): the indexes may miss
        #: it until a full comparison, so no stamp is saved with them (Runtime.save_indexes)
        self.behind = False

    def share(self, exclusive: Callable[[], AbstractContextManager[object]],
              catch_up: Callable[[], object]) -> None:  # fmt: skip
        """Writes from now on also hold the lock across processes that ``exclusive()`` opens
        (:func:`file_lock` for the processes of this machine, a PostgreSQL advisory lock for
        replicas on other machines), then ``catch_up``."""
        self._exclusive, self._catch_up = exclusive, catch_up

    def __enter__(self) -> Self:
        self._thread.acquire()
        self._depth += 1
        if self._depth == 1 and self._exclusive is not None:
            try:
                held = self._exclusive()
                held.__enter__()
                self._held = held
                if self._catch_up is not None:
                    self._catch_up()
            except BaseException:
                self.__exit__()
                raise
        if self._depth == 1 and self._stamp is not None:
            try:
                self._entered = self._stamp()
            except BaseException:
                self.__exit__()
                raise
        return self

    def __exit__(self, failed: type[BaseException] | None = None, *_: object) -> None:
        if self._depth == 1 and failed is not None and self._stamp is not None:
            try:
                moved = self._stamp() != self._entered
            except Exception:  # noqa: BLE001 - the store is unreachable: assume the worst
                moved = True
            self.behind = self.behind or moved
        if self._depth == 1 and self._held is not None:
            held, self._held = self._held, None
            held.__exit__(None, None, None)
        self._depth -= 1
        self._thread.release()


@dataclass(frozen=True, eq=False)
class Parts:
    """What is being served: the specs, the models and the ranker. Never changed in place."""

    served: Mapping[str, str]
    models: Models
    ranker: Ranker

    @property
    def encoder(self) -> Encoder:
        return self.models.encoder

    @property
    def catalog(self) -> Catalog:
        return self.models.catalog


class Runtime:
    """Settings, the store, the reference data and the served :class:`Parts`, with the locks
    that order writes and the reload that swaps the parts."""

    def __init__(
        self,
        settings: Settings,
        *,
        encoder: Encoder | None = None,
        load_encoder: Callable[[str], Encoder] | None = None,
    ) -> None:
        """``encoder``: a loaded encoder to serve instead of loading ``settings.model``;
        ``load_encoder``: how a spec becomes an encoder (default: :meth:`Encoder.load` with the
        settings), e.g. a deterministic fake for the fast tests."""  # fmt: skip
        self.settings = settings
        self._load_encoder = load_encoder
        self.reference = Reference(settings)
        #: store-and-index writes, and the final catch-up and swap of a reload
        self.writes = WriteLock(stamp=lambda: self.store.stamp())
        #: set by start() when this process is one of several workers on the store
        self.worker: Worker | None = None
        self._stopping = threading.Event()
        self.reload_status = ReloadStatus()
        self._reloading = threading.Lock()
        self._building = threading.RLock()  # the parts need the store, built under it too
        self._parts: Parts | None = None
        self._store: Store | None = None
        self._encoder = encoder  # a loaded encoder to serve instead of the configured one
        #: whether the encoders run on inference workers (the server, after start())
        self._serving = False

    @property
    def store(self) -> Store:
        store = self._store
        if store is None:
            with self._building:
                if self._store is None:
                    self._store = Store(self.settings.database_url)
                store = self._store
        return store

    @property
    def parts(self) -> Parts:
        """The served parts; read it once per use case (a reload may swap it meanwhile)."""
        parts = self._parts
        if parts is None:
            with self._building:
                if self._parts is None:
                    served = self.served_models()
                    encoder = self._encoder or self.load_encoder(served["encoder"])
                    models = Models(encoder, self.reference, self.store)
                    self._parts = Parts(served, models, self.load_ranker(served["ranker"]))
                parts = self._parts
        return parts

    # ------------------------------------------------------------------ models
    def served_models(self) -> dict[str, str]:
        """What to serve: ``{"encoder": spec, "ranker": spec}``. The registered champions
        (pinned to their version) when ``serve_champions`` is on and the tracking store has
        them; otherwise the configured ``model`` and ``ranker``."""
        s = self.settings
        served = {"encoder": s.model, "ranker": s.ranker}
        if not s.serve_champions or not has_local_store(s.tracking_uri):
            return served
        configure(s.tracking_uri, s.state_dir)
        for kind, name in (("encoder", ENCODER_MODEL), ("ranker", RANKER_MODEL)):
            found = champion(name)
            if found is not None:
                served[kind] = found.uri
        return served

    def load_encoder(self, spec: str) -> Encoder:
        if self._load_encoder is not None:
            return self._load_encoder(spec)
        s = self.settings
        if spec.startswith(("models:/", "runs:/")):
            configure(s.tracking_uri, s.state_dir)
        return Encoder.load(
            spec,
            s.models_dir,
            batch_size=s.encode_batch_size,
            max_chars=s.max_text_chars,
            max_seq_length=s.max_seq_length,
            query_runtime=s.query_runtime,
            graph_dir=s.caches / "onnx",
        )

    def load_ranker(self, spec: str) -> Ranker:
        """``weighted`` (hand-set weights) or an MLflow URI of a learned ranker."""
        s = self.settings
        if spec == "weighted":
            return WeightedRanker(WeightedRanker().weights | {"priority": s.priority_boost})
        if not spec.startswith(("models:/", "runs:/")):
            raise InvalidInputError(
                f"unknown ranker {spec!r}: use 'weighted' or an MLflow model URI such as "
                "models:/matcher-ranker@champion"
            )
        configure(s.tracking_uri, s.state_dir)
        import mlflow.sklearn

        model = mlflow.sklearn.load_model(spec)
        return LearnedRanker(model, s.priority_boost, name=spec)

    # ------------------------------------------------------------------ life cycle
    def prepare(self) -> dict[str, int]:
        """Load everything now (building caches on the first run); returns what was loaded."""
        ref, models = self.reference, self.parts.models
        counts = dict(ref.taxonomy.counts)
        models.build()  # nothing a request thread reaches is built lazily (see matcher.search.index)
        counts["occupation_labels"] = len(models.occupations.labels.labels)
        counts["skill_labels"] = len(models.skills.labels.labels)
        counts["public_sector_positions"] = len(ref.positions)
        counts["training_rules"] = len(ref.training_routes.rules)
        counts["programmes"] = len(ref.programmes.programmes)
        counts["overseas_certificates"] = len(ref.certificates.certificates)
        counts["provinces"] = len(ref.provinces)
        counts["communes"] = len(ref.places.communes)
        counts["transition_targets"] = len(models.transitions.uris)
        models.encoder.warm_up()  # the fast query path's graph, so no request waits for it
        return counts

    def start(
        self, progress: Progress | None = None, *, worker: Worker | None = None
    ) -> ReconcileReport:
        """Load everything the service needs, bring the indexes in line with the store, start
        the inference workers, and run every inference path once (short and long query,
        passage, skills), so the first requests find nothing left to build.

        ``worker``: this process is one of several on the store. It first applies the change
        log the others wrote (what the index files it read may lack), reconciles without
        writing the files unless it is the primary, then logs its own changes, applies the
        others' every ``follow_interval_ms``, and (the primary) saves the index files every
        ``index_save_seconds``."""
        if worker is None and self.settings.replica:  # one of several servers' processes
            worker = Worker(0, primary=True)  # its own state directory: it saves its files
        ticks = [time.perf_counter()]
        self.prepare()
        models = self.parts.models
        catalog = models.catalog
        ticks.append(time.perf_counter())
        if worker is not None:
            self.worker = worker
            catalog.saves = worker.primary
            catalog.follow()
        report = catalog.reconcile(progress)
        ticks.append(time.perf_counter())
        if worker is not None:
            catalog.share(f"{worker.number}-{os.getpid()}-{uuid.uuid4().hex[:8]}",
                          saves=worker.primary)  # fmt: skip
            shared = self.store.engine.dialect.name == "postgresql"  # replicas may be elsewhere
            self.writes.share(partial(self.store.exclusive, "index-writes") if shared
                              else file_lock(self.settings.state_dir / "writes.lock"),
                              catalog.follow)  # fmt: skip
            self._every(self.settings.follow_interval_ms / 1000, "follow", catalog.follow)
            if worker.primary:
                self._every(self.settings.index_save_seconds, "save", self.save_indexes)
        self.save_indexes()  # the files with the stamp they hold: the next start-up may skip
        self._serve_inference(models.encoder)
        _run_every_path(models)
        ticks.append(time.perf_counter())
        prepared, reconciled, warmed = (after - before for before, after in pairwise(ticks))
        logger.info("start-up: models, taxonomy and indexes loaded in %.1f s, store reconciled "
                    "in %.1f s, every inference path run in %.1f s", prepared, reconciled,
                    warmed)  # fmt: skip
        return report

    def save_indexes(self) -> None:
        """Save the index files with the store's stamp (:meth:`Store.stamp`), read under
        the write lock: every write it counts is in the indexes then, and later ones only
        raise the store's count. A start-up that finds the store at that stamp, and these
        files, skips comparing every record (:meth:`Catalog.reconcile`)."""
        if not self.parts.catalog.saves:
            return  # another worker writes the files
        with self.writes:
            catalog = self.parts.catalog
            stamp = None if self.writes.behind else self.store.stamp()
        catalog.save(stamp)

    def _every(self, seconds: float, name: str, task: Callable[[], object]) -> None:
        """Run ``task`` every ``seconds`` on a thread of its own until :meth:`stop`."""

        def loop() -> None:
            while not self._stopping.wait(seconds):
                try:
                    task()
                except Exception:  # logged, and tried again at the next tick
                    logger.exception("index %s failed; retrying in %.1f s", name, seconds)

        threading.Thread(target=loop, name=f"index-{name}", daemon=True).start()

    def stop(self) -> None:
        """Stop the inference workers (what is queued is finished first)."""
        self._stopping.set()
        self._serving = False
        if self._parts is not None:
            self._parts.encoder.stop_workers()

    def close(self) -> None:
        """Stop serving, save the indexes, close the store (the server's shutdown); loads
        nothing that was not loaded."""
        self.stop()
        if self._parts is not None:
            self.save_indexes()
        if self._store is not None:
            self._store.close()

    def _serve_inference(self, encoder: Encoder) -> None:
        self._serving = True
        s = self.settings
        if not s.inference_workers:
            return
        encoder.start_workers(
            max_batch=s.inference_max_batch,
            max_wait=s.inference_max_wait_ms / 1000,
            max_queued=s.inference_max_queued,
        )

    # ------------------------------------------------------------------ writes
    def write(self, records: list[Any], store_write: Callable[[list[Any]], Any], *,
              hidden: set[str] | frozenset[str] = frozenset()) -> Any:  # fmt: skip
        """Embed ``records`` (postings or profiles), then store them, then index them.

        Embedding comes first, so a record the model cannot embed is rejected (422) before
        anything is stored; the store write and the index write happen under the write lock.
        Postings whose id is in ``hidden`` (held for review) are stored, and left out of (or
        taken out of) the index. Returns what ``store_write`` returns."""
        jobs = bool(records) and isinstance(records[0], JobPosting)
        catalog = self.parts.catalog
        vectors: npt.NDArray[np.float32] | None = (
            catalog.job_vectors(records) if jobs else catalog.candidate_vectors(records)
        )
        with self.writes:
            if catalog is not self.parts.catalog:  # a reload swapped the encoder meanwhile
                catalog, vectors = self.parts.catalog, None
            result = store_write(records)
            faults.point("store-to-index")
            if jobs and hidden:
                shown = [i for i, r in enumerate(records) if r.id not in hidden]
                for job_id in hidden:
                    catalog.drop_job(job_id)
                catalog.index_jobs([records[i] for i in shown],
                                   None if vectors is None else vectors[shown])  # fmt: skip
            elif jobs:
                catalog.index_jobs(records, vectors)
            else:
                catalog.index_candidates(records, vectors)
        return result

    # ------------------------------------------------------------------ reload
    def check_can_reload(self) -> None:
        """Raises :class:`ConflictError` where a reload cannot run: a server of several
        workers, each with its own models, would swap them in one worker only."""
        if self.worker is not None and self.settings.replica:
            raise ConflictError(
                "this server is one of several replicas (MATCHER_REPLICA), each with its own "
                "models: restart every replica to serve the new champions"
            )
        if self.worker is not None:
            raise ConflictError(
                "this server runs several workers, each with its own models: restart it "
                "(matcher serve --workers N) to serve the new champions"
            )

    def reload(self, progress: Progress | None = None) -> dict[str, Any]:
        """Switch to the models :meth:`served_models` names now (the current champions).

        A new encoder gets its label indexes and a new job and candidate index, embedded in
        the background while requests are answered by the current parts; a final catch-up of
        writes made meanwhile and the swap happen under the write lock, so no acknowledged
        write is missed. Raises :class:`ConflictError` if a reload is already running."""
        self.check_can_reload()
        if not self._reloading.acquire(blocking=False):
            raise ConflictError("a reload is already running; follow its status")
        status = self.reload_status
        current = self.parts
        encoder: Encoder | None = None
        try:
            status.begin(dict(current.served))
            wanted = self.served_models()
            status.update(phase="loading models", target=wanted)
            encoder = self.load_encoder(wanted["encoder"])
            if self._serving:
                self._serve_inference(encoder)
            ranker = self.load_ranker(wanted["ranker"])
            changed = encoder.fingerprint != current.encoder.fingerprint
            models = current.models
            if changed:
                models = Models(encoder, self.reference, self.store)
                status.update(phase="embedding labels")
                models.build()

                def report(name: str, done: int, total: int) -> None:
                    status.update(phase=f"embedding {name}", done=done, total=total)
                    if progress:
                        progress(name, done, total)

                models.catalog.reconcile(report)
                encoder.warm_up()
            new = Parts(wanted, models, ranker)
            with self.writes:  # writes made during the rebuild, then the swap
                if changed:
                    status.update(phase="catching up")
                    models.catalog.reconcile()
                faults.point("reload-swap")
                self._parts = new
            if changed:
                current.encoder.stop_workers()  # callers still holding it encode on their own
            else:
                encoder.stop_workers()
            status.finish(wanted, changed_encoder=changed)
            return status.as_dict()
        except Exception as error:
            if encoder is not None and encoder is not self.parts.encoder:
                encoder.stop_workers()  # the one this reload loaded; the served one keeps its own
            status.fail(error)
            raise
        finally:
            self._reloading.release()


def _run_every_path(models: Models) -> None:
    models.encoder.run_every_path()  # prepare() built the int8 graph; now on the workers
    models.skills.extract("Sử dụng Excel thành thạo, lập báo cáo tài chính", k=3)
    models.occupations.match("giáo viên tiểu học", k=1)
