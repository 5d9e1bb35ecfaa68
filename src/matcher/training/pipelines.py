"""The offline training pipelines, tracked in MLflow: encoder fine-tuning and the learned ranker.

Each pipeline builds its data with the library, trains, evaluates the new model and the current
champion the same way, logs params (flattened settings and the dataset hash), metrics and
artifacts (the model, the evaluation report, the training-data card), registers the model, and
moves the ``champion`` alias to it only if it wins (the gate). ``training/`` and
``matcher train`` are thin entry points over :func:`train_encoder` and :func:`train_ranker`.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from matcher.nlp.encoder import DEFAULT_MODEL, TRAINED_NAME, Encoder, resolve_model
from matcher.ranking.learned import (
    LEARNED_FEATURES,
    LearnedRanker,
    RankerParams,
    feature_matrix,
    fit_ranker,
)
from matcher.registry import (
    CHAMPION,
    ENCODER_MODEL,
    RANKER_MODEL,
    champion,
    configure,
    experiment,
    flatten,
    promote,
    registered_version,
)
from matcher.settings import Settings
from matcher.training.datasets import build_training_set, feedback_pairs
from matcher.training.finetune import PRESETS, FinetuneConfig, finetune
from matcher.training.gate import Limits, fairness_limits, gate
from matcher.training.ranking_eval import (
    build_corpus,
    collect_queries,
    fairness_metrics,
    feedback_queries,
    load_corpus,
    ranking_metrics,
)

logger = logging.getLogger(__name__)


from matcher.training.assessment import (
    ENCODER_GATE,
    EVAL_PRESETS,
    RANKER_GATE,
    EvalPreset,
    Evaluation,
    Say,
    TrainReport,
    baseline_of,
    cached_evaluation,
    comparison_table,
    evaluate_encoder,
    evaluation_service,
    intervals_table,
    log_outcome,
    metric_key,
)


# ---------------------------------------------------------------------- encoder
def limits_of(settings: Settings) -> Limits:
    """The gate's fairness limits, from ``MATCHER_FAIRNESS_*``."""
    return fairness_limits(settings.fairness_min_rbo, settings.fairness_min_exposure_ratio,
                           settings.fairness_max_map_gap)  # fmt: skip


