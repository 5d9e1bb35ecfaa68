"""The use cases the CLI and the API call, over lazily loaded parts.

Nothing is loaded at construction: the taxonomy, the model and the label indexes are loaded on
first use (or all at once by :meth:`MatcherService.prepare`), so commands that need only part of
them start fast.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher import faults
from matcher.catalog import Catalog, Progress, ReconcileReport, candidate_text, job_text
from matcher.demo import Province, load_provinces
from matcher.encoder import Encoder, Kind
from matcher.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnauthorizedError,
)
from matcher.index import IndexConfig
from matcher.labels import LabelIndex
from matcher.learned_ranker import LearnedRanker
from matcher.occupations import SOURCE_WEIGHTS as OCCUPATION_SOURCE_WEIGHTS
from matcher.occupations import OccupationMatcher, occupation_labels
from matcher.positions import Position, PositionMap, load_positions
from matcher.programmes import (
    Eligibility,
    Programme,
    ProgrammeCatalog,
    check_eligibility,
    education_level,
    load_programmes,
)
from matcher.ranking import Opening, Ranker, Seeker, WeightedRanker, explain, match_features
from matcher.schemas import (
    Candidate,
    CandidateProfileIn,
    CandidateRanking,
    CandidateView,
    Explanation,
    FeedbackIn,
    JobFilters,
    JobPosting,
    JobPostingIn,
    Lang,
    OccupationMatch,
    OriginInfo,
    ProgrammeSummary,
    RankedCandidate,
    RankedJob,
    SkillGaps,
    SkillMatch,
    SkillRef,
    Transitions,
)
from matcher.settings import Settings
from matcher.skill_gaps import TrainingRoutes, load_training_routes, rank_gaps
from matcher.skills import SkillExtractor, resolve_skill_names, skill_labels, skill_refs
from matcher.store import Principal, Remember, Store, now
from matcher.taxonomy import Taxonomy, load_taxonomy
from matcher.text import fold, normalize_text
from matcher.tracking import ENCODER_MODEL, RANKER_MODEL, champion, configure, has_local_store
from matcher.transitions import TransitionRanker

logger = logging.getLogger(__name__)


class MatcherService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: store-and-index writes, and the final catch-up and swap of a reload
        self._writes = threading.RLock()
        self._reloading = threading.Lock()
        self.reload_status = ReloadStatus()
        #: transition targets per (position, lang); emptied when a reload swaps the model
        self._targets: dict[tuple[str, str], list[Any]] = {}
        self._targets_lock = threading.Lock()
        #: whether the encoders run on inference workers (the server, after start())
        self._serving = False

    @property
    def cache_dir(self) -> Path:
        return self.settings.caches / "labels"

    @property
    def index_config(self) -> IndexConfig:
        return self.settings.index

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(
            self.settings.data_dir, self.settings.project_data_dir, self.settings.caches
        )

    # ------------------------------------------------------------------ models
    def served_models(self) -> dict[str, str]:
        """What to serve: ``{"encoder": spec, "ranker": spec}``. The registered champions
        (pinned to their version) when ``serve_champions`` is on and the tracking store has
        them; otherwise the configured ``model`` and ``ranker``."""
        served = {"encoder": self.settings.model, "ranker": self.settings.ranker}
        if not self.settings.serve_champions or not has_local_store(self.settings.tracking_uri):
            return served
        configure(self.settings.tracking_uri, self.settings.state_dir)
        for kind, name in (("encoder", ENCODER_MODEL), ("ranker", RANKER_MODEL)):
            found = champion(name)
            if found is not None:
                served[kind] = found.uri
        return served

    @cached_property
    def served(self) -> dict[str, str]:
        return self.served_models()

    def load_encoder(self, spec: str) -> Encoder:
        if spec.startswith(("models:/", "runs:/")):
            configure(self.settings.tracking_uri, self.settings.state_dir)
        return Encoder.load(
            spec,
            self.settings.models_dir,
            batch_size=self.settings.encode_batch_size,
            max_chars=self.settings.max_text_chars,
            max_seq_length=self.settings.max_seq_length,
            query_runtime=self.settings.query_runtime,
            graph_dir=self.settings.caches / "onnx",
        )

    def load_ranker(self, spec: str) -> Ranker:
        """``weighted`` (hand-set weights) or an MLflow URI of a learned ranker."""
        if spec == "weighted":
            return WeightedRanker(WeightedRanker().weights | {"priority": self.settings.priority_boost})
        if not spec.startswith(("models:/", "runs:/")):
            raise InvalidInputError(
                f"unknown ranker {spec!r}: use 'weighted' or an MLflow model URI such as "
                "models:/matcher-ranker@champion"
            )
        configure(self.settings.tracking_uri, self.settings.state_dir)
        import mlflow.sklearn

        model = mlflow.sklearn.load_model(spec)
        return LearnedRanker(model, self.settings.priority_boost, name=spec)

    @cached_property
    def encoder(self) -> Encoder:
        return self.load_encoder(self.served["encoder"])

    def _occupation_matcher(self, encoder: Encoder) -> OccupationMatcher:
        every = self.settings.occupation_labels == "all"
        labels = LabelIndex.build(
            "occupations" if every else "preferred-occupations",
            occupation_labels(self.taxonomy, all_labels=every), encoder, self.cache_dir,
            config=self.index_config, source_weights=OCCUPATION_SOURCE_WEIGHTS,
        )  # fmt: skip
        return OccupationMatcher(self.taxonomy, encoder, labels)

    def _skill_extractor(self, encoder: Encoder) -> SkillExtractor:
        labels = LabelIndex.build(
            "skills", skill_labels(self.taxonomy), encoder, self.cache_dir,
            config=self.index_config,
        )  # fmt: skip
        return SkillExtractor(self.taxonomy, encoder, labels)

    @cached_property
    def occupation_matcher(self) -> OccupationMatcher:
        return self._occupation_matcher(self.encoder)

    @cached_property
    def skill_extractor(self) -> SkillExtractor:
        return self._skill_extractor(self.encoder)

    @cached_property
    def positions(self) -> PositionMap:
        return load_positions(self.settings.project_data_dir, self.taxonomy)

    @cached_property
    def training_routes(self) -> TrainingRoutes:
        return load_training_routes(self.settings.project_data_dir, self.taxonomy)

    @cached_property
    def transition_ranker(self) -> TransitionRanker:
        return TransitionRanker(self.taxonomy, self.occupation_matcher.labels.centroids())

    def prepare(self) -> dict[str, int]:
        """Load everything now (building caches on the first run); returns what was loaded."""
        counts = dict(self.taxonomy.counts)
        counts["occupation_labels"] = len(self.occupation_matcher.labels.labels)
        counts["skill_labels"] = len(self.skill_extractor.labels.labels)
        counts["public_sector_positions"] = len(self.positions)
        counts["training_rules"] = len(self.training_routes.rules)
        counts["programmes"] = len(self.programmes.programmes)
        # Built here, not by the first request that needs them: nothing a request thread
        # reaches is built lazily (see the thread-safety note in matcher.index).
        counts["transition_targets"] = len(self.transition_ranker.uris)
        self.encoder.warm_up()  # the fast query path's graph, so no request waits for it
        return counts

    # ------------------------------------------------------------------ use cases
    # Inputs are validated before anything heavy is loaded, so bad input fails fast.
    def _validated(self, texts: list[str], *, keep_lines: bool = False) -> list[str]:
        limit = self.settings.max_text_chars
        return [normalize_text(text, max_chars=limit, keep_lines=keep_lines) for text in texts]

    def match_occupations(self, texts: list[str], k: int = 10) -> list[list[OccupationMatch]]:
        return self.occupation_matcher.match_many(self._validated(texts), k)

    def extract_skills(self, texts: list[str], k: int = 20) -> list[list[SkillMatch]]:
        return self.skill_extractor.extract_many(self._validated(texts, keep_lines=True), k)

    def embed(self, texts: list[str], kind: Kind) -> npt.NDArray[np.float32]:
        return self.encoder.encode(self._validated(texts), kind=kind)

    # ------------------------------------------------------------------ careers
    def resolve_origin(self, text_or_uri: str, *, ids_only: bool = False) -> OriginInfo:
        """An ESCO occupation URI or UUID as it is; free text through the public-sector
        position map first, then the encoder (unless ``ids_only``)."""
        [text] = self._validated([text_or_uri])
        occupation = self.taxonomy.find_occupation(text)
        if occupation is not None and text in (occupation.uri, occupation.uri.rsplit("/", 1)[-1]):
            return _origin([occupation.uri], "uri", self.taxonomy)
        if ids_only or _looks_like_id(text):
            raise NotFoundError(
                f"occupation {text!r} is not in ESCO v1.1.1; use an occupation URI or its UUID "
                "(see POST /v1/occupations/match), or describe the position in words"
            )
        found = self.positions.resolve(text)
        if found is not None:
            return self._position_origin(found.position)
        best = self.occupation_matcher.match(text, k=1)[0]
        return _origin([best.uri], "encoder", self.taxonomy)

    def _position_origin(self, position: Position) -> OriginInfo:
        origin = _origin(list(position.occupation_uris), "position", self.taxonomy)
        reached = ISCO_LEVEL_OF_EDUCATION.get(education_level(position.education) or "", 4)
        level = min(position.skill_level, reached)
        return origin.model_copy(
            update={"label": position.name_en, "label_vi": position.name_vi,
                    "position_id": position.id, "skill_level": level}
        )  # fmt: skip

    def open_postings_by_occupation(self) -> dict[str, int]:
        """How many postings in the index are for each occupation (market demand)."""
        counts: dict[str, int] = {}
        with self.catalog.lock:
            for job_id in self.catalog.jobs.ids:
                uri = self.catalog.jobs.metadata(job_id).get("occupation")
                if uri:
                    counts[uri] = counts.get(uri, 0) + 1
        return counts

    def transitions(
        self, text_or_uri: str, *, k: int = 10, lang: Lang = "vi", ids_only: bool = False
    ) -> Transitions:
        """Realistic target occupations from a former position or occupation."""
        _check_k(k)
        origin = self.resolve_origin(text_or_uri, ids_only=ids_only)
        demand = self.open_postings_by_occupation()
        ranked = self.transition_ranker.rank(origin, k, lang=lang, demand=demand or None)
        return Transitions(origin=origin, transitions=ranked)

    # ================================================================== marketplace
    @cached_property
    def store(self) -> Store:
        return Store(self.settings.database_url)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(
            self.store, self.encoder, self.settings.state_dir / "indexes", self.index_config
        )

    @cached_property
    def ranker(self) -> Ranker:
        return self.load_ranker(self.served["ranker"])

    # ------------------------------------------------------------------ reload
    def reload(self, progress: Progress | None = None) -> dict[str, Any]:
        """Switch to the models :meth:`served_models` names now (the current champions).

        A new encoder gets its label indexes and a new job and candidate index, embedded in
        the background while requests are answered by the current ones; a final catch-up of
        writes made meanwhile and the swap happen under the write lock, so no acknowledged
        write is missed. Raises :class:`ConflictError` if a reload is already running."""
        if not self._reloading.acquire(blocking=False):
            raise ConflictError("a reload is already running; follow it at GET /v1/admin/reload")
        status = self.reload_status
        encoder: Encoder | None = None
        try:
            status.begin(dict(self.served))
            wanted = self.served_models()
            status.update(phase="loading models", target=wanted)
            encoder = self.load_encoder(wanted["encoder"])
            if self._serving:
                self._serve_inference(encoder)
            ranker = self.load_ranker(wanted["ranker"])
            parts: dict[str, Any] = {"ranker": ranker, "served": wanted}
            if encoder.fingerprint != self.encoder.fingerprint:
                status.update(phase="embedding labels")
                matcher = self._occupation_matcher(encoder)
                catalog = Catalog(self.store, encoder, self.settings.state_dir / "indexes",
                                  self.index_config)  # fmt: skip
                parts |= {
                    "encoder": encoder, "occupation_matcher": matcher, "catalog": catalog,
                    "skill_extractor": self._skill_extractor(encoder),
                    "transition_ranker": TransitionRanker(self.taxonomy, matcher.labels.centroids()),
                    "_targets": {},
                }  # fmt: skip

                def report(name: str, done: int, total: int) -> None:
                    status.update(phase=f"embedding {name}", done=done, total=total)
                    if progress:
                        progress(name, done, total)

                catalog.reconcile(report)
                encoder.warm_up()
            with self._writes:  # writes made during the rebuild, then the swap
                if "catalog" in parts:
                    status.update(phase="catching up")
                    parts["catalog"].reconcile()
                previous = self.encoder
                faults.point("reload-swap")
                self.__dict__.update(parts)
            if "encoder" in parts:
                previous.stop_workers()  # callers still holding it encode on their own thread
            elif encoder is not self.encoder:
                encoder.stop_workers()
            status.finish(wanted, changed_encoder="catalog" in parts)
            return status.as_dict()
        except Exception as error:
            if encoder is not None and encoder is not self.encoder:
                encoder.stop_workers()  # the one this reload loaded; the served one keeps its own
            status.fail(error)
            raise
        finally:
            self._reloading.release()

    # ------------------------------------------------------------------ programmes
    @cached_property
    def provinces(self) -> list[Province]:
        """Vietnam's provinces and centrally run cities (data/provinces.csv), with region."""
        return load_provinces(self.settings.project_data_dir)

    @cached_property
    def programmes(self) -> ProgrammeCatalog:
        return load_programmes(self.settings.project_data_dir)

    def programme(self, programme_id: str) -> Programme:
        found = self.programmes.get(programme_id)
        if found is None:
            raise NotFoundError(self._unknown_programme(programme_id))
        return found

    def _unknown_programme(self, programme_id: str) -> str:
        known = ", ".join(p.id for p in self.programmes.programmes)
        return f"programme {programme_id!r} does not exist; known: {known}"

    def eligibility(self, programme_id: str, profile: CandidateProfileIn, lang: Lang = "vi"
                    ) -> Eligibility:  # fmt: skip
        """Is the person eligible for the programme; if not, what is unmet and how to meet it."""
        return check_eligibility(self.programme(programme_id), profile,
                                 last_checked=self.programmes.last_checked, lang=lang)  # fmt: skip

    def all_eligibility(self, profile: CandidateProfileIn, lang: Lang = "vi") -> list[Eligibility]:
        """Every programme, eligible ones first: what is met, what is not and how to meet it."""
        results = [self.eligibility(p.id, profile, lang) for p in self.programmes.programmes]
        return sorted(results, key=lambda e: (not e.eligible, len(e.unmet)))

    def _posting_eligibility(self, programme_id: str | None, candidate: Candidate, lang: Lang
                             ) -> Eligibility | None:  # fmt: skip
        if not programme_id or self.programmes.get(programme_id) is None:
            return None
        return self.eligibility(programme_id, candidate, lang)

    def _programme_fit(
        self, candidate: Candidate, wanted: set[str]
    ) -> tuple[set[str], dict[str, list[str]]]:
        """Of the ``wanted`` programmes, those the candidate is eligible for, and for each the
        candidate's priority groups it supports (the boost)."""
        eligible, boosted = set(), {}
        for programme in self.programmes.programmes:
            if programme.id not in wanted:
                continue
            if check_eligibility(programme, candidate,
                                 last_checked=self.programmes.last_checked).eligible:  # fmt: skip
                eligible.add(programme.id)
            groups = [
                g for g in candidate.priority_groups if g in programme.support.priority_groups
            ]
            if groups:
                boosted[programme.id] = groups
        return eligible, boosted

    def _group_names(self, ids: list[str], lang: Lang) -> tuple[str, ...]:
        groups = self.programmes.groups
        return tuple((groups[g].name_vi if lang == "vi" else groups[g].name_en)
                     for g in ids if g in groups)  # fmt: skip

    def _programme_summary(self, programme_id: str | None, lang: Lang) -> ProgrammeSummary | None:
        programme = self.programmes.get(programme_id) if programme_id else None
        if programme is None:
            return None
        vi = lang == "vi"
        return ProgrammeSummary(
            id=programme.id, name=programme.name_vi if vi else programme.name_en,
            country=programme.destination,
            contract=programme.contract.text_vi if vi else programme.contract.text_en,
            costs=programme.costs.text_vi if vi else programme.costs.text_en,
            support=programme.support.loans_vi if vi else programme.support.loans_en,
            priority_groups=[
                (g.name_vi if vi else g.name_en) for g in self.programmes.priority_groups
                if g.id in programme.support.priority_groups
            ],
        )  # fmt: skip

    def start(self, progress: Progress | None = None) -> ReconcileReport:
        """Load everything the service needs, bring the indexes in line with the store, start
        the inference workers, and run every inference path once (short and long query,
        passage, skills), so the first requests find nothing left to build."""
        self.prepare()
        report = self.catalog.reconcile(progress)
        self._serve_inference(self.encoder)
        self.encoder.run_every_path()  # prepare() built the int8 graph; now on the workers
        self.skill_extractor.extract("Sử dụng Excel thành thạo, lập báo cáo tài chính", k=3)
        self.occupation_matcher.match("giáo viên tiểu học", k=1)
        return report

    def revoke_demo_keys(self) -> int:
        """Revoke the keys ``--demo`` made (production must not accept them)."""
        import json

        marker = self.settings.state_dir / "demo.json"
        if not marker.exists():
            return 0
        demo = json.loads(marker.read_text(encoding="utf-8"))
        return sum(self.store.revoke_keys(key=demo[name]) for name in ("employer_key", "admin_key")
                   if demo.get(name))  # fmt: skip

    def _serve_inference(self, encoder: Encoder) -> None:
        self._serving = True
        if not self.settings.inference_workers:
            return
        encoder.start_workers(
            max_batch=self.settings.inference_max_batch,
            max_wait=self.settings.inference_max_wait_ms / 1000,
            max_queued=self.settings.inference_max_queued,
        )

    def stop(self) -> None:
        """Stop the inference workers (what is queued is finished first)."""
        self._serving = False
        self.encoder.stop_workers()

    def _skills(
        self, declared: list[str], text: str, *, found_essential: bool, k: int, thorough: bool
    ) -> list[SkillRef]:
        """Declared skill names resolved to ESCO (essential), then skills found in ``text``
        that were not declared. ``thorough=False``: verbatim labels only, no model call."""
        extractor = self.skill_extractor
        given = resolve_skill_names(extractor, declared, essential=True)
        if not text.strip():
            return given
        matches = extractor.extract(text, k=k) if thorough else extractor.extract_exact(text, k=k)
        known = {skill.uri for skill in given}
        found = skill_refs(matches, self.taxonomy, essential=found_essential)
        return given + [skill for skill in found if skill.uri not in known]

    def _write(self, records: list[Any], store_write: Callable[[list[Any]], Any]) -> Any:
        """Embed ``records`` (postings or profiles), then store them, then index them.

        Embedding comes first, so a record the model cannot embed is rejected (422) before
        anything is stored; the store write and the index write happen under the write lock.
        Returns what ``store_write`` returns."""
        jobs = bool(records) and isinstance(records[0], JobPosting)
        catalog = self.catalog
        vectors = catalog.job_vectors(records) if jobs else catalog.candidate_vectors(records)
        with self._writes:
            if catalog is not self.catalog:  # a reload swapped the encoder meanwhile
                catalog, vectors = self.catalog, None
            result = store_write(records)
            faults.point("store-to-index")
            if jobs:
                catalog.index_jobs(records, vectors)
            else:
                catalog.index_candidates(records, vectors)
        return result

    # ------------------------------------------------------------------ jobs
    def build_job(
        self,
        data: JobPostingIn,
        *,
        job_id: str | None = None,
        employer_id: str | None = None,
        created_at: dt.datetime | None = None,
        thorough: bool = True,
        occupation: str | None = None,
    ) -> JobPosting:
        """A posting with its ESCO occupation (given, else the best match for the title) and
        its ESCO skills: the required ones (essential) and those found in the description
        (optional). With ``thorough=False`` only verbatim labels are looked for in the
        description (no model call per phrase). ``occupation``: the title's match, when the
        caller has already computed it for many postings at once."""
        if data.occupation:
            given = self.taxonomy.find_occupation(data.occupation)
            if given is None or data.occupation not in (given.uri, given.uri.rsplit("/", 1)[-1]):
                raise InvalidInputError(
                    f"occupation {data.occupation!r} is not an ESCO occupation URI or UUID; "
                    "leave it out to have it found from the title"
                )
            occupation = given.uri
        elif occupation is None:
            occupation = self.occupation_matcher.match(data.title, k=1)[0].uri
        # the title comes on top of a description that may be as long as the text limit
        room = self.settings.max_text_chars - len(data.title) - 1
        text = f"{data.title}\n{data.description[:room]}" if data.description.strip() else ""
        skills = self._skills(
            data.required_skills,
            text,
            found_essential=False,
            k=EXTRACTED_JOB_SKILLS,
            thorough=thorough,
        )
        stamp = now()
        return JobPosting(
            **data.model_dump(include=set(JobPostingIn.model_fields) - {"occupation"}),
            occupation=occupation,
            id=job_id or str(uuid.uuid4()),
            employer_id=employer_id,
            skills=skills,
            created_at=created_at or stamp,
            updated_at=stamp,
        )

    def create_jobs(
        self, items: list[JobPostingIn], principal: Principal, *,
        remember: Callable[[list[JobPosting]], Remember] | None = None,
    ) -> list[JobPosting]:
        """Store postings (all or none), then index them. Large imports look for skills in the
        descriptions verbatim only, so a 1,000-row upload takes seconds, not minutes.
        ``remember``: the idempotency key and the answer to keep with the postings, in the same
        transaction (see :mod:`matcher.idempotency`)."""
        employer_id = _employer_of(principal)
        for item in items:
            self._check_programme_tag(item.programme, principal)
        thorough = len(items) <= THOROUGH_IMPORT_ROWS
        unknown = [i for i, item in enumerate(items) if not item.occupation]
        found = self.occupation_matcher.match_many([items[i].title for i in unknown], k=1)
        occupations = {i: matches[0].uri for i, matches in zip(unknown, found, strict=True)}
        jobs = [
            self.build_job(item, employer_id=employer_id, thorough=thorough,
                           occupation=occupations.get(i))
            for i, item in enumerate(items)
        ]  # fmt: skip
        kept = remember(jobs) if remember else None
        self._write(jobs, lambda records: self.store.add_jobs(records, remember=kept))
        return jobs

    def _check_programme_tag(self, programme_id: str | None, principal: Principal) -> None:
        """Only an employer an admin registered as the programme's operator (or an admin) may
        tag a posting with a state programme: brokers impersonating the programmes are the
        fraud the provinces warn about."""
        if not programme_id:
            return
        if self.programmes.get(programme_id) is None:  # in a body: a 422, not a 404
            raise InvalidInputError(self._unknown_programme(programme_id))
        if principal.role == "admin" or self.store.operates(principal.employer_id, programme_id):
            return
        raise ForbiddenError(
            f"only a registered operator of programme {programme_id!r} may tag postings with "
            "it; ask an admin to register your employer account as its operator, or leave "
            "programme out"
        )

    def add_operator(self, employer_id: str, programme_id: str, principal: Principal) -> None:
        """Register an employer as an operator of a programme (admin)."""
        self.programme(programme_id)
        self.store.add_operator(employer_id, programme_id)
        self.store.audit(principal.actor, "add_operator", f"{employer_id}:{programme_id}")

    def get_job(self, job_id: str) -> JobPosting:
        return self.store.get_job(job_id)

    def list_jobs(self, principal: Principal, *, limit: int = 50, offset: int = 0
                  ) -> tuple[int, list[JobPosting]]:  # fmt: skip
        """The caller's postings, newest first (every posting for the admin key)."""
        owner = None if principal.role == "admin" else principal.employer_id
        return self.store.list_jobs(owner, limit=limit, offset=offset)

    def _owned_job(self, job_id: str, principal: Principal) -> JobPosting:
        job = self.store.get_job(job_id)
        if principal.role != "admin" and job.employer_id != principal.employer_id:
            raise ForbiddenError(f"job {job_id} belongs to another employer")
        return job

    def replace_job(self, job_id: str, data: JobPostingIn, principal: Principal) -> JobPosting:
        current = self._owned_job(job_id, principal)
        if data.programme != current.programme:
            self._check_programme_tag(data.programme, principal)
        job = self.build_job(
            data, job_id=job_id, employer_id=current.employer_id, created_at=current.created_at
        )
        self._write([job], lambda jobs: self.store.replace_job(jobs[0]))
        return job

    def delete_job(self, job_id: str, principal: Principal) -> None:
        self._owned_job(job_id, principal)
        with self._writes:
            self.store.delete_job(job_id)
            self.catalog.drop_job(job_id)

    # ------------------------------------------------------------------ candidates
    def build_candidate(
        self,
        data: CandidateProfileIn,
        *,
        candidate_id: str | None = None,
        created_at: dt.datetime | None = None,
        thorough: bool = True,
    ) -> Candidate:
        """A profile with its ESCO skills: declared ones plus those found in the text. With
        ``thorough=False`` only verbatim labels are looked for in the text (no model call)."""
        unknown = [g for g in data.priority_groups if g not in self.programmes.groups]
        if unknown:
            raise InvalidInputError(
                f"unknown priority group {', '.join(map(repr, unknown))}; use one of "
                f"{', '.join(sorted(self.programmes.groups))}"
            )
        room = self.settings.max_text_chars - len(data.former_position or "") - 1
        text = "\n".join(part for part in (data.former_position or "", data.text[:room])
                         if part.strip())  # fmt: skip
        skills = self._skills(
            data.skills, text, found_essential=True, k=EXTRACTED_PROFILE_SKILLS, thorough=thorough
        )
        stamp = now()
        return Candidate(
            **data.model_dump(include=set(CandidateProfileIn.model_fields)),
            id=candidate_id or str(uuid.uuid4()),
            skills_found=skills,
            created_at=created_at or stamp,
            updated_at=stamp,
        )

    def create_candidate(
        self, data: CandidateProfileIn, *,
        remember: Callable[[Candidate], Remember] | None = None,
    ) -> tuple[Candidate, str]:
        """Store a profile, index it, and return it with the owner's token. ``remember``: as
        for :meth:`create_jobs` (the answer is rendered with the new token)."""
        candidate = self.build_candidate(data)
        kept = remember(candidate) if remember else None
        tokens = self._write(
            [candidate], lambda people: [self.store.add_candidate(people[0], remember=kept)]
        )
        return candidate, tokens[0]

    def _own_candidate(self, candidate_id: str, token: str | None) -> Candidate:
        if not token:
            raise UnauthorizedError("send the candidate token as 'Authorization: Bearer <token>'")
        if not self.store.candidate_token_matches(candidate_id, token):
            raise ForbiddenError("this token does not open this profile")
        return self.store.get_candidate(candidate_id)

    def get_candidate(self, candidate_id: str, token: str | None) -> Candidate:
        return self._own_candidate(candidate_id, token)

    def replace_candidate(
        self, candidate_id: str, token: str | None, data: CandidateProfileIn
    ) -> Candidate:
        current = self._own_candidate(candidate_id, token)
        candidate = self.build_candidate(
            data, candidate_id=candidate_id, created_at=current.created_at
        )
        self._write([candidate], lambda people: self.store.replace_candidate(people[0]))
        return candidate

    def delete_candidate(self, candidate_id: str, token: str | None) -> None:
        """Erase the profile, its feedback links and its vectors."""
        self._own_candidate(candidate_id, token)
        with self._writes:
            self.store.delete_candidate(candidate_id)
            self.catalog.drop_candidate(candidate_id)

    # ------------------------------------------------------------------ ranking
    def recommend_jobs(
        self,
        candidate: Candidate,
        *,
        k: int = 10,
        filters: JobFilters | None = None,
        lang: Lang = "vi",
    ) -> list[RankedJob]:
        """Jobs for a candidate: FAISS retrieval, then re-ranking with features, explained.

        A candidate whose former position is in the public-sector map also gets postings of
        that position's best transition targets retrieved, and a ``transition`` feature."""
        _check_k(k)
        jobs, pairs = self.job_pairs(candidate, filters=filters, lang=lang,
                                     retrieve=max(k * RETRIEVE_FACTOR, MIN_RETRIEVE))  # fmt: skip
        ranked = self._rank(pairs, k, lang)
        return [
            RankedJob(job=jobs[i], score=score, features=features, explanation=explanation,
                      programme=self._programme_summary(jobs[i].programme, lang),
                      eligibility=self._posting_eligibility(jobs[i].programme, candidate, lang))
            for i, score, features, explanation in ranked
        ]  # fmt: skip

    def job_pairs(
        self, candidate: Candidate, *, filters: JobFilters | None = None, lang: Lang = "vi",
        retrieve: int | None = None,
    ) -> tuple[list[JobPosting], list[tuple[Seeker, Opening, float]]]:
        """The postings retrieved for a candidate (programme postings the candidate is not
        eligible for left out), each with the (seeker, opening, similarity) the ranker reads.
        Recommendations rank these; training and evaluation compute their features."""
        catalog = self.catalog  # one snapshot: a reload swaps the encoder and index together
        query = catalog.encoder.encode([candidate_text(candidate)], kind="query")
        keep = _job_filter(filters) if filters else None
        seeker = _seeker(candidate, self._transition_targets(candidate, lang))
        with catalog.lock:
            [hits] = catalog.jobs.search(query, retrieve or MIN_RETRIEVE, where=keep)
            if seeker.transitions:
                targets = seeker.transitions

                def in_targets(meta: Mapping[str, Any]) -> bool:
                    return meta.get("occupation") in targets and (keep is None or keep(meta))

                [extra] = catalog.jobs.search(query, TRANSITION_JOBS, where=in_targets)
                seen = {hit.id for hit in hits}
                hits = hits + [hit for hit in extra if hit.id not in seen]
        jobs = self.store.get_jobs([hit.id for hit in hits])
        eligible, boosted = self._programme_fit(
            candidate, {job.programme for job in jobs.values() if job.programme}
        )
        found = [
            (jobs[hit.id], hit.score)
            for hit in hits
            if hit.id in jobs  # a record the store no longer has is never returned
            and (jobs[hit.id].programme is None or jobs[hit.id].programme in eligible
                 or self.programmes.get(jobs[hit.id].programme or "") is None)
        ]  # fmt: skip
        pairs = [
            (replace(seeker, priority=self._group_names(boosted.get(job.programme or "", []), lang)),
             _opening(job), score)
            for job, score in found
        ]  # fmt: skip
        return [job for job, _ in found], pairs

    def _transition_targets(self, candidate: Candidate, lang: Lang) -> dict[str, tuple[float, str]]:
        """Best transition targets of a public-sector former position: uri -> (score relative
        to the best, name in ``lang``); empty when the position is not in the map."""
        found = self.positions.resolve(candidate.former_position or "")
        if found is None:
            return {}
        ranker, cache = self.transition_ranker, self._targets  # one snapshot across a reload
        key = (found.position.id, lang)
        with self._targets_lock:
            targets = cache.get(key)
        if targets is None:  # a pure function of the position and the model
            targets = ranker.rank(self._position_origin(found.position), TRANSITION_TARGETS,
                                  lang=lang)  # fmt: skip
            with self._targets_lock:
                cache[key] = targets
                while len(cache) > 4096:
                    cache.pop(next(iter(cache)))
        best = max((t.score for t in targets), default=0.0) or 1.0
        return {
            t.uri: (round(t.score / best, 4), (t.label_vi or t.label) if lang == "vi" else t.label)
            for t in targets
        }

    def rank_candidates(
        self, job_id: str, principal: Principal, *, k: int = 10, lang: Lang = "vi"
    ) -> CandidateRanking:
        """Consenting candidates for an employer's own posting; no names or contacts. For a
        programme posting, only candidates eligible for the programme, with the priority boost.

        A candidate's priority group (poor or near-poor household, ethnic minority, ...) is
        vulnerable status: it never reaches the employer, in no feature, reason or note. The
        boost still applies; the employer is told once, generally, that the programme's
        priority rules are part of the ranking."""
        _check_k(k)
        job = self._owned_job(job_id, principal)
        candidates, pairs = self.candidate_pairs(
            job, lang=lang, retrieve=max(k * RETRIEVE_FACTOR, MIN_RETRIEVE)
        )
        ranked = self._rank(pairs, k, lang, employer_view=True)
        self.store.audit(principal.actor, "candidate_search", job_id, len(ranked))
        programme = self.programmes.get(job.programme) if job.programme else None
        notes = [PRIORITY_RULES_NOTE[lang]] if programme and programme.support.priority_groups else []
        return CandidateRanking(
            results=[
                RankedCandidate(candidate=candidate_view(candidates[i]), score=score,
                                features=features, explanation=explanation)
                for i, score, features, explanation in ranked
            ],
            notes=notes,
        )  # fmt: skip

    def candidate_pairs(
        self, job: JobPosting, *, lang: Lang = "vi", retrieve: int | None = None
    ) -> tuple[list[Candidate], list[tuple[Seeker, Opening, float]]]:
        """The consenting candidates retrieved for a posting (for a programme posting, the
        eligible ones), each with the (seeker, opening, similarity) the ranker reads."""
        programme = self.programmes.get(job.programme) if job.programme else None
        catalog = self.catalog
        query = catalog.encoder.encode([job_text(job)], kind="query")
        with catalog.lock:
            [hits] = catalog.candidates.search(
                query, retrieve or MIN_RETRIEVE, where={"consent": True}
            )
        candidates = self.store.get_candidates([hit.id for hit in hits])
        opening = _opening(job)
        found = [
            (candidates[hit.id], hit.score)
            for hit in hits
            if hit.id in candidates and candidates[hit.id].consent_to_be_found
        ]
        if programme is not None:
            last_checked = self.programmes.last_checked
            found = [(c, score) for c, score in found
                     if check_eligibility(programme, c, last_checked=last_checked).eligible]  # fmt: skip
        supported = set(programme.support.priority_groups) if programme else set()
        pairs = [
            (replace(_seeker(c), priority=self._group_names(
                [g for g in c.priority_groups if g in supported], lang)), opening, score)
            for c, score in found
        ]  # fmt: skip
        return [c for c, _ in found], pairs

    def skill_gaps(
        self,
        candidate: Candidate,
        *,
        k: int = 10,
        filters: JobFilters | None = None,
        lang: Lang = "vi",
        pool: int | None = None,
    ) -> SkillGaps:
        """The candidate's missing skills, ranked by how many open postings (matching
        ``filters``, among the ``pool`` closest to the profile) learning each would unlock or
        improve."""
        _check_k(k)
        catalog = self.catalog
        query = catalog.encoder.encode([candidate_text(candidate)], kind="query")
        where = _job_filter(filters or JobFilters())
        with catalog.lock:
            [hits] = catalog.jobs.search(query, pool or SKILL_GAP_POOL, where=where)
        jobs = self.store.get_jobs([hit.id for hit in hits])
        today = dt.date.today()
        found = [jobs[hit.id] for hit in hits if hit.id in jobs]
        open_jobs = [job for job in found if job.deadline is None or job.deadline >= today]
        place = (filters.province if filters else None) or None
        gaps = rank_gaps(
            frozenset(s.uri for s in candidate.skills_found), open_jobs, self.taxonomy,
            self.training_routes, k=k, lang=lang, place=place,
        )  # fmt: skip
        return SkillGaps(postings_considered=len(open_jobs), gaps=gaps)

    def _rank(
        self, pairs: list[tuple[Seeker, Opening, float]], k: int, lang: Lang,
        *, employer_view: bool = False,
    ) -> list[tuple[int, float, dict[str, float], Explanation]]:
        """Score (seeker, opening, similarity) pairs with the ranker and explain the top ``k``:
        ``(position in pairs, score, features, explanation)``, best first. ``employer_view``:
        the features and reasons leave out the priority group (vulnerable status)."""
        rows = [
            match_features(seeker, opening, similarity) for seeker, opening, similarity in pairs
        ]
        scores = self.ranker.score(rows)
        best = sorted(range(len(rows)), key=lambda i: -scores[i])[:k]
        hidden = EMPLOYER_HIDDEN_FEATURES if employer_view else frozenset()
        return [
            (
                i,
                round(scores[i], 4),
                {name: round(value, 4) for name, value in rows[i].items() if name not in hidden},
                explain(replace(pairs[i][0], priority=()) if employer_view else pairs[i][0],
                        pairs[i][1], rows[i], lang),
            )
            for i in best
        ]  # fmt: skip

    def record_feedback(
        self,
        feedback: FeedbackIn,
        *,
        principal: Principal | None = None,
        candidate_token: str | None = None,
        remember: Remember | None = None,
    ) -> int:
        """Record a feedback event from the job's employer (or an admin) or the candidate."""
        if principal is not None:
            self._owned_job(feedback.job_id, principal)
            actor = f"{principal.role}:{principal.employer_id or ''}"
        elif candidate_token is not None:
            self._own_candidate(feedback.candidate_id, candidate_token)
            actor = "candidate"
        else:
            raise UnauthorizedError("send an employer key or the candidate's token")
        return self.store.add_feedback(
            feedback.job_id, feedback.candidate_id, feedback.event, actor, remember=remember
        )


