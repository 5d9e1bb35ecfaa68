"""Schemathesis against the real server: every operation, with the credential it needs and
with none, all checks, a fixed seed and a bounded number of examples (``MATCHER_FUZZ_EXAMPLES``,
12 by default; ``make fuzz`` runs more). It must find no server error, no status the OpenAPI
schema does not document, and no response that breaks its schema. Schema-valid requests may be
refused only for the semantic reasons listed in ``tests/api/schemathesis.toml`` (an unknown
id, ESCO URI, programme or priority group; a missing operator right), each a documented 4xx.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from api.main import create_app
from tests.api.conftest import ACCOUNTANT_PROFILE, ACCOUNTING_JOB, WELDING_JOB_KR, bearer
from tests.server import create_key, free_port, server_log, start_server, stop_server

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("MATCHER_FUZZ_EXAMPLES", "12"))
CONFIG = SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))
schema = schemathesis.openapi.from_dict(create_app().openapi(), config=CONFIG)

ADMIN_PATHS = re.compile(r"^/v1/admin/")
EMPLOYER_ROUTES = {("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("POST", "/v1/jobs/bulk"),
                   ("PUT", "/v1/jobs/{job_id}"), ("DELETE", "/v1/jobs/{job_id}"),
                   ("POST", "/v1/jobs/{job_id}/candidates"), ("POST", "/v1/feedback"),
                   ("POST", "/v1/jobs/{job_id}/invitations"),
                   ("GET", "/v1/jobs/{job_id}/invitations"),
                   ("GET", "/v1/jobs/{job_id}/applications")}  # fmt: skip
CANDIDATE_PATHS = re.compile(r"^/v1/candidates/\{candidate_id\}")
CENTRE_PATHS = re.compile(r"^/v1/centre/")
#: Valid requests whose documented 409 or 404 depends on the state, not the request: an audit
#: already running (the first example starts one), no audit finished yet.
STATEFUL = {("POST", "/v1/admin/fairness"), ("GET", "/v1/admin/fairness/plot.svg"),
            ("GET", "/v1/admin/fairness/report.md")}  # fmt: skip


class Fuzzed:
    def __init__(self, base: str, employer: str, admin: str, candidate: str, token: str,
                 job: str, server) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
        self.base, self.employer, self.admin = base, employer, admin
        self.candidate, self.token, self.job, self.server = candidate, token, job, server
        self.centre: str | None = None

    def credential(self, method: str, path: str) -> str | None:
        """The credential this operation needs (None: a public route)."""
        if ADMIN_PATHS.match(path):
            return self.admin
        if (method, path) in EMPLOYER_ROUTES:
            return self.employer
        if CANDIDATE_PATHS.match(path):
            return self.token
        if CENTRE_PATHS.match(path):
            return self.centre
        return None


@pytest.fixture(scope="module")
def fuzzed(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    state, port = tmp_path_factory.mktemp("fuzz") / "state", free_port()
    employer = create_key(state, settings.caches, "--employer", "Fuzz Co",
                          operator_of="eps-korea-manufacturing")  # fmt: skip
    admin = create_key(state, settings.caches, "--admin")
    server = start_server(state, settings.caches, port, MATCHER_RATE_LIMIT_PER_ADDRESS="0",
                          MATCHER_RATE_LIMIT_PER_KEY="0")  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for job in (ACCOUNTING_JOB, WELDING_JOB_KR):
            made = httpx.post(f"{base}/v1/jobs", json=job, headers=bearer(employer), timeout=120)
            assert made.status_code == 201, made.text
        person = httpx.post(f"{base}/v1/candidates", json=ACCOUNTANT_PROFILE, timeout=120).json()
        fuzzed = Fuzzed(base, employer, admin, person["candidate"]["id"], person["token"],
                        made.json()["id"], server)  # fmt: skip
        centre = httpx.post(f"{base}/v1/admin/centres", headers=bearer(admin), timeout=60,
                            json={"name": "Trung tâm Fuzz", "provinces": ["Hà Nội"]})  # fmt: skip
        fuzzed.centre = centre.json()["key"]
        yield fuzzed
    finally:
        stop_server(server)
    log = server_log(server)
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.parametrize("credential", ["needed", "none"])
@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_fuzz(fuzzed, credential, case):  # type: ignore[no-untyped-def]
    needed = fuzzed.credential(case.method, case.path)
    if credential == "none" and needed is None:
        return  # a public route: the "needed" run already covered it
    headers = {"Authorization": f"Bearer {needed}"} if needed and credential == "needed" else {}
    if case.path_parameters:  # real ids now and then, so handlers run past the lookup
        for name, real in (("job_id", fuzzed.job), ("candidate_id", fuzzed.candidate)):
            if name in case.path_parameters and hash(str(case.body)) % 2:
                case.path_parameters[name] = real
    excluded = []
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    if credential == "none" and needed is not None:
        excluded.append(positive_data_acceptance)  # 401 is the right answer here
    elif (case.method, case.path) in STATEFUL:
        excluded.append(positive_data_acceptance)  # 409 or 404: the right answer in this state
    case.call_and_validate(base_url=fuzzed.base, headers=headers, excluded_checks=excluded,
                           timeout=120)  # fmt: skip
    assert fuzzed.server.poll() is None, "the server died"
