"""The fairness audit (``matcher audit``, ``POST /v1/admin/fairness``): the served encoder and
ranker, both directions, read by a person.

**Counterfactual invariance.** Profiles of the labelled corpus (:mod:`.ranking_eval`, a CV
header with name, gender, year of birth, ethnicity and home province) are ranked twice, once
as written and once with one attribute changed (:func:`.ranking_eval.variant`):

- *jobs for candidates*: against the service's own postings when it has at least
  :data:`LIVE_POSTINGS` (the current data), else against the corpus postings;
- *candidates for employers*: the corpus postings search the corpus profiles, then the same
  profiles with the attribute changed for everyone.

Reported per direction and attribute: the share of top-10 lists that change, mean and lowest
RBO, and the largest score change of a posting (or person) in both lists. Left out, as the
rules are explicit there: the province for domestic on-site postings (a person who will not
relocate is ranked by it, on purpose) and age for programme postings (their age rules).

**Parity** by gender, age band, region and priority group: each group's MAP on its own
recommendations (and the gap, as TalentCLEF 2026 reports it), exposure in employers' top 10,
and the selection rate (share of the group's members in at least one employer's top 10) with
the four-fifths impact ratio (lowest group rate over the highest; below 0.8 is adverse impact
by the hiring auditors' rule). Groups under :data:`MIN_GROUP` members are listed, not compared.

The report is JSON, a Markdown table and an SVG bar chart, written side by side.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import numpy as np

from matcher.ranking.features import Ranker, WeightedRanker, match_features
from matcher.ranking.metrics import rbo
from matcher.store import now
from matcher.training.ranking_eval import (
    COUNTERFACTUALS,
    Corpus,
    Person,
    Query,
    _scope,
    build_corpus,
    collect_queries,
    load_corpus,
    query_metrics,
    ranked,
    variant,
)

if TYPE_CHECKING:
    from matcher.services import MatcherService

Progress = Callable[[str, int, int], None]
#: the service's own postings are audited when it has this many
LIVE_POSTINGS = 50
#: groups smaller than this are listed but not compared
MIN_GROUP = 8
FOUR_FIFTHS = 0.8
PARITY = ("gender", "age", "region", "priority")


@dataclass(frozen=True)
class AuditPreset:
    name: str
    people: int
    jobs: int
    #: profiles (jobs side) and postings (employer side) per counterfactual
    sample: int
    employer_queries: int
    priority_share: float = 0.2


PRESETS = {
    "full": AuditPreset("full", people=240, jobs=600, sample=40, employer_queries=80),
    "quick": AuditPreset("quick", people=40, jobs=100, sample=8, employer_queries=16),
}


def _top(scores: Sequence[float], ids: Sequence[str], keep: Sequence[bool]) -> dict[str, float]:
    chosen = sorted(((s, i) for s, i, k in zip(scores, ids, keep) if k), reverse=True)[:10]
    return {item: float(score) for score, item in chosen}


def _compare(lists: Sequence[tuple[dict[str, float], dict[str, float]]]) -> dict[str, float]:
    rbos, changed, largest = [], [], 0.0
    for first, second in lists:
        rbos.append(rbo(list(first), list(second)))
        changed.append(list(first) != list(second))
        for item in first.keys() & second.keys():
            largest = max(largest, abs(first[item] - second[item]))
    return {
        "lists": float(len(lists)),
        "changed_share": float(np.mean(changed)) if changed else 0.0,
        "rbo_mean": float(np.mean(rbos)) if rbos else 1.0,
        "rbo_min": float(min(rbos)) if rbos else 1.0,
        "max_score_change": largest,
    }


def jobs_counterfactuals(target: MatcherService, builder: MatcherService, people: Sequence[Person],
                         ranker: Ranker, progress: Progress) -> dict[str, dict[str, float]]:  # fmt: skip
    """Jobs for candidates: each person as written and with one attribute changed."""
    out = {}
    for n, attribute in enumerate(COUNTERFACTUALS):
        keep = _scope(attribute)
        lists = []
        for person in people:
            pair = []
            for profile in (person.profile, variant(person, attribute)):
                candidate = builder.build_candidate(profile, thorough=False)
                jobs, pairs = target.job_pairs(candidate)
                scores = ranker.score([match_features(s, o, sim) for s, o, sim in pairs])
                pair.append(_top(scores, [j.id for j in jobs], [keep(j) for j in jobs]))
            lists.append((pair[0], pair[1]))
        out[attribute] = _compare(lists)
        progress("counterfactuals: jobs for candidates", n + 1, len(COUNTERFACTUALS))
    return out


def employer_counterfactuals(service: MatcherService, corpus: Corpus, ranker: Ranker,
                             sample: int, workdir: Path, progress: Progress,
                             make: Callable[[Path], MatcherService]) -> dict[str, dict[str, float]]:  # fmt: skip
    """Candidates for employers: the corpus postings search the corpus profiles, and then the
    same people (same ids) with one attribute changed for everyone, in a second service."""
    postings = corpus.jobs[:sample]

    def lists(svc: MatcherService, attribute: str) -> list[dict[str, float]]:
        keep = _scope(attribute)
        out = []
        for job in postings:
            if not keep(job):
                continue
            people, pairs = svc.candidate_pairs(job)
            scores = ranker.score([match_features(s, o, sim) for s, o, sim in pairs])
            out.append(_top(scores, [c.id for c in people], [True] * len(people)))
        return out

    out = {}
    for n, attribute in enumerate(COUNTERFACTUALS):
        other = make(workdir / f"employer-{attribute}")
        other.add_candidates([
            service.build_candidate(variant(p, attribute), thorough=False)
            .model_copy(update={"id": p.candidate.id}) for p in corpus.people
        ])  # fmt: skip
        before, after = lists(service, attribute), lists(other, attribute)
        other.close()
        out[attribute] = _compare(list(zip(before, after, strict=True)))
        progress("counterfactuals: candidates for employers", n + 1, len(COUNTERFACTUALS))
    return out


def group_of(person: Person, attribute: str, regions: dict[str, str]) -> str:
    if attribute == "gender":
        return person.gender
    if attribute == "age":
        return person.band
    if attribute == "region":
        return regions.get(person.candidate.province or "", "unknown")
    return "priority" if person.candidate.priority_groups else "none"


def parity(corpus: Corpus, queries: Sequence[Query], ranker: Ranker,
           regions: dict[str, str]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per attribute: each group's members, MAP, exposure and selection rate; the MAP gap and
    the impact ratio over the groups with at least :data:`MIN_GROUP` members."""
    people = {p.candidate.id: p for p in corpus.people}
    exposure: dict[str, float] = defaultdict(float)
    selected: set[str] = set()
    maps: dict[str, float] = {}
    for query in queries:
        order = ranked(query, ranker)
        if query.side == "employer":
            for rank, i in enumerate(order[:10], start=1):
                exposure[query.items[i]] += 1 / np.log2(rank + 1)
                selected.add(query.items[i])
        elif query.relevant:
            maps[query.key] = query_metrics(query, order)["map"]
    out: dict[str, dict[str, Any]] = {}
    for attribute in PARITY:
        members: dict[str, list[str]] = defaultdict(list)
        for pid, person in people.items():
            members[group_of(person, attribute, regions)].append(pid)
        groups: dict[str, dict[str, Any]] = {}
        for group, ids in sorted(members.items()):
            own = [maps[i] for i in ids if i in maps]
            groups[group] = {
                "members": len(ids),
                "map": float(np.mean(own)) if own else None,
                "exposure": float(np.mean([exposure.get(i, 0.0) for i in ids])),
                "selection_rate": float(np.mean([i in selected for i in ids])),
                "compared": len(ids) >= MIN_GROUP,
            }
        compared = {g: v for g, v in groups.items() if v["compared"]}
        rates = [float(v["selection_rate"]) for v in compared.values()]
        group_maps = [float(v["map"]) for v in compared.values() if v["map"] is not None]
        out[attribute] = {
            "groups": groups,
            "impact_ratio": min(rates) / max(rates) if rates and max(rates) > 0 else None,
            "map_gap": max(group_maps) - min(group_maps) if len(group_maps) > 1 else None,
        }
    return out


