"""Employment service centres (issue 20): a centre scoped to its provinces lists and exports
only the candidates of those provinces who agreed that centres may list them; public
aggregates carry no personal data and suppress small cells. Real model, SQLite and FAISS
through the HTTP stack, on a state of this module's own (the counts are exact)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from matcher.services.centres import CSV_COLUMNS
from tests.api.conftest import api_settings, bearer

pytestmark = pytest.mark.slow

MARK = "CENTRE-PRIVATE-41c"  # in each profile's free text: never in a list, export or aggregate


def person(province: str, n: int, **extra) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {
        "text": f"Công nhân cơ khí {n} năm, hàn hồ quang, muốn đi Hàn Quốc. {MARK}",
        "province": province,
        "willing_to_work_abroad": True,
        "preferred_countries": ["KR"],
        "birth_year": 1995,
        "consent_to_centres": True,
        "name": f"Người {province} {n}",
        "contact": f"p{n}.{province[:3]}@example.invalid",
        **extra,
    }


@pytest.fixture(scope="module")
def site(settings, tmp_path_factory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(api_settings(settings, tmp_path_factory.mktemp("centres")))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def admin(site):  # type: ignore[no-untyped-def]
    return bearer(site.app.state.service.store.create_admin_key())


@pytest.fixture(scope="module")
def people(site):  # type: ignore[no-untyped-def]
    """Six in Nghệ An who agreed (one a returnee from Korea, in a named commune), one there who
    agreed only to be found by employers, and two in Hà Tĩnh who agreed."""
    made = {}
    bodies = {f"na{n}": person("Nghệ An", n) for n in range(5)}
    bodies["returnee"] = person("Nghệ An", 9, commune="Phường Vinh Phú", overseas_contracts=[{
        "country": "KR", "programme": "eps-korea-manufacturing", "start": "2018-01",
        "end": "2022-10", "tasks": "Hàn khung thép."}],
        programmes_of_interest=["eps-korea-manufacturing"], documents=["passport"])  # fmt: skip
    bodies["employers_only"] = person("Nghệ An", 7, consent_to_centres=False,
                                      consent_to_be_found=True)  # fmt: skip
    bodies.update({f"ht{n}": person("Hà Tĩnh", n) for n in range(2)})
    for key, body in bodies.items():
        response = site.post("/v1/candidates", json=body)
        assert response.status_code == 201, response.text
        made[key] = response.json()
    return made


@pytest.fixture(scope="module")
def centre(site, admin):  # type: ignore[no-untyped-def]
    response = site.post("/v1/admin/centres", headers=admin,
                         json={"name": "Trung tâm DVVL Nghệ An", "provinces": ["Nghệ An"]})  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["provinces"] == ["Nghệ An"]
    return bearer(response.json()["key"])


def test_only_an_admin_creates_a_centre_and_provinces_are_checked(site, admin, centre):
    bad = site.post("/v1/admin/centres", headers=admin,
                    json={"name": "Trung tâm X", "provinces": ["Atlantis"]})  # fmt: skip
    assert bad.status_code == 422 and "34 provinces" in bad.text
    assert site.post("/v1/admin/centres", headers=centre,
                     json={"name": "Trung tâm X", "provinces": ["Nghệ An"]}).status_code == 403  # fmt: skip
    # a centre's key is not an employer's
    assert site.post("/v1/jobs", json={"title": "Thợ hàn"}, headers=centre).status_code == 403


def test_a_centre_lists_only_its_provinces_consenting_candidates(site, centre, people):
    listed = site.get("/v1/centre/candidates?limit=100", headers=centre)
    assert listed.status_code == 200, listed.text
    ids = {row["candidate_id"] for row in listed.json()["results"]}
    nghe_an = {people[k]["candidate"]["id"] for k in ("na0", "na1", "na2", "na3", "na4", "returnee")}
    assert ids == nghe_an and listed.json()["total"] == 6
    assert MARK not in listed.text
    other = site.get("/v1/centre/candidates?province=Hà Tĩnh", headers=centre)
    assert other.status_code == 403 and "Nghệ An" in other.text
    returnee = people["returnee"]["candidate"]["id"]
    only = site.get("/v1/centre/candidates?returnee=true", headers=centre).json()["results"]
    assert [row["candidate_id"] for row in only] == [returnee]
    assert only[0]["returnee"] == "KR" and only[0]["readiness"].endswith("; passport")
    assert only[0]["name"] == "Người Nghệ An 9" and only[0]["commune"] == "Phường Vinh Phú"
    communes = site.get("/v1/centre/candidates?province=Nghệ An&commune=Phường Vinh Phú",
                        headers=centre).json()["results"]  # fmt: skip
    assert [row["candidate_id"] for row in communes] == [returnee]
    interested = site.get("/v1/centre/candidates?programme=eps-korea-manufacturing",
                          headers=centre).json()  # fmt: skip
    assert interested["total"] == 6  # the others prefer Korea: every EPS programme
    assert site.get("/v1/centre/candidates?readiness=soon", headers=centre).status_code == 422


def test_the_csv_has_exactly_the_agreed_columns_and_the_acts_are_audited(
    site, centre, admin, people
):
    response = site.get("/v1/centre/candidates.csv", headers=centre)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 7
    assert MARK not in response.text and "Hà Tĩnh" not in response.text
    assert people["employers_only"]["candidate"]["id"] not in response.text
    assert {r[6] for r in rows[1:]} >= {"Người Nghệ An 9", "Người Nghệ An 0"}
    audit = site.get("/v1/admin/audit?limit=20", headers=admin).json()
    actions = [entry["action"] for entry in audit["results"]]
    assert "centre_export" in actions and "centre_list" in actions and "centre_create" in actions


def test_withdrawing_the_consent_takes_a_candidate_off_the_list(site, centre, people):
    made = people["na4"]
    body = {k: v for k, v in made["candidate"].items()
            if k in person("Nghệ An", 4)}  # fmt: skip
    body["consent_to_centres"] = False
    response = site.put(f"/v1/candidates/{made['candidate']['id']}", json=body,
                        headers=bearer(made["token"]))  # fmt: skip
    assert response.status_code == 200, response.text
    listed = site.get("/v1/centre/candidates?limit=100", headers=centre).json()
    assert made["candidate"]["id"] not in {row["candidate_id"] for row in listed["results"]}
    site.put(f"/v1/candidates/{made['candidate']['id']}", headers=bearer(made["token"]),
             json={**body, "consent_to_centres": True})  # fmt: skip


def test_public_aggregates_count_without_personal_data_and_suppress_small_cells(site, people):
    response = site.get("/v1/aggregates")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["min_cell"] == 5
    cells = {(c["province"], c["commune"], c["programme"]): c for c in body["cells"]}
    whole = cells[("Nghệ An", None, "eps-korea-manufacturing")]
    assert whole["interested"] == 6
    assert cells[("Nghệ An", "Phường Vinh Phú", "eps-korea-manufacturing")]["interested"] is None
    assert cells[("Hà Tĩnh", None, "eps-korea-manufacturing")]["interested"] is None  # 2 < 5
    text = response.text
    assert MARK not in text and "example.invalid" not in text and "Người" not in text
    assert not any(p["candidate"]["id"] in text for p in people.values())
    assert all(s["missing_for"] >= 5 for s in body["top_missing_skills"])
    one = site.get("/v1/aggregates?province=Hà Tĩnh").json()
    assert {c["province"] for c in one["cells"]} == {"Hà Tĩnh"}
