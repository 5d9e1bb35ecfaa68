"""Employment service centres: a centre role scoped to provinces, the consenting candidates of
its provinces (listed and exported as CSV, every list audit-logged), and public aggregates
without personal data (small cells suppressed).

A candidate appears in a centre's list only after agreeing that centres may list and contact
them (``consent_to_centres``, separate from being found by employers), and only in the list of
a centre serving their province. What the list shows is fixed: id, province, commune,
programmes of interest, readiness, returnee status, and the name and contact they gave.
The filters are the candidate index's column filters, like an employer's."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable

from matcher.errors import ForbiddenError, InvalidInputError
from matcher.schemas import (
    AggregateCell,
    Aggregates,
    Candidate,
    CentreCandidate,
    CentreCreated,
    CentreFilters,
    CentreIn,
    SkillCount,
)
from matcher.search.columns import Where, equals, folded_equals, one_of
from matcher.services.places import settle
from matcher.services.runtime import Runtime
from matcher.store import Principal

#: The CSV's columns, in order: nothing else leaves the service.
CSV_COLUMNS = ("candidate_id", "province", "commune", "programmes_of_interest", "readiness",
               "returnee", "name", "contact")  # fmt: skip
#: The most rows one export holds.
MAX_EXPORT = 100_000
TOP_SKILLS = 5


def create_centre(rt: Runtime, body: CentreIn, principal: Principal) -> CentreCreated:
    """An admin creates a centre serving ``provinces`` (each one of the 34; a former one is
    mapped to its new province) and its key (shown once)."""
    provinces = list(dict.fromkeys(str(settle(rt, p).province) for p in body.provinces))
    centre_id, key = rt.store.create_centre_key(body.name, provinces)
    rt.store.audit(principal.actor, "centre_create", centre_id, len(provinces))
    return CentreCreated(centre_id=centre_id, key=key, provinces=provinces)


def _where(rt: Runtime, principal: Principal, filters: CentreFilters) -> Where:
    scope = list(principal.provinces)
    if filters.province:
        province = str(settle(rt, filters.province).province)
        if province not in scope:
            raise ForbiddenError(
                f"this centre serves {', '.join(scope)}: not {province}; an admin can add it"
            )
        scope = [province]
    where = equals("centre_consent", True) & one_of("province", scope)
    if filters.commune:
        if len(scope) != 1:
            raise InvalidInputError("a commune needs its province: send province as well")
        where &= folded_equals("commune", str(settle(rt, scope[0], filters.commune).commune))
    if filters.programme:
        if rt.reference.programmes.get(filters.programme) is None:
            raise InvalidInputError(
                f"unknown programme {filters.programme!r}; use an id from GET /v1/programmes"
            )
        where &= equals("programmes", filters.programme)
    if filters.readiness:
        where &= equals("readiness", filters.readiness)
    if filters.returnee is not None:
        where &= equals("returnee", filters.returnee)
    return where


def _listed(rt: Runtime, principal: Principal, filters: CentreFilters) -> list[str]:
    catalog = rt.parts.catalog
    where = _where(rt, principal, filters)
    with catalog.lock:
        return catalog.candidates.select_ids(where)


def _rows(rt: Runtime, principal: Principal, ids: list[str]) -> list[CentreCandidate]:
    """The rows, read from the store and checked again there (consent and province)."""
    people = rt.store.get_candidates(ids)
    return [_row(people[i]) for i in ids
            if i in people and people[i].consent_to_centres
            and people[i].province in principal.provinces]  # fmt: skip


def _row(person: Candidate) -> CentreCandidate:
    documents = "+".join(person.documents)
    readiness = person.readiness or ""
    return CentreCandidate(
        candidate_id=person.id, province=person.province, commune=person.commune,
        programmes_of_interest=person.interested_in,
        readiness=f"{readiness}; {documents}" if documents else readiness,
        returnee=" ".join(sorted({c.country for c in person.overseas_contracts})),
        name=person.name, contact=person.contact,
    )  # fmt: skip


def _describe(filters: CentreFilters) -> str:
    shown = filters.model_dump(exclude_none=True)
    return ",".join(f"{k}={v}" for k, v in shown.items())[:80] or "all"


def centre_candidates(rt: Runtime, principal: Principal, filters: CentreFilters, *,
                      limit: int = 50, offset: int = 0) -> tuple[int, list[CentreCandidate]]:  # fmt: skip
    """``(total, page)`` of the consenting candidates in the centre's provinces that match
    ``filters``, by id. Audit-logged."""
    ids = _listed(rt, principal, filters)
    rows = _rows(rt, principal, ids[offset : offset + limit])
    rt.store.audit(principal.actor, "centre_list", _describe(filters), len(rows))
    return len(ids), rows


def centre_export(rt: Runtime, principal: Principal, filters: CentreFilters) -> str:
    """The same list as CSV (UTF-8, header first), at most :data:`MAX_EXPORT` rows.
    Audit-logged."""
    ids = _listed(rt, principal, filters)[:MAX_EXPORT]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for start in range(0, len(ids), 1000):
        for row in _rows(rt, principal, ids[start : start + 1000]):
            writer.writerow([row.candidate_id, row.province or "", row.commune or "",
                             " ".join(row.programmes_of_interest), row.readiness, row.returnee,
                             row.name or "", row.contact or ""])  # fmt: skip
            count += 1
    rt.store.audit(principal.actor, "centre_export", _describe(filters), count)
    return out.getvalue()


def aggregates(rt: Runtime, province: str | None = None) -> Aggregates:
    """By province and commune and programme of interest: how many people who agreed that
    centres may list them are interested, and how many are ready; and the skills they most
    often lack for those programmes' occupations. Public: no personal data, and every count
    under ``aggregate_min_cell`` is suppressed (null), skills included."""
    least = rt.settings.aggregate_min_cell
    where = equals("centre_consent", True)
    if province:
        where &= equals("province", str(settle(rt, province).province))
    catalog = rt.parts.catalog
    with catalog.lock:
        ids = catalog.candidates.select_ids(where)
    interested: Counter[tuple[str, str | None, str]] = Counter()
    ready: Counter[tuple[str, str | None, str]] = Counter()
    lacking: Counter[tuple[str, str]] = Counter()
    needs = rt.reference.programme_skills
    for start in range(0, len(ids), 1000):
        for person in rt.store.get_candidates(ids[start : start + 1000]).values():
            if not person.consent_to_centres or not person.province:
                continue
            held = {s.uri for s in person.skills_found}
            for programme in person.interested_in:
                for place in _places(person):
                    interested[(*place, programme)] += 1
                    ready[(*place, programme)] += person.readiness == "ready"
                for uri in needs.get(programme, set()) - held:
                    lacking[(person.province, uri)] += 1

    def shown(count: int) -> int | None:
        return count if count >= least else None

    order = sorted(interested, key=lambda cell: (cell[0], cell[1] or "", cell[2]))
    cells = [AggregateCell(province=p, commune=c, programme=g, interested=shown(interested[(p, c, g)]),
                           ready=shown(ready[(p, c, g)]) if shown(interested[(p, c, g)]) else None)
             for p, c, g in order]  # fmt: skip
    skills = rt.reference.taxonomy.skills
    top: list[SkillCount] = []
    for area in sorted({p for p, _ in lacking}):
        counted = sorted(((n, uri) for (p, uri), n in lacking.items() if p == area and n >= least),
                         reverse=True)[:TOP_SKILLS]  # fmt: skip
        top += [SkillCount(province=area, uri=uri, label=skills[uri].label,
                           label_vi=skills[uri].vi_labels[0] if skills[uri].vi_labels else None,
                           missing_for=n) for n, uri in counted]  # fmt: skip
    return Aggregates(min_cell=least, cells=cells, top_missing_skills=top)


def _places(person: Candidate) -> Iterable[tuple[str, str | None]]:
    """The whole province, and the commune within it when the person named one."""
    assert person.province is not None
    yield (person.province, None)
    if person.commune:
        yield (person.province, person.commune)
