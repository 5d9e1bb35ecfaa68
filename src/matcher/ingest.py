"""Bulk import of postings from JSON lines or CSV: every row is checked on its own, so one bad
row is reported and the good rows are still imported."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from matcher.errors import InvalidInputError
from matcher.schemas import JobPostingIn
from matcher.text import decode_utf8

JSONL_TYPES = (
    "application/x-ndjson",
    "application/jsonl",
    "application/json-lines",
    "application/x-jsonlines",
)
CSV_TYPES = ("text/csv", "application/csv")
MAX_ROWS = 10_000
_LIST_FIELDS = ("required_skills",)
_BOOL_FIELDS = ("remote",)
_NUMBER_FIELDS = ("salary_min", "salary_max")
_FLOAT_FIELDS = ("min_experience_years",)


@dataclass
class RowError:
    line: int
    message: str


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
    return "; ".join(parts)


def _csv_record(row: dict[str, str | None]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, raw in row.items():
        if key is None:
            raise ValueError("the row has more cells than the header")
        value = (raw or "").strip()
        if not value:
            continue
        if key in _LIST_FIELDS:
            record[key] = [v.strip() for v in value.replace("|", ";").split(";") if v.strip()]
        elif key in _BOOL_FIELDS:
            record[key] = value.casefold() in ("1", "true", "yes", "có", "x")
        elif key in _NUMBER_FIELDS:
            record[key] = int(float(value))
        elif key in _FLOAT_FIELDS:
            record[key] = float(value)
        elif key == "languages":
            record[key] = [
                dict(
                    zip(
                        ("language", "certificate", "level"),
                        [p.strip() or None for p in item.split(":")],
                    )
                )
                for item in value.split(";")
                if item.strip()
            ]
        else:
            record[key] = value
    return record


def parse_job_rows(
    data: bytes, media_type: str
) -> tuple[list[tuple[int, JobPostingIn]], list[RowError]]:
    """Parse a bulk upload into valid postings (with their line numbers) and row errors.

    Args:
        data: the uploaded bytes, UTF-8.
        media_type: ``application/x-ndjson`` (JSON lines) or ``text/csv`` (a header row, lists
            separated by ``;``, languages as ``language:certificate:level``).

    Raises:
        InvalidInputError: the media type is not supported, or the file is not UTF-8 or empty.
    """
    media_type = media_type.split(";")[0].strip().casefold()
    text = decode_utf8(data, source="the upload")
    if media_type in JSONL_TYPES:
        rows, errors = json_rows(enumerate(text.splitlines(), start=1))
    elif media_type in CSV_TYPES:
        rows, errors = csv_rows(csv.DictReader(io.StringIO(text)))
    else:
        raise InvalidInputError(
            f"unsupported content type {media_type!r}: send application/x-ndjson (JSON lines) or text/csv"
        )
    if len(rows) + len(errors) > MAX_ROWS:
        raise InvalidInputError(f"at most {MAX_ROWS:,} rows per upload; split the file")
    good, errors = validated(rows, errors)
    if not good and not errors:
        raise InvalidInputError("the upload has no rows")
    return good, errors


Rows = list[tuple[int, Any]]


def json_rows(lines: Iterable[tuple[int, str]]) -> tuple[Rows, list[RowError]]:
    """The JSON object of each numbered line (blank lines skipped), and the lines that are not
    JSON."""
    rows: Rows = []
    errors: list[RowError] = []
    for number, line in lines:
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            errors.append(RowError(number, f"not JSON: {error.msg}"))
    return rows, errors


def csv_rows(reader: csv.DictReader[str], first_line: int = 1) -> tuple[Rows, list[RowError]]:
    """The record of each CSV row, numbered by the line it ends on (``first_line``: the number
    of the reader's first line in its file), and the rows that cannot be records.

    Raises:
        InvalidInputError: no header with a ``title`` column, or a line the CSV reader cannot
            read (nothing is imported).
    """
    rows: Rows = []
    errors: list[RowError] = []
    try:
        if not reader.fieldnames or "title" not in reader.fieldnames:
            raise InvalidInputError("the CSV needs a header row with at least a 'title' column")
        for row in reader:
            number = first_line - 1 + reader.line_num
            try:
                rows.append((number, _csv_record(row)))
            except ValueError as error:
                errors.append(RowError(number, str(error)))
    except csv.Error as error:  # e.g. a bare carriage return inside an unquoted field
        raise InvalidInputError(
            f"the CSV cannot be read at line {first_line - 1 + reader.line_num}: {error}; put "
            "fields that hold line breaks in double quotes (nothing was imported)"
        ) from None
    return rows, errors


def validated(rows: Rows, errors: list[RowError]
              ) -> tuple[list[tuple[int, JobPostingIn]], list[RowError]]:  # fmt: skip
    """The rows that are valid postings, and every row error (these and ``errors``) in line
    order."""
    good: list[tuple[int, JobPostingIn]] = []
    errors = list(errors)
    for number, record in rows:
        try:
            good.append((number, JobPostingIn.model_validate(record)))
        except ValidationError as error:
            errors.append(RowError(number, _describe(error)))
    errors.sort(key=lambda e: e.line)
    return good, errors