THOROUGH_IMPORT_ROWS = 50
#: Features an employer never sees: ``priority`` says the person is in a vulnerable group.
EMPLOYER_HIDDEN_FEATURES = frozenset({"priority"})
PRIORITY_RULES_NOTE: dict[str, str] = {
    "vi": "Thứ tự xếp hạng có áp dụng quy định ưu tiên của chương trình (không cho biết ứng viên "
    "nào được ưu tiên).",
    "en": "The ranking applies the programme's priority rules (it does not say which candidate "
    "they apply to).",
}
# How many postings/profiles are retrieved per result before re-ranking.
RETRIEVE_FACTOR = 10
MIN_RETRIEVE = 100
#: ISCO-08 skill level a qualification reaches: a rank held with a vocational diploma
#: (trung cấp) does not open moves that need a degree, whatever the rank's ISCO group says.
ISCO_LEVEL_OF_EDUCATION = {"none": 1, "lower-secondary": 2, "upper-secondary": 2,
                           "vocational": 2, "college": 3, "bachelor": 4}  # fmt: skip
#: Open postings, closest to the profile, whose skills a skill-gap analysis counts.
SKILL_GAP_POOL = 100
#: Transition targets whose postings join a public-sector candidate's recommendations, and how
#: many such postings are retrieved.
TRANSITION_TARGETS = 8
TRANSITION_JOBS = 30
EXTRACTED_JOB_SKILLS = 12
EXTRACTED_PROFILE_SKILLS = 25


