"""One typed settings object, read from ``MATCHER_*`` environment variables.

Build it only at the edges (CLI, API, training entry points); library classes take explicit
arguments.
"""

from __future__ import annotations

import logging
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The checkout this package was installed from (``pip install -e``); defaults hang off it.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class IndexConfig(BaseModel):
    """How the FAISS structure is chosen (``MATCHER_INDEX__*`` settings)."""

    model_config = ConfigDict(frozen=True)

    #: Where the job and candidate vectors live: ``faiss``, index files beside each server
    #: (the embedded default); ``pgvector``, tables in the PostgreSQL store that every replica
    #: shares (needs a PostgreSQL ``MATCHER_STORE_URL`` with the ``vector`` extension)
    backend: Literal["faiss", "pgvector"] = "faiss"
    #: Below this many vectors search is exact (inner product); above it, ``ann``.
    exact_threshold: int = 50_000
    #: ``compressed``: an IVF index of 8-bit codes (FAISS IVF-SQ8), the vectors kept only as
    #: codes (a quarter of float32): a million postings in under 0.6 GiB, everything resident
    #: included, at some cost in recall and in filtered latency (docs/scaling.md)
    ann: Literal["hnsw", "ivf", "compressed"] = "hnsw"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 64
    #: How an HNSW index keeps its vectors (once, in the graph's storage): ``fp32``, or
    #: ``fp16`` for half the memory (docs/scaling.md has the recall and latency of each).
    hnsw_vectors: Literal["fp32", "fp16"] = "fp32"
    ivf_nlist: int = 1024
    ivf_nprobe: int = 64
    #: A filtered search that allows at most this many rows is exact over them; one that
    #: allows more searches the ANN structure restricted to them ...
    exact_subset_limit: int = Field(5_000, ge=0)
    #: ... unless it allows under this share of the rows: a graph search restricted to so few
    #: looks far (1M rows, 0.9% allowed: 27 ms against 7 ms exact; docs/benchmarks.md).
    ann_min_share: float = Field(0.02, ge=0.0, le=1.0)
    #: Filters whose allowed rows are remembered until the index changes (a mask of one byte
    #: per row each: 1 MB at a million rows); 0 turns it off.
    filter_cache: int = Field(32, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MATCHER_", env_nested_delimiter="__", extra="ignore"
    )

    #: ``development`` (default) or ``production``: in production ``--demo`` is refused, the
    #: demo keys are revoked at start-up, and the server listens only on loopback unless
    #: ``allow_public_bind`` is set.
    env: Literal["development", "production"] = "development"
    allow_public_bind: bool = False
    #: Public taxonomies and dev sets (ESCO v1.1.1, dev-eval). Never copied into the repo.
    data_dir: Path = Field(default_factory=lambda: PROJECT_ROOT.parent / "shared" / "data")
    #: The project's own data (Vietnamese labels, ...), shipped in the repository.
    project_data_dir: Path = PROJECT_ROOT / "data"
    #: The database, the job and candidate indexes, MLflow's store.
    state_dir: Path = PROJECT_ROOT / ".state"
    #: Derived data that can always be rebuilt: the parsed taxonomy, label vectors per model.
    #: Defaults to ``<state_dir>/cache``.
    cache_dir: Path | None = None
    #: SQLAlchemy URL of the store; default a SQLite file in the state directory.
    store_url: str | None = None
    #: Largest accepted HTTP request body, in bytes.
    max_body_bytes: int = 5_000_000
    #: Imported and trained models.
    models_dir: Path = PROJECT_ROOT / "models"
    #: ``multilingual-e5-small`` (default), ``all-MiniLM-L6-v2``, a sentence-transformers
    #: folder, or an MLflow model URI (``models:/name@alias``, ``runs:/...``).
    model: str = "multilingual-e5-small"
    #: Longest text accepted, in characters, after normalisation.
    max_text_chars: int = 20_000
    encode_batch_size: int = 128
    #: Tokens the model reads per text; postings and profiles are cut there (e5 reads up to 512,
    #: at four times the attention cost; titles and labels are far shorter).
    max_seq_length: int = 256
    #: What computes the query vectors of each request (and of ``matcher evaluate``):
    #: ``onnx-int8`` (about 2× faster on this CPU, see docs/benchmarks.md) or ``torch`` (the
    #: fp32 reference). Stored and cached vectors (postings, profiles, label indexes) are
    #: always computed in torch fp32.
    query_runtime: Literal["onnx-int8", "torch"] = "onnx-int8"
    #: Skills of an inline profile (found per request, never stored) are extracted with the
    #: text's forward pass run through ``query_runtime`` (int8: 1.5× faster; the dev-set
    #: skill measures of both paths are in docs/evaluation.md). ``false``: torch fp32, as for every
    #: stored posting and profile.
    int8_skill_spans: bool = True
    #: How skills are found in an inline profile (one sent with a request, not saved):
    #: ``full`` (the span-based extraction saved profiles get) or ``verbatim`` (labels that
    #: occur word for word only: no model call, as before; see docs/benchmarks.md).
    inline_skills: Literal["full", "verbatim"] = "full"
    #: Ranking boost for candidates in a priority group a programme supports (poor districts,
    #: ethnic minorities, demobilised soldiers and police, ...): added to the score of that
    #: programme's postings only, never taken from anyone else; every use is explained.
    priority_boost: float = Field(0.05, ge=0.0, le=0.5)
    #: The promotion gate's fairness limits: a model is refused when a counterfactual RBO
    #: (``fairness.cf_rbo.*``) or an exposure ratio in employers' top 10 (lowest group over
    #: highest, ``fairness.exposure_ratio.*``) is below these, or a group MAP gap
    #: (``fairness.map_gap.*``) above, whatever the baseline (see docs/evaluation.md).
    fairness_min_rbo: float = Field(0.8, ge=0.0, le=1.0)
    fairness_min_exposure_ratio: float = Field(0.4, ge=0.0, le=1.0)
    fairness_max_map_gap: float = Field(0.25, ge=0.0, le=1.0)
    #: The fairness audit's corpus (``full`` or ``quick``, see matcher.training.audit).
    audit_preset: Literal["full", "quick"] = "full"
    #: How postings and profiles are re-ranked: ``weighted`` (hand-set weights) or an MLflow
    #: model URI of a learned ranker (``models:/matcher-ranker@champion``).
    ranker: str = "weighted"
    #: Serve the registered champions (``matcher-encoder@champion``, ``matcher-ranker@champion``)
    #: when the tracking store has them, instead of ``model`` and ``ranker``;
    #: a reload (the admin API) switches to newer ones without a restart.
    serve_champions: bool = True
    #: MLflow tracking URI; default a SQLite file in the state directory.
    mlflow_uri: str | None = None
    #: Occupation labels embedded for title matching: ``all`` (preferred, alternative and
    #: Vietnamese) or ``preferred`` (the English preferred label only: the quick training
    #: preset's evaluation, 13× fewer to embed).
    occupation_labels: Literal["all", "preferred"] = "all"
    #: With ``all`` labels: also match titles against the real vacancy titles of the dev
    #: titles' training part (80%, ``MATCHER_DATA_DIR/dev-eval``), each an example of its
    #: occupation (:mod:`matcher.reference.titles`); skipped when the file is not there.
    title_exemplars: bool = True
    index: IndexConfig = Field(default_factory=IndexConfig)
    #: The server's inference workers (one per runtime, see matcher.nlp.inference): most texts in
    #: one micro-batch, how long a request waits for others to join it (0: not at all; texts
    #: that queue while the worker is busy form the next batch anyway), and how many texts may
    #: wait before requests are refused with 503 and Retry-After.
    #: ``false``: encode on each request's thread, one at a time (the benchmark's baseline).
    inference_workers: bool = True
    inference_max_batch: int = Field(32, ge=1, le=1024)
    inference_max_wait_ms: float = Field(0.0, ge=0.0, le=1000.0)
    inference_max_queued: int = Field(4096, ge=1)
    #: Requests the server works on at once; past it, 503 with Retry-After at once.
    max_in_flight: int = Field(64, ge=1)
    #: Requests per minute per credential (API key or candidate token), and per client
    #: address for requests without one; past it, 429 with Retry-After. 0 turns a limit off.
    rate_limit_per_key: int = Field(600, ge=0)
    rate_limit_per_address: int = Field(120, ge=0)
    #: invitations one employer may send in 24 hours (0: no limit): enough to reach a
    #: shortlist, too few to harvest contacts
    invitations_per_day: int = Field(50, ge=0)
    #: the public aggregates suppress every count under this (people in a cell)
    aggregate_min_cell: int = Field(5, ge=1)
    #: ``matcher serve --workers N``: how often each worker applies the index changes the
    #: others made (a write is searchable on the other workers within about this delay; at
    #: most 1 s), and how often the worker that writes the index files saves them (a segment
    #: with the changes, so a worker that starts later has little of the log to apply).
    follow_interval_ms: int = Field(200, ge=10, le=1000)
    index_save_seconds: int = Field(60, ge=1)
    #: This server is one of several replicas (other machines, or processes with state
    #: directories of their own) on a shared PostgreSQL store, each with its own FAISS index
    #: files: like the workers of ``matcher serve --workers N``, it logs its index changes in
    #: the store, applies the others' every ``follow_interval_ms``, and takes a PostgreSQL
    #: advisory lock for each write. Not needed with ``index.backend = "pgvector"``.
    replica: bool = False

    @model_validator(mode="after")
    def _replicas_share_a_server_store(self) -> Settings:
        if self.replica and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "MATCHER_REPLICA needs a shared PostgreSQL store: set MATCHER_STORE_URL to "
                "postgresql+psycopg://... on every replica"
            )
        return self

    @property
    def caches(self) -> Path:
        return self.cache_dir or self.state_dir / "cache"

    @property
    def database_url(self) -> str:
        return self.store_url or f"sqlite:///{self.state_dir / 'matcher.db'}"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_uri or f"sqlite:///{self.state_dir / 'mlflow.db'}"

    @property
    def esco_dir(self) -> Path:
        return self.data_dir / "esco-v1.1.1"

    @property
    def dev_eval_dir(self) -> Path:
        return self.data_dir / "dev-eval"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def configure_logging(prefix: str = "") -> None:
    """INFO and above to stderr, each line after ``prefix``; the libraries' chatter at WARNING.
    The CLI calls it, and so does each worker of ``matcher serve --workers N`` (a spawned
    process starts with no logging set up, and its INFO lines were lost)."""
    logging.basicConfig(level=logging.INFO, format=f"{prefix}%(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "httpx", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
