"""Provinces after the July 2025 merger, and communes, through the real server's API: a former
province is mapped to the new one (and remembered); a commune is one of its province's, from
the cited list; anything else is a 422 that leaves nothing behind."""

from __future__ import annotations

import pytest

from tests.api.conftest import ACCOUNTING_JOB, bearer

pytestmark = pytest.mark.slow

WORKER = {"text": "Công nhân cơ khí, vận hành máy CNC, hàn, đọc bản vẽ"}


def test_provinces_and_their_communes_for_forms(client):
    body = client.get("/v1/provinces").json()
    assert len(body["provinces"]) == 34
    former = body["former_provinces"]
    assert len(former) == 63 and former["Bắc Giang"] == "Bắc Ninh"
    assert former["Thừa Thiên Huế"] == "Huế" and former["Hà Nội"] == "Hà Nội"
    assert set(former.values()) == {p["name"] for p in body["provinces"]}

    communes = client.get("/v1/provinces/Bắc Ninh/communes").json()
    names = {c["name"] for c in communes["communes"]}
    assert communes["province"] == "Bắc Ninh" and len(names) == 99
    assert {"Phường Bắc Giang", "Xã Xuân Lương"} <= names and "dvhcvn" in communes["source"]
    # a former province answers with the province it became
    assert client.get("/v1/provinces/Bắc Giang/communes").json()["province"] == "Bắc Ninh"
    missing = client.get("/v1/provinces/Mars/communes")
    assert missing.status_code == 404 and "34 provinces" in missing.json()["error"]["message"]


def test_a_former_province_is_mapped_and_a_commune_kept(client, store):
    created = client.post("/v1/candidates", json=WORKER | {
        "province": "tỉnh Bắc Giang", "commune": "xuân lương"})  # fmt: skip
    assert created.status_code == 201, created.text
    candidate = created.json()["candidate"]
    assert candidate["province"] == "Bắc Ninh" and candidate["former_province"] == "Bắc Giang"
    assert candidate["commune"] == "Xã Xuân Lương"  # the list's official name
    saved = client.get(f"/v1/candidates/{candidate['id']}",
                       headers=bearer(created.json()["token"])).json()  # fmt: skip
    assert (saved["province"], saved["commune"]) == ("Bắc Ninh", "Xã Xuân Lương")
    client.delete(f"/v1/candidates/{candidate['id']}", headers=bearer(created.json()["token"]))


@pytest.mark.parametrize(
    ("place", "says"),
    [
        ({"province": "Hà Nội", "commune": "Xã Xuân Lương"}, "not one of the"),  # Bắc Ninh's
        ({"commune": "Xã Xuân Lương"}, "needs its province"),
        ({"province": "Atlantis"}, "not one of Vietnam's 34 provinces"),
    ],
)
def test_a_place_that_does_not_exist_is_a_422_that_stores_nothing(client, store, place, says):
    before = len(store.candidate_hashes())
    response = client.post("/v1/candidates", json=WORKER | place)
    assert response.status_code == 422, response.text
    assert says in response.json()["error"]["message"]
    assert len(store.candidate_hashes()) == before


def test_a_posting_in_a_former_province_is_placed_in_the_new_one(client, employer):
    response = client.post("/v1/jobs", json=ACCOUNTING_JOB | {"province": "Thừa Thiên Huế"},
                           headers=employer)  # fmt: skip
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["province"] == "Huế" and job["former_province"] == "Thừa Thiên Huế"
    client.delete(f"/v1/jobs/{job['id']}", headers=employer)
    refused = client.post("/v1/jobs", json=ACCOUNTING_JOB | {"province": "Atlantis"},
                          headers=employer)  # fmt: skip
    assert refused.status_code == 422


def test_a_search_for_a_former_province_finds_the_new_ones_postings(client, employer):
    posted = client.post("/v1/jobs", headers=employer, json=ACCOUNTING_JOB | {
        "title": "Kế toán nhà máy", "province": "Bắc Ninh"}).json()  # fmt: skip
    try:
        body = {"profile": {"text": "Kế toán, lập báo cáo tài chính"}, "k": 5,
                "filters": {"province": "Bắc Giang"}}  # fmt: skip
        response = client.post("/v1/recommendations/jobs", json=body)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert posted["id"] in {r["job"]["id"] for r in results}
        assert {r["job"]["province"] for r in results} == {"Bắc Ninh"}
        body["filters"] = {"province": "Atlantis"}
        refused = client.post("/v1/recommendations/jobs", json=body)
        assert refused.status_code == 422 and "34 provinces" in refused.text
    finally:
        client.delete(f"/v1/jobs/{posted['id']}", headers=employer)
