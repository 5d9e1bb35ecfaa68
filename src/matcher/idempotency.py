"""Retries that create nothing twice: ``Idempotency-Key`` on the writes that create records.

A create stores its answer in the same database transaction as the records it creates, so a
client whose connection dropped (or whose server was killed) after the commit can retry with
the same key and get the first answer back; a retry after a crash before the commit finds
nothing and creates the records then. A different request under the same key is a conflict.

Keys are scoped to the credential that sent them (an employer, an admin key, a candidate
token, or an anonymous client's address). The store keeps neither the key nor the answer in
the clear: the row is found by ``sha256(scope, key)`` and the answer (which may hold a new
candidate's token) is sealed with AES-GCM under a key derived from the idempotency key, so only
a client that presents the key can read it back.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from matcher.errors import ConflictError, InvalidInputError

MAX_KEY_CHARS = 200
#: Renders the answer to remember from what the write produced (nothing for postings, the
#: token for a new profile, the id for feedback): ``(HTTP status, JSON body)``.
Answer = Callable[[Any], tuple[int, Any]]


@dataclass(frozen=True)
class Idempotency:
    """One create request's idempotency key.

    Args:
        scope: who sent it, e.g. ``"employer:<id>"`` or ``"anonymous:<address>"``.
        key: the client's ``Idempotency-Key`` header (1–200 visible ASCII characters).
        request: what identifies the request: method, route and a digest of its body.
    """

    scope: str
    key: str
    request: str

    def __post_init__(self) -> None:
        if (
            not 1 <= len(self.key) <= MAX_KEY_CHARS
            or not self.key.isascii()
            or not (self.key.isprintable())
        ):
            raise InvalidInputError(
                f"the Idempotency-Key header must be 1–{MAX_KEY_CHARS} printable ASCII "
                "characters, e.g. a UUID"
            )

    @property
    def row_id(self) -> str:
        return hashlib.sha256(f"{self.scope}\0{self.key}".encode()).hexdigest()

    @property
    def request_hash(self) -> str:
        return hashlib.sha256(self.request.encode()).hexdigest()

    def _cipher(self) -> AESGCM:
        return AESGCM(hashlib.sha256(f"matcher-idempotency\0{self.key}".encode()).digest())

    def seal(self, status: int, body: Any) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps({"status": status, "body": body}, ensure_ascii=False, default=str)
        return nonce + self._cipher().encrypt(nonce, plain.encode(), self.row_id.encode())

    def open(self, sealed: bytes, request_hash: str) -> tuple[int, Any]:
        """The first answer, or :class:`ConflictError` if this key was used for another
        request."""
        if request_hash != self.request_hash:
            raise ConflictError(
                "this Idempotency-Key was already used for a different request; use a new key "
                "for a new request"
            )
        try:
            plain = self._cipher().decrypt(sealed[:12], sealed[12:], self.row_id.encode())
        except InvalidTag as error:  # pragma: no cover - only if the row was tampered with
            raise ConflictError(
                "the stored answer for this Idempotency-Key is unreadable"
            ) from error
        answer = json.loads(plain)
        return int(answer["status"]), answer["body"]


def body_digest(body: bytes | str) -> str:
    data = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()
