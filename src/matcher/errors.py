"""Typed errors. Every message says what went wrong and what to do next."""

from __future__ import annotations


class MatcherError(Exception):
    """Base class of every error the library raises on purpose."""

    #: A short machine-readable code, stable across versions (used by the API and the CLI).
    code = "matcher_error"


class InvalidInputError(MatcherError, ValueError):
    """The caller's input cannot be used as given."""

    code = "invalid_input"


class EmptyTextError(InvalidInputError):
    code = "empty_text"


class TextTooLongError(InvalidInputError):
    code = "text_too_long"


class InvalidEncodingError(InvalidInputError):
    code = "invalid_encoding"


class UnknownModelError(MatcherError, LookupError):
    code = "unknown_model"


class ModelNotReadyError(MatcherError, RuntimeError):
    """A model is known but has not been prepared on this machine yet."""

    code = "model_not_ready"


class DataDirError(MatcherError, FileNotFoundError):
    """The public data (ESCO, dev sets) is not where the settings say."""

    code = "data_dir_missing"


class DataFormatError(MatcherError, ValueError):
    """A data file exists but cannot be read; the message names the file and line."""

    code = "data_format"


class IndexStateError(MatcherError, RuntimeError):
    code = "index_state"


class NotFoundError(MatcherError, LookupError):
    """A record the caller named does not exist (or is not theirs to see)."""

    code = "not_found"


class ForbiddenError(MatcherError, PermissionError):
    code = "forbidden"


class UnauthorizedError(MatcherError, PermissionError):
    code = "unauthorized"


class ConflictError(MatcherError, RuntimeError):
    """The request clashes with work already under way (e.g. a reload is running)."""

    code = "conflict"


class OverloadedError(MatcherError, RuntimeError):
    """Too much work is waiting; the caller should retry shortly (HTTP 503, Retry-After)."""

    code = "overloaded"


class RateLimitedError(MatcherError, RuntimeError):
    """Too many of one kind of act for now (an employer's invitations a day): try again
    after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