def _looks_like_id(text: str) -> bool:
    return text.startswith(("http://", "https://")) or bool(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
    )


def _origin(uris: list[str], via: str, taxonomy: Taxonomy) -> OriginInfo:
    first = taxonomy.occupations[uris[0]]
    return OriginInfo(
        uris=uris, label=first.label, label_vi=first.vi_labels[0] if first.vi_labels else None,
        via=via, skill_level=first.skill_level,
    )  # fmt: skip


def _check_k(k: int) -> None:
    if not 1 <= k <= 100:
        raise InvalidInputError("k must be between 1 and 100")


def _employer_of(principal: Principal) -> str | None:
    if principal.role == "employer":
        return principal.employer_id
    if principal.role == "admin":
        return None
    raise ForbiddenError("only employers and admins can publish postings")


def _job_filter(filters: JobFilters) -> Callable[[Mapping[str, Any]], bool]:
    province = fold(filters.province) if filters.province else None
    country = filters.country.upper() if filters.country else None

    def keep(meta: Mapping[str, Any]) -> bool:
        if province and fold(meta.get("province") or "") != province:
            return False
        if country and meta.get("country") != country:
            return False
        if filters.remote is not None and bool(meta.get("remote")) != filters.remote:
            return False
        if filters.min_salary is not None:
            best = meta.get("salary_max") or meta.get("salary_min")
            if best is None or best < filters.min_salary:
                return False
        return not filters.programme or meta.get("programme") == filters.programme

    return keep