def train_encoder(settings: Settings, *, preset: str = "default",
                  overrides: Mapping[str, Any] | None = None, say: Say = print) -> TrainReport:  # fmt: skip
    """Fine-tune multilingual-e5-small, evaluate it against the champion, log, register, gate."""
    import mlflow
    from sentence_transformers import SentenceTransformer

    from matcher.services import MatcherService

    started = time.perf_counter()
    config = FinetuneConfig(**(PRESETS[preset].__dict__ | dict(overrides or {})))
    eval_preset = EVAL_PRESETS["quick" if preset == "quick" else "default"]
    configure(settings.tracking_uri, settings.state_dir)
    experiment_id = experiment("encoder", settings.state_dir)
    live = MatcherService(settings)
    workdir = Path(tempfile.mkdtemp(prefix="matcher-train-", dir=settings.state_dir))
    try:
        say("building the training data")
        store = live.store
        events = store.feedback()
        wanted_c = {str(e["candidate_id"]) for e in events}
        wanted_j = {str(e["job_id"]) for e in events}
        from matcher.search.catalog import candidate_text, job_text

        profiles = {
            c.id: candidate_text(c) for c in store.get_candidates(sorted(wanted_c)).values()
        }
        postings = {j.id: job_text(j) for j in store.get_jobs(sorted(wanted_j)).values()}
        training = build_training_set(live.taxonomy, live.positions, settings.dev_eval_dir,
                                      feedback=feedback_pairs(events, profiles, postings))  # fmt: skip
        builder = evaluation_service(settings, DEFAULT_MODEL, workdir / "builder",
                                     quick=eval_preset.name == "quick")  # fmt: skip
        say("building the ranking corpus")
        corpus = build_corpus(
            builder, jobs=eval_preset.corpus_jobs, people=eval_preset.corpus_people
        )
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"encoder-{preset}") as run:
            mlflow.set_tags({"eval_config": eval_preset.config_id, "preset": preset,
                             "base_model": DEFAULT_MODEL})  # fmt: skip
            mlflow.log_params(flatten({"finetune": config.params(), "preset": preset,
                                       "dataset_hash": training.digest,
                                       "dataset_pairs": len(training.pairs),
                                       "eval_config": eval_preset.config_id}))  # fmt: skip
            card = workdir / "training_data_card.md"
            card.write_text(training.card(), encoding="utf-8")
            mlflow.log_artifact(str(card))
            base = resolve_model(DEFAULT_MODEL, settings.models_dir).path
            model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
            say(
                f"fine-tuning: {config.steps} steps of {config.batch_size} pairs "
                f"({len(training.pairs)} pairs available, hash {training.digest[:12]})"
            )

            def progress(step: int, total: int, loss: float, left: float) -> None:
                mlflow.log_metric("train.loss", loss, step=step)
                if step == 1 or step % max(1, total // 20) == 0 or step == total:
                    say(f"  step {step}/{total}  loss {loss:.4f}  about {left / 60:.1f} min left")

            result = finetune(model, training, config, progress=progress)
            mlflow.log_metrics({"train.seconds": result.seconds, "train.steps": result.steps,
                                "train.pairs_seen": result.pairs_seen})  # fmt: skip
            model.max_seq_length = settings.max_seq_length
            say("evaluating the fine-tuned encoder")

            def evaluate(spec: str, encoder: Encoder | None = None) -> Evaluation:
                name = re.sub(r"\W+", "-", spec)[-40:]
                if encoder is None and spec == DEFAULT_MODEL:  # the same numbers every run
                    return cached_evaluation(
                        settings,
                        builder.encoder.fingerprint,
                        eval_preset,
                        lambda: evaluate_encoder(
                            settings,
                            spec,
                            eval_preset,
                            corpus,
                            builder,
                            workdir / f"eval-{name}",
                            say,
                            builder.encoder,
                        ),
                    )
                return evaluate_encoder(settings, spec, eval_preset, corpus, builder,
                                        workdir / f"eval-{name}", say, encoder)  # fmt: skip

            trained = Encoder(model, TRAINED_NAME, batch_size=settings.encode_batch_size,
                              max_chars=settings.max_text_chars,
                              max_seq_length=settings.max_seq_length)  # fmt: skip
            ours = evaluate("this run", trained)
            say("evaluating the baseline")
            source, theirs = baseline_of("encoder", ENCODER_MODEL, eval_preset.config_id,
                                       evaluate, DEFAULT_MODEL)  # fmt: skip
            metrics, baseline = ours.metrics, theirs.metrics
            decision = gate(ENCODER_GATE, metrics, baseline, source,
                            candidate_items=ours.items, baseline_items=theirs.items,
                            limits=limits_of(settings))  # fmt: skip
            report = (f"# Encoder run {run.info.run_id}\n\nPreset `{preset}`, evaluation "
                      f"`{eval_preset.config_id}`, training {result.seconds:.0f} s "
                      f"({result.steps} steps).\n\nGate: **{'promoted' if decision.promote else 'refused'}**"
                      f" — {decision.reason}\n\n{intervals_table(decision)}"
                      f"{comparison_table(metrics, baseline, source)}\n")  # fmt: skip
            log_outcome(decision, metrics, baseline, report, workdir, ours.items)
            say("logging and registering the model")
            version = _log_encoder(model, run.info.run_id)
            if decision.promote:
                promote(ENCODER_MODEL, version)
            say(f"{ENCODER_MODEL} v{version}: {'promoted to' if decision.promote else 'not'} "
                f"{CHAMPION} ({decision.reason})")  # fmt: skip
            return TrainReport("encoder", run.info.run_id, version, decision, metrics, baseline,
                               time.perf_counter() - started, training.digest,
                               {"train_seconds": round(result.seconds, 1), "steps": result.steps})  # fmt: skip
    finally:
        live.store.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _log_encoder(model: Any, run_id: str) -> str:
    import mlflow.sentence_transformers
    from mlflow.models import infer_signature

    example = ["query: giáo viên tiểu học", "query: nurse responsible for general care"]
    signature = infer_signature(example, model.encode(example))
    mlflow.sentence_transformers.log_model(
        model, name="model", signature=signature, input_example=example,
        registered_model_name=ENCODER_MODEL, pip_requirements=_requirements(),
    )  # fmt: skip
    return registered_version(ENCODER_MODEL, run_id)


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in
            ("torch", "sentence-transformers", "transformers", "scikit-learn", "numpy")]  # fmt: skip


# ---------------------------------------------------------------------- ranker
RANKER_PRESETS = {
    "quick": EvalPreset("quick", None, False, 250, 100, 60, 12),
    "default": EvalPreset("default", None, False, 800, 300, 250, 30),
}


