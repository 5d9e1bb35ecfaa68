"""Where a profile or posting is: one of the 34 provinces (a former province, merged on 1 July
2025, is mapped to its new one and remembered), and for a profile, optionally, a commune of
that province from the cited list in ``data/communes.csv``."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.errors import InvalidInputError, NotFoundError
from matcher.reference.provinces import Commune
from matcher.schemas import JobFilters
from matcher.services.runtime import Runtime


@dataclass(frozen=True)
class Place:
    province: str | None
    former_province: str | None = None
    commune: str | None = None


def settle(rt: Runtime, province: str | None, commune: str | None = None) -> Place:
    """The current province for ``province`` (a former one is mapped, e.g. "Bắc Giang" →
    "Bắc Ninh"), and the official name of ``commune`` within it; a name that is neither, or a
    commune outside the province, is an :class:`InvalidInputError` saying what to send."""
    places = rt.reference.places
    if not province:
        if commune:
            raise InvalidInputError("a commune needs its province: send province as well")
        return Place(None)
    resolved = places.resolve_province(province)
    if resolved is None:
        raise InvalidInputError(
            f"province {province!r} is not one of Vietnam's 34 provinces and cities (or one of "
            f"the 63 before the July 2025 merger); use one of: "
            f"{', '.join(p.name for p in places.provinces)}"
        )
    current, former = resolved
    if not commune:
        return Place(current, former)
    found = places.commune(current, commune)
    if found is None:
        raise InvalidInputError(
            f"commune {commune!r} is not one of the {len(places.communes_of(current))} communes "
            f"of {current} since the July 2025 reorganisation; choose one from its list, or "
            "leave commune out"
        )
    return Place(current, former, found.name)


def communes(rt: Runtime, province: str) -> tuple[str, list[Commune]]:
    """A province's communes since 1 July 2025, for forms; a former province is answered with
    the one it became, an unknown name with a :class:`NotFoundError`."""
    places = rt.reference.places
    resolved = places.resolve_province(province)
    if resolved is None:
        raise NotFoundError(
            f"province {province!r} is not one of Vietnam's 34 provinces and cities"
        )
    return resolved[0], places.communes_of(resolved[0])


def settle_filters(rt: Runtime, filters: JobFilters | None) -> JobFilters | None:
    """``filters`` with its province settled as in a profile: a former province searches the
    province it became, an unknown one is an :class:`InvalidInputError`."""
    if filters is None or not filters.province:
        return filters
    return filters.model_copy(update={"province": settle(rt, filters.province).province})
