"""Transitions and skill gaps through the real HTTP stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.api.conftest import bearer

pytestmark = pytest.mark.slow
TEACHER = "http://data.europa.eu/esco/occupation/03d79393-7b30-4159-945b-01963eddd302"


def test_transitions_by_encoded_uri_and_by_uuid(client):
    response = client.get(f"/v1/occupations/{quote(TEACHER, safe='')}/transitions?k=5&lang=vi")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["origin"]["uris"] == [TEACHER]
    targets = body["transitions"]
    assert len(targets) == 5 and TEACHER not in {t["uri"] for t in targets}
    for target in targets:
        assert {"uri", "label", "score", "shared_skills", "missing_skills"} <= set(target)
        assert "kỹ năng bắt buộc" in target["reason"]
    uuid = TEACHER.rsplit("/", 1)[-1]
    same = client.get(f"/v1/occupations/{uuid}/transitions?k=5").json()
    assert [t["uri"] for t in same["transitions"]] == [t["uri"] for t in targets]


def test_transitions_errors_are_clear(client):
    response = client.get("/v1/occupations/not-an-occupation/transitions")
    assert response.status_code == 404
    assert "ESCO" in response.json()["error"]["message"]
    assert (
        client.get(f"/v1/occupations/{TEACHER.rsplit('/', 1)[-1]}/transitions?k=0").status_code
        == 422
    )
    assert (
        client.get(f"/v1/occupations/{TEACHER.rsplit('/', 1)[-1]}/transitions?lang=fr").status_code
        == 422
    )


def test_transitions_from_a_former_position_in_words(client):
    response = client.post(
        "/v1/transitions?lang=en", json={"text": "nguyên chuyên viên phòng nội vụ huyện", "k": 5}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["origin"]["via"] == "position"
    assert all("essential skills" in t["reason"] for t in body["transitions"])
    assert client.post("/v1/transitions", json={"text": ""}).status_code == 422


def test_public_sector_candidate_gets_transition_jobs_explained(client, employer):
    """A former commune land officer: postings for good transition targets are recommended
    and the explanation says they are a career move."""
    targets = client.post("/v1/transitions", json={"text": "công chức địa chính xã", "k": 3}).json()
    target = targets["transitions"][0]
    job = {"title": "Vị trí thử nghiệm chuyển nghề", "description": "Công việc thực địa.",
           "province": "Huế", "occupation": target["uri"]}  # fmt: skip
    created = client.post("/v1/jobs", json=job, headers=employer)
    assert created.status_code == 201, created.text
    assert created.json()["occupation"] == target["uri"]
    profile = {"text": "Làm công chức địa chính xã 12 năm, đo đạc, quản lý hồ sơ đất đai.",
               "former_position": "công chức địa chính xã", "province": "Huế"}  # fmt: skip
    response = client.post("/v1/recommendations/jobs", json={"profile": profile, "k": 20})
    assert response.status_code == 200, response.text
    results = {r["job"]["id"]: r for r in response.json()["results"]}
    assert created.json()["id"] in results
    mine = results[created.json()["id"]]
    assert mine["features"]["transition"] > 0
    assert any("chuyển nghề" in reason for reason in mine["explanation"]["reasons"])


def test_unknown_posting_occupation_is_a_clear_422(client, employer):
    job = {"title": "Thợ điện", "occupation": "http://data.europa.eu/esco/occupation/nope"}
    response = client.post("/v1/jobs", json=job, headers=employer)
    assert response.status_code == 422
    assert "ESCO occupation" in response.json()["error"]["message"]


def test_skill_gaps_for_saved_and_inline_profiles(client, accountant, accounting_job):
    saved = client.post(
        f"/v1/candidates/{accountant['candidate']['id']}/skill-gaps?lang=vi",
        json={"k": 5, "filters": {"province": "Hà Nội"}},
        headers=bearer(accountant["token"]),
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["postings_considered"] >= 1
    labels = {g["label"] for g in body["gaps"]}
    assert "calculate tax" in labels  # the accounting posting asks for it; the profile lacks it
    gap = next(g for g in body["gaps"] if g["label"] == "calculate tax")
    assert gap["unlocks"] >= 1 and "Hà Nội" in gap["reason"]
    assert gap["training"]["kind"] in {"language_centre", "vocational_module", "short_course",
                                       "on_the_job"}  # fmt: skip
    assert gap["group_path"]
    inline = client.post(
        "/v1/skill-gaps?lang=en",
        json={"profile": {"text": "Kế toán, lập báo cáo tài chính"}, "k": 3},
    )
    assert inline.status_code == 200, inline.text
    assert len(inline.json()["gaps"]) <= 3


def test_skill_gaps_of_a_saved_profile_need_its_token(client, accountant):
    url = f"/v1/candidates/{accountant['candidate']['id']}/skill-gaps"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=bearer("ct_wrong")).status_code in (401, 403)
    assert (
        client.post(
            "/v1/skill-gaps", json={"candidate_id": accountant["candidate"]["id"]}
        ).status_code
        == 401
    )


def test_cli_transitions_json(settings):
    matcher = str(Path(sys.executable).with_name("matcher"))
    run = subprocess.run(
        [matcher, "transitions", "nguyên giáo viên mầm non", "-k", "4", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["origin"]["via"] == "position" and len(body["transitions"]) == 4
    assert {"uri", "label", "score", "shared_skills", "missing_skills"} <= set(
        body["transitions"][0]
    )
    bad = subprocess.run([matcher, "transitions", TEACHER + "x"], capture_output=True, text=True,
                         timeout=300, check=False)  # fmt: skip
    assert bad.returncode != 0 and "not in ESCO" in bad.stderr
