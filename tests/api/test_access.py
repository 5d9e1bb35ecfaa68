"""Who may do what: the authorisation matrix, operator-only programme tags, key revocation and
the audit log, through the real HTTP stack with the real store."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import (
    ACCOUNTANT_PROFILE,
    ACCOUNTING_JOB,
    WELDING_JOB_KR,
    api_settings,
    bearer,
)

pytestmark = pytest.mark.slow

# This module writes many postings and keys, so it has a service and state of its own (the
# session's shared client keeps the small data set other modules' rankings are checked on).
@pytest.fixture(scope="module")
def client(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    app = create_app(api_settings(settings, tmp_path_factory.mktemp("access-state")))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def store(client):  # type: ignore[no-untyped-def]
    return client.app.state.service.store


@pytest.fixture(scope="module")
def employer(store):  # type: ignore[no-untyped-def]
    employer_id, key = store.create_employer_key("Công ty Thử nghiệm")
    store.add_operator(employer_id, "eps-korea-manufacturing")
    return bearer(key)


@pytest.fixture(scope="module")
def other_employer(store):  # type: ignore[no-untyped-def]
    return bearer(store.create_employer_key("Another Co")[1])


@pytest.fixture(scope="module")
def admin(store):  # type: ignore[no-untyped-def]
    return bearer(store.create_admin_key())


@pytest.fixture(scope="module")
def accounting_job(client, employer):  # type: ignore[no-untyped-def]
    return client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=employer).json()


@pytest.fixture(scope="module")
def accountant(client):  # type: ignore[no-untyped-def]
    return client.post("/v1/candidates", json=ACCOUNTANT_PROFILE).json()


CANARY = "CANARY-access-7f3a"  # personal data: never in logs, metrics or index files
JOB_MARK = "JOBMARK-access-7f3a"  # a posting's text: never in another caller's error body
PERSON = {"text": f"Kế toán viên 6 năm, lập báo cáo tài chính. {CANARY}", "name": CANARY,
          "contact": f"{CANARY}@example.invalid", "consent_to_be_found": True}  # fmt: skip


@pytest.fixture(scope="module")
def parties(client, store, employer, admin):  # type: ignore[no-untyped-def]
    """Every kind of credential, and records owned by some of them."""
    _, revoked = store.create_employer_key("Revoked Co")
    assert client.post("/v1/admin/keys/revoke", json={"key": revoked}, headers=admin).json() == {
        "revoked": 1
    }
    _, other_key = store.create_employer_key("Other Co")
    job = client.post("/v1/jobs", json=dict(ACCOUNTING_JOB, title=f"Kế toán {JOB_MARK}"),
                      headers=employer).json()  # fmt: skip
    me = client.post("/v1/candidates", json=PERSON).json()
    other = client.post("/v1/candidates", json=dict(PERSON, name="Other")).json()
    return {
        "job": job["id"],
        "candidate": me["candidate"]["id"],
        "credentials": {
            "none": {},
            "malformed": {"Authorization": "Basic bm9ib2R5"},
            "revoked": bearer(revoked),
            "other_employer": bearer(other_key),
            "employer": employer,
            "own_token": bearer(me["token"]),
            "other_token": bearer(other["token"]),
            "admin": admin,
        },
    }


EMPLOYER_OWNED = {"none": 401, "malformed": 401, "revoked": 401, "other_employer": 403,
                  "employer": 200, "own_token": 401, "other_token": 401, "admin": 200}  # fmt: skip
ANY_EMPLOYER = EMPLOYER_OWNED | {"other_employer": 200}
CANDIDATE_OWNED = {"none": 401, "malformed": 401, "revoked": 403, "other_employer": 403,
                   "employer": 403, "own_token": 200, "other_token": 403, "admin": 403}  # fmt: skip
ADMIN_ONLY = {"none": 401, "malformed": 401, "revoked": 401, "other_employer": 403,
              "employer": 403, "own_token": 401, "other_token": 401, "admin": 200}  # fmt: skip
PUBLIC = dict.fromkeys(EMPLOYER_OWNED, 200)
#: A centre's list: no credential of these parties is a centre's (tests/api/test_centres.py).
CENTRE_ONLY = ADMIN_ONLY | {"admin": 403}

MATRIX = [
    ("GET", "/v1/jobs?limit=2", None, ANY_EMPLOYER),
    ("PUT", "/v1/jobs/{job}", ACCOUNTING_JOB, EMPLOYER_OWNED),
    ("POST", "/v1/jobs/{job}/candidates", None, EMPLOYER_OWNED),
    ("GET", "/v1/jobs/{job}", None, PUBLIC),
    ("GET", "/v1/candidates/{candidate}", None, CANDIDATE_OWNED),
    ("PUT", "/v1/candidates/{candidate}", PERSON, CANDIDATE_OWNED),
    ("POST", "/v1/candidates/{candidate}/skill-gaps", {"k": 3}, CANDIDATE_OWNED),
    ("POST", "/v1/recommendations/jobs", {"candidate_id": "{candidate}", "k": 3},
     CANDIDATE_OWNED),
    ("POST", "/v1/recommendations/jobs", {"profile": {"text": "kế toán"}, "k": 3}, PUBLIC),
    ("POST", "/v1/occupations/match", {"text": "kế toán", "k": 3}, PUBLIC),
    ("GET", "/v1/jobs/{job}/invitations", None, EMPLOYER_OWNED),
    ("GET", "/v1/jobs/{job}/applications", None, EMPLOYER_OWNED),
    ("GET", "/v1/candidates/{candidate}/invitations", None, CANDIDATE_OWNED),
    ("GET", "/v1/candidates/{candidate}/applications", None, CANDIDATE_OWNED),
    ("GET", "/v1/centre/candidates", None, CENTRE_ONLY),
    ("GET", "/v1/centre/candidates.csv", None, CENTRE_ONLY),
    ("GET", "/v1/aggregates", None, PUBLIC),
    ("GET", "/v1/admin/reload", None, ADMIN_ONLY),
    ("GET", "/v1/admin/quarantine", None, ADMIN_ONLY),
    ("GET", "/v1/admin/audit", None, ADMIN_ONLY),
]  # fmt: skip


@pytest.mark.parametrize("method,path,body,expected", MATRIX,
                         ids=[f"{m} {p}" for m, p, _, _ in MATRIX])  # fmt: skip
def test_authorisation_matrix(client, parties, method, path, body, expected):  # type: ignore[no-untyped-def]
    ids = {"job": parties["job"], "candidate": parties["candidate"]}
    url = path.format(**ids)
    payload = json.loads(json.dumps(body).replace("{candidate}", ids["candidate"])) if body else None
    for who, headers in parties["credentials"].items():
        response = client.request(method, url, json=payload, headers=headers)
        assert response.status_code == expected[who], (who, response.text)
        if response.status_code >= 400:
            assert CANARY not in response.text and JOB_MARK not in response.text  # no record data
            assert set(response.json()) == {"error"}


def test_only_a_registered_operator_may_tag_a_state_programme(client, store, admin):  # type: ignore[no-untyped-def]
    broker_id, broker_key = store.create_employer_key("Công ty Môi giới XYZ")
    broker = bearer(broker_key)
    refused = client.post("/v1/jobs", json=WELDING_JOB_KR, headers=broker)
    assert refused.status_code == 403 and "operator" in refused.json()["error"]["message"]
    line = json.dumps(WELDING_JOB_KR, ensure_ascii=False).encode()
    bulk = client.post("/v1/jobs/bulk", content=line,
                       headers=broker | {"Content-Type": "application/x-ndjson"})  # fmt: skip
    assert bulk.status_code == 403
    untagged = client.post("/v1/jobs", json=dict(WELDING_JOB_KR, programme=None), headers=broker)
    assert untagged.status_code == 201
    # stored, but a broker using the programme's name is held for review (issue 16)
    assert untagged.json()["review"]["status"] == "held"
    assert "programme_impersonation" in {s["code"] for s in untagged.json()["review"]["signals"]}
    retag = client.put(f"/v1/jobs/{untagged.json()['id']}", json=WELDING_JOB_KR, headers=broker)
    assert retag.status_code == 403
    unknown = client.post("/v1/jobs", json=dict(WELDING_JOB_KR, programme="eps-korea-fake"),
                          headers=broker)  # fmt: skip
    assert unknown.status_code == 422
    assert store.list_jobs(broker_id)[0] == 1  # only the untagged posting was stored
    registered = client.post("/v1/admin/operators", headers=admin,
                             json={"employer_id": broker_id,
                                   "programme": "eps-korea-manufacturing"})  # fmt: skip
    assert registered.status_code == 204
    assert client.post("/v1/jobs", json=WELDING_JOB_KR, headers=broker).status_code == 201
    assert client.post("/v1/admin/operators", headers=broker,
                       json={"employer_id": broker_id, "programme": "eps-korea-manufacturing"}
                       ).status_code == 403  # fmt: skip


def test_a_revoked_key_stops_working_on_the_next_request(client, store, admin):  # type: ignore[no-untyped-def]
    employer_id, key = store.create_employer_key("Soon Revoked Co")
    assert client.get("/v1/jobs", headers=bearer(key)).status_code == 200
    done = client.post(f"/v1/admin/employers/{employer_id}/keys/revoke", headers=admin)
    assert done.json() == {"revoked": 1}
    assert client.get("/v1/jobs", headers=bearer(key)).status_code == 401
    assert client.post("/v1/admin/keys/revoke", json={}, headers=admin).status_code == 422
    assert client.post("/v1/admin/employers/nobody/keys/revoke", headers=admin).status_code == 404


def test_candidate_searches_and_admin_actions_are_audited(client, store, employer, admin,
                                                         accounting_job):  # type: ignore[no-untyped-def]
    ranked = client.post(f"/v1/jobs/{accounting_job['id']}/candidates", json={"k": 5},
                         headers=employer)  # fmt: skip
    assert ranked.status_code == 200
    log = client.get("/v1/admin/audit?limit=200", headers=admin).json()
    searches = [e for e in log["results"]
                if e["action"] == "candidate_search" and e["target"] == accounting_job["id"]]  # fmt: skip
    assert searches and searches[0]["actor"] == f"employer:{accounting_job['employer_id']}"
    assert searches[0]["results"] == len(ranked.json()["results"])
    assert any(e["action"] == "revoke_key" and e["actor"].startswith("admin:")
               for e in log["results"])  # fmt: skip
    page = client.get("/v1/admin/audit?limit=1&offset=1", headers=admin).json()
    assert page["total"] == log["total"] and len(page["results"]) == 1


def test_a_retry_with_the_same_idempotency_key_creates_nothing(client, store, employer,
                                                              other_employer, accountant):  # type: ignore[no-untyped-def]
    key = {"Idempotency-Key": "job-" + CANARY}
    before = store.list_jobs(None)[0]
    first = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=employer | key)
    again = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=employer | key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert store.list_jobs(None)[0] == before + 1
    changed = client.post("/v1/jobs", json=dict(ACCOUNTING_JOB, title="Khác"),
                          headers=employer | key)  # fmt: skip
    assert changed.status_code == 409 and "Idempotency-Key" in changed.json()["error"]["message"]
    # scoped to the credential: another employer's same key is another request
    theirs = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=other_employer | key)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]

    lines = "\n".join(json.dumps(dict(ACCOUNTING_JOB, title=f"Kế toán {n}"), ensure_ascii=False)
                      for n in range(3)).encode()  # fmt: skip
    bulk_headers = employer | {"Content-Type": "application/x-ndjson", "Idempotency-Key": "bulk-1"}
    made = client.post("/v1/jobs/bulk", content=lines, headers=bulk_headers).json()
    replay = client.post("/v1/jobs/bulk", content=lines, headers=bulk_headers).json()
    assert replay == made and made["imported"] == 3
    assert store.list_jobs(None)[0] == before + 2 + 3

    person = client.post("/v1/candidates", json=PERSON, headers={"Idempotency-Key": "me-1"})
    twice = client.post("/v1/candidates", json=PERSON, headers={"Idempotency-Key": "me-1"})
    assert twice.json() == person.json()  # the same profile and the same token
    token = bearer(twice.json()["token"])
    assert client.get(f"/v1/candidates/{person.json()['candidate']['id']}",
                      headers=token).status_code == 200  # fmt: skip

    event = {"job_id": first.json()["id"], "candidate_id": accountant["candidate"]["id"],
             "event": "shortlisted"}  # fmt: skip
    one = client.post("/v1/feedback", json=event, headers=employer | {"Idempotency-Key": "fb"})
    two = client.post("/v1/feedback", json=event, headers=employer | {"Idempotency-Key": "fb"})
    assert one.status_code == 201 and one.json() == two.json()
    assert sum(f["id"] == one.json()["id"] for f in store.feedback()) == 1
    bad = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=employer | {"Idempotency-Key": ""})
    assert bad.status_code == 422


@pytest.mark.parametrize("body", [
    {"deadline": "1626-04-14", "country": "ðß", "title": "¹\u001f"},  # was a 500 (fuzzing)
    {"title": "\u200b\u2060"}, {"title": "Kế toán", "required_skills": ["\u200b"]},
    {"title": "Kế toán", "currency": "đồng"},
])  # fmt: skip
def test_postings_that_cannot_be_stored_as_given_are_422_and_leave_nothing(client, store,
                                                                          employer, body):  # type: ignore[no-untyped-def]
    before = store.list_jobs(None)[0]
    response = client.post("/v1/jobs", json=body, headers=employer)
    assert response.status_code == 422, response.text
    assert store.list_jobs(None)[0] == before


def test_paging_past_the_end_is_empty_and_absurd_offsets_are_422(client, employer):  # type: ignore[no-untyped-def]
    far = client.get("/v1/jobs?offset=1000000000&limit=5", headers=employer)
    assert far.status_code == 200 and far.json()["results"] == []
    huge = client.get("/v1/jobs?offset=12311001311655135232&limit=127", headers=employer)
    assert huge.status_code == 422  # was a 500: an integer overflow in the store


HOSTILE = ["<script>alert(1)</script>", "'; DROP TABLE jobs; --", "Ke\u0302\u0301 toa\u0301n",
           "x" * 3000, "Kế toán العربية 日本語 \u200b\u200d", "<img src=x onerror=alert(2)>"]  # fmt: skip


def test_hostile_text_is_stored_and_returned_intact(client, employer):  # type: ignore[no-untyped-def]
    for text in HOSTILE:
        title = text[:200]
        made = client.post("/v1/jobs", headers=employer,
                           json={"title": title, "description": f"Mô tả: {text}"})  # fmt: skip
        assert made.status_code == 201, made.text
        again = client.get(f"/v1/jobs/{made.json()['id']}").json()
        assert again["title"] == title and again["description"] == f"Mô tả: {text}"
