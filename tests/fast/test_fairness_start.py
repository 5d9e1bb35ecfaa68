"""Starting the fairness audit: one audit at a time, even when asked at the same instant."""

from __future__ import annotations

import threading

from matcher.errors import ConflictError
from matcher.services import MatcherService, Principal
from matcher.services.fairness import stop_audits
from matcher.settings import Settings
from tests.fast.fakes import FakeEncoder

ADMIN = Principal(role="admin", key_id="test-admin")


def test_two_admins_asking_at_once_start_one_audit(fresh_settings: Settings) -> None:
    service = MatcherService(
        fresh_settings,
        encoder=FakeEncoder(),  # type: ignore[arg-type]
        load_encoder=lambda spec: FakeEncoder(),  # type: ignore[arg-type,return-value]
    )
    service.start()
    barrier = threading.Barrier(6)
    started, refused = [], []

    def ask() -> None:
        barrier.wait()
        try:
            started.append(service.begin_audit(ADMIN, preset="quick"))
        except ConflictError as error:
            refused.append(str(error))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(started) == 1 and len(refused) == 5
        assert all("already running" in message for message in refused)
        assert isinstance(started[0].get("pid"), int)
    finally:
        stop_audits()  # the audit child never outlives the test
        service.stop()
        service.store.close()
