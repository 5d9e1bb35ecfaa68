"""Domain records returned by the library (and, unchanged, by the CLI and the API)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OccupationMatch(BaseModel):
    """An ESCO occupation that fits a job title or description."""

    uri: str = Field(description="ESCO occupation URI")
    label: str = Field(description="ESCO preferred label (English)")
    score: float = Field(description="similarity, higher is better (cosine of the best label)")
    label_vi: str | None = Field(None, description="Vietnamese name, where the project has one")
    isco_group: str = Field("", description="ISCO-08 unit group code")
    matched_label: str = Field(
        "", description="the label (English or Vietnamese) that matched best"
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
