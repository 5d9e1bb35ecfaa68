"""The API through the real HTTP stack (ASGI in-process), real model, real SQLite and FAISS."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from matcher.settings import Settings


def api_settings(settings: Settings, state_dir) -> Settings:  # type: ignore[no-untyped-def]
    """Fresh data (database, job and candidate indexes) with the shared model caches."""
    # Every in-process request comes from one address ("testclient"): no per-address limit
    # here (tests/api/test_load.py tests the limits on a real server).
    return Settings(state_dir=state_dir, cache_dir=settings.caches, serve_champions=False,
                    rate_limit_per_address=0, rate_limit_per_key=0)


@pytest.fixture(scope="session")
def session_client(settings: Settings, tmp_path_factory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(api_settings(settings, tmp_path_factory.mktemp("api-state")))
    with TestClient(app) as test_client:
        yield test_client


def own_state(name: str):  # type: ignore[no-untyped-def]
    """Fixtures ``client``, ``store``, ``employer`` and ``other_employer`` on a state of one
    module's own, so that its postings and profiles reach no other module's rankings (and
    theirs none of its counts): ``client, store, employer, other_employer = own_state("x")``."""

    @pytest.fixture(scope="module")
    def client(settings: Settings, tmp_path_factory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
        with TestClient(create_app(api_settings(settings, tmp_path_factory.mktemp(name)))) as own:
            yield own

    @pytest.fixture(scope="module")
    def store(client: TestClient):  # type: ignore[no-untyped-def]
        return client.app.state.service.store  # type: ignore[attr-defined]

    @pytest.fixture(scope="module")
    def employer(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return bearer(store.create_employer_key("Công ty Thử nghiệm")[1])

    @pytest.fixture(scope="module")
    def other_employer(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return bearer(store.create_employer_key("Another Co")[1])

    return client, store, employer, other_employer


@pytest.fixture(scope="session")
def client(session_client: TestClient) -> TestClient:
    """The shared in-process app (a module may override it with one of its own)."""
    return session_client


@pytest.fixture(scope="session")
def store(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.service.store  # type: ignore[attr-defined]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def employer(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An employer that an admin registered as an operator of the EPS manufacturing programme
    (so it may post WELDING_JOB_KR)."""
    employer_id, key = store.create_employer_key("Công ty Thử nghiệm")
    store.add_operator(employer_id, "eps-korea-manufacturing")
    return bearer(key)


@pytest.fixture(scope="session")
def other_employer(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, key = store.create_employer_key("Another Co")
    return bearer(key)


@pytest.fixture(scope="session")
def admin(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(store.create_admin_key())


ACCOUNTING_JOB = {
    "title": "Kế toán tổng hợp",
    "description": "Lập báo cáo tài chính hằng quý, kê khai thuế, sử dụng Excel.",
    "employer": "Công ty Thử nghiệm",
    "province": "Hà Nội",
    "salary_min": 12_000_000,
    "salary_max": 18_000_000,
    "required_skills": ["lập báo cáo tài chính", "tính thuế"],
    "min_experience_years": 2,
}
WELDING_JOB_KR = {
    "title": "Thợ hàn — EPS Hàn Quốc",
    "description": "Hàn hồ quang, hàn MIG, đọc bản vẽ kỹ thuật.",
    "country": "KR",
    "programme": "eps-korea-manufacturing",
    "required_skills": ["hàn hồ quang"],
    "languages": [{"language": "Korean", "certificate": "EPS-TOPIK", "level": "80"}],
}
#: In every test profile's CV, name and contact: it must never reach a log line, /metrics or
#: an index file (checked over the whole run by ``no_personal_data_leaks``).
CANARY_PREFIX = "CANARY-"
ACCOUNTANT_PROFILE = {
    "text": "Nguyên cán bộ tài chính - kế toán xã, 10 năm. Lập báo cáo tài chính, sử dụng Excel "
    "thành thạo. CANARY-cv-1f2e",
    "former_position": "công chức tài chính - kế toán xã",
    "years_experience": 10,
    "province": "Hà Nội",
    "consent_to_be_found": True,
    "name": "Nguyễn Thị CANARY-name-1f2e",
    "contact": "CANARY-contact-1f2e@example.invalid",
}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is kept raw
            self.lines.append(repr(record.__dict__))


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_leaks(session_client: TestClient, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Over the whole run of the API tests: no canary (CV text, name or contact of a test
    profile) in any log record of the in-process app, any real server's log file, /metrics,
    or any index file the tests wrote."""
    capture = _Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    found = []
    for line in capture.lines:
        if CANARY_PREFIX in line:
            found.append(f"log: {line[:300]}")
    if CANARY_PREFIX in session_client.get("/metrics").text:
        found.append("/metrics")
    base = tmp_path_factory.getbasetemp()
    for path in list(base.rglob("server-*.log")) + list(base.rglob("*.npz")):
        if CANARY_PREFIX.encode() in path.read_bytes():
            found.append(str(path))
    assert not found, found


@pytest.fixture(scope="session")
def accounting_job(client: TestClient, employer: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = client.post("/v1/jobs", json=ACCOUNTING_JOB, headers=employer)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="session")
def welding_job(client: TestClient, employer: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = client.post("/v1/jobs", json=WELDING_JOB_KR, headers=employer)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="session")
def accountant(client: TestClient) -> dict:  # type: ignore[type-arg]
    response = client.post("/v1/candidates", json=ACCOUNTANT_PROFILE)
    assert response.status_code == 201, response.text
    return response.json()