def _seeker(
    candidate: Candidate, transitions: Mapping[str, tuple[float, str]] | None = None
) -> Seeker:
    return Seeker(
        transitions=transitions or {},
        origin=candidate.former_position if transitions else None,
        skills=frozenset(s.uri for s in candidate.skills_found),
        languages=tuple(candidate.languages),
        province=candidate.province,
        willing_to_relocate=candidate.willing_to_relocate,
        willing_to_work_abroad=candidate.willing_to_work_abroad,
        preferred_countries=tuple(candidate.preferred_countries),
        years_experience=candidate.years_experience,
    )


def _opening(job: JobPosting) -> Opening:
    return Opening(
        skills=tuple(job.skills),
        languages=tuple(job.languages),
        province=job.province,
        country=job.country,
        remote=job.remote,
        min_experience_years=job.min_experience_years,
        occupation=job.occupation,
    )


def candidate_view(candidate: Candidate) -> CandidateView:
    """What an employer may see: no name, no contact, no free text."""
    return CandidateView(
        id=candidate.id,
        former_position=candidate.former_position,
        sector=candidate.sector,
        years_experience=candidate.years_experience,
        education=candidate.education,
        languages=candidate.languages,
        province=candidate.province,
        willing_to_relocate=candidate.willing_to_relocate,
        willing_to_work_abroad=candidate.willing_to_work_abroad,
        skills=candidate.skills_found,
    )


