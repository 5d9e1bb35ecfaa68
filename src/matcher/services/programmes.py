"""The overseas programmes: their rules, eligibility, operators, and how a posting shows its
programme."""

from __future__ import annotations

from matcher.errors import ForbiddenError, InvalidInputError, NotFoundError
from matcher.programmes.eligibility import check_eligibility
from matcher.programmes.rules import Programme
from matcher.schemas import Candidate, CandidateProfileIn, Eligibility, Lang, ProgrammeSummary
from matcher.services.runtime import Runtime
from matcher.store import Principal


def programme(rt: Runtime, programme_id: str) -> Programme:
    found = rt.reference.programmes.get(programme_id)
    if found is None:
        raise NotFoundError(unknown_programme(rt, programme_id))
    return found


def unknown_programme(rt: Runtime, programme_id: str) -> str:
    known = ", ".join(p.id for p in rt.reference.programmes.programmes)
    return f"programme {programme_id!r} does not exist; known: {known}"


def eligibility(
    rt: Runtime, programme_id: str, profile: CandidateProfileIn, lang: Lang = "vi"
) -> Eligibility:
    """Is the person eligible for the programme; if not, what is unmet and how to meet it."""
    catalog = rt.reference.programmes
    return check_eligibility(programme(rt, programme_id), profile,
                             last_checked=catalog.last_checked, lang=lang)  # fmt: skip


def all_eligibility(
    rt: Runtime, profile: CandidateProfileIn, lang: Lang = "vi"
) -> list[Eligibility]:
    """Every programme, eligible ones first: what is met, what is not and how to meet it."""
    results = [eligibility(rt, p.id, profile, lang) for p in rt.reference.programmes.programmes]
    return sorted(results, key=lambda e: (not e.eligible, len(e.unmet)))


def posting_eligibility(
    rt: Runtime, programme_id: str | None, candidate: Candidate, lang: Lang
) -> Eligibility | None:
    if not programme_id or rt.reference.programmes.get(programme_id) is None:
        return None
    return eligibility(rt, programme_id, candidate, lang)


def eligible_for(rt: Runtime, programme: Programme, candidate: CandidateProfileIn) -> bool:
    last_checked = rt.reference.programmes.last_checked
    return check_eligibility(programme, candidate, last_checked=last_checked).eligible


def programme_fit(
    rt: Runtime, candidate: Candidate, wanted: set[str]
) -> tuple[set[str], dict[str, list[str]]]:
    """Of the ``wanted`` programmes, those the candidate is eligible for, and for each the
    candidate's priority groups it supports (the boost)."""
    eligible, boosted = set(), {}
    for found in rt.reference.programmes.programmes:
        if found.id not in wanted:
            continue
        if eligible_for(rt, found, candidate):
            eligible.add(found.id)
        groups = [g for g in candidate.priority_groups if g in found.support.priority_groups]
        if groups:
            boosted[found.id] = groups
    return eligible, boosted


def group_names(rt: Runtime, ids: list[str], lang: Lang) -> tuple[str, ...]:
    groups = rt.reference.programmes.groups
    return tuple((groups[g].name_vi if lang == "vi" else groups[g].name_en)
                 for g in ids if g in groups)  # fmt: skip


def summary(rt: Runtime, programme_id: str | None, lang: Lang) -> ProgrammeSummary | None:
    catalog = rt.reference.programmes
    found = catalog.get(programme_id) if programme_id else None
    if found is None:
        return None
    vi = lang == "vi"
    return ProgrammeSummary(
        id=found.id, name=found.name_vi if vi else found.name_en,
        country=found.destination,
        contract=found.contract.text_vi if vi else found.contract.text_en,
        costs=found.costs.text_vi if vi else found.costs.text_en,
        support=found.support.loans_vi if vi else found.support.loans_en,
        priority_groups=[
            (g.name_vi if vi else g.name_en) for g in catalog.priority_groups
            if g.id in found.support.priority_groups
        ],
    )  # fmt: skip


def check_programme_tag(rt: Runtime, programme_id: str | None, principal: Principal) -> None:
    """Only an employer an admin registered as the programme's operator (or an admin) may
    tag a posting with a state programme: brokers impersonating the programmes are the
    fraud the provinces warn about."""
    if not programme_id:
        return
    if rt.reference.programmes.get(programme_id) is None:  # in a body: a 422, not a 404
        raise InvalidInputError(unknown_programme(rt, programme_id))
    if principal.role == "admin" or rt.store.operates(principal.employer_id, programme_id):
        return
    raise ForbiddenError(
        f"only a registered operator of programme {programme_id!r} may tag postings with "
        "it; ask an admin to register your employer account as its operator, or leave "
        "programme out"
    )


def add_operator(rt: Runtime, employer_id: str, programme_id: str, principal: Principal) -> None:
    """Register an employer as an operator of a programme (admin)."""
    programme(rt, programme_id)
    rt.store.add_operator(employer_id, programme_id)
    rt.store.audit(principal.actor, "add_operator", f"{employer_id}:{programme_id}")
