"""What screening says about a posting: its signals (each with its evidence span, in
Vietnamese and English) and, for a licensed enterprise, the fee ceilings that apply. The
meanings and sources of the signals are data (``data/screening_signals.yaml``)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

SIGNALS_FILE = "screening_signals.yaml"
Strength = Literal["strong", "weak"]


class SignalKind(BaseModel):
    strength: Strength
    vi: str
    en: str
    sources: list[str] = Field(default_factory=list)


class FeeCeiling(BaseModel):
    vi: str
    en: str
    law: str
    source: str
    verified: bool
    checked: str


class SignalBook(BaseModel):
    fee_ceiling: FeeCeiling
    signals: dict[str, SignalKind]


class Signal(BaseModel):
    """One reason to check a posting before paying or sending papers."""

    code: str = Field(description="e.g. 'guaranteed_outcome', 'upfront_deposit'")
    strength: Strength = Field(description="one strong signal, or two weak ones, hold a posting")
    field: Literal["title", "description", "employer", "salary", "reports"]
    evidence: str = Field(description="the words of the posting that show it")
    start: int | None = Field(None, description="where `evidence` starts in `field`")
    end: int | None = None
    message_vi: str
    message_en: str
    source: str | None = Field(None, description="a public warning about this practice")


class Commercial(BaseModel):
    """A posting by an enterprise in the registry of licensed labour-export enterprises."""

    enterprise: str
    registry_status: str = Field(description="'listed_active': in a second-hand copy of "
                                 "the authority's list (see the registry's sources)")  # fmt: skip
    registry_source: str
    fee_ceiling_vi: str
    fee_ceiling_en: str
    law: str
    source: str
    verified: bool


class Screening(BaseModel):
    signals: list[Signal] = Field(default_factory=list)
    held: bool = False
    commercial: Commercial | None = None


def load_signal_book(data_dir: Path) -> SignalBook:
    with (data_dir / SIGNALS_FILE).open(encoding="utf-8") as handle:
        return SignalBook.model_validate(yaml.safe_load(handle))


def held(signals: list[Signal]) -> bool:
    """The guideline's rule: one strong signal, or two weak ones (of different kinds)."""
    strong = any(s.strength == "strong" for s in signals)
    weak = {s.code for s in signals if s.strength == "weak"}
    return strong or len(weak) >= 2


ReviewStatus = Literal["shown", "held", "queued", "cleared", "rejected"]
#: a posting in one of these is shown to no candidate
HIDDEN: tuple[ReviewStatus, ...] = ("held", "rejected")


class JobReview(BaseModel):
    """Where a posting stands with screening and review: shown to its employer and admins only.

    ``shown``: a weak signal was found, not enough to hold it (its employer sees which).
    ``held``: signals were found; no candidate sees it until an admin clears it. ``queued``:
    job seekers reported it; it is shown, and waits for an admin. ``cleared``: an admin
    checked it. ``rejected``: an admin found it a scam; no candidate will see it."""

    status: ReviewStatus
    signals: list[Signal] = Field(default_factory=list)
    reports: int = Field(0, description="reports from job seekers")
    reviewed_by: str | None = None
    reviewed_at: _dt.datetime | None = None
    note: str | None = Field(None, description="the reviewer's note")

    @property
    def hidden(self) -> bool:
        return self.status in HIDDEN
