"""Invitations and applications (issue 20): a match turns into a conversation, and no
contact data moves without the candidate's act. Real model, real SQLite and FAISS, through
the HTTP stack; the daily limit on a server of its own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import ACCOUNTING_JOB, api_settings, bearer, own_state
from tests.api.test_screening import SCAM

pytestmark = pytest.mark.slow


client, store, employer, other_employer = own_state("connections")

PERSON = {
    "text": "Nguyên kế toán xã 8 năm: lập báo cáo tài chính, kê khai thuế, Excel.",
    "former_position": "kế toán",
    "province": "Hà Nội",
    "consent_to_be_found": True,
    "name": "Lê Thị Hoa",
    "contact": "hoa.le@example.invalid",
}


@pytest.fixture
def employer_key(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, key = store.create_employer_key("Công ty Kế toán Minh Bạch")
    return bearer(key)


def _post(client: TestClient, path: str, body: dict, headers: dict | None = None) -> dict:  # type: ignore[type-arg]
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def _setup(client, employer_key, person=PERSON):  # type: ignore[no-untyped-def]
    job = _post(client, "/v1/jobs", ACCOUNTING_JOB, employer_key)
    saved = _post(client, "/v1/candidates", person)
    return job, saved["candidate"]["id"], bearer(saved["token"])


def _invite(client, job, candidate_id, employer_key):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/jobs/{job['id']}/invitations", headers=employer_key,
                       json={"candidate_id": candidate_id,
                             "message": "Mời chị phỏng vấn vị trí kế toán tổng hợp."})  # fmt: skip


def test_an_accepted_invitation_shares_the_contact_with_that_employer_only(
    client, store, employer_key, other_employer
):
    job, candidate_id, token = _setup(client, employer_key)
    ranked = _post(client, f"/v1/jobs/{job['id']}/candidates", {"k": 50}, employer_key)
    assert candidate_id in {r["candidate"]["id"] for r in ranked["results"]}
    sent = _invite(client, job, candidate_id, employer_key)
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "pending" and sent.json()["shared"] is None
    listed = client.get(f"/v1/jobs/{job['id']}/invitations", headers=employer_key).json()
    assert [i["shared"] for i in listed["results"]] == [None]  # nothing before the answer
    assert "hoa.le" not in str(listed)

    mine = client.get(f"/v1/candidates/{candidate_id}/invitations", headers=token).json()
    [invitation] = mine["results"]
    assert invitation["job_title"] == "Kế toán tổng hợp"
    assert invitation["employer"] == "Công ty Kế toán Minh Bạch"
    assert invitation["message"].startswith("Mời chị phỏng vấn")
    accepted = _post(client, f"/v1/candidates/{candidate_id}/invitations/{invitation['id']}",
                     {"decision": "accept"}, token)  # fmt: skip
    assert accepted["status"] == "accepted" and accepted["shared"] is None  # not to herself

    listed = client.get(f"/v1/jobs/{job['id']}/invitations", headers=employer_key).json()
    assert listed["results"][0]["shared"] == {"name": "Lê Thị Hoa",
                                              "contact": "hoa.le@example.invalid"}  # fmt: skip
    # another employer sees nothing of it, nor of its candidates' contacts
    assert client.get(f"/v1/jobs/{job['id']}/invitations",
                      headers=other_employer).status_code == 403  # fmt: skip
    other_job = _post(client, "/v1/jobs", {**ACCOUNTING_JOB, "title": "Kế toán kho"}, other_employer)
    assert client.get(f"/v1/jobs/{other_job['id']}/invitations",
                      headers=other_employer).json()["results"] == []  # fmt: skip
    for path in (f"/v1/jobs/{other_job['id']}/candidates",):
        assert "hoa.le" not in client.post(path, json={"k": 50}, headers=other_employer).text

    # withdrawn: sharing stops
    _post(client, f"/v1/candidates/{candidate_id}/invitations/{invitation['id']}",
          {"decision": "withdraw"}, token)  # fmt: skip
    listed = client.get(f"/v1/jobs/{job['id']}/invitations", headers=employer_key).json()
    assert listed["results"][0]["status"] == "withdrawn" and listed["results"][0]["shared"] is None
    events = [(e["event"], e["actor"]) for e in store.feedback()
              if e["candidate_id"] == candidate_id and e["job_id"] == job["id"]]  # fmt: skip
    assert [e for e, _ in events] == ["invited", "accepted"]
    _, audit = store.audit_log(limit=20)
    actions = {entry["action"] for entry in audit}
    assert {"invite", "invitation_accept", "invitation_withdraw", "invitations_list"} <= actions


def test_a_declined_invitation_shares_nothing_and_cannot_be_answered_twice(
    client, store, employer_key
):
    job, candidate_id, token = _setup(client, employer_key)
    invitation = _invite(client, job, candidate_id, employer_key).json()
    declined = _post(client, f"/v1/candidates/{candidate_id}/invitations/{invitation['id']}",
                     {"decision": "decline"}, token)  # fmt: skip
    assert declined["status"] == "declined"
    again = client.post(f"/v1/candidates/{candidate_id}/invitations/{invitation['id']}",
                        json={"decision": "accept"}, headers=token)  # fmt: skip
    assert again.status_code == 409 and "declined" in again.text
    listed = client.get(f"/v1/jobs/{job['id']}/invitations", headers=employer_key).json()
    assert listed["results"][0]["shared"] is None and "hoa.le" not in str(listed)
    assert ("declined", candidate_id) in {(e["event"], e["candidate_id"]) for e in store.feedback()}
    # someone else's token opens nothing
    stranger = _post(client, "/v1/candidates", {**PERSON, "name": "X", "contact": "x@e.invalid"})
    wrong = client.post(f"/v1/candidates/{candidate_id}/invitations/{invitation['id']}",
                        json={"decision": "accept"}, headers=bearer(stranger["token"]))  # fmt: skip
    assert wrong.status_code == 403


def test_invitations_need_a_findable_candidate_a_visible_posting_and_one_per_pair(
    client, employer_key
):
    job, candidate_id, _ = _setup(client, employer_key)
    assert _invite(client, job, candidate_id, employer_key).status_code == 201
    twice = _invite(client, job, candidate_id, employer_key)
    assert twice.status_code == 409 and "already invited" in twice.text
    hidden = _post(client, "/v1/candidates", {**PERSON, "consent_to_be_found": False})
    refused = _invite(client, job, hidden["candidate"]["id"], employer_key)
    assert refused.status_code == 404 and "agreed to be found" in refused.text
    held = _post(client, "/v1/jobs", SCAM, employer_key)
    assert held["review"]["status"] == "held"
    assert _invite(client, held, candidate_id, employer_key).status_code == 409
    empty = client.post(f"/v1/jobs/{job['id']}/invitations", headers=employer_key,
                        json={"candidate_id": candidate_id, "message": "\u200b"})  # fmt: skip
    assert empty.status_code == 422


def test_an_application_shares_what_the_candidate_chose_until_withdrawn(
    client, store, employer_key
):
    job, candidate_id, token = _setup(client, employer_key)
    applied = client.post(f"/v1/candidates/{candidate_id}/applications", headers=token,
                          json={"job_id": job["id"], "message": "Tôi có 8 năm kế toán xã.",
                                "share_name": True, "share_contact": False})  # fmt: skip
    assert applied.status_code == 201, applied.text
    seen = client.get(f"/v1/jobs/{job['id']}/applications", headers=employer_key).json()
    [application] = seen["results"]
    assert application["shared"] == {"name": "Lê Thị Hoa", "contact": None}
    assert application["candidate"]["former_position"] == "kế toán"
    assert "hoa.le" not in str(seen)  # the contact was not chosen
    assert "Nguyên kế toán xã" not in str(application["candidate"])  # nor is the free text shown
    assert ("applied", candidate_id) in {(e["event"], e["candidate_id"]) for e in store.feedback()}
    twice = client.post(f"/v1/candidates/{candidate_id}/applications", headers=token,
                        json={"job_id": job["id"]})  # fmt: skip
    assert twice.status_code == 409
    mine = client.get(f"/v1/candidates/{candidate_id}/applications", headers=token).json()
    assert mine["results"][0]["job_title"] == "Kế toán tổng hợp"
    gone = client.delete(f"/v1/candidates/{candidate_id}/applications/{application['id']}",
                         headers=token)  # fmt: skip
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    seen = client.get(f"/v1/jobs/{job['id']}/applications", headers=employer_key).json()
    assert seen["results"][0]["shared"] is None
    held = _post(client, "/v1/jobs", SCAM, employer_key)
    hidden = client.post(f"/v1/candidates/{candidate_id}/applications", headers=token,
                         json={"job_id": held["id"]})  # fmt: skip
    assert hidden.status_code == 404


def test_erasing_a_profile_erases_its_invitations_and_applications(client, employer_key):
    job, candidate_id, token = _setup(client, employer_key)
    _invite(client, job, candidate_id, employer_key)
    client.post(f"/v1/candidates/{candidate_id}/applications", headers=token,
                json={"job_id": job["id"]})  # fmt: skip
    assert client.delete(f"/v1/candidates/{candidate_id}", headers=token).status_code == 204
    for kind in ("invitations", "applications"):
        listed = client.get(f"/v1/jobs/{job['id']}/{kind}", headers=employer_key).json()
        assert listed["results"] == []


def test_an_employer_cannot_send_more_invitations_a_day_than_the_limit(settings, tmp_path):
    limited = api_settings(settings, tmp_path).model_copy(update={"invitations_per_day": 2})
    with TestClient(create_app(limited)) as client:
        _, key = client.app.state.service.store.create_employer_key("Công ty Gửi Nhiều")  # type: ignore[attr-defined]
        employer_key = bearer(key)
        job = _post(client, "/v1/jobs", ACCOUNTING_JOB, employer_key)
        people = [_post(client, "/v1/candidates", {**PERSON, "contact": f"p{n}@e.invalid"})
                  for n in range(3)]  # fmt: skip
        answers = [_invite(client, job, p["candidate"]["id"], employer_key) for p in people]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert int(answers[2].headers["Retry-After"]) > 0
        assert "invitations of the last 24 hours" in answers[2].json()["error"]["message"]
        listed = client.get(f"/v1/jobs/{job['id']}/invitations", headers=employer_key).json()
        assert len(listed["results"]) == 2  # the refused one left nothing behind


def test_a_candidates_applied_feedback_is_an_application_that_shares_nothing(
    client, employer_key
):
    """The `applied` feedback event a candidate sends becomes an application; having
    chosen nothing to share, the employer sees the profile and no name or contact."""
    job, candidate_id, token = _setup(client, employer_key)
    body = {"job_id": job["id"], "candidate_id": candidate_id, "event": "applied"}
    assert client.post("/v1/feedback", json=body, headers=token).status_code == 201
    [application] = client.get(f"/v1/jobs/{job['id']}/applications",
                               headers=employer_key).json()["results"]  # fmt: skip
    assert application["candidate_id"] == candidate_id
    assert application["shared"] == {"name": None, "contact": None}
    assert client.post("/v1/feedback", json=body, headers=token).status_code == 201  # again
    assert len(client.get(f"/v1/jobs/{job['id']}/applications",
                          headers=employer_key).json()["results"]) == 1  # fmt: skip
