"""What a returning contract worker brought back: the skills found in the tasks of each
overseas contract, the certificates earned there (mapped to a language level and to ESCO
skills by ``data/overseas_certificates.yaml``), the language level reached, and how long they
stayed. Matching reads it as :class:`Stint` s; explanations cite it in the reader's language
("3 năm hàn tại Hàn Quốc (EPS) + TOPIK 3")."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.nlp.skills import _ref
from matcher.reference.certificates import Certificate, CertificateBook
from matcher.reference.languages import language_code
from matcher.reference.taxonomy import Taxonomy
from matcher.schemas import (
    Candidate,
    EarnedCertificate,
    LanguageAbility,
    OverseasContract,
    SkillRef,
)

#: Where Vietnamese contract workers go, named for the reader; other codes are shown as is.
COUNTRY_NAMES: dict[str, tuple[str, str]] = {
    "KR": ("Hàn Quốc", "South Korea"),
    "JP": ("Nhật Bản", "Japan"),
    "TW": ("Đài Loan", "Taiwan"),
    "DE": ("Đức", "Germany"),
    "CN": ("Trung Quốc", "China"),
    "MY": ("Malaysia", "Malaysia"),
    "SG": ("Singapore", "Singapore"),
    "SA": ("Ả Rập Xê Út", "Saudi Arabia"),
    "AE": ("UAE", "the United Arab Emirates"),
    "QA": ("Qatar", "Qatar"),
    "RO": ("Romania", "Romania"),
    "HU": ("Hungary", "Hungary"),
    "PL": ("Ba Lan", "Poland"),
    "AU": ("Úc", "Australia"),
}
#: The country's own language, for a contract that gives a level without naming it.
COUNTRY_LANGUAGE = {"KR": "Korean", "JP": "Japanese", "TW": "Chinese", "CN": "Chinese",
                    "DE": "German"}  # fmt: skip


def country_name(code: str, lang: str) -> str:
    names = COUNTRY_NAMES.get(code.upper())
    return names[0 if lang == "vi" else 1] if names else code.upper()


@dataclass(frozen=True)
class Stint:
    """One overseas contract as matching reads it."""

    country: str
    years: float
    #: the programme's short name ("EPS"), or None outside the state programmes
    programme: str | None
    sector: str | None
    #: ESCO skills found in its tasks or shown by its certificates
    skills: frozenset[str]
    #: languages reached (its own level and its language certificates)
    languages: tuple[LanguageAbility, ...]
    #: what its certificates are called, with their levels ("TOPIK 3")
    credentials: tuple[str, ...]


def certificate_ability(
    earned: EarnedCertificate, book: CertificateBook
) -> tuple[Certificate | None, LanguageAbility | None]:
    """The book's entry for a certificate, and the language level it shows (for a language
    test with a level)."""
    found, written_level = book.find(earned.name)
    level = earned.level or written_level
    if found is None or found.kind != "language" or not found.language or not level:
        return found, None
    return found, LanguageAbility(language=found.language, certificate=found.name, level=level)


def certificate_skills(
    contract: OverseasContract, index: int, book: CertificateBook, taxonomy: Taxonomy
) -> list[SkillRef]:
    """The ESCO skills the contract's certificates show, marked as shown by a certificate."""
    refs: list[SkillRef] = []
    for earned in contract.certificates:
        found, _ = book.find(earned.name)
        for uri in found.skills if found else []:
            if uri in taxonomy.skills and all(ref.uri != uri for ref in refs):
                ref = _ref(taxonomy.skills[uri], True, "certificate")
                refs.append(ref.model_copy(update={"abroad": index}))
    return refs


def languages_reached(contract: OverseasContract, book: CertificateBook) -> list[LanguageAbility]:
    """The contract's language level, and the levels its language certificates show."""
    reached = [contract.language] if contract.language else []
    for earned in contract.certificates:
        _, ability = certificate_ability(earned, book)
        if ability is not None:
            reached.append(ability)
    return reached


def abroad_languages(
    contracts: list[OverseasContract], book: CertificateBook
) -> list[LanguageAbility]:
    """The language levels reached on the contracts (each once)."""
    return _once([a for c in contracts for a in languages_reached(c, book)])


def all_languages(candidate: Candidate) -> list[LanguageAbility]:
    """The languages a profile declares, then those reached abroad (each once)."""
    return _once([*candidate.languages, *candidate.languages_abroad])


def _once(abilities: list[LanguageAbility]) -> list[LanguageAbility]:
    seen: set[tuple[str, str, str]] = set()
    kept: list[LanguageAbility] = []
    for ability in abilities:
        key = (language_code(ability.language), ability.certificate or "", ability.level or "")
        if key not in seen:
            seen.add(key)
            kept.append(ability)
    return kept


def stints(
    candidate: Candidate, book: CertificateBook, programme_names: dict[str, str]
) -> tuple[Stint, ...]:
    """Each overseas contract as matching reads it. ``programme_names``: programme id → the
    short name an explanation shows."""
    found: list[Stint] = []
    for index, contract in enumerate(candidate.overseas_contracts):
        skills = frozenset(s.uri for s in candidate.skills_found if s.abroad == index)
        credentials = tuple(_credential(earned, book) for earned in contract.certificates)
        found.append(Stint(
            country=contract.country, years=contract.years,
            programme=programme_names.get(contract.programme or ""),
            sector=contract.sector, skills=skills,
            languages=tuple(languages_reached(contract, book)), credentials=credentials,
        ))  # fmt: skip
    return tuple(found)


def _credential(earned: EarnedCertificate, book: CertificateBook) -> str:
    found, written_level = book.find(earned.name)
    name = found.name if found else earned.name
    level = earned.level or written_level
    return f"{name} {level}" if level else name
