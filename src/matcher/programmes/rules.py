"""Overseas contract-work programmes: their rules (``data/programmes.yaml``) and eligibility.

The rules are data, not code: each programme's age range, language test and minimum level,
education, health requirement, disqualifiers, contract, pay, costs and support. Each fact cites
one of the file's sources and says whether it was checked against a public page (``verified``,
with the page's address and the date it was read); a fact nobody checked is unverified, and is
shown as such. :func:`load_programmes` validates the whole file on load; a mistake is reported
with the line it is on.

:func:`check_eligibility` compares a profile with a programme's hard requirements and returns
every unmet one with the route to meet it (or says there is none, e.g. above the age limit).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from matcher.errors import DataFormatError
from matcher.reference.datafile import line_of, load_yaml_model
from matcher.reference.languages import level_rank

PROGRAMMES_FILE = "programmes.yaml"
EDUCATION_ORDER = ("none", "lower-secondary", "upper-secondary", "vocational", "college",
                   "bachelor")  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    title: str
    publisher: str | None = None
    url: str | None = None


class Cited(_Strict):
    """A fact with its source. ``verified`` means someone read ``checked_url`` on ``checked``
    and it says this; otherwise the fact is unverified and every answer says so."""

    source: str
    verified: bool = False
    checked: dt.date | None = Field(None, description="when the fact was checked")
    checked_url: str | None = Field(None, description="the public page it was checked against")

    @model_validator(mode="after")
    def _verified_says_where(self) -> Cited:
        if self.verified and not (self.checked and self.checked_url):
            raise ValueError("a verified fact needs `checked` (a date) and `checked_url`")
        if self.checked and self.checked > dt.date.today():
            raise ValueError(f"checked {self.checked} is in the future")
        return self


class Texts(Cited):
    text_vi: str
    text_en: str


class AgeRule(Cited):
    min: int = Field(ge=14, le=80)
    max: int = Field(ge=14, le=80)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRule:
        if self.min > self.max:
            raise ValueError(f"age min {self.min} is above max {self.max}")
        return self


class LanguageTest(_Strict):
    test: str
    min_level: str
    scale: Literal["score", "jlpt", "cefr"]

    @model_validator(mode="after")
    def _level_fits_scale(self) -> LanguageTest:
        if level_rank(self.min_level, self.scale) is None:
            raise ValueError(f"min_level {self.min_level!r} is not a {self.scale} level")
        return self


class LanguageRule(LanguageTest, Cited):
    alternatives: list[LanguageTest] = Field(default_factory=list)
    preparation_vi: str
    preparation_en: str


class EducationRule(Cited):
    min: Literal["none", "lower-secondary", "upper-secondary", "vocational", "college",
                 "bachelor"]  # fmt: skip
    note_vi: str = ""
    note_en: str = ""


class Disqualifier(Texts):
    id: str


class Contract(Texts):
    months_min: int = Field(ge=0)
    months_max: int = Field(ge=0)


class Costs(Texts):
    vnd_min: int = Field(ge=0)
    vnd_max: int = Field(ge=0)


class Pay(Texts):
    """Typical monthly pay before deductions, in VND (a range where that is honest)."""

    vnd_month_min: int | None = Field(None, ge=0)
    vnd_month_max: int | None = Field(None, ge=0)


class Support(Cited):
    loans_vi: str
    loans_en: str
    priority_groups: list[str] = Field(default_factory=list)


class PriorityGroup(Cited):
    id: str
    name_vi: str
    name_en: str


class Reentry(Texts):
    """A way back for someone who already worked on a programme (EPS re-entry for workers who
    finished their contract faithfully; Japan's Specified Skilled Worker for those who
    completed technical intern training): whom it is for, and what it says."""

    after: list[str] = Field(
        min_length=1, description="the schemes (EPS, IM-JAPAN, ...) a past contract must be on"
    )


class Programme(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name_vi: str
    name_en: str
    scheme: str
    destination: str = Field(pattern=r"^[A-Z]{2}$")
    sectors: list[str]
    occupations_en: list[str] = Field(default_factory=list)
    age: AgeRule
    language: LanguageRule | None = None
    education: EducationRule
    health: Texts
    gender: Literal["male", "female"] | None = None
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    skills_test: Texts | None = None
    intake: Texts | None = Field(
        None, description="what is known of the current or next intake (places, sectors, dates)"
    )
    contract: Contract
    pay: Pay | None = None
    costs: Costs
    support: Support
    reentry: list[Reentry] = Field(
        default_factory=list, description="routes back for those who worked on a programme before"
    )

    def facts(self) -> list[tuple[tuple[str | int, ...], Cited]]:
        """Every cited fact with where it sits in the programme, e.g. ``("disqualifiers", 2)``."""
        found: list[tuple[tuple[str | int, ...], Cited]] = []
        for name in ("age", "language", "education", "health", "skills_test", "intake",
                     "contract", "pay", "costs", "support"):  # fmt: skip
            fact = getattr(self, name)
            if fact is not None:
                found.append(((name,), fact))
        found += [(("disqualifiers", i), d) for i, d in enumerate(self.disqualifiers)]
        found += [(("reentry", i), r) for i, r in enumerate(self.reentry)]
        return found


class FactCount(BaseModel):
    verified: int
    unverified: int


class ProgrammeCatalog(_Strict):
    sources: dict[str, Source]
    programmes: list[Programme]
    priority_groups: list[PriorityGroup]

    @property
    def schemes(self) -> dict[str, str]:
        """Each programme's scheme (``EPS``, ``IM-JAPAN``, ...) by its id."""
        return {p.id: p.scheme for p in self.programmes}

    def get(self, programme_id: str) -> Programme | None:
        return next((p for p in self.programmes if p.id == programme_id), None)

    @property
    def groups(self) -> dict[str, PriorityGroup]:
        return {group.id: group for group in self.priority_groups}

    def fact_count(self) -> FactCount:
        """How many of the file's facts were checked against a source, and how many not."""
        facts = [fact for p in self.programmes for _, fact in p.facts()]
        facts += self.priority_groups
        verified = sum(fact.verified for fact in facts)
        return FactCount(verified=verified, unverified=len(facts) - verified)


