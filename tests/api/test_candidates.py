import pytest

from tests.api.conftest import ACCOUNTANT_PROFILE, bearer

pytestmark = pytest.mark.slow


def test_created_profile_has_skills_and_a_token(accountant):
    assert accountant["token"].startswith("ct_")
    labels = {s["label"] for s in accountant["candidate"]["skills_found"]}
    assert "prepare financial statements" in labels


def test_owner_reads_and_changes_the_profile_with_the_token(client, accountant):
    candidate_id, token = accountant["candidate"]["id"], accountant["token"]
    response = client.get(f"/v1/candidates/{candidate_id}", headers=bearer(token))
    assert response.status_code == 200 and response.json()["contact"] == ACCOUNTANT_PROFILE["contact"]
    changed = dict(ACCOUNTANT_PROFILE, province="Hải Phòng")
    response = client.put(f"/v1/candidates/{candidate_id}", json=changed, headers=bearer(token))
    assert response.status_code == 200 and response.json()["province"] == "Hải Phòng"
    client.put(f"/v1/candidates/{candidate_id}", json=ACCOUNTANT_PROFILE, headers=bearer(token))


@pytest.mark.parametrize(("headers", "status"), [({}, 401), (bearer("ct_wrong"), 403)])
def test_without_the_right_token_there_is_no_data(client, accountant, headers, status):
    candidate_id = accountant["candidate"]["id"]
    for response in (
        client.get(f"/v1/candidates/{candidate_id}", headers=headers),
        client.put(f"/v1/candidates/{candidate_id}", json=ACCOUNTANT_PROFILE, headers=headers),
        client.delete(f"/v1/candidates/{candidate_id}", headers=headers),
    ):
        assert response.status_code == status
        assert "contact" not in response.text and "Nguyễn" not in response.text


def test_a_profile_needs_some_content(client):
    response = client.post("/v1/candidates", json={"province": "Huế"})
    assert response.status_code == 422
    assert "at least one of text" in response.json()["error"]["message"]


def test_unknown_candidate_is_404(client):
    assert client.get("/v1/candidates/nope", headers=bearer("ct_x")).status_code == 404


def test_deleting_erases_profile_vectors_and_feedback(client, employer, accounting_job):
    created = client.post("/v1/candidates", json=ACCOUNTANT_PROFILE).json()
    candidate_id, token = created["candidate"]["id"], created["token"]
    feedback = {"job_id": accounting_job["id"], "candidate_id": candidate_id, "event": "applied"}
    assert client.post("/v1/feedback", json=feedback, headers=bearer(token)).status_code == 201
    assert client.delete(f"/v1/candidates/{candidate_id}", headers=bearer(token)).status_code == 204
    service = client.app.state.service
    assert candidate_id not in service.catalog.candidates
    assert all(row["candidate_id"] != candidate_id for row in service.store.feedback())
    assert client.get(f"/v1/candidates/{candidate_id}", headers=bearer(token)).status_code == 404