def train_ranker(settings: Settings, *, preset: str = "default", say: Say = print) -> TrainReport:
    """Learn a ranker on synthetic supervision plus feedback; it replaces the champion (or the
    hand-set weights) only if it ranks the held-out queries better."""
    import mlflow
    import pandas as pd

    from matcher.services import MatcherService

    started = time.perf_counter()
    chosen = RANKER_PRESETS[preset]
    configure(settings.tracking_uri, settings.state_dir)
    experiment_id = experiment("ranker", settings.state_dir)
    live = MatcherService(settings)
    encoder = live.served["encoder"]
    workdir = Path(tempfile.mkdtemp(prefix="matcher-ranker-", dir=settings.state_dir))
    try:
        service = evaluation_service(settings, encoder, workdir / "eval", quick=False)
        say(f"building the labelled corpus ({chosen.corpus_jobs} postings, "
            f"{chosen.corpus_people} profiles) with {encoder}")  # fmt: skip
        corpus = build_corpus(service, jobs=chosen.corpus_jobs, people=chosen.corpus_people)
        load_corpus(service, corpus)
        queries = collect_queries(service, corpus, employer_queries=chosen.employer_queries)
        feedback = feedback_queries(live)
        train = [q for q in queries if q.train] + feedback
        digest = _queries_digest(train)
        say(f"training on {len(train)} result sets ({len(feedback)} from feedback)")
        params = RankerParams()
        model = fit_ranker([q.rows for q in train], [q.grades for q in train], params)
        candidate = LearnedRanker(model, settings.priority_boost)
        current = champion(RANKER_MODEL)
        baseline_ranker = live.load_ranker(current.uri if current else "weighted")
        source = (
            f"{RANKER_MODEL} v{current.version} ({CHAMPION})" if current else "hand-set weights"
        )
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"ranker-{preset}") as run:
            mlflow.set_tags({"eval_config": chosen.config_id, "preset": preset, "encoder": encoder})
            mlflow.log_params(flatten({"model": asdict(params) | {"type": "HistGradientBoostingRegressor",
                                                          "monotonic": True},
                                       "features": ",".join(LEARNED_FEATURES), "preset": preset,
                                       "dataset_hash": digest, "result_sets": len(train),
                                       "feedback_sets": len(feedback),
                                       "priority_boost": settings.priority_boost}))  # fmt: skip
            card = workdir / "training_data_card.md"
            card.write_text(_ranker_card(chosen, queries, feedback, digest), encoding="utf-8")
            mlflow.log_artifact(str(card))
            say("evaluating on the held-out split")
            metrics = {metric_key(f"heldout.{k}"): v
                       for k, v in ranking_metrics(queries, candidate).items()}  # fmt: skip
            baseline = {metric_key(f"heldout.{k}"): v
                        for k, v in ranking_metrics(queries, baseline_ranker).items()}  # fmt: skip
            metrics |= {metric_key(k): v for k, v in fairness_metrics(
                service, corpus, queries, candidate, sample=chosen.fairness_sample).items()}  # fmt: skip
            baseline |= {metric_key(k): v for k, v in fairness_metrics(
                service, corpus, queries, baseline_ranker, sample=chosen.fairness_sample).items()}  # fmt: skip
            decision = gate(RANKER_GATE, metrics, baseline, source, limits=limits_of(settings))
            report = (f"# Ranker run {run.info.run_id}\n\nEncoder `{encoder}`; {len(train)} "
                      f"training result sets.\n\nGate: **{'promoted' if decision.promote else 'refused'}**"
                      f" — {decision.reason}\n\n{comparison_table(metrics, baseline, source)}\n")  # fmt: skip
            log_outcome(decision, metrics, baseline, report, workdir)
            example = pd.DataFrame(
                feature_matrix(train[0].rows[:5]), columns=list(LEARNED_FEATURES)
            )
            import mlflow.sklearn
            from mlflow.models import infer_signature

            mlflow.sklearn.log_model(
                model, name="model", signature=infer_signature(example, model.predict(example)),
                input_example=example, registered_model_name=RANKER_MODEL,
                serialization_format="cloudpickle", pip_requirements=_requirements(),
            )  # fmt: skip
            version = registered_version(RANKER_MODEL, run.info.run_id)
            if decision.promote:
                promote(RANKER_MODEL, version)
            say(f"{RANKER_MODEL} v{version}: {'promoted to' if decision.promote else 'not'} "
                f"{CHAMPION} ({decision.reason})")  # fmt: skip
            service.store.close()
            return TrainReport(
                "ranker",
                run.info.run_id,
                version,
                decision,
                metrics,
                baseline,
                time.perf_counter() - started,
                digest,
            )
    finally:
        live.store.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _queries_digest(queries: list[Any]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for query in queries:
        digest.update(json.dumps([query.side, query.items, query.grades,
                                  [[round(r[f], 6) for f in sorted(r)] for r in query.rows]]).encode())  # fmt: skip
    return digest.hexdigest()


def _ranker_card(preset: EvalPreset, queries: list[Any], feedback: list[Any], digest: str) -> str:
    sides = {s: sum(q.side == s for q in queries) for s in ("candidate", "employer")}
    train = sum(q.train for q in queries)
    return (
        "# Training data card: matcher ranker\n\n"
        f"- dataset hash (sha256): `{digest}`\n"
        f"- synthetic corpus: {preset.corpus_jobs} postings and {preset.corpus_people} profiles "
        "from the demo generator (ESCO v1.1.1 occupations and skills, European Commission, "
        "reused under Decision 2011/833/EU; Vietnamese labels: the matcher project)\n"
        f"- result sets: {sides['candidate']} job-seeker side, {sides['employer']} employer side; "
        f"{train} train, {len(queries) - train} held out (split by a hash of the query id)\n"
        f"- feedback result sets (applied, shortlisted, hired as positives): {len(feedback)}\n"
        "- relevance: same occupation 3, same ISCO unit group 2, same minor group 1; one less "
        "for an unwanted move or an unmet language; 0 for an unwanted or ineligible overseas "
        "posting\n- features: " + ", ".join(LEARNED_FEATURES) + " (no age, gender, name, "
        "ethnicity or province of the person: the model cannot read them)\n"
    )
