"""Returning contract workers (issue 20): overseas contracts on a profile, validated; the
skills and languages they brought back count in matching and are cited in the explanation;
employers filter candidate lists by language and level, country worked in and years abroad.
Real model, real SQLite and FAISS, through the HTTP stack."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import bearer, own_state

pytestmark = pytest.mark.slow


client, store, employer, other_employer = own_state("returnees")

#: A Korean-invested shipyard in Hải Phòng that asks for TOPIK 3.
SHIPYARD_JOB = {
    "title": "Thợ hàn vỏ tàu — công ty vốn Hàn Quốc",
    "description": "Hàn vỏ tàu, hàn hồ quang, đọc bản vẽ kỹ thuật. Giao tiếp với quản đốc "
    "người Hàn.",
    "employer": "Công ty TNHH Đóng tàu Hanjin Vina",
    "province": "Hải Phòng",
    "required_skills": ["hàn hồ quang"],
    "languages": [{"language": "Korean", "certificate": "TOPIK", "level": "3"}],
}
KOREA_CONTRACT = {
    "country": "KR",
    "programme": "eps-korea-manufacturing",
    "sector": "đóng tàu",
    "employer_type": "factory",
    "start": "2019-03",
    "end": "2022-02",
    "tasks": "Hàn vỏ tàu, hàn hồ quang, đọc bản vẽ kỹ thuật, kiểm tra mối hàn.",
    "certificates": [{"name": "TOPIK", "level": "3"}],
    "returned": "2022-03",
}
RETURNEE = {
    "text": "Tôi đã về nước, muốn tìm việc ở Hải Phòng.",
    "province": "Hải Phòng",
    "overseas_contracts": [KOREA_CONTRACT],
    "consent_to_be_found": True,
}


def _profile(client: TestClient, body: dict) -> dict:  # type: ignore[type-arg]
    response = client.post("/v1/candidates", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _recommend(client: TestClient, candidate: dict, lang: str = "vi") -> list[dict]:  # type: ignore[type-arg]
    response = client.post(
        f"/v1/recommendations/jobs?lang={lang}",
        json={"candidate_id": candidate["candidate"]["id"], "k": 20},
        headers=bearer(candidate["token"]),
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def shipyard_job(client: TestClient, employer: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = client.post("/v1/jobs", json=SHIPYARD_JOB, headers=employer)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_contract_abroad_is_stored_with_the_skills_and_language_it_brought(client):
    saved = _profile(client, RETURNEE)
    contract = saved["candidate"]["overseas_contracts"][0]
    assert contract["start"] == "2019-03-01" and contract["end"] == "2022-02-01"
    abroad = [s for s in saved["candidate"]["skills_found"] if s["source"] == "abroad"]
    assert abroad and all(s["abroad"] == 0 for s in abroad)
    assert any("hàn" in (s["label_vi"] or "") or "weld" in s["label"] for s in abroad), abroad
    assert saved["candidate"]["languages_abroad"] == [
        {"language": "ko", "certificate": "TOPIK", "level": "3"}
    ]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"country": "VN"}, "outside Viet Nam"),
        ({"country": "Korea"}, "country"),
        ({"start": "2022-03", "end": "2021-01"}, "end is before start"),
        (
            {"start": f"{dt.date.today().year + 1}-01", "end": f"{dt.date.today().year + 2}-01"},
            "future",
        ),
        ({"start": "1975-01"}, "check the year"),
        ({"returned": "2021-01"}, "returned is before"),
        ({"start": "March 2019"}, "a month such as 2021-03"),
        ({"employer_type": "spaceship"}, "employer_type"),
        ({"programme": "eps-mars"}, "unknown programme"),
        ({"programme": "im-japan"}, "not KR"),
        ({"tasks": "\u200b\u200b"}, "nothing to read"),
        ({"certificates": [{"name": ""}]}, "certificates"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_contract_is_a_clear_422_and_nothing_is_stored(client, store, change, says):
    before = store.candidate_hashes()
    body = {**RETURNEE, "overseas_contracts": [{**KOREA_CONTRACT, **change}]}
    response = client.post("/v1/candidates", json=body)
    assert response.status_code == 422, response.text
    assert says in response.text
    assert store.candidate_hashes() == before


def test_more_than_ten_contracts_are_refused(client):
    body = {**RETURNEE, "overseas_contracts": [KOREA_CONTRACT] * 11}
    response = client.post("/v1/candidates", json=body)
    assert response.status_code == 422 and "overseas_contracts" in response.text


def test_home_jobs_cite_the_korean_contract_in_the_readers_language(client, shipyard_job):
    returnee = _profile(client, RETURNEE)
    results = {r["job"]["id"]: r for r in _recommend(client, returnee)}
    assert shipyard_job["id"] in results
    reasons = results[shipyard_job["id"]]["explanation"]["reasons"]
    cited = [r for r in reasons if r.startswith("Kinh nghiệm ở nước ngoài: 3 năm ")]
    assert cited and "tại Hàn Quốc (EPS) + TOPIK 3" in cited[0], reasons
    assert "Đáp ứng yêu cầu ngoại ngữ" in reasons
    english = {r["job"]["id"]: r for r in _recommend(client, returnee, "en")}
    reasons = english[shipyard_job["id"]]["explanation"]["reasons"]
    assert any(
        r.startswith("Experience abroad: 3 years in South Korea (EPS): ")
        and r.endswith(" + TOPIK 3")
        for r in reasons
    ), reasons


def test_what_was_brought_back_raises_the_match_over_the_same_person_without_it(
    client, shipyard_job
):
    """The same welder, with and without the Korean contract: the contract's TOPIK 3 meets
    the posting's language and its tasks add welding skills, so the posting scores higher
    and no reason cites anything abroad for the one without it."""
    stayed_home = _profile(client, {**RETURNEE, "overseas_contracts": [],
                                    "text": "Thợ hàn, muốn tìm việc ở Hải Phòng."})  # fmt: skip
    returnee = _profile(client, {**RETURNEE, "text": "Thợ hàn, muốn tìm việc ở Hải Phòng."})
    home = {r["job"]["id"]: r for r in _recommend(client, stayed_home)}[shipyard_job["id"]]
    back = {r["job"]["id"]: r for r in _recommend(client, returnee)}[shipyard_job["id"]]
    assert back["features"]["language"] == 1.0 and home["features"]["language"] == 0.0
    assert back["score"] > home["score"]
    assert not any("nước ngoài" in r for r in home["explanation"]["reasons"])


def _rank(client, job, employer, filters):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/jobs/{job['id']}/candidates?lang=vi", headers=employer,
                       json={"k": 100, "filters": filters})  # fmt: skip


def test_employers_filter_candidates_by_language_level_country_and_years_abroad(
    client, employer, shipyard_job
):
    korea = _profile(client, {**RETURNEE, "overseas_contracts": [
        {**KOREA_CONTRACT, "certificates": [{"name": "TOPIK 4"}]}]})  # fmt: skip
    japan = _profile(client, {**RETURNEE, "overseas_contracts": [{
        "country": "JP", "programme": "im-japan", "start": "2021-01", "end": "2022-12",
        "tasks": "Hàn kết cấu thép trong nhà máy.", "certificates": [{"name": "JLPT", "level": "N3"}],
    }]})  # fmt: skip
    learner = _profile(client, {**RETURNEE, "overseas_contracts": [], "text": "Thợ hàn.",
                                "languages": [{"language": "Korean", "certificate": "TOPIK",
                                               "level": "2"}]})  # fmt: skip
    hidden = _profile(client, {**RETURNEE, "consent_to_be_found": False, "overseas_contracts": [
        {**KOREA_CONTRACT, "certificates": [{"name": "TOPIK", "level": "6"}]}]})  # fmt: skip

    def found(filters):  # type: ignore[no-untyped-def]
        response = _rank(client, shipyard_job, employer, filters)
        assert response.status_code == 200, response.text
        return {r["candidate"]["id"]: r for r in response.json()["results"]}

    korean = found({"language": "tiếng Hàn", "min_level": "3"})
    assert (
        korea["candidate"]["id"] in korean
        and learner["candidate"]["id"] not in korean
        and japan["candidate"]["id"] not in korean
    )
    assert found({"language": "Korean"}).keys() >= {
        korea["candidate"]["id"],
        learner["candidate"]["id"],
    }
    in_japan = found({"worked_in": "jp"})
    assert japan["candidate"]["id"] in in_japan and korea["candidate"]["id"] not in in_japan
    long_stays = found({"min_years_abroad": 2.5})
    assert korea["candidate"]["id"] in long_stays and japan["candidate"]["id"] not in long_stays
    assert all(
        hidden["candidate"]["id"] not in found(f)
        for f in ({}, {"language": "Korean"}, {"worked_in": "KR"})
    )
    # what the employer sees of the contract: where, how long, what was earned; no free text
    shown = korean[korea["candidate"]["id"]]
    work = shown["candidate"]["overseas"][0]
    assert work["country"] == "KR" and work["years"] == 3.0 and "tasks" not in work
    assert "vỏ tàu" not in str(shown["candidate"])
    assert any(r.startswith("Kinh nghiệm ở nước ngoài") for r in shown["explanation"]["reasons"])


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"min_level": "3"}, "min_level needs a language"),
        ({"language": "Korean", "min_level": "150"}, "not a level"),
        ({"worked_in": "Korea"}, "worked_in"),
        ({"min_years_abroad": -1}, "min_years_abroad"),
    ],
)
def test_bad_candidate_filters_are_a_clear_422(client, employer, shipyard_job, filters, says):
    response = _rank(client, shipyard_job, employer, filters)
    assert response.status_code == 422 and says in response.text, response.text


def test_eligibility_cites_the_way_back_that_a_past_contract_opens(client):
    """EPS re-entry for workers who finished their contract faithfully, and the special
    Korean test for those who came home on time: cited from the programme data, shown only to
    someone whose past contract was on the EPS; the trainee route into Japan's Specified
    Skilled Worker only after IM Japan."""

    def eligibility(programme, profile):  # type: ignore[no-untyped-def]
        response = client.post(f"/v1/programmes/{programme}/eligibility?lang=vi",
                               json={"profile": profile})  # fmt: skip
        assert response.status_code == 200, response.text
        return response.json()

    back = eligibility("eps-korea-manufacturing", RETURNEE)["reentry"]
    assert len(back) == 2 and all(f["verified"] and f["url"].startswith("http") for f in back)
    assert "4 năm 10 tháng" in back[0]["text"] and "kỳ thi tiếng Hàn đặc biệt" in back[1]["text"]
    never = {**RETURNEE, "overseas_contracts": [], "text": "Thợ hàn, chưa đi nước ngoài."}
    assert eligibility("eps-korea-manufacturing", never)["reentry"] == []
    trainee = {**RETURNEE, "overseas_contracts": [{
        "country": "JP", "programme": "im-japan", "start": "2020-01", "end": "2022-12",
        "tasks": "Hàn kết cấu thép."}]}  # fmt: skip
    assert eligibility("eps-korea-manufacturing", trainee)["reentry"] == []
    [ssw] = eligibility("japan-ssw", trainee)["reentry"]
    assert "miễn kỳ thi kỹ năng" in ssw["text"] and ssw["source"] == "jac-titp-to-ssw"
