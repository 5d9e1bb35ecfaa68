"""The use cases the CLI and the API call, over lazily loaded parts.

Nothing is loaded at construction: the taxonomy, the model and the label indexes are loaded on
first use (or all at once by :meth:`MatcherService.prepare`), so commands that need only part of
them start fast.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matcher.encoder import Encoder, Kind
from matcher.index import IndexConfig
from matcher.labels import LabelIndex
from matcher.occupations import SOURCE_WEIGHTS as OCCUPATION_SOURCE_WEIGHTS
from matcher.occupations import OccupationMatcher, occupation_labels
from matcher.schemas import OccupationMatch, SkillMatch
from matcher.settings import Settings
from matcher.skills import SkillExtractor, skill_labels
from matcher.taxonomy import Taxonomy, load_taxonomy
from matcher.text import normalize_text

logger = logging.getLogger(__name__)


class MatcherService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def cache_dir(self) -> Path:
        return self.settings.state_dir / "indexes"

    @property
    def index_config(self) -> IndexConfig:
        return IndexConfig(**self.settings.index.model_dump())

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(
            self.settings.data_dir, self.settings.project_data_dir, self.settings.state_dir
        )

    @cached_property
    def encoder(self) -> Encoder:
        return Encoder.load(
            self.settings.model,
            self.settings.models_dir,
            batch_size=self.settings.encode_batch_size,
            max_chars=self.settings.max_text_chars,
        )

    @cached_property
    def occupation_matcher(self) -> OccupationMatcher:
        labels = LabelIndex.build(
            "occupations", occupation_labels(self.taxonomy), self.encoder, self.cache_dir,
            config=self.index_config, source_weights=OCCUPATION_SOURCE_WEIGHTS,
        )  # fmt: skip
        return OccupationMatcher(self.taxonomy, self.encoder, labels)

    @cached_property
    def skill_extractor(self) -> SkillExtractor:
        labels = LabelIndex.build(
            "skills", skill_labels(self.taxonomy), self.encoder, self.cache_dir,
            config=self.index_config,
        )  # fmt: skip
        return SkillExtractor(self.taxonomy, self.encoder, labels)

    def prepare(self) -> dict[str, int]:
        """Load everything now (building caches on the first run); returns what was loaded."""
        counts = dict(self.taxonomy.counts)
        counts["occupation_labels"] = len(self.occupation_matcher.labels.labels)
        counts["skill_labels"] = len(self.skill_extractor.labels.labels)
        return counts

    # ------------------------------------------------------------------ use cases
    # Inputs are validated before anything heavy is loaded, so bad input fails fast.
    def _validated(self, texts: list[str], *, keep_lines: bool = False) -> list[str]:
        limit = self.settings.max_text_chars
        return [normalize_text(text, max_chars=limit, keep_lines=keep_lines) for text in texts]

    def match_occupations(self, texts: list[str], k: int = 10) -> list[list[OccupationMatch]]:
        return self.occupation_matcher.match_many(self._validated(texts), k)

    def extract_skills(self, texts: list[str], k: int = 20) -> list[list[SkillMatch]]:
        return self.skill_extractor.extract_many(self._validated(texts, keep_lines=True), k)

    def embed(self, texts: list[str], kind: Kind) -> npt.NDArray[np.float32]:
        return self.encoder.encode(self._validated(texts), kind=kind)