# ---------------------------------------------------------------------- loading
def load_programmes(project_data_dir: Path) -> ProgrammeCatalog:
    """Read and validate ``programmes.yaml``; every error names ``file:line``."""
    path = Path(project_data_dir) / PROGRAMMES_FILE
    catalog, root = load_yaml_model(path, ProgrammeCatalog)
    _check_references(catalog, root, path)
    return catalog


def _check_references(catalog: ProgrammeCatalog, root: Any, path: Path) -> None:
    for index, listed in enumerate(catalog.priority_groups):
        if listed.source not in catalog.sources:
            line = line_of(root, ("priority_groups", index, "source"))
            raise DataFormatError(
                f"{path}:{line}: source {listed.source!r} is not listed under 'sources'"
            )
    ids = [p.id for p in catalog.programmes]
    for index, programme in enumerate(catalog.programmes):
        where = ("programmes", index)
        if ids.count(programme.id) > 1:
            line = line_of(root, (*where, "id"))
            raise DataFormatError(f"{path}:{line}: programme id {programme.id!r} is repeated")
        cited = [(loc, fact.source) for loc, fact in programme.facts()]
        for loc, source in cited:
            if source not in catalog.sources:
                line = line_of(root, (*where, *loc, "source"))
                raise DataFormatError(
                    f"{path}:{line}: source {source!r} is not listed under 'sources'"
                )
        for group in programme.support.priority_groups:
            if group not in catalog.groups:
                line = line_of(root, (*where, "support", "priority_groups"))
                raise DataFormatError(
                    f"{path}:{line}: priority group {group!r} is not listed under 'priority_groups'"
                )
