"""The synthetic demo set (every record marked [DEMO]) and its keys."""

from __future__ import annotations

import json
from typing import Any

from matcher.demo import DEMO_PREFIX, DemoGenerator
from matcher.services import candidates as candidates_cases
from matcher.services import jobs as jobs_cases
from matcher.services.candidates import build_candidate
from matcher.services.jobs import build_job
from matcher.services.runtime import Runtime

DEMO_FILE = "demo.json"


def load_demo(rt: Runtime, *, jobs: int = 2000, candidates: int = 500, seed: int = 7,
              returnees: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Load the synthetic demo set once (later calls return what the first one made):
    postings, profiles, and (about a tenth of each again) returning contract workers and
    postings of foreign-invested employers that ask for a language."""
    returnees = max(1, candidates // 10) if returnees is None else returnees
    marker = rt.settings.state_dir / DEMO_FILE
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    ref, store = rt.reference, rt.store
    generator = DemoGenerator(ref.taxonomy, rt.settings.project_data_dir, seed, ref.programmes)
    employer_id, employer_key = store.create_employer_key(
        f"{DEMO_PREFIX} Trung tâm Dịch vụ việc làm"
    )
    admin_key = store.create_admin_key()
    for programme in ref.programmes.programmes:  # the demo centre posts programme jobs
        store.add_operator(employer_id, programme.id)
    postings = [
        build_job(rt, generator.posting(), employer_id=employer_id, thorough=False)
        for _ in range(jobs)
    ] + [
        build_job(rt, generator.foreign_invested_posting(), employer_id=employer_id,
                  thorough=False)
        for _ in range(returnees)
    ]  # fmt: skip
    jobs_cases.add_built(rt, postings)
    profiles = [
        build_candidate(rt, generator.profile(n), thorough=False) for n in range(candidates)
    ] + [build_candidate(rt, generator.returnee(n), thorough=False) for n in range(returnees)]
    tokens = dict(
        zip((p.id for p in profiles), candidates_cases.add_built(rt, profiles), strict=True)
    )
    rt.save_indexes()
    first = profiles[0]
    summary = {
        "jobs": jobs,
        "candidates": candidates,
        "returnees": returnees,
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


def revoke_demo_keys(rt: Runtime) -> int:
    """Revoke the keys ``--demo`` made (production must not accept them)."""
    marker = rt.settings.state_dir / DEMO_FILE
    if not marker.exists():
        return 0
    demo = json.loads(marker.read_text(encoding="utf-8"))
    return sum(rt.store.revoke_keys(key=demo[name]) for name in ("employer_key", "admin_key")
               if demo.get(name))  # fmt: skip
