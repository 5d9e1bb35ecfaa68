"""The fairness audit as an admin runs it (real HTTP stack, model, SQLite, FAISS, and the
``matcher audit`` child process), and what the ranker may never read: gender, name, ethnicity
and age are no features, and age and priority groups move nothing outside programme rules."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from matcher.ranking.features import FEATURES, Seeker, match_features
from matcher.ranking.learned import LEARNED_FEATURES
from matcher.schemas import CandidateProfileIn
from matcher.settings import Settings
from tests.api.conftest import api_settings, bearer

pytestmark = pytest.mark.slow

PROTECTED = {"gender", "name", "ethnicity", "age", "birth", "year"}
POSTINGS = [
    {"title": "Kế toán tổng hợp", "province": "Hà Nội", "description": "Lập báo cáo tài chính, "
     "quản lý chứng từ, sử dụng Excel và phần mềm kế toán."},
    {"title": "Nhân viên hành chính", "province": "Nghệ An", "description": "Soạn thảo văn bản, "
     "lưu trữ hồ sơ, tin học văn phòng."},
    {"title": "Thợ hàn", "province": "Bắc Ninh", "remote": False, "description": "Hàn MIG, đọc "
     "bản vẽ kỹ thuật, an toàn lao động."},
]  # fmt: skip
PERSON = {"text": "Nguyên kế toán xã 10 năm, lập báo cáo tài chính, quản lý ngân sách, Excel.",
          "province": "Nghệ An", "consent_to_be_found": True}  # fmt: skip


@pytest.fixture(scope="module")
def fair(settings: Settings, tmp_path_factory) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:  # type: ignore[no-untyped-def]
    base = api_settings(settings, tmp_path_factory.mktemp("fairness-state"))
    app = create_app(base.model_copy(update={"audit_preset": "quick"}))
    with TestClient(app) as client:
        store = client.app.state.service.store  # type: ignore[attr-defined]
        admin = bearer(store.create_admin_key())
        _, key = store.create_employer_key("Công ty Công bằng")
        for body in POSTINGS:
            assert client.post("/v1/jobs", json=body, headers=bearer(key)).status_code == 201
        yield client, admin, bearer(key)


def test_an_admin_runs_the_audit_in_the_background_and_reads_its_report(fair) -> None:  # type: ignore[no-untyped-def]
    client, admin, employer = fair
    assert client.post("/v1/admin/fairness").status_code == 401
    assert client.post("/v1/admin/fairness", headers=employer).status_code == 403
    missing = client.get("/v1/admin/fairness/plot.svg", headers=admin)
    assert missing.status_code == 404 and "POST /v1/admin/fairness" in missing.text
    assert client.get("/v1/admin/fairness", headers=admin).json()["state"] == "idle"
    assert client.post("/v1/admin/fairness?preset=huge", headers=admin).status_code == 422

    started = client.post("/v1/admin/fairness?preset=quick", headers=admin)
    assert started.status_code == 202, started.text
    assert started.json()["state"] == "running"
    again = client.post("/v1/admin/fairness", headers=admin)
    assert again.status_code == 409 and "GET /v1/admin/fairness" in again.text

    phases, deadline = set(), time.monotonic() + 900
    while True:
        status = client.get("/v1/admin/fairness", headers=admin).json()
        if status["state"] != "running":
            break
        phases.add(status.get("phase"))
        assert time.monotonic() < deadline, status
        time.sleep(2)
    assert status["state"] == "done", status
    assert "counterfactuals: candidates for employers" in phases  # progress was shown

    report = status["report"]
    for direction in ("jobs_for_candidates", "candidates_for_employers"):
        rows = report["counterfactual"][direction]
        assert set(rows) == {"gender", "name", "ethnicity", "province", "age"}
        for row in rows.values():
            assert 0.0 <= row["rbo_min"] <= row["rbo_mean"] <= 1.0
            assert 0.0 <= row["changed_share"] <= 1.0 and row["max_score_change"] >= 0.0
        # a CV header's name, gender and ethnicity are not read: no list moves
        for attribute in ("gender", "name", "ethnicity"):
            assert rows[attribute]["changed_share"] == 0.0, (direction, attribute, rows)
        # age moves nothing but which programme postings are held back for the person (their
        # age rules), which shifts the similarity scale of the rest a little
        assert rows["age"]["rbo_mean"] >= 0.95, rows["age"]
    assert set(report["parity"]) == {"gender", "age", "region", "priority"}
    gender = report["parity"]["gender"]
    assert set(gender["groups"]) == {"female", "male"}
    assert 0.0 < gender["impact_ratio"] <= 1.0 and 0.0 <= gender["map_gap"] <= 1.0
    assert {"none", "priority"} == set(report["parity"]["priority"]["groups"])

    plot = client.get("/v1/admin/fairness/plot.svg", headers=admin)
    assert plot.status_code == 200 and plot.headers["content-type"].startswith("image/svg+xml")
    assert plot.text.startswith("<svg") and "gender: female" in plot.text
    table = client.get("/v1/admin/fairness/report.md", headers=admin)
    assert "| jobs for candidates | gender |" in table.text and "four-fifths" in table.text
    audit_log = client.get("/v1/admin/audit", headers=admin).json()["results"]
    assert any(entry["action"] == "fairness_audit" for entry in audit_log)


def test_gender_name_ethnicity_and_age_are_never_ranker_features() -> None:
    names = {*FEATURES, *LEARNED_FEATURES, *(f.name for f in dataclasses.fields(Seeker))}
    assert not {n for n in names if PROTECTED & set(n.split("_"))}, names
    # the profile has no gender or ethnicity field at all: only the text can say it
    assert not {"gender", "ethnicity"} & set(CandidateProfileIn.model_fields)


def test_age_name_and_priority_groups_change_nothing_outside_programme_rules(fair) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = fair
    service = client.app.state.service  # type: ignore[attr-defined]

    def rows(**update: object) -> dict[str, dict[str, float]]:
        profile = CandidateProfileIn.model_validate(PERSON | update)
        jobs, pairs = service.job_pairs(service.build_candidate(profile))
        assert jobs and not any(job.programme for job in jobs)
        return {job.id: match_features(s, o, sim) for job, (s, o, sim) in zip(jobs, pairs)}

    base = rows(birth_year=1990)
    assert rows(birth_year=1962) == base  # 64 instead of 36
    assert rows(birth_year=1990, name="Hoàng Thị Mai") == base
    boosted = rows(birth_year=1990, priority_groups=["ethnic-minority", "poor-household"])
    assert boosted == base
    assert all(row["priority"] == 0.0 for row in boosted.values())
