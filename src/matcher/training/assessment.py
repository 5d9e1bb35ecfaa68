"""How a trained model is assessed: evaluation presets, one encoder's evaluation on a throw-away
service (dev sets with per-item values, held-out ranking, fairness), the cached base-model
evaluation, the baseline to beat, and the tables of a run's report."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.nlp.encoder import Encoder
from matcher.ranking.features import Ranker
from matcher.reference.titles import TITLES_FILE
from matcher.registry import (
    CHAMPION,
    champion,
)
from matcher.settings import Settings
from matcher.training.evaluation import (
    EvalResult,
    evaluate_skill_extraction,
    evaluate_synonyms,
    evaluate_titles,
)
from matcher.training.gate import GateDecision, GateRule
from matcher.training.ranking_eval import (
    Corpus,
    collect_queries,
    fairness_metrics,
    load_corpus,
    ranking_metrics,
)

if TYPE_CHECKING:
    from matcher.services import MatcherService


Say = Callable[[str], None]


@dataclass(frozen=True)
class EvalPreset:
    """How a model is evaluated; a gate only compares numbers from the same preset."""

    name: str
    title_limit: int | None
    skills: bool
    corpus_jobs: int
    corpus_people: int
    employer_queries: int
    fairness_sample: int

    @property
    def config_id(self) -> str:
        # v2: evaluations keep each dev item's value (for the gate's paired bootstrap)
        # v3: a programme posting is relevant unless a declared fact rules it out (issue 15)
        # v4: titles on their held-out 20% only; viski_train is training data (issue 17)
        # v5: profiles embedded without the personal fields of a CV header (issue 17)
        # v6: titles also matched against the training part's vacancy titles (issue 17)
        # v7: the nearest vacancy titles vote for their occupations (issue 17)
        return f"{self.name}-v7"


EVAL_PRESETS = {
    "quick": EvalPreset("quick", 1000, False, 120, 50, 25, 6),
    "default": EvalPreset("default", None, True, 600, 240, 200, 30),
}


ENCODER_GATE = GateRule("dev.titles.mrr_at_10", 0.002, {"dev.viski_val.top1": 0.01})
RANKER_GATE = GateRule("heldout.map", 0.002)


@dataclass
class TrainReport:
    kind: str
    run_id: str
    version: str
    decision: GateDecision
    metrics: dict[str, float]
    baseline: dict[str, float]
    seconds: float
    dataset_hash: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "run_id": self.run_id, "registered_version": self.version,
            "promoted": self.decision.promote, "gate": self.decision.reason,
            "baseline": self.decision.baseline_source, "seconds": round(self.seconds, 1),
            "dataset_hash": self.dataset_hash, "metrics": self.metrics,
            "intervals": {name: str(i) for name, i in self.decision.intervals.items()},
            **self.extra,
        }  # fmt: skip


def metric_key(name: str) -> str:
    """A metric name MLflow accepts (letters, digits, ``_ - . / :`` and spaces)."""
    return re.sub(r"[^\w\-./: ]", "_", name.replace("@", "_at_"))


def evaluation_service(settings: Settings, model: str, workdir: Path, *, quick: bool,
                       encoder: Encoder | None = None) -> MatcherService:  # fmt: skip
    """A throw-away service on ``model`` (or the loaded ``encoder``): its own store and indexes
    in ``workdir``, the shared label-vector cache, fp32 queries, the hand-set ranker."""
    from matcher.services import MatcherService

    workdir.mkdir(parents=True, exist_ok=True)
    return MatcherService(settings.model_copy(update={
        "state_dir": workdir, "cache_dir": settings.caches, "store_url": None, "model": model,
        "mlflow_uri": settings.tracking_uri,  # the registry the models come from
        "ranker": "weighted", "serve_champions": False, "query_runtime": "torch",
        "occupation_labels": "preferred" if quick else settings.occupation_labels,
    }), encoder=encoder)  # fmt: skip


def ranking_section(service: MatcherService, corpus: Corpus, ranker: Ranker, preset: EvalPreset,
                    builder: MatcherService | None = None) -> dict[str, float]:  # fmt: skip
    """Held-out ranking metrics and fairness of ``ranker`` on ``service``'s encoder."""
    load_corpus(service, corpus)
    queries = collect_queries(service, corpus, employer_queries=preset.employer_queries)
    out = {f"heldout.{k}": v for k, v in ranking_metrics(queries, ranker).items()}
    out |= fairness_metrics(service, corpus, queries, ranker, sample=preset.fairness_sample,
                            builder=builder)  # fmt: skip
    return out


@dataclass
class Evaluation:
    """An encoder's metrics, and the dev-set metrics per item (for the paired bootstrap)."""

    metrics: dict[str, float]
    items: dict[str, list[float]] = field(default_factory=dict)