def load_demo(
    service: MatcherService, *, jobs: int = 2000, candidates: int = 500, seed: int = 7
) -> dict[str, Any]:
    """Load the synthetic demo set once (later calls return what the first one made)."""
    import json

    from matcher.demo import DEMO_PREFIX, DemoGenerator

    marker = service.settings.state_dir / "demo.json"
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    generator = DemoGenerator(
        service.taxonomy, service.settings.project_data_dir, seed, service.programmes
    )
    employer_id, employer_key = service.store.create_employer_key(
        f"{DEMO_PREFIX} Trung tâm Dịch vụ việc làm"
    )
    admin_key = service.store.create_admin_key()
    for programme in service.programmes.programmes:  # the demo centre posts programme jobs
        service.store.add_operator(employer_id, programme.id)
    postings = [
        service.build_job(generator.posting(), employer_id=employer_id, thorough=False)
        for _ in range(jobs)
    ]
    service.store.add_jobs(postings)
    service.catalog.index_jobs(postings)
    tokens = {}
    profiles = [
        service.build_candidate(generator.profile(n), thorough=False) for n in range(candidates)
    ]
    for profile in profiles:
        tokens[profile.id] = service.store.add_candidate(profile)
    service.catalog.index_candidates(profiles)
    service.catalog.save()
    first = profiles[0]
    summary = {
        "jobs": jobs,
        "candidates": candidates,
        "employer_key": employer_key,
        "admin_key": admin_key,
        "example_job_id": postings[0].id,
        "example_candidate_id": first.id,
        "example_candidate_token": tokens[first.id],
        "note": "synthetic demo data; every record is marked [DEMO]",
    }
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


class ReloadStatus:
    """What a reload is doing, for ``GET /v1/admin/reload`` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"state": "idle"}

    def begin(self, before: dict[str, str]) -> None:
        with self._lock:
            self._state = {"state": "running", "phase": "starting", "before": before,
                           "started_at": now().isoformat(), "done": 0, "total": 0}  # fmt: skip
            self._started = time.perf_counter()

    def update(self, **values: Any) -> None:
        with self._lock:
            self._state |= values

    def finish(self, served: dict[str, str], *, changed_encoder: bool) -> None:
        with self._lock:
            self._state |= {"state": "done", "phase": "swapped", "served": served,
                            "changed_encoder": changed_encoder, "finished_at": now().isoformat(),
                            "seconds": round(time.perf_counter() - self._started, 1)}  # fmt: skip

    def fail(self, error: Exception) -> None:
        with self._lock:
            self._state |= {"state": "failed", "error": f"{type(error).__name__}: {error}",
                            "finished_at": now().isoformat()}  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state)
