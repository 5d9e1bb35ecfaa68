"""Bulk files that the CSV reader cannot read are a clear 422, never a server error (found by
the fuzzer: a bare carriage return inside an unquoted field)."""

from __future__ import annotations

import pytest

from matcher.errors import InvalidInputError
from matcher.ingest import parse_job_rows


def test_a_csv_the_reader_cannot_read_is_refused_whole_with_what_to_do() -> None:
    with pytest.raises(InvalidInputError, match="double quotes"):
        parse_job_rows(b"title,description\nTh\xe1\xbb\xa3 h\xc3\xa0n\r2,x\n", "text/csv")
    good, errors = parse_job_rows(b'title,description\n"Th\xe1\xbb\xa3\rh\xc3\xa0n",x\n', "text/csv")
    assert [job.title for _, job in good] == ["Thợ\rhàn"] and not errors