def evaluate_encoder(settings: Settings, model: str, preset: EvalPreset, corpus: Corpus,
                     builder: MatcherService, workdir: Path, say: Say,
                     encoder: Encoder | None = None) -> Evaluation:  # fmt: skip
    """The dev-set metrics of ``matcher evaluate`` (titles, ViSki, skills), plus held-out
    ranking and fairness with the hand-set ranker, for one encoder."""
    service = evaluation_service(settings, model, workdir, quick=preset.name == "quick",
                                 encoder=encoder)  # fmt: skip
    dev = settings.dev_eval_dir
    out: dict[str, float] = {}
    items: dict[str, list[float]] = {}

    def add(prefix: str, result: EvalResult) -> None:
        out.update({f"{prefix}.{k}": v for k, v in result.metrics.items()})
        items.update({metric_key(f"{prefix}.{k}"): v for k, v in result.items.items()})

    say(f"  titles ({model})")
    add("dev.titles", evaluate_titles(service.occupation_matcher, dev / TITLES_FILE,
                                      preset.title_limit))  # fmt: skip
    add("dev.viski_val", evaluate_synonyms(service.encoder, dev / "viski_val_synonymSet.json"))
    if preset.skills:
        say(f"  skill extraction ({model})")
        for name in ("house", "tech"):
            add(f"dev.skills_{name}",
                evaluate_skill_extraction(service.skill_extractor, service.taxonomy,
                                          dev / f"{name}_validation_annotations.csv"))  # fmt: skip
    say(f"  ranking and fairness ({model})")
    out |= ranking_section(service, corpus, service.ranker, preset, builder)
    service.store.close()
    return Evaluation({metric_key(k): v for k, v in out.items()}, items)


def cached_evaluation(settings: Settings, fingerprint: str, preset: EvalPreset,
                      compute: Callable[[], Evaluation]) -> Evaluation:  # fmt: skip
    """An evaluation of fixed weights (the base model), kept in the cache directory per model
    fingerprint and evaluation preset: it is deterministic, so no run needs to repeat it."""
    path = settings.caches / "evaluations" / f"{fingerprint}-{preset.config_id}.json"
    if path.exists():
        return Evaluation(**json.loads(path.read_text(encoding="utf-8")))
    found = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(found)), encoding="utf-8")
    return found


def baseline_of(kind: str, name: str, config_id: str, evaluate: Callable[[str], Evaluation],
              fallback: str) -> tuple[str, Evaluation]:  # fmt: skip
    """The numbers to beat: the champion's, reused from its run when it was evaluated with the
    same preset, else evaluated now; with no champion, ``fallback``'s."""
    import mlflow

    current = champion(name)
    if current is None:
        return f"{fallback} (no champion yet)", evaluate(fallback)
    if current.run_id:
        run = mlflow.get_run(current.run_id)
        if run.data.tags.get("eval_config") == config_id:
            own = {k.removeprefix("eval."): v for k, v in run.data.metrics.items()
                   if k.startswith("eval.")}  # fmt: skip
            if own:
                return f"{name} v{current.version} ({CHAMPION})", Evaluation(own, logged_items(run))
    return f"{name} v{current.version} ({CHAMPION})", evaluate(current.uri)


def logged_items(run: Any) -> dict[str, list[float]]:
    """The per-item dev values a run logged (``items.json``); none for older runs."""
    import mlflow

    try:
        path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=ITEMS)
    except Exception:  # noqa: BLE001 - an older run without the artifact: no paired test
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


ITEMS = "items.json"


def log_outcome(decision: GateDecision, metrics: dict[str, float], baseline: dict[str, float],
                 report: str, workdir: Path, items: Mapping[str, list[float]] | None = None,
                 ) -> None:  # fmt: skip
    import mlflow

    if items:
        (workdir / ITEMS).write_text(json.dumps(items), encoding="utf-8")
        mlflow.log_artifact(str(workdir / ITEMS))

    mlflow.log_metrics({f"eval.{k}": v for k, v in metrics.items()})
    mlflow.log_metrics({f"baseline.{k}": v for k, v in baseline.items()})
    mlflow.log_metrics(decision.metrics())
    mlflow.set_tags(
        {
            "gate.decision": "promoted" if decision.promote else "refused",
            "gate.reason": decision.reason,
            "gate.baseline": decision.baseline_source,
        }
    )
    path = workdir / "evaluation.md"
    path.write_text(report, encoding="utf-8")
    mlflow.log_artifact(str(path))


def intervals_table(decision: GateDecision) -> str:
    """The gate's paired bootstrap intervals (this run − baseline, per dev item), if any."""
    if not decision.intervals:
        return ""
    lines = ["| metric | change | 95% interval |", "|---|---|---|"]
    lines += [f"| {name} | {i.delta:+.4f} | [{i.low:+.4f}, {i.high:+.4f}] |"
              for name, i in decision.intervals.items()]  # fmt: skip
    return "Paired bootstrap over the dev items:\n\n" + "\n".join(lines) + "\n\n"


def comparison_table(metrics: Mapping[str, float], baseline: Mapping[str, float],
                     baseline_name: str) -> str:  # fmt: skip
    lines = [f"| metric | this run | {baseline_name} | change |", "|---|---|---|---|"]
    for key in sorted(metrics):
        old = baseline.get(key)
        change = f"{metrics[key] - old:+.4f}" if old is not None else ""
        old_text = f"{old:.4f}" if old is not None else ""
        lines.append(f"| {key} | {metrics[key]:.4f} | {old_text} | {change} |")
    return "\n".join(lines)
