"""Tests and certificates earned abroad (``data/overseas_certificates.yaml``), mapped to a
language level and to ESCO skills where a mapping exists. Each entry cites a source and says
whether someone checked it against a public page; an unchecked mapping is shown as such.

    book = load_certificates(project_data_dir)
    book.find("TOPIK")            # -> Certificate(id="topik", kind="language", language="ko")
    book.find("Kỳ thi năng lực tiếng Hàn").levels
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from matcher.errors import DataFormatError
from matcher.programmes.rules import Cited, Source, _Strict
from matcher.reference.datafile import line_of, load_yaml_model
from matcher.reference.languages import level_rank
from matcher.text import fold

CERTIFICATES_FILE = "overseas_certificates.yaml"
ESCO_SKILL = re.compile(r"^http://data\.europa\.eu/esco/skill/[0-9a-f-]{36}$")
#: A level written after the name ("TOPIK 3", "JLPT N3", "Goethe B1").
_TRAILING_LEVEL = re.compile(r"^(.*?)[\s:-]+(n?[1-9]|[abc][12]|\d{2,3})$", re.IGNORECASE)


class Certificate(Cited):
    """One test or certificate: what it is called, where it is earned, and what it shows."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    aliases: list[str] = Field(default_factory=list)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    kind: Literal["language", "skills"]
    language: str | None = Field(None, description="ISO 639-1, for a language test")
    scale: Literal["score", "jlpt", "cefr"] | None = None
    levels: list[str] = Field(default_factory=list, description="lowest first")
    cefr: dict[str, str] = Field(default_factory=dict)
    skills: list[str] = Field(default_factory=list, description="ESCO skill URIs it shows")
    label_vi: str
    label_en: str

    @model_validator(mode="after")
    def _consistent(self) -> Certificate:
        if self.kind == "language" and not self.language:
            raise ValueError("a language test needs `language` (ISO 639-1)")
        for level in self.levels:
            if self.scale and level_rank(level, self.scale) is None:
                raise ValueError(f"level {level!r} is not a {self.scale} level")
        for uri in self.skills:
            if not ESCO_SKILL.match(uri):
                raise ValueError(f"{uri!r} is not an ESCO skill URI")
        return self

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


class CertificateBook(_Strict):
    sources: dict[str, Source]
    certificates: list[Certificate]

    @cached_property
    def _by_name(self) -> dict[str, Certificate]:
        names: dict[str, Certificate] = {}
        for certificate in self.certificates:
            for name in (certificate.id, certificate.name, *certificate.aliases):
                names.setdefault(fold(name), certificate)
        return names

    def get(self, certificate_id: str) -> Certificate | None:
        return next((c for c in self.certificates if c.id == certificate_id), None)

    def find(self, name: str) -> tuple[Certificate | None, str | None]:
        """The certificate a person's wording names, and a level written after the name
        ("TOPIK 3" -> TOPIK, "3"); ``(None, None)`` when the book does not know it."""
        folded = fold(name)
        found = self._by_name.get(folded)
        if found is not None:
            return found, None
        trailing = _TRAILING_LEVEL.match(folded)
        if trailing and trailing.group(1) in self._by_name:
            return self._by_name[trailing.group(1)], trailing.group(2).upper()
        return None, None


def load_certificates(project_data_dir: Path) -> CertificateBook:
    """Read and validate the certificate file; every error names ``file:line``."""
    path = Path(project_data_dir) / CERTIFICATES_FILE
    book, root = load_yaml_model(path, CertificateBook)
    ids = [c.id for c in book.certificates]
    for index, certificate in enumerate(book.certificates):
        if ids.count(certificate.id) > 1:
            line = line_of(root, ("certificates", index, "id"))
            raise DataFormatError(f"{path}:{line}: certificate id {certificate.id!r} is repeated")
        if certificate.source not in book.sources:
            line = line_of(root, ("certificates", index, "source"))
            raise DataFormatError(
                f"{path}:{line}: source {certificate.source!r} is not listed under 'sources'"
            )
    return book
