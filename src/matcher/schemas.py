"""Domain records returned by the library (and, unchanged, by the CLI and the API).

One concept, the records and their validation, kept together (about 450 lines) so that every
field's limits are read in one place. Importing it loads neither torch nor FAISS.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from matcher.errors import InvalidInputError
from matcher.reference.languages import ordinal_level
from matcher.screening.signals import Commercial, JobReview
from matcher.text import visible


class OccupationMatch(BaseModel):
    """An ESCO occupation that fits a job title or description."""

    uri: str = Field(description="ESCO occupation URI")
    label: str = Field(description="ESCO preferred label (English)")
    score: float = Field(
        description="higher is better: the cosine of the best label, plus 0.16 × the share of "
        "the 20 vacancy titles nearest the text that are tagged with this occupation"
    )
    label_vi: str | None = Field(None, description="Vietnamese name, where the project has one")
    isco_group: str = Field("", description="ISCO-08 unit group code")
    matched_label: str = Field(
        "", description="the label (English or Vietnamese) or vacancy title that matched best"
    )
    matched_source: Literal["pref", "alt", "vi", "title", ""] = Field(
        "",
        description="what the matched label is: ESCO's preferred (pref) or an alternative (alt) "
        "label, the project's Vietnamese name (vi), or a real vacancy title tagged with this "
        "occupation (title: the JobBERT dev titles' training part)",
    )
    similar_titles: int = Field(
        0,
        ge=0,
        description="how many of the 20 real vacancy titles nearest the text are tagged with "
        "this occupation (each adds to the score)",
    )


class Evidence(BaseModel):
    text: str = Field(description="the span of the input that supports the skill")
    start: int = Field(description="character offset of the span in the normalised input")
    end: int


class SkillMatch(BaseModel):
    """An ESCO skill found in a text, with the span that supports it."""

    uri: str = Field(description="ESCO skill URI")
    label: str = Field(description="ESCO preferred label (English)")
    score: float = Field(description="confidence, higher is better")
    evidence: str = Field(description="the span of the input that supports the skill")
    span: tuple[int, int] = Field(
        description="[start, end) of the evidence in the normalised input"
    )
    label_vi: str | None = None
    skill_type: str = ""
    method: str = Field("", description="'exact' (a label occurs verbatim) or 'semantic'")


# ---------------------------------------------------------------------- postings and profiles
MAX_TITLE = 200
MAX_TEXT = 20_000
_Number = TypeVar("_Number")


def _json_number(value: _Number) -> _Number:
    """What JSON Schema calls a number: not true/false, not a string of digits."""
    if isinstance(value, (bool, str)):
        raise ValueError("must be a JSON number")  # noqa: TRY004 - pydantic reports ValueError as a 422
    return value


def _iso_date(value: object) -> object:
    """A date is an ISO string (or a date): not a number of seconds."""
    if not isinstance(value, (str, _dt.date)):
        raise ValueError("must be an ISO date such as 2027-03-31")  # noqa: TRY004 - as above
    return value


#: Numbers as JSON Schema reads them: 5 and 5.0 are both the integer 5; true and "5" are not.
JsonInt = Annotated[int, BeforeValidator(_json_number)]
JsonFloat = Annotated[float, BeforeValidator(_json_number)]
Lang = Literal["vi", "en"]
#: How many results one ranking returns at most (every ``k``).
MAX_K = 100
#: (the bounds before the validator: after it pydantic leaves them out of the JSON schema)
TopK = Annotated[
    int, Field(ge=1, le=MAX_K, description=f"how many results (1–{MAX_K})"),
    BeforeValidator(_json_number),
]  # fmt: skip


def check_k(k: int) -> None:
    """For callers that bypass the schemas (the CLI, training): the same 1..MAX_K limit."""
    if not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be between 1 and {MAX_K}")


NOTHING_TO_READ = "has nothing to read once control and zero-width characters are removed"


def _stored(info: ValidationInfo) -> bool:
    """Read back from the store (``context={"stored": True}``): input-only checks are skipped."""
    return bool(info.context and info.context.get("stored"))


def _readable(value: str | None, info: ValidationInfo) -> str | None:
    """A text field that the model will read must have something visible in it."""
    if _stored(info):
        return value
    if value is not None and value.strip() and not visible(value):
        raise ValueError(NOTHING_TO_READ)
    return value


def _readable_items(values: list[str], info: ValidationInfo) -> list[str]:
    if _stored(info):
        return values
    for position, value in enumerate(values):
        if not visible(value):
            raise ValueError(f"item {position} is empty or {NOTHING_TO_READ}")
    return values


class LanguageAbility(BaseModel):
    """A language someone speaks, or a posting requires, optionally with a certificate."""

    model_config = ConfigDict(extra="forbid")

    language: str = Field(
        min_length=2, max_length=40, description="e.g. 'Korean', 'tiếng Hàn', 'ko'"
    )
    certificate: str | None = Field(
        None, max_length=40, description="e.g. 'TOPIK', 'EPS-TOPIK', 'JLPT', 'IELTS', 'Goethe'"
    )
    level: str | None = Field(None, max_length=20, description="e.g. 'B1', 'N4', '3', '6.5'")


def _month_or_date(value: object) -> object:
    """An ISO date, or a month (``2021-03``: its first day), as a month input sends it."""
    if isinstance(value, str):
        value = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}", value):
            return value + "-01"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be a month such as 2021-03 or an ISO date such as 2021-03-31")
    return _iso_date(value)


MonthOrDate = Annotated[_dt.date, BeforeValidator(_month_or_date)]
#: Who a contract worker worked for abroad.
EmployerType = Literal[
    "factory", "construction", "farm", "fishing", "care_home", "hospital", "hotel_restaurant",
    "household", "other",
]  # fmt: skip
#: The earliest start of an overseas contract a profile can record.
EARLIEST_CONTRACT = _dt.date(1980, 1, 1)
MAX_CONTRACTS = 10


def years_abroad(contracts: list[OverseasContract]) -> float:
    """Years on overseas contracts, all of them together."""
    return round(sum(contract.years for contract in contracts), 1)


class EarnedCertificate(BaseModel):
    """A test passed or a certificate earned abroad, as printed on it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        min_length=2, max_length=80,
        description="e.g. 'TOPIK', 'JLPT', 'nursing care skills evaluation test', "
        "'Craftsman Welding' (GET /v1/certificates lists the ones the service maps)",
    )  # fmt: skip
    level: str | None = Field(None, max_length=20, description="e.g. '3', 'N3', 'B1'")

    @field_validator("name")
    @classmethod
    def _name_readable(cls, value: str, info: ValidationInfo) -> str:
        return _readable(value, info) or value


