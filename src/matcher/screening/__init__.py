"""Screening postings for broker and scam signals at ingest (issue 16): transparent rules
(:mod:`~matcher.screening.rules`), a registry of licensed labour-export enterprises
(:mod:`~matcher.screening.registry`), a cited pay table (:mod:`~matcher.screening.pay`), and
the set they are measured on (:mod:`~matcher.screening.evaluation`)."""

from matcher.screening.registry import REGISTRY_FILE, Registry, load_registry
from matcher.screening.rules import Posting, Screener
from matcher.screening.signals import (
    HIDDEN,
    Commercial,
    JobReview,
    Screening,
    Signal,
    load_signal_book,
)

__all__ = ["HIDDEN", "REGISTRY_FILE", "Commercial", "JobReview", "Posting", "Registry",
           "Screener", "Screening", "Signal", "load_registry", "load_signal_book"]  # fmt: skip