def policy_off(ranker: Ranker) -> Ranker:
    """The hand-set weights without the location and intent terms (the audit's "before")."""
    weights = WeightedRanker().weights
    return WeightedRanker({k: v for k, v in weights.items() if k not in ("location", "intent")})


def run_audit(service: MatcherService, *, preset: str = "full", policy: bool = True,
              progress: Progress | None = None, seed: int = 101) -> dict[str, Any]:  # fmt: skip
    """The audit of ``service``'s served encoder and ranker (``policy=False``: without the
    location and intent terms, for a before/after comparison). Nothing is written to
    ``service``; the corpus lives in throw-away services sharing its encoder."""
    from matcher.training.assessment import evaluation_service

    chosen = PRESETS[preset]
    say = progress or (lambda _phase, _done, _total: None)
    ranker = service.ranker if policy else policy_off(service.ranker)
    settings = service.settings
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="matcher-audit-") as tmp:
        work = Path(tmp)

        def make(path: Path) -> MatcherService:
            return evaluation_service(settings, settings.model, path, quick=False,
                                      encoder=service.encoder)  # fmt: skip

        say("building the labelled corpus", 0, 1)
        corpus = build_corpus(service, jobs=chosen.jobs, people=chosen.people, seed=seed,
                              priority_share=chosen.priority_share)  # fmt: skip
        corpus_service = make(work / "corpus")
        load_corpus(corpus_service, corpus)
        say("building the labelled corpus", 1, 1)
        live = service.gauges()["index_jobs"] >= LIVE_POSTINGS
        target = service if live else corpus_service
        sample = corpus.people[: chosen.sample]
        jobs_side = jobs_counterfactuals(target, service, sample, ranker, say)
        employer_side = employer_counterfactuals(corpus_service, corpus, ranker,
                                                 chosen.sample, work, say, make)  # fmt: skip
        say("parity", 0, 1)
        queries = collect_queries(corpus_service, corpus, employer_queries=chosen.employer_queries)
        regions = {p.name: p.region for p in service.provinces}
        groups = parity(corpus, queries, ranker, regions)
        say("parity", 1, 1)
        corpus_service.close()
    return {
        "created_at": now().isoformat(),
        "preset": chosen.name,
        "served": dict(service.served),
        "ranker": "served" if policy else "served without location and intent (policy off)",
        "postings_for_candidates": ("the service's postings" if live else "labelled corpus"),
        "corpus": {"people": chosen.people, "postings": chosen.jobs, "seed": seed},
        "counterfactual": {
            "jobs_for_candidates": jobs_side,
            "candidates_for_employers": employer_side,
        },
        "parity": groups,
        "seconds": round(time.perf_counter() - started, 1),
    }


