"""The use cases the edges (the API, the CLI, training) call, over one :class:`Runtime`.

Each feature is a module of small functions whose first argument is the runtime
(:mod:`~matcher.services.jobs`, :mod:`~.candidates`, :mod:`~.matching`, :mod:`~.careers`,
:mod:`~.programmes`, :mod:`~.feedback`, :mod:`~.analysis`, :mod:`~.access`, :mod:`~.demo`).
:class:`MatcherService` binds them to one runtime for callers that hold a single object; it
holds no logic of its own. The names the edges need from the library's records and errors are
re-exported here, so the edges import ``matcher.services``, ``settings``, ``errors`` and
``schemas`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from matcher.careers.skill_gaps import TrainingRoutes
from matcher.careers.transitions import TransitionRanker
from matcher.idempotency import MAX_KEY_CHARS, Answer, Idempotency, body_digest
from matcher.ingest import parse_job_rows
from matcher.nlp.encoder import Encoder
from matcher.nlp.occupations import OccupationMatcher
from matcher.nlp.skills import SkillExtractor
from matcher.programmes.rules import FactCount, PriorityGroup, Programme, ProgrammeCatalog, Source
from matcher.ranking.features import Ranker
from matcher.reference.certificates import Certificate, CertificateBook
from matcher.reference.positions import PositionMap
from matcher.reference.provinces import COMMUNES_SOURCE, Commune, Province
from matcher.reference.taxonomy import ACKNOWLEDGEMENT, Taxonomy
from matcher.screening import Commercial, JobReview, Signal
from matcher.search.catalog import Catalog, Progress
from matcher.services import (
    access,
    admin,
    analysis,
    candidates,
    careers,
    centres,
    connections,
    demo,
    fairness,
    feedback,
    jobs,
    matching,
    places,
    screening,
)
from matcher.services import programmes as programme_cases
from matcher.services.runtime import Parts, ReloadStatus, Runtime, Worker, store_as_saved
from matcher.settings import Settings
from matcher.store import DuplicateRequestError, Principal, Remember, Store, hash_secret

__all__ = [
    "ACKNOWLEDGEMENT",
    "COMMUNES_SOURCE",
    "MAX_KEY_CHARS",
    "Answer",
    "Certificate",
    "Commercial",
    "DuplicateRequestError",
    "FactCount",
    "Idempotency",
    "JobReview",
    "MatcherService",
    "Parts",
    "Principal",
    "PriorityGroup",
    "Programme",
    "Progress",
    "Remember",
    "Runtime",
    "Signal",
    "Source",
    "Worker",
    "body_digest",
    "hash_secret",
    "parse_job_rows",
    "store_as_saved",
]  # fmt: skip

P = ParamSpec("P")
R = TypeVar("R")


def _bound(
    use_case: Callable[Concatenate[Runtime, P], R],
) -> Callable[Concatenate[MatcherService, P], R]:
    def method(self: MatcherService, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return use_case(self.runtime, *args, **kwargs)

    method.__name__ = use_case.__name__
    method.__doc__ = use_case.__doc__
    return method


class MatcherService:
    """Every use case bound to one :class:`Runtime` (``MatcherService(settings)``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        encoder: Encoder | None = None,
        load_encoder: Callable[[str], Encoder] | None = None,
    ) -> None:
        self.runtime = Runtime(settings, encoder=encoder, load_encoder=load_encoder)

    # ------------------------------------------------------------------ what is loaded
    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def taxonomy(self) -> Taxonomy:
        return self.runtime.reference.taxonomy

    @property
    def parts(self) -> Parts:
        return self.runtime.parts

    @property
    def catalog(self) -> Catalog:
        return self.runtime.parts.catalog

    @property
    def reload_status(self) -> ReloadStatus:
        return self.runtime.reload_status

    @property
    def served(self) -> dict[str, str]:
        return dict(self.runtime.parts.served)

    @property
    def encoder(self) -> Encoder:
        return self.runtime.parts.encoder

    @property
    def ranker(self) -> Ranker:
        return self.runtime.parts.ranker

    @property
    def occupation_matcher(self) -> OccupationMatcher:
        return self.runtime.parts.models.occupations

    @property
    def skill_extractor(self) -> SkillExtractor:
        return self.runtime.parts.models.skills

    @property
    def transition_ranker(self) -> TransitionRanker:
        return self.runtime.parts.models.transitions

    @property
    def positions(self) -> PositionMap:
        return self.runtime.reference.positions

    @property
    def training_routes(self) -> TrainingRoutes:
        return self.runtime.reference.training_routes

    @property
    def programmes(self) -> ProgrammeCatalog:
        return self.runtime.reference.programmes

    @property
    def certificates(self) -> CertificateBook:
        """Tests and certificates earned abroad, mapped to languages and ESCO skills."""
        return self.runtime.reference.certificates

    @property
    def provinces(self) -> list[Province]:
        return self.runtime.reference.provinces

    @property
    def former_provinces(self) -> dict[str, str]:
        """The 63 provinces before the July 2025 merger, each with the one it is part of now."""
        return self.runtime.reference.places.former_provinces

    def communes(self, province: str) -> tuple[str, list[Commune]]:
        return places.communes(self.runtime, province)

    # ------------------------------------------------------------------ life cycle
    def prepare(self) -> dict[str, int]:
        return self.runtime.prepare()

    def start(self, progress: Progress | None = None, *, worker: Worker | None = None) -> object:
        return self.runtime.start(progress, worker=worker)

    def stop(self) -> None:
        self.runtime.stop()

    def load_ranker(self, spec: str) -> Ranker:
        """A ranker by spec (``weighted`` or an MLflow URI), not served: for comparisons."""
        return self.runtime.load_ranker(spec)

    def close(self) -> None:
        fairness.stop_audits()
        self.runtime.close()

    def reload(self, progress: Progress | None = None) -> dict[str, object]:
        return self.runtime.reload(progress)

    # ------------------------------------------------------------------ use cases
    authenticate = _bound(access.authenticate)
    principal_of = _bound(access.principal_of)
    count_request = _bound(access.count_request)
    recall = _bound(access.recall)
    match_occupations = _bound(analysis.match_occupations)
    extract_skills = _bound(analysis.extract_skills)
    embed = _bound(analysis.embed)
    resolve_origin = _bound(careers.resolve_origin)
    transitions = _bound(careers.transitions)
    skill_gaps = _bound(careers.skill_gaps)
    build_job = _bound(jobs.build_job)
    create_jobs = _bound(jobs.create_jobs)
    get_job = _bound(jobs.get_job)
    list_jobs = _bound(jobs.list_jobs)
    replace_job = _bound(jobs.replace_job)
    delete_job = _bound(jobs.delete_job)
    build_candidate = _bound(candidates.build_candidate)
    create_candidate = _bound(candidates.create_candidate)
    get_candidate = _bound(candidates.get_candidate)
    replace_candidate = _bound(candidates.replace_candidate)
    delete_candidate = _bound(candidates.delete_candidate)
    recommend_jobs = _bound(matching.recommend_jobs)
    job_pairs = _bound(matching.job_pairs)
    rank_candidates = _bound(matching.rank_candidates)
    candidate_pairs = _bound(matching.candidate_pairs)
    programme = _bound(programme_cases.programme)
    eligibility = _bound(programme_cases.eligibility)
    all_eligibility = _bound(programme_cases.all_eligibility)
    add_operator = _bound(programme_cases.add_operator)
    record_feedback = _bound(feedback.record_feedback)
    create_centre = _bound(centres.create_centre)
    centre_candidates = _bound(centres.centre_candidates)
    centre_export = _bound(centres.centre_export)
    aggregates = _bound(centres.aggregates)
    invite = _bound(connections.invite)
    job_invitations = _bound(connections.job_invitations)
    my_invitations = _bound(connections.my_invitations)
    decide_invitation = _bound(connections.decide)
    apply = _bound(connections.apply)
    withdraw_application = _bound(connections.withdraw_application)
    my_applications = _bound(connections.my_applications)
    job_applications = _bound(connections.job_applications)
    begin_reload = _bound(admin.begin_reload)
    begin_audit = _bound(fairness.begin_audit)
    audit_status = _bound(fairness.audit_status)
    audit_file = _bound(fairness.audit_file)
    reload_info = _bound(admin.reload_status)
    quarantined = _bound(admin.quarantined)
    revoke_key = _bound(admin.revoke_key)
    revoke_employer_keys = _bound(admin.revoke_employer_keys)
    audit_log = _bound(admin.audit_log)
    create_key = _bound(admin.create_key)
    revoke_keys = _bound(admin.revoke_keys)
    gauges = _bound(admin.gauges)
    report_job = _bound(screening.report)
    review_queue = _bound(screening.review_queue)
    review_job = _bound(screening.decide)
    evaluate_screening = _bound(screening.evaluate)
    add_jobs = _bound(jobs.add_built)
    add_candidates = _bound(candidates.add_built)
    load_demo = _bound(demo.load_demo)
    revoke_demo_keys = _bound(demo.revoke_demo_keys)


def load_demo(service: MatcherService, **options: int) -> dict[str, object]:
    """The demo set for a service (see :func:`matcher.services.demo.load_demo`)."""
    return demo.load_demo(service.runtime, **options)
