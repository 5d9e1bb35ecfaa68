"""The overseas programmes: their rules, eligibility, operators, and how a posting shows its
programme."""

from __future__ import annotations

from collections.abc import Mapping

from matcher.errors import ForbiddenError, InvalidInputError, NotFoundError
from matcher.programmes.cards import cited_fact, programme_card
from matcher.programmes.eligibility import check_eligibility
from matcher.programmes.rules import Programme
from matcher.schemas import (
    Candidate,
    CandidateProfileIn,
    Eligibility,
    HeldBack,
    Lang,
    ProgrammeEligibility,
    ProgrammeSummary,
)
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
    """Is the person eligible for the programme; if not, what is unmet and how to meet it; and
    the way back a past contract on a programme opens (cited)."""
    found = programme(rt, programme_id)
    result = check_eligibility(found, profile, lang=lang)
    catalog = rt.reference.programmes
    schemes = catalog.schemes
    past = {schemes[c.programme] for c in profile.overseas_contracts if c.programme in schemes}
    routes = [cited_fact(catalog, route, route.text_vi if lang == "vi" else route.text_en)
              for route in found.reentry if past & set(route.after)]  # fmt: skip
    return result.model_copy(update={"reentry": routes}) if routes else result


def all_eligibility(
    rt: Runtime, profile: CandidateProfileIn, lang: Lang = "vi"
) -> list[ProgrammeEligibility]:
    """Every programme, eligible ones first, then those with something to check, then those
    a declared fact rules out: what is met, what is not, what to check and how, with what a
    card shows about the programme."""
    results = []
    for found in rt.reference.programmes.programmes:
        result = eligibility(rt, found.id, profile, lang)
        card = summary(rt, found.id, lang)
        assert card is not None  # the programme is in the catalog
        results.append(ProgrammeEligibility(**dict(result), programme=card))
    order = {"eligible": 0, "eligible_if": 1, "not_eligible": 2}
    return sorted(results, key=lambda e: (order[e.status], len(e.unmet), len(e.to_check)))


def posting_eligibility(
    rt: Runtime, programme_id: str | None, candidate: Candidate, lang: Lang
) -> Eligibility | None:
    if not programme_id or rt.reference.programmes.get(programme_id) is None:
        return None
    return eligibility(rt, programme_id, candidate, lang)


def ruled_out(rt: Runtime, programme: Programme, candidate: CandidateProfileIn) -> bool:
    """A fact the candidate declared rules the programme out (``not_eligible``); what is only
    left to check never does."""
    return check_eligibility(programme, candidate).status == "not_eligible"


def programme_fit(
    rt: Runtime, candidate: Candidate, wanted: set[str], lang: Lang = "vi"
) -> tuple[dict[str, Eligibility], dict[str, list[str]]]:
    """Of the ``wanted`` programmes, those a declared fact rules out (with why), and for each
    the candidate's priority groups it supports (the boost)."""
    excluded, boosted = {}, {}
    for found in rt.reference.programmes.programmes:
        if found.id not in wanted:
            continue
        result = eligibility(rt, found.id, candidate, lang)
        if result.status == "not_eligible":
            excluded[found.id] = result
        groups = [g for g in candidate.priority_groups if g in found.support.priority_groups]
        if groups:
            boosted[found.id] = groups
    return excluded, boosted


_HELD_BACK = {
    "vi": "{n} tin tuyển dụng thuộc {name} không hiển thị: {why}",
    "en": "{n} posting(s) of {name} not shown: {why}",
}


def held_back(
    rt: Runtime, excluded: Mapping[str, Eligibility], counts: Mapping[str, int], lang: Lang
) -> list[HeldBack]:
    """One line per programme whose retrieved postings were held back, with why."""
    out = []
    for programme_id, count in counts.items():
        found = rt.reference.programmes.get(programme_id)
        if found is None or not count:
            continue
        name = found.name_vi if lang == "vi" else found.name_en
        reasons = [u.message for u in excluded[programme_id].unmet]
        out.append(HeldBack(programme_id=programme_id, programme=name, postings=count,
                            reasons=reasons, message=_HELD_BACK[lang].format(
                                n=count, name=name, why="; ".join(reasons))))  # fmt: skip
    return out


def group_names(rt: Runtime, ids: list[str], lang: Lang) -> tuple[str, ...]:
    groups = rt.reference.programmes.groups
    return tuple((groups[g].name_vi if lang == "vi" else groups[g].name_en)
                 for g in ids if g in groups)  # fmt: skip


def summary(rt: Runtime, programme_id: str | None, lang: Lang) -> ProgrammeSummary | None:
    catalog = rt.reference.programmes
    found = catalog.get(programme_id) if programme_id else None
    return None if found is None else programme_card(catalog, found, lang)


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