# ---------------------------------------------------------------------- the report
def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Fairness audit ({report['preset']}, {report['created_at'][:19]})", "",
        (f"Models: {', '.join(f'{k} {v}' for k, v in report['served'].items())}; ranker: "
        f"{report['ranker']}; postings for the jobs side: {report['postings_for_candidates']}."),
        "", "## Counterfactual invariance (top 10)", "",
        ("| direction | attribute | lists | lists changed | RBO mean | RBO min "
        "| largest score change |"), "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for direction, rows in report["counterfactual"].items():
        for attribute, row in rows.items():
            lines.append(f"| {direction.replace('_', ' ')} | {attribute} | {row['lists']:.0f} "
                         f"| {row['changed_share']:.0%} | {row['rbo_mean']:.3f} "
                         f"| {row['rbo_min']:.3f} | {row['max_score_change']:.4f} |")  # fmt: skip
    lines += ["", "## Parity", "",
              "| attribute | group | members | MAP | exposure | selection rate |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for attribute, found in report["parity"].items():
        for group, row in found["groups"].items():
            mark = "" if row["compared"] else " (too few, not compared)"
            map_ = "–" if row["map"] is None else f"{row['map']:.3f}"
            lines.append(f"| {attribute} | {group}{mark} | {row['members']} | {map_} "
                         f"| {row['exposure']:.3f} | {row['selection_rate']:.0%} |")  # fmt: skip
    lines += ["", "| attribute | impact ratio (four-fifths: ≥ 0.8) | MAP gap |", "|---|---|---|"]
    for attribute, found in report["parity"].items():
        ratio, gap = found["impact_ratio"], found["map_gap"]
        flag = " ⚠ below 0.8" if ratio is not None and ratio < FOUR_FIFTHS else ""
        lines.append(f"| {attribute} | {'–' if ratio is None else f'{ratio:.3f}'}{flag} "
                     f"| {'–' if gap is None else f'{gap:.3f}'} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def svg(report: dict[str, Any]) -> str:
    """Selection rate per group (bars) with each attribute's four-fifths line."""
    bars: list[tuple[str, str, float, float]] = []
    for attribute, found in report["parity"].items():
        rates = [r["selection_rate"] for r in found["groups"].values() if r["compared"]]
        line = FOUR_FIFTHS * max(rates) if rates else 0.0
        for group, row in found["groups"].items():
            if row["compared"]:
                bars.append((attribute, group, row["selection_rate"], line))
    width, row_h, left = 640, 22, 260
    height = 40 + row_h * len(bars)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'),
             ('<title>Selection rate in employers\' top 10 by group; the dashed line is 4/5 of '
             'the highest rate of the attribute</title>'),
             ('<text x="8" y="18" font-weight="bold">Selection rate in employers\' top 10 '
             '(dashed: four-fifths of the best group)</text>')]  # fmt: skip
    scale = width - left - 60
    for n, (attribute, group, rate, line) in enumerate(bars):
        y = 30 + n * row_h
        colour = "#c0392b" if rate < line else "#2e86c1"
        parts += [f'<text x="8" y="{y + 14}">{escape(attribute)}: {escape(group)}</text>',
                  (f'<rect x="{left}" y="{y + 3}" width="{rate * scale:.1f}" height="{row_h - 6}" '
                  f'fill="{colour}"/>'),
                  (f'<line x1="{left + line * scale:.1f}" x2="{left + line * scale:.1f}" '
                  f'y1="{y}" y2="{y + row_h}" stroke="#333" stroke-dasharray="3,2"/>'),
                  f'<text x="{left + rate * scale + 4:.1f}" y="{y + 14}">{rate:.0%}</text>']  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_report(report: dict[str, Any], directory: Path) -> dict[str, Path]:
    """``audit.json``, ``audit.md`` and ``audit.svg`` in ``directory`` (replaced whole)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {"json": directory / "audit.json", "markdown": directory / "audit.md",
             "svg": directory / "audit.svg"}  # fmt: skip
    contents = {"json": json.dumps(report, indent=2, ensure_ascii=False),
                "markdown": markdown(report), "svg": svg(report)}  # fmt: skip
    for kind, path in files.items():
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_text(contents[kind], encoding="utf-8")
        partial.replace(path)
    return files


def gate_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The audit's numbers as flat metrics (for the promotion gate's fairness limits)."""
    out = {}
    for direction, rows in report["counterfactual"].items():
        for attribute, row in rows.items():
            out[f"fairness.{direction}.rbo_mean.{attribute}"] = row["rbo_mean"]
    for attribute, found in report["parity"].items():
        if found["impact_ratio"] is not None:
            out[f"fairness.impact_ratio.{attribute}"] = found["impact_ratio"]
        if found["map_gap"] is not None:
            out[f"fairness.map_gap.{attribute}"] = found["map_gap"]
    return out
