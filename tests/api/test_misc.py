import pytest

from tests.api.conftest import bearer

pytestmark = pytest.mark.slow


def test_health_readiness_and_metrics(client, accounting_job):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    client.get(f"/v1/jobs/{accounting_job['id']}")
    metrics = client.get("/metrics").text
    assert 'matcher_requests_total{method="GET",route="/v1/jobs/{job_id}",status="200"}' in metrics
    assert "matcher_request_seconds_bucket" in metrics
    assert "matcher_index_jobs" in metrics and 'model="multilingual-e5-small"' in metrics


def test_about_credits_esco(client):
    about = client.get("/v1/about").json()
    assert "ESCO" in about["acknowledgement"] and "2011/833/EU" in about["acknowledgement"]
    assert "ESCO" in client.get("/openapi.json").json()["info"]["description"]
    # the vacancy titles that title matching reads are credited too
    assert any("JobBERT" in source["name"] for source in about["data_sources"])


def test_docs_are_served(client):
    assert client.get("/docs").status_code == 200


def test_taxonomy_routes_return_the_cli_fields(client):
    response = client.post("/v1/occupations/match", json={"text": "giáo viên tiểu học", "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert {"uri", "label", "score"} <= set(results[0]) and "primary school teacher" in [
        r["label"] for r in results
    ]
    response = client.post(
        "/v1/skills/extract", json={"text": "Thành thạo Excel và sơ cứu", "k": 5}
    )
    skills = response.json()["results"]
    assert {"uri", "label", "score", "evidence"} <= set(skills[0])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "", "k": 3}, 422),
        ({"text": "x", "k": 0}, 422),
        ({"text": "x" * 20_001}, 422),
        ({"k": 3}, 422),
    ],
)
def test_taxonomy_routes_reject_bad_input(client, body, status):
    assert client.post("/v1/occupations/match", json=body).status_code == status
    assert client.post("/v1/skills/extract", json=body).status_code == status


def test_feedback_from_employer_and_candidate(
    client, employer, other_employer, accounting_job, accountant
):
    body = {
        "job_id": accounting_job["id"],
        "candidate_id": accountant["candidate"]["id"],
        "event": "shortlisted",
    }
    assert client.post("/v1/feedback", json=body, headers=employer).status_code == 201
    assert client.post("/v1/feedback", json=body, headers=other_employer).status_code == 403
    assert client.post("/v1/feedback", json=body).status_code == 401
    assert (
        client.post("/v1/feedback", json=dict(body, event="liked"), headers=employer).status_code
        == 422
    )
    assert (
        client.post("/v1/feedback", json=dict(body, job_id="nope"), headers=employer).status_code
        == 404
    )
    applied = dict(body, event="applied")
    assert (
        client.post("/v1/feedback", json=applied, headers=bearer(accountant["token"])).status_code
        == 201
    )


def test_unknown_route_and_method(client):
    assert client.get("/v1/nothing").status_code == 404
    assert client.patch("/v1/jobs/x", json={}).status_code == 405
