"""Job filters (province, country, remote, salary, programme) as index filters, evaluated over
the index's metadata columns (:mod:`matcher.search.columns`)."""

from __future__ import annotations

from matcher.schemas import JobFilters
from matcher.search.columns import (
    Where,
    at_least,
    equals,
    everything,
    folded_equals,
    missing,
    one_of,
)


def job_filter(filters: JobFilters) -> Where:
    """What a posting's index metadata (see :func:`matcher.search.catalog.job_metadata`) must
    match. The salary is its maximum, or its minimum where no maximum is given."""
    where = everything()
    if filters.province:
        where &= folded_equals("province", filters.province)
    if filters.country:
        where &= equals("country", filters.country.upper())
    if filters.remote is not None:
        where &= one_of("remote", [True]) if filters.remote else ~one_of("remote", [True])
    if filters.min_salary is not None:
        floor = filters.min_salary
        where &= at_least("salary_max", floor) | (
            missing("salary_max") & at_least("salary_min", floor)
        )
    if filters.programme:
        where &= equals("programme", filters.programme)
    return where


def nearby(home: str) -> Where:
    """Domestic postings in the province ``home`` (folded), or remote ones."""
    return (equals("remote", True) | folded_equals("province", home)) & equals("country", "VN")


def in_occupations(uris: object) -> Where:
    """Postings for one of the occupations ``uris``."""
    return one_of("occupation", uris)  # type: ignore[arg-type]
