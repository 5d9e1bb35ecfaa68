"""Request and response bodies of the HTTP API (domain records come from matcher.schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from matcher.schemas import (
    Candidate,
    CandidateFilters,
    CandidateProfileIn,
    JobFilters,
    JobPosting,
    JobRecommendations,
    Lang,
    OccupationMatch,
    ProgrammeEligibility,
    RankedCandidate,
    SkillMatch,
    TopK,
)
from matcher.services import Certificate, FactCount, PriorityGroup, Programme, Source

#: At least one visible character: a text of only spaces, control or zero-width characters has
#: nothing to match (the schema says so, and the server answers 422).
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"


class TextQueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000, pattern=VISIBLE,
                      description="a job title, skills or a short description (visible text)")  # fmt: skip
    k: TopK = 10


class OccupationMatchResponse(BaseModel):
    results: list[OccupationMatch]


class SkillExtractResponse(BaseModel):
    results: list[SkillMatch]


class CandidateCreatedResponse(BaseModel):
    candidate: Candidate
    token: str = Field(description="keep it: it reads, changes and deletes this profile")


class JobListResponse(BaseModel):
    total: int = Field(description="all of your postings, of which `results` is one page")
    results: list[JobPosting]


class BulkError(BaseModel):
    line: int
    message: str


class BulkImportResponse(BaseModel):
    imported: int
    ids: list[str]
    held: list[str] = Field(
        default_factory=list,
        description="ids of imported postings held for review (see each posting's `review`)",
    )
    errors: list[BulkError]


class ReportRequest(BaseModel):
    """A job seeker's report of a posting that looks like a scam."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500,
                        description="what looks wrong, e.g. 'asks for a deposit by Zalo'")  # fmt: skip


class ReportResponse(BaseModel):
    received: bool = True
    status: str = Field(description="'queued' (an admin will check it) or 'held'")


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["clear", "reject"] = Field(
        description="clear: show it to candidates; reject: never show it"
    )
    note: str | None = Field(None, max_length=500, description="why, for the audit trail")


class ReviewQueueResponse(BaseModel):
    total: int = Field(description="postings held for review or reported")
    results: list[JobPosting] = Field(description="oldest first, each with its `review`")


class ProfileSource(BaseModel):
    """A saved candidate (``candidate_id``, with its token) or an inline ``profile``."""

    model_config = ConfigDict(extra="forbid")

    candidate_id: str | None = Field(None, max_length=64)
    profile: CandidateProfileIn | None = None
    k: TopK = 10
    filters: JobFilters | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ProfileSource:
        if (self.candidate_id is None) == (self.profile is None):
            raise ValueError("give exactly one of candidate_id or profile")
        return self


class RecommendJobsRequest(ProfileSource):
    pass


class SkillGapsRequest(ProfileSource):
    pass


class EligibilityRequest(ProfileSource):
    pass


class EligibilityListResponse(BaseModel):
    results: list[ProgrammeEligibility]


class Province(BaseModel):
    name: str
    region: str


class ProvinceListResponse(BaseModel):
    provinces: list[Province]
    former_provinces: dict[str, str] = Field(
        description="the 63 provinces before the merger of 1 July 2025, each with its new one"
    )


class Commune(BaseModel):
    code: str = Field(description="the General Statistics Office's code")
    name: str


class CommuneListResponse(BaseModel):
    province: str
    communes: list[Commune]
    source: str = Field(description="where the list comes from")


class ProgrammeListResponse(BaseModel):
    facts: FactCount = Field(
        description="how many facts were checked against a public source, and how many not"
    )
    programmes: list[Programme]
    sources: dict[str, Source]
    priority_groups: list[PriorityGroup]


class CertificateListResponse(BaseModel):
    certificates: list[Certificate] = Field(
        description="each with what it shows (a language level, ESCO skills), its source, and "
        "whether that was checked against a public page (`verified`, `checked_url`)"
    )
    sources: dict[str, Source]


class SavedSkillGapsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: TopK = 10
    filters: JobFilters | None = None


class TransitionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1, max_length=2_000,
        description="a former position in words (e.g. 'nguyên chuyên viên phòng nội vụ huyện'),"
        " an ESCO occupation URI, or its UUID",
    )  # fmt: skip
    k: TopK = 10


class RecommendJobsResponse(JobRecommendations):
    lang: Lang


class RankCandidatesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: TopK = 10
    filters: CandidateFilters | None = Field(
        None, description="language and level, country worked in, years abroad"
    )


class RankCandidatesResponse(BaseModel):
    job_id: str
    lang: Lang
    results: list[RankedCandidate]
    notes: list[str] = Field(default_factory=list, description="about the whole list, in `lang`")


class QuarantinedRecord(BaseModel):
    kind: Literal["job", "candidate"]
    id: str
    reason: str = Field(description="the error code of why it could not be embedded")
    quarantined_at: dt.datetime


class QuarantineResponse(BaseModel):
    total: int
    results: list[QuarantinedRecord]


class RevokeKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=8, max_length=200, description="the key itself")


class RevokeKeysResponse(BaseModel):
    revoked: int = Field(description="how many keys were revoked (0: none was active)")


class OperatorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employer_id: str = Field(min_length=1, max_length=64)
    programme: str = Field(min_length=1, max_length=60, description="a programme id")


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    actor: str = Field(description="'employer:<employer id>' or 'admin:<key id>'")
    action: str
    target: str | None = None
    results: int | None = None


class AuditResponse(BaseModel):
    total: int
    results: list[AuditEntry]


class FeedbackResponse(BaseModel):
    id: int
