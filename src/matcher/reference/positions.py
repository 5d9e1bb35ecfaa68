"""Vietnamese public-sector positions and ranks, mapped to ISCO-08 and ESCO occupations.

The map (``data/civil_service_positions.csv``) is the project's own work: each row names a
position or rank (ngạch, chức danh nghề nghiệp, commune-level post, cadre), its variants, its
ISCO-08 unit group, 1–3 ESCO occupations (best first), the usual education and ISCO skill level,
and the legal document that defines the rank's duties.

Free text of a former position ("nguyên chuyên viên phòng nội vụ huyện") resolves through this
map first (the longest variant found in the text, with or without diacritics), and only then
through the encoder (:class:`matcher.nlp.occupations.OccupationMatcher`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import DataFormatError
from matcher.reference.taxonomy import Taxonomy
from matcher.text import plain

POSITIONS_FILE = "civil_service_positions.csv"
COLUMNS = (
    "id", "position_vi", "variants_vi", "position_en", "category", "sector", "rank_code",
    "isco_code", "esco_uris", "education", "isco_skill_level", "duties_source", "notes",
)  # fmt: skip


@dataclass(frozen=True)
class Position:
    """One public-sector position or rank."""

    id: str
    name_vi: str
    name_en: str
    variants: tuple[str, ...]
    category: str
    sector: str
    rank_code: str
    isco_code: str
    occupation_uris: tuple[str, ...]
    education: str
    skill_level: int
    duties_source: str


@dataclass(frozen=True)
class PositionMatch:
    position: Position
    #: the text of the variant that matched, as written in the map
    matched: str


class PositionMap:
    """Looks up public-sector positions in free text."""

    def __init__(self, positions: list[Position]) -> None:
        self.positions = {p.id: p for p in positions}
        # (words of the name without diacritics, name, position), longest first, so
        # "chuyên viên phòng nội vụ" wins over "chuyên viên"
        pairs = [
            (_key(name), name, position)
            for position in positions
            for name in (position.name_vi, *position.variants)
        ]
        pairs.sort(key=lambda item: -len(item[0]))
        self._variants = pairs

    def __len__(self) -> int:
        return len(self.positions)

    def resolve(self, text: str) -> PositionMatch | None:
        """The position whose longest variant occurs in ``text`` as whole words, or ``None``."""
        padded = f" {_key(text)} "
        for key, name, position in self._variants:
            if key and f" {key} " in padded:
                return PositionMatch(position, name)
        return None


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", plain(text)))


def load_positions(project_data_dir: Path, taxonomy: Taxonomy) -> PositionMap:
    """Read and check the map; a bad row raises :class:`DataFormatError` naming ``file:line``."""
    path = Path(project_data_dir) / POSITIONS_FILE
    if not path.exists():
        raise DataFormatError(f"{path} is missing: it ships with the repository (data/)")
    positions: list[Position] = []
    seen: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataFormatError(f"{path}:1: missing columns {', '.join(missing)}")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            position = _position(row, where, taxonomy)
            for name in (position.name_vi, *position.variants):
                key = _key(name)
                if key in seen and seen[key] != position.id:
                    raise DataFormatError(
                        f"{where}: {name!r} is also a name of {seen[key]!r}; names must be unique"
                    )
                seen[key] = position.id
            positions.append(position)
    return PositionMap(positions)


def _position(row: dict[str, str], where: str, taxonomy: Taxonomy) -> Position:
    def need(column: str) -> str:
        value = (row.get(column) or "").strip()
        if not value:
            raise DataFormatError(f"{where}: column {column!r} is empty")
        return value

    uris = tuple(u.strip() for u in need("esco_uris").split("|") if u.strip())
    unknown = [u for u in uris if u not in taxonomy.occupations]
    if unknown:
        raise DataFormatError(f"{where}: not an ESCO occupation: {', '.join(unknown)}")
    isco = need("isco_code")
    if not re.fullmatch(r"\d{4}", isco):
        raise DataFormatError(f"{where}: isco_code {isco!r} is not a 4-digit ISCO-08 unit group")
    level = need("isco_skill_level")
    if level not in {"1", "2", "3", "4"}:
        raise DataFormatError(f"{where}: isco_skill_level {level!r} is not 1-4")
    return Position(
        id=need("id"),
        name_vi=need("position_vi"),
        name_en=need("position_en"),
        variants=tuple(v.strip() for v in (row.get("variants_vi") or "").split("|") if v.strip()),
        category=need("category"),
        sector=need("sector"),
        rank_code=(row.get("rank_code") or "").strip(),
        isco_code=isco,
        occupation_uris=uris,
        education=need("education"),
        skill_level=int(level),
        duties_source=need("duties_source"),
    )
