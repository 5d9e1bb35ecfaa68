"""Job filters (province, country, remote, salary, programme) as index predicates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from matcher.schemas import JobFilters
from matcher.text import fold


def job_filter(filters: JobFilters) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over a posting's index metadata (see :func:`matcher.search.catalog.job_metadata`)."""
    province = fold(filters.province) if filters.province else None
    country = filters.country.upper() if filters.country else None

    def keep(meta: Mapping[str, Any]) -> bool:
        if province and fold(meta.get("province") or "") != province:
            return False
        if country and meta.get("country") != country:
            return False
        if filters.remote is not None and bool(meta.get("remote")) != filters.remote:
            return False
        if filters.min_salary is not None:
            best = meta.get("salary_max") or meta.get("salary_min")
            if best is None or best < filters.min_salary:
                return False
        return not filters.programme or meta.get("programme") == filters.programme

    return keep