class OverseasContract(BaseModel):
    """A past contract abroad (EPS Korea, IM Japan, care work in Germany, ...): where, what
    was done, and what was brought back."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    country: str = Field(
        min_length=2, max_length=2, pattern="^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 code of the country worked in, e.g. 'KR', 'JP', 'DE'",
    )  # fmt: skip
    programme: str | None = Field(
        None, max_length=60,
        description="the programme id (GET /v1/programmes), e.g. 'eps-manufacturing'; null for "
        "a contract outside the state programmes",
    )  # fmt: skip
    sector: str | None = Field(
        None, max_length=100, description="e.g. 'shipbuilding', 'điều dưỡng'"
    )
    employer_type: EmployerType | None = None
    start: MonthOrDate = Field(description="YYYY-MM or YYYY-MM-DD")
    end: MonthOrDate = Field(description="YYYY-MM or YYYY-MM-DD; the contract's last month")
    tasks: str = Field(
        "", max_length=2000, description="what the work was, in Vietnamese or English"
    )
    language: LanguageAbility | None = Field(
        None, description="the level reached in the country's language"
    )
    certificates: list[EarnedCertificate] = Field(default_factory=list, max_length=10)
    returned: MonthOrDate | None = Field(None, description="when they came home")

    @field_validator("country")
    @classmethod
    def _abroad(cls, value: str) -> str:
        value = value.upper()
        if value == "VN":
            raise ValueError("an overseas contract is outside Viet Nam: give the country worked in")
        return value

    @field_validator("tasks", "sector")
    @classmethod
    def _text_readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _readable(value, info)

    @model_validator(mode="after")
    def _dates(self, info: ValidationInfo) -> OverseasContract:
        if _stored(info):
            return self
        today = _dt.date.today()
        if self.start < EARLIEST_CONTRACT:
            raise ValueError(f"start is before {EARLIEST_CONTRACT:%Y}: check the year")
        if self.end < self.start:
            raise ValueError("end is before start: give the contract's first and last month")
        if self.start > today:
            raise ValueError("start is in the future: record a contract once it has begun")
        if self.returned is not None and self.returned < self.end.replace(day=1):
            raise ValueError("returned is before the contract's end")
        if self.returned is not None and self.returned > today:
            raise ValueError("returned is in the future")
        return self

    @property
    def years(self) -> float:
        """How long it lasted, in years (whole months counted, the last one included)."""
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        return round(max(months, 0) / 12, 1)


class SkillRef(BaseModel):
    uri: str
    label: str
    label_vi: str | None = None
    label_vi_status: Literal["reviewed", "machine-suggested"] | None = Field(
        None,
        description="'machine-suggested': a model proposed `label_vi` and nobody has reviewed "
        "it yet (shown with *); null when unknown or when there is no Vietnamese name",
    )
    essential: bool = True
    source: Literal["given", "extracted", "abroad", "certificate"] = Field(
        "given",
        description="'given': declared; 'extracted': found in the text; 'abroad': found in the "
        "tasks of an overseas contract; 'certificate': shown by a certificate earned abroad",
    )
    abroad: JsonInt | None = Field(
        None, description="for a skill gained abroad: its contract's place in `overseas_contracts`"
    )


class JobPostingIn(BaseModel):
    """What an employer sends to create or replace a posting."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    description: str = Field("", max_length=MAX_TEXT)
    employer: str | None = Field(None, max_length=200, description="display name of the employer")
    province: str | None = Field(None, max_length=80, description="Vietnamese province or city")
    country: str = Field(
        "VN", min_length=2, max_length=2, pattern="^[A-Za-z]{2}$", description="ISO 3166 alpha-2"
    )
    # Strict numbers and booleans (true is not 1, "5" is not 5): what the schema says is what
    # is accepted. Dates stay lax: JSON has no date type, so they arrive as ISO strings.
    remote: StrictBool = False
    salary_min: JsonInt | None = Field(None, ge=0, description="per month, in `currency`")
    salary_max: JsonInt | None = Field(None, ge=0)
    currency: str = Field("VND", min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")
    required_skills: list[str] = Field(
        default_factory=list, max_length=100, description="ESCO skill URIs or labels (en/vi)"
    )
    languages: list[LanguageAbility] = Field(default_factory=list, max_length=10)
    min_experience_years: JsonFloat | None = Field(None, ge=0, le=60)
    programme: str | None = Field(
        None, max_length=60, description="overseas programme id, e.g. 'eps-korea'"
    )
    deadline: Annotated[_dt.date, BeforeValidator(_iso_date)] | None = Field(
        None, description="ISO date, e.g. 2027-03-31"
    )
    occupation: str | None = Field(
        None,
        max_length=200,
        description="ESCO occupation URI (or its UUID); found from the title when left out",
    )

    @field_validator("country", "currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("title")
    @classmethod
    def _title_readable(cls, value: str, info: ValidationInfo) -> str:
        if not visible(value) and not _stored(info):
            raise ValueError(NOTHING_TO_READ)
        return value

    @field_validator("description")
    @classmethod
    def _description_readable(cls, value: str, info: ValidationInfo) -> str:
        return _readable(value, info) or ""

    @field_validator("required_skills")
    @classmethod
    def _skills_readable(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _readable_items(values, info)

    @model_validator(mode="after")
    def _salary_order(self) -> JobPostingIn:
        low, high = self.salary_min, self.salary_max
        if low is not None and high is not None and low > high:
            raise ValueError("salary_min must not exceed salary_max")
        return self


class JobPosting(JobPostingIn):
    id: str
    former_province: str | None = Field(
        None, description="the former province the posting named, merged into `province` in 2025"
    )
    employer_id: str | None = None
    skills: list[SkillRef] = Field(default_factory=list)
    commercial: Commercial | None = Field(
        None, description="work abroad through a licensed enterprise: the fee ceilings that apply"
    )
    review: JobReview | None = Field(
        None, description="screening and review (its employer and admins only; never stored "
        "with the posting): a posting under review is shown to no candidate",
    )  # fmt: skip
    created_at: _dt.datetime
    updated_at: _dt.datetime


class CandidateProfileIn(BaseModel):
    """A job seeker's profile. Contact fields are personal data: never shown to employers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field("", max_length=MAX_TEXT, description="free text or CV, Vietnamese or English")
    former_position: str | None = Field(None, max_length=200, description="e.g. 'giáo viên THCS'")
    sector: str | None = Field(None, max_length=100, description="e.g. 'education', 'y tế'")
    years_experience: JsonFloat | None = Field(None, ge=0, le=60)
    skills: list[str] = Field(default_factory=list, max_length=100, description="declared skills")
    education: str | None = Field(None, max_length=200)
    languages: list[LanguageAbility] = Field(default_factory=list, max_length=10)
    province: str | None = Field(
        None, max_length=80, description="one of the 34 provinces (a former one is mapped)"
    )
    commune: str | None = Field(
        None, max_length=80,
        description="optional: a commune (xã, phường) of `province` since 1 July 2025",
    )  # fmt: skip
    birth_year: JsonInt | None = Field(
        None, ge=1940, le=2015, description="used only for programme age limits"
    )
    health_declaration: Literal["fit", "not_fit"] | None = Field(
        None, description="self-declared fitness for a programme's medical check"
    )
    priority_groups: list[str] = Field(
        default_factory=list, max_length=10,
        description="priority-group ids, as the programme rules name them (e.g. 'poor-district')",
    )  # fmt: skip
    disqualifiers: list[str] = Field(
        default_factory=list, max_length=10,
        description="declared facts that rule out some programmes (e.g. 'past_illegal_stay')",
    )  # fmt: skip
    willing_to_relocate: StrictBool = False
    change_field: StrictBool | None = Field(
        None,
        description="true: wants to leave their former field (transition targets first); "
        'null: read from the text ("muốn chuyển sang…", "I want to move into…")',
    )
    willing_to_work_abroad: StrictBool = False
    preferred_countries: list[str] = Field(default_factory=list, max_length=20)
    overseas_contracts: list[OverseasContract] = Field(
        default_factory=list, max_length=MAX_CONTRACTS,
        description="past contracts abroad, for someone who came home: skills found in their "
        "tasks and the certificates earned count in matching, marked as gained abroad",
    )  # fmt: skip
    consent_to_be_found: StrictBool = Field(
        False, description="employers may see this profile (no contact)"
    )
    consent_to_centres: StrictBool = Field(
        False,
        description="an employment service centre of your province may list you and contact "
        "you, with the name and contact you give here; separate from being found by "
        "employers, and withdrawn by saving the profile without it",
    )
    programmes_of_interest: list[str] = Field(
        default_factory=list, max_length=20,
        description="programme ids (GET /v1/programmes); empty: the programmes of "
        "`preferred_countries` when `willing_to_work_abroad`",
    )  # fmt: skip
    documents: list[Literal["passport", "health_certificate", "criminal_record_certificate",
                            "diploma"]] = Field(
        default_factory=list, max_length=4, description="documents ready for an application"
    )  # fmt: skip
    name: str | None = Field(None, max_length=200, description="personal data")
    contact: str | None = Field(None, max_length=200, description="email or phone; personal data")

    @field_validator("text", "former_position", "sector")
    @classmethod
    def _text_readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _readable(value, info)

    @field_validator("skills")
    @classmethod
    def _skills_readable(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _readable_items(values, info)

    @model_validator(mode="after")
    def _has_something(self, info: ValidationInfo) -> CandidateProfileIn:
        if _stored(info):
            return self
        if not (visible(self.text) or visible(self.former_position or "") or self.skills
                or any(visible(c.tasks) for c in self.overseas_contracts)):  # fmt: skip
            raise ValueError(
                "give at least one of text, former_position, skills or an overseas contract's tasks"
            )
        return self


class Candidate(CandidateProfileIn):
    id: str
    former_province: str | None = Field(
        None, description="the former province the profile named, merged into `province` in 2025"
    )
    skills_found: list[SkillRef] = Field(default_factory=list)
    languages_abroad: list[LanguageAbility] = Field(
        default_factory=list,
        description="language levels reached abroad: each contract's own, and those its "
        "language certificates show",
    )
    interested_in: list[str] = Field(
        default_factory=list, description="the programmes of interest, resolved"
    )
    readiness: Readiness | None = Field(
        None,
        description="for the programmes of interest: 'ready' (one has every requirement met), "
        "'to_check' (nothing rules one out; something is left to check), 'not_yet'",
    )
    created_at: _dt.datetime
    updated_at: _dt.datetime


class CandidateView(BaseModel):
    """What an employer may see of a consenting candidate: no name, no contact."""

    id: str
    former_position: str | None
    sector: str | None
    years_experience: float | None
    education: str | None
    languages: list[LanguageAbility]
    province: str | None
    willing_to_relocate: bool
    willing_to_work_abroad: bool
    skills: list[SkillRef]
    overseas: list[OverseasWork] = Field(
        default_factory=list, description="past contracts abroad, without their free text"
    )


Readiness = Literal["ready", "to_check", "not_yet"]


class OverseasWork(BaseModel):
    """What an employer sees of a past overseas contract: no free text."""

    country: str
    programme: str | None
    sector: str | None
    employer_type: EmployerType | None
    years: float
    language: LanguageAbility | None
    certificates: list[EarnedCertificate]
    returned: _dt.date | None


FeedbackEvent = Literal["viewed", "applied", "shortlisted", "hired", "rejected"]
#: What invitations and applications add to the feedback the ranker learns from.
ConnectionEvent = Literal["invited", "accepted", "declined", "applied"]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(min_length=1, max_length=64)
    candidate_id: str = Field(min_length=1, max_length=64)
    event: FeedbackEvent


# ---------------------------------------------------------------------- ranking output
class Explanation(BaseModel):
    matched_skills: list[SkillRef] = Field(default_factory=list)
    missing_skills: list[SkillRef] = Field(default_factory=list, description="essential first")
    reasons: list[str] = Field(default_factory=list, description="short sentences, in `lang`")
    cautions: list[str] = Field(
        default_factory=list,
        description="what counts against the result, in `lang`: a posting that lists no "
        "required skills, a province the person won't move to, the field they want to leave",
    )


RequirementStatus = Literal["met", "not_met", "to_check"]
EligibilityStatus = Literal["eligible", "not_eligible", "eligible_if"]


class Requirement(BaseModel):
    """One hard requirement, as it stands for one person: ``met``; ``not_met`` (a fact the
    person declared rules it out); or ``to_check`` (not declared, or not something a profile
    can show, such as the programme's medical examination)."""

    kind: Literal["age", "language", "education", "health", "disqualifier", "gender"]
    status: RequirementStatus
    message: str = Field(description="what is required and where the person stands, in `lang`")
    route: str | None = Field(
        None, description="how to meet or check it; null when a declared fact rules it out"
    )
    source: str | None = Field(None, description="the rules file's source id for this rule")
    verified: bool = Field(
        False, description="the rule was checked against a public source; if not, say so"
    )
    checked: _dt.date | None = Field(None, description="when the rule was checked")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def met(self) -> bool:
        """``status == "met"`` (kept for clients written before the three states)."""
        return self.status == "met"


class Eligibility(BaseModel):
    """A programme for one person: ``eligible`` (every requirement met), ``not_eligible`` (a
    declared fact rules it out: see ``unmet``) or ``eligible_if`` (nothing rules it out, and
    ``to_check`` lists what the person still has to check, and how)."""

    programme_id: str
    status: EligibilityStatus
    unmet: list[Requirement] = Field(description="requirements a declared fact rules out")
    to_check: list[Requirement] = Field(
        default_factory=list, description="what is still to check, each with how (`route`)"
    )
    met: list[Requirement]
    reentry: list[ProgrammeFact] = Field(
        default_factory=list,
        description="a way back this person's past contract opens (EPS re-entry for workers "
        "who finished their contract faithfully, ...), cited; shown only to them",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def eligible(self) -> bool:
        """``status == "eligible"``: every requirement met."""
        return self.status == "eligible"


class HeldBack(BaseModel):
    """Programme postings retrieved for a person but not shown, because a fact they declared
    rules the programme out."""

    programme_id: str
    programme: str = Field(description="the programme's name, in `lang`")
    postings: int = Field(ge=1, description="how many of the retrieved postings")
    reasons: list[str] = Field(description="the requirements not met, in `lang`")
    message: str = Field(description="one sentence for the page, in `lang`")


class RankedJob(BaseModel):
    job: JobPosting
    score: float
    features: dict[str, float]
    explanation: Explanation
    programme: ProgrammeSummary | None = Field(
        None, description="for overseas programme postings: country, costs and support"
    )
    eligibility: Eligibility | None = Field(
        None,
        description="for overseas programme postings: each requirement met, not met or to check",
    )


class RankedCandidate(BaseModel):
    candidate: CandidateView
    score: float
    features: dict[str, float]
    explanation: Explanation


class JobRecommendations(BaseModel):
    """Ranked jobs for a candidate, and the programme postings held back, with why."""

    results: list[RankedJob]
    held_back: list[HeldBack] = Field(
        default_factory=list,
        description="programme postings retrieved but not shown because a fact the person "
        "declared rules the programme out (e.g. the age limit); what is only left to check "
        "never hides a posting",
    )


class CandidateRanking(BaseModel):
    """Ranked candidates for an employer's posting, with notes that apply to the whole list."""

    results: list[RankedCandidate]
    notes: list[str] = Field(
        default_factory=list,
        description="e.g. that a programme's priority rules are part of the ranking (never "
        "which candidate they apply to)",
    )


class CandidateFilters(BaseModel):
    """What an employer can narrow a candidate search to. Levels compare on one ordinal scale:
    CEFR A1–C2 and TOPIK 1–6 as 1–6, JLPT N5–N1 as 1–5; a test score (EPS-TOPIK) is no level."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(
        None, min_length=2, max_length=40, description="e.g. 'Korean', 'tiếng Nhật', 'de'"
    )
    min_level: str | None = Field(
        None, max_length=20, description="with `language`: e.g. 'B1', 'N3', '3'"
    )
    worked_in: str | None = Field(
        None, min_length=2, max_length=2, pattern="^[A-Za-z]{2}$",
        description="ISO code of a country the candidate worked in on an overseas contract",
    )  # fmt: skip
    min_years_abroad: JsonFloat | None = Field(
        None, ge=0, le=60, description="years on overseas contracts, all of them together"
    )

    @model_validator(mode="after")
    def _level_needs_language(self) -> CandidateFilters:
        if self.min_level is not None and self.language is None:
            raise ValueError("min_level needs a language: say which language the level is in")
        if self.min_level is not None and ordinal_level(self.min_level) is None:
            raise ValueError(
                f"min_level {self.min_level!r} is not a level: use CEFR (A1–C2), JLPT (N5–N1) "
                "or TOPIK (1–6)"
            )
        return self


class JobFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: str | None = Field(None, max_length=80)
    country: str | None = Field(None, min_length=2, max_length=2)
    remote: StrictBool | None = None
    min_salary: JsonInt | None = Field(None, ge=0, description="jobs whose salary_max reaches this")
    programme: str | None = Field(None, max_length=60)


# ---------------------------------------------------------------------- connections
InvitationStatus = Literal["pending", "accepted", "declined", "withdrawn"]
MAX_MESSAGE = 1000


class InvitationIn(BaseModel):
    """An employer invites a candidate from a ranked list to one of its postings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    candidate_id: str = Field(min_length=1, max_length=64)
    message: str = Field(
        min_length=1, max_length=MAX_MESSAGE,
        description="a short message to the candidate, e.g. what the work is and when to talk",
    )  # fmt: skip

    @field_validator("message")
    @classmethod
    def _message_readable(cls, value: str, info: ValidationInfo) -> str:
        return _readable(value, info) or value


class InvitationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "decline", "withdraw"] = Field(
        description="accept: the employer sees your name and contact, for this posting only; "
        "decline: nothing is shared; withdraw: an accepted invitation stops sharing them"
    )


class SharedContact(BaseModel):
    """What a candidate chose to give one employer for one posting."""

    name: str | None
    contact: str | None


class Invitation(BaseModel):
    id: str
    job_id: str
    job_title: str
    employer: str | None = Field(description="the employer's display name")
    candidate_id: str
    message: str
    status: InvitationStatus
    created_at: _dt.datetime
    updated_at: _dt.datetime
    shared: SharedContact | None = Field(
        None, description="to the employer, once the candidate accepted (and until they withdraw)"
    )


class ApplicationIn(BaseModel):
    """A candidate applies to a posting, choosing what the employer may see of them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    job_id: str = Field(min_length=1, max_length=64)
    message: str = Field("", max_length=MAX_MESSAGE)
    share_name: StrictBool = Field(True, description="the employer sees the profile's name")
    share_contact: StrictBool = Field(True, description="the employer sees the profile's contact")

    @field_validator("message")
    @classmethod
    def _message_readable(cls, value: str, info: ValidationInfo) -> str:
        return _readable(value, info) or value


class Application(BaseModel):
    id: str
    job_id: str
    job_title: str
    candidate_id: str
    message: str
    status: Literal["active", "withdrawn"]
    created_at: _dt.datetime
    shared: SharedContact | None = Field(
        None, description="to the employer: what the candidate chose to share (none once withdrawn)"
    )
    candidate: CandidateView | None = Field(
        None, description="to the employer: the profile without its free text or contact"
    )


# ---------------------------------------------------------------------- centres
class CentreIn(BaseModel):
    """An employment service centre, scoped to the provinces it serves."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    provinces: list[str] = Field(min_length=1, max_length=34)


class CentreCreated(BaseModel):
    centre_id: str
    key: str = Field(description="the centre's API key: shown once")
    provinces: list[str]


class CentreFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: str | None = Field(None, max_length=80, description="one of the centre's provinces")
    commune: str | None = Field(None, max_length=80)
    programme: str | None = Field(None, max_length=60, description="interested in this programme")
    readiness: Readiness | None = None
    returnee: bool | None = Field(None, description="has worked abroad on a contract")


class CentreCandidate(BaseModel):
    """One row of a centre's list: what the candidate agreed to give centres, nothing else."""

    candidate_id: str
    province: str | None
    commune: str | None
    programmes_of_interest: list[str]
    readiness: str = Field(description="e.g. 'to_check; passport+diploma'")
    returnee: str = Field(description="the countries worked in, e.g. 'KR', or empty")
    name: str | None
    contact: str | None


class AggregateCell(BaseModel):
    province: str
    commune: str | None = Field(description="null: the whole province")
    programme: str
    interested: int | None = Field(description="null: fewer than the suppression threshold")
    ready: int | None


class SkillCount(BaseModel):
    province: str
    uri: str
    label: str
    label_vi: str | None
    missing_for: int = Field(description="interested people who lack it")


class Aggregates(BaseModel):
    """Counts without personal data, for training providers to plan courses: people who agreed
    that centres may list them, by province and commune and programme of interest."""

    min_cell: int = Field(description="cells under this are suppressed (null)")
    cells: list[AggregateCell]
    top_missing_skills: list[SkillCount]


# ---------------------------------------------------------------------- careers
class Transition(BaseModel):
    """A target occupation for a career move, with what carries over and what to learn."""

    uri: str = Field(description="ESCO occupation URI of the target")
    label: str
    label_vi: str | None = None
    isco_group: str = ""
    score: float = Field(description="higher is a more realistic move")
    features: dict[str, float] = Field(default_factory=dict)
    shared_skills: list[SkillRef] = Field(
        default_factory=list, description="skills the person already has (essential first)"
    )
    missing_skills: list[SkillRef] = Field(
        default_factory=list, description="skills to learn, essential first"
    )
    shared_count: int = 0
    missing_essential_count: int = 0
    open_postings: int = Field(0, description="open postings for this occupation now")
    reason: str = Field("", description="one sentence, in `lang`")


class OriginInfo(BaseModel):
    """How a former position or occupation was understood."""

    uris: list[str] = Field(description="ESCO occupation URIs of the origin")
    label: str
    label_vi: str | None = None
    via: Literal["uri", "position", "encoder"] = Field(
        description="an ESCO id, the public-sector position map, or the encoder"
    )
    position_id: str | None = None
    skill_level: int = Field(description="ISCO-08 skill level, 1–4")


class Transitions(BaseModel):
    origin: OriginInfo
    transitions: list[Transition]


class TrainingSuggestion(BaseModel):
    kind: Literal["language_centre", "vocational_module", "short_course", "on_the_job"]
    label_vi: str
    label_en: str
    typical_vi: str = Field(description="what such training usually looks like")
    typical_en: str


class SkillGap(BaseModel):
    """A skill the person lacks, and how many open postings learning it would help with."""

    uri: str = Field(description="ESCO skill URI")
    label: str
    label_vi: str | None = None
    unlocks: int = Field(description="postings where it is the only missing essential skill")
    improves: int = Field(description="postings where it is missing (essential or optional)")
    essential_in: int = Field(description="postings where it is an essential skill")
    group: str | None = Field(None, description="its narrowest group in the ESCO skill hierarchy")
    group_path: list[str] = Field(default_factory=list, description="broadest group first")
    training: TrainingSuggestion
    reason: str = Field(description="one sentence, in `lang`")


class SkillGaps(BaseModel):
    postings_considered: int = Field(description="open postings in the pool that was counted")
    gaps: list[SkillGap]


class ProgrammeFact(BaseModel):
    """One fact a programme card shows, in `lang`, and whether anyone checked it."""

    text: str
    verified: bool = Field(
        description="checked against `url` on `checked`; an unverified fact is shown as such"
    )
    checked: _dt.date | None = None
    source: str = Field(description="the rules file's source id")
    url: str | None = Field(None, description="the page it was checked against, or its source's")


class ProgrammeSummary(BaseModel):
    """What an overseas result shows about its programme (its full rules are in the programme list)."""

    id: str
    name: str
    country: str
    intake: ProgrammeFact | None = Field(None, description="the current or next intake")
    contract: ProgrammeFact
    pay: ProgrammeFact | None = Field(None, description="typical monthly pay")
    costs: ProgrammeFact
    recovery: ProgrammeFact | None = Field(
        None, description="months of pay that cover the costs, from the two facts above"
    )
    support: ProgrammeFact
    priority_groups: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(
        default_factory=list, description="the facts that rule the programme out, in `lang`"
    )


class ProgrammeEligibility(Eligibility):
    """One programme for one person, with what a card shows about the programme."""

    programme: ProgrammeSummary


RankedJob.model_rebuild()
CandidateView.model_rebuild()
